"""Service protection limits (S18) and injected faults, per user (client id)."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.integration


def test_it_limits_requests_per_window_per_user_with_retry_after(dv, s):
    other = dv.app.app_registration_create(name="second-user")
    other_session = dv.session(dv.token(client_id=other.client_id, secret=other.client_secret))
    dv.app.requests_per_window = 3
    assert [s.get(f"{dv.api}/WhoAmI").status_code for _ in range(3)] == [200, 200, 200]
    refused = s.get(f"{dv.api}/WhoAmI")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json() == {
        "error": {
            "code": "0x80072322",
            "message": (
                "Number of requests exceeded the limit of 3 over time window of 300 seconds."
            ),
        }
    }
    assert other_session.get(f"{dv.api}/WhoAmI").status_code == 200  # limits are per user
    entry = dv.app.log.entries(path_prefix="/api/data/v9.2/WhoAmI")[-2]
    assert (entry.status, entry.fault) == (429, "rate-limit")
    dv.app.requests_per_window = None
    assert s.get(f"{dv.api}/WhoAmI").status_code == 200


def test_it_refuses_requests_over_the_concurrency_limit_at_once(dv, s):
    dv.app.concurrency = 1
    limiter = dv.app._concurrency  # occupy the one slot as a long request would
    assert limiter.enter(dv.client_id)
    try:
        refused = s.get(f"{dv.api}/WhoAmI")
    finally:
        limiter.leave(dv.client_id)
    assert refused.status_code == 429
    assert refused.json()["error"] == {
        "code": "0x80072326",
        "message": "Number of concurrent requests exceeded the limit of 1.",
    }
    assert "Retry-After" in refused.headers
    assert s.get(f"{dv.api}/WhoAmI").status_code == 200  # the slot was released


def test_it_limits_combined_execution_time(dv, s):
    dv.app.execution_ms_per_window = 0
    assert s.get(f"{dv.api}/WhoAmI").status_code == 200
    refused = s.get(f"{dv.api}/WhoAmI")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "0x80072321"
    assert refused.json()["error"]["message"].startswith(
        "Combined execution time of incoming requests exceeded limit of 0 milliseconds"
    )


def test_it_answers_forced_429s_in_each_endpoints_shape(dv, s):
    dv.app.faults.force_429 = 1
    dv.app.faults.force_429_retry_after = 7
    api = s.get(f"{dv.api}/WhoAmI")
    assert api.status_code == 429
    assert api.headers["Retry-After"] == "7"
    assert api.json()["error"]["code"] == "0x80072322"
    dv.app.faults.force_429 = 1
    token = dv.token_response()
    assert token.status_code == 429
    assert token.json()["error"] == "temporarily_unavailable"
    assert token.headers["Retry-After"] == "7"


def test_it_injects_server_errors_in_each_endpoints_shape(dv, s):
    dv.app.faults.error_rate = 1.0
    api = s.get(f"{dv.api}/WhoAmI")
    assert api.status_code in (500, 502, 503)
    assert set(api.json()["error"]) == {"code", "message"}
    identity = requests.get(
        f"{dv.tls_url}/{dv.tenant_id}/v2.0/.well-known/openid-configuration",
        verify=dv.ca_bundle,
        timeout=10,
    )
    assert identity.status_code in (500, 502, 503)
    assert identity.json()["error"] == "temporarily_unavailable"


def test_it_changes_limits_through_the_control_route(dv):
    response = requests.put(
        f"{dv.url}/_sandbox/dataverse/settings",
        json={"requests_per_window": 10, "concurrency": 2},
        headers=dv.app.control_headers,
        timeout=10,
    )
    assert response.status_code == 200
    assert (dv.app.requests_per_window, dv.app.concurrency) == (10, 2)
    assert (
        requests.put(
            f"{dv.url}/_sandbox/dataverse/settings",
            json={"nope": 1},
            headers=dv.app.control_headers,
            timeout=10,
        ).status_code
        == 400
    )
