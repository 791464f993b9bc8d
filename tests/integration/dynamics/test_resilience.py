"""A workload through an unreliable, throttling Dataverse: nothing lost, nothing doubled.

The sandbox injects server errors, dropped connections, latency with jitter and forced 429s
with Retry-After; the test harness also loses the answers of some `$batch`es after the
sandbox committed them (the case a retried create must not turn into a second row). Retries
and throttle waits run on the fake clock, so a Retry-After of 2 s costs no wall time.

Service protection: with the sandbox's request limit set low, the connector either honours
the 429 + Retry-After it gets (real time), or its own budget (`Rate`) keeps it under the
limit in the first place.

The figures (requests, retries by cause, rows expected vs present) are printed for the
report; run with `-s` or look at the captured output.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from connectors.dynamics import Outcome, RecordWrite
from connectors.dynamics import odata as q
from connectors.ratelimit import LocalStore

from .conftest import request_figures

pytestmark = pytest.mark.integration

BATCH = 10


def _arrange(org, prefix: str) -> tuple[list[str], list[str]]:
    accounts = [
        org.create("accounts", {"name": f"{prefix} account {i:02d}", "revenue": 1000 + i})
        for i in range(40)
    ]
    contacts = [
        org.create("contacts", {"lastname": f"{prefix} contact {i:02d}", "jobtitle": "Old"})
        for i in range(60)
    ]
    return accounts, contacts


def test_it_loses_and_doubles_nothing_through_faults_and_throttling(org, client, clock, capsys):
    prefix = f"R{uuid.uuid4().hex[:6]}"
    accounts, contacts = _arrange(org, prefix)
    client.who_am_i()  # discovery and the token before the faults: see the module docstring
    org.app.log.clear()

    creates = [
        RecordWrite.create(
            "contact", {"lastname": f"{prefix} new {i:03d}", "jobtitle": "New"}, ref=("c", i)
        )
        for i in range(150)
    ] + [
        RecordWrite.create("lead", {"lastname": f"{prefix} lead {i:02d}"}, ref=("l", i))
        for i in range(30)
    ]
    updated, deleted = contacts[:40], contacts[40:50]
    upserted = [str(uuid.uuid4()) for _ in range(20)]
    changes = (
        [RecordWrite.update("contact", c, {"jobtitle": "Updated"}) for c in updated]
        + [RecordWrite.delete("contact", c) for c in deleted]
        + [
            RecordWrite.upsert("account", a, {"name": f"{prefix} upserted", "revenue": Decimal(7)})
            for a in upserted
        ]
    )

    faults = {
        "seed": 7,
        "error_rate": 0.10,
        "drop_rate": 0.05,
        "latency": 0.002,
        "latency_jitter": 0.008,
        "force_429": 4,
        "force_429_retry_after": 2,
    }
    # The sandbox's control endpoint (re-seeds its fault dice, unlike setting attributes).
    answer = requests.put(
        f"{org.endpoint.org_url}/_sandbox/faults",
        json=faults,
        headers=org.app.control_headers,
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    org.listeners.current.lost_answers.rate = 0.15
    org.listeners.current.lost_answers.seed = 7

    def read_accounts() -> list[set[str]]:
        passes = []
        for _ in range(3):
            rows = list(
                client.rows(
                    "account", ["name", "revenue"], where=q.startswith("name", prefix), page_size=5
                )
            )
            assert len(rows) == len({row.id for row in rows})  # no row twice within a read
            passes.append({row.id for row in rows})
        return passes

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        reads = pool.submit(read_accounts)
        created = pool.submit(lambda: list(client.write(creates, batch_size=BATCH)))
        changed = pool.submit(lambda: list(client.write(changes, batch_size=BATCH)))
        reads, created, changed = reads.result(), created.result(), changed.result()
    elapsed = time.monotonic() - started
    lost = org.listeners.current.lost_answers.count
    org.app.faults.error_rate = org.app.faults.drop_rate = 0.0
    org.listeners.current.lost_answers.rate = 0.0

    # Every call made it, in order, and each reports what happened to its own record.
    assert [r.write for r in created] == creates
    assert [r.write for r in changed] == changes
    failed = [r for r in created + changed if not r.ok]
    assert failed == []
    outcomes = Counter(r.outcome for r in created + changed)
    assert outcomes[Outcome.CREATED] + outcomes[Outcome.ALREADY_EXISTS] == len(creates)
    assert outcomes[Outcome.DELETED] + outcomes[Outcome.ALREADY_DELETED] == len(deleted)
    # Reads saw the 40 accounts every time: nothing skipped or repeated across retried pages.
    # (Upserted accounts may appear in a pass that ran after their batch.)
    for seen in reads:
        assert set(accounts) <= seen <= set(accounts) | set(upserted)

    # The sandbox holds exactly the expected rows.
    expected_contacts = (set(contacts) - set(deleted)) | {w.id for w in creates[:150]}
    stored_contacts = org.stored("contact")
    assert len(stored_contacts) == len(expected_contacts)
    assert {row["contactid"] for row in stored_contacts} == expected_contacts
    jobs = Counter(row["jobtitle"] for row in stored_contacts)
    assert jobs == {"New": 150, "Updated": 40, "Old": 10}
    stored_leads = org.stored("lead")
    assert sorted(row["leadid"] for row in stored_leads) == sorted(w.id for w in creates[150:])
    stored_accounts = {row["accountid"] for row in org.stored("account")}
    assert stored_accounts == set(accounts) | set(upserted)

    # The request log shows the retries: every failed attempt was followed by one more.
    entries = org.api_log()
    figures = request_figures(entries)
    batches = [e for e in entries if e.path.endswith("/$batch")]
    logical_batches = math.ceil(len(creates) / BATCH) + math.ceil(len(changes) / BATCH)
    delivered_batches = sum(1 for e in batches if not e.fault and e.status < 400) - lost
    assert delivered_batches == logical_batches
    failures = figures.get("error", 0) + figures.get("drop", 0) + figures.get("429", 0) + lost
    logical_calls = len(entries) - failures
    assert figures.get("error", 0) >= 1 and figures.get("drop", 0) >= 1 and lost >= 1
    assert figures.get("429") == 4
    assert outcomes[Outcome.ALREADY_EXISTS] >= 1  # a create resent after its answer was lost
    retry_after_waits = sum(1 for s in clock.sleeps if s == 2.0)
    assert retry_after_waits >= 4  # each forced 429's Retry-After was waited out

    expected_rows = len(expected_contacts) + len(creates[150:]) + len(accounts) + len(upserted)
    present_rows = len(stored_contacts) + len(stored_leads) + len(stored_accounts)
    with capsys.disabled():
        print(
            "\n[dynamics resilience] "
            f"requests={len(entries)} logical_calls={logical_calls} retries={failures} "
            f"(5xx={figures.get('error', 0)} dropped={figures.get('drop', 0)} "
            f"429={figures.get('429', 0)} answer_lost_after_commit={lost}) "
            f"batches={len(batches)} for {logical_batches} logical; "
            f"outcomes={ {k.value: v for k, v in sorted(outcomes.items())} }; "
            f"rows expected={expected_rows} present={present_rows}; "
            f"wall={elapsed:.2f}s virtual_waits={sum(clock.sleeps):.1f}s"
        )
    assert present_rows == expected_rows


def test_it_honours_429_and_retry_after_from_the_request_limit(org, make_client, capsys):
    made = {org.create("contacts", {"lastname": f"Limited {i:02d}"}) for i in range(24)}
    # Real time: the sandbox's window is real, so the client must really wait.
    client = make_client(throttle_store=LocalStore(), sleep=time.sleep)
    client.who_am_i()
    org.app.log.clear()
    org.app.window_seconds = 1
    org.app.requests_per_window = 10

    started = time.monotonic()
    rows = list(
        client.rows("contact", ["lastname"], where=q.startswith("lastname", "Limited"), page_size=1)
    )
    elapsed = time.monotonic() - started

    assert {row.id for row in rows} == made and len(rows) == len(made)
    entries = org.api_log()
    refused = [i for i, e in enumerate(entries) if e.fault == "rate-limit"]
    accepted = [e for e in entries if not e.fault]
    assert refused, "the limit was never reached: the test proves nothing"
    # Retry-After was waited out: the request after a refusal comes at least ~1 s later, so
    # each window is refused at most once instead of being hammered.
    for i in refused:
        assert entries[i + 1].started - entries[i].started >= 0.9
    assert len(refused) <= math.ceil(len(accepted) / 10)
    with capsys.disabled():
        print(
            f"\n[dynamics 429] limit=10/1s requests={len(entries)} accepted={len(accepted)} "
            f"refused_429={len(refused)} wall={elapsed:.2f}s"
        )


class _VirtualTime:
    """The sandbox core's `time` module with the test's fake monotonic clock: its request
    window and the connector's throttle then slide on the same (virtual) time."""

    def __init__(self, clock) -> None:
        self.monotonic = clock.monotonic
        self.time = time.time
        self.sleep = time.sleep


def test_it_stays_under_the_limit_within_its_own_budget(org, make_client, clock, monkeypatch):
    made = {org.create("contacts", {"lastname": f"Budget {i:02d}"}) for i in range(60)}
    # 0.4 % of Dataverse's 6000 requests per 5 minutes: a budget of 24, under the org's 30.
    client = make_client(org.config(budget_share=0.004))
    monkeypatch.setattr("sandbox.core.time", _VirtualTime(clock))
    org.app.requests_per_window = 30  # per 300 s, on the virtual clock
    org.app.log.clear()

    rows = list(
        client.rows("contact", ["lastname"], where=q.startswith("lastname", "Budget"), page_size=1)
    )

    assert {row.id for row in rows} == made and len(rows) == len(made)
    entries = org.api_log()
    assert len(entries) == 61  # the lookup metadata, then 60 pages
    assert [e for e in entries if e.status == 429] == []  # never refused
    # After each 24 requests the next one waited for the oldest to leave the 5-minute window.
    assert len([s for s in clock.sleeps if s > 290]) == 2
