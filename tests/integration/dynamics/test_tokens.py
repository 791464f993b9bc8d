"""Access tokens that expire during a long read: MSAL renews them before they run out, and a
token the service refuses anyway (401 ExpiredAuthTicket) is replaced once and the request
sent again. Real MSAL against the sandbox's Entra stand-in."""

from __future__ import annotations

import time

import pytest

from connectors.dynamics import odata as q

pytestmark = pytest.mark.integration


def _contacts(org, count: int, prefix: str) -> set[str]:
    return {org.create("contacts", {"lastname": f"{prefix} {i:02d}"}) for i in range(count)}


def test_it_keeps_reading_while_msal_renews_short_lived_tokens(org, client):
    made = _contacts(org, 16, "Long read")
    # MSAL treats a token with less than 5 minutes left as expired: a 301-second token is
    # used for one second, then renewed. The read below lasts about twice as long.
    org.app.token_lifetime = 301
    org.app.faults.latency = 0.2

    started = time.monotonic()
    rows = list(
        client.rows(
            "contact", ["lastname"], where=q.startswith("lastname", "Long read"), page_size=2
        )
    )
    elapsed = time.monotonic() - started

    assert sorted(row.id for row in rows) == sorted(made)
    assert elapsed > 1.6
    pages = [e for e in org.api_log() if e.method == "GET" and e.path.endswith("/contacts")]
    assert len(pages) == 8
    assert [e for e in org.api_log() if e.status >= 400] == []  # no 401: renewed in time
    tokens = org.token_requests()[1:]  # the first one was the arranging client's
    assert 2 <= len(tokens) < len(pages)
    assert all(e.status == 200 for e in tokens)


class _ClockAhead:
    """The sandbox's clock, `offset` seconds ahead of ours (its `time` module, patched)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset


def test_it_replaces_a_token_the_service_refuses_once_and_goes_on(org, client, monkeypatch):
    made = _contacts(org, 12, "Skewed")
    arranged = len(org.token_requests())
    rows = client.rows(
        "contact", ["lastname"], where=q.startswith("lastname", "Skewed"), page_size=3
    )
    seen = [next(rows) for _ in range(3)]  # the first page
    # The service's clock runs two hours ahead: the cached token, still fresh for MSAL, has
    # expired for Dataverse.
    monkeypatch.setattr("sandbox.dataverse.identity.time", _ClockAhead(7200))

    seen += list(rows)

    assert sorted(row.id for row in seen) == sorted(made)
    statuses = [
        e.status for e in org.api_log() if e.method == "GET" and e.path.endswith("/contacts")
    ]
    assert statuses == [200, 401, 200, 200, 200]  # one refusal, one resend, then on
    assert len(org.token_requests()) - arranged == 2
