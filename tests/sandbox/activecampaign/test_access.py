"""Authentication, accounts, rate limits (§1.5), errors (§1.6), faults and the request log."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.activecampaign.app import ActiveCampaignSandbox
from sandbox.store import Database

pytestmark = pytest.mark.integration


def test_it_refuses_a_missing_or_wrong_api_token_with_403(ac):
    missing = requests.get(f"{ac.url}/api/3/contacts", timeout=5)
    assert missing.status_code == 403
    assert missing.json() == {"message": "Forbidden"}
    wrong = requests.get(f"{ac.url}/api/3/contacts", headers={"Api-Token": "nope"}, timeout=5)
    assert wrong.status_code == 403
    assert ac.api.get("/contacts").status_code == 200


def test_it_answers_users_me_for_the_keys_own_user(ac):
    # SPEC get-user-loggedin: what clients call to check a URL and key (every user may read
    # itself); a wrong key is refused like any other call.
    response = ac.api.get("/users/me")
    assert response.status_code == 200
    user = response.json()["user"]
    assert user["id"] == "1"
    assert user["username"] and user["email"]
    assert set(user["links"]) >= {"lists", "userGroup", "configs"}
    wrong = requests.get(f"{ac.url}/api/3/users/me", headers={"Api-Token": "nope"}, timeout=5)
    assert wrong.status_code == 403


def test_it_keeps_each_accounts_data_apart(ac):
    _, other_key = ac.app.account_ensure("second")
    other = ac.client(other_key)
    ac.api.post("/contacts", {"contact": {"email": "mine@example.com"}})
    assert other.get("/contacts").json()["meta"]["total"] == "0"
    # The same e-mail may exist in two accounts.
    created = other.post("/contacts", {"contact": {"email": "mine@example.com"}})
    assert created.status_code == 201
    mine_id = ac.api.get("/contacts").json()["contacts"][0]["id"]
    assert other.get(f"/contacts/{mine_id}").status_code == 404


def test_it_keeps_an_accounts_key_and_data_across_restarts(tmp_path):
    path = tmp_path / "ac.sqlite3"
    first = ActiveCampaignSandbox(Database(path))
    name, key = first.account_ensure("demo")
    first.seed(50)
    count = first.db.execute_one("SELECT COUNT(*) FROM contacts")[0]
    first.db.close()
    second = ActiveCampaignSandbox(Database(path))
    assert second.account_ensure("demo") == (name, key)
    assert not second.is_empty()
    assert second.db.execute_one("SELECT COUNT(*) FROM contacts")[0] == count
    # The key works from the start, without account_ensure being called again.
    third = ActiveCampaignSandbox(Database(path))
    assert third._keys[key] == (1, "demo")


def test_it_limits_each_account_to_five_requests_per_second(ac):
    ac.app.rate_limit = 5
    statuses, headers = [], []
    for _ in range(7):
        response = ac.api.get("/tags")
        statuses.append(response.status_code)
        headers.append(response.headers)
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert headers[0]["RateLimit-Limit"] == "5"
    assert [h["RateLimit-Remaining"] for h in headers[:5]] == ["4", "3", "2", "1", "0"]
    refused = ac.api.get("/tags")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "message" in refused.json()
    # Another account has its own budget.
    _, other_key = ac.app.account_ensure("other")
    assert ac.client(other_key).get("/tags").status_code == 200
    time.sleep(1.05)
    assert ac.api.get("/tags").status_code == 200


def test_it_lets_tests_turn_the_rate_limit_off_at_run_time(ac):
    ac.app.rate_limit = 5
    assert [ac.api.get("/tags").status_code for _ in range(6)][-1] == 429
    ac.app.rate_limit = None
    answers = [ac.api.get("/tags") for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    assert "RateLimit-Limit" not in answers[0].headers


def test_it_logs_requests_with_the_account_name(ac):
    ac.app.log.clear()
    ac.api.get("/contacts")
    requests.get(f"{ac.url}/api/3/contacts", timeout=5)
    entries = ac.app.log.entries(path_prefix="/api/3/contacts")
    assert [(e.status, e.account) for e in entries] == [(200, "demo"), (403, "")]


def test_it_injects_faults_before_handling(ac):
    ac.app.faults.force_429 = 1
    ac.app.faults.force_429_retry_after = 3
    forced = ac.api.post("/contacts", {"contact": {"email": "f@example.com"}})
    assert forced.status_code == 429
    assert forced.headers["Retry-After"] == "3"
    assert ac.api.get("/contacts").json()["meta"]["total"] == "0"  # nothing was written
    ac.app.faults.error_rate = 1.0
    failed = ac.api.get("/contacts")
    assert failed.status_code in (500, 502, 503)
    ac.app.faults.error_rate = 0.0
    faults = [e.fault for e in ac.app.log.entries() if e.fault]
    assert faults[-2:] == ["429", "error"]


def test_it_drops_connections_when_asked(ac):
    ac.app.faults.drop_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{ac.url}/api/3/contacts", headers={"Api-Token": ac.key}, timeout=5)
    ac.app.faults.drop_rate = 0.0


def test_it_answers_unknown_routes_and_methods_in_message_style(ac):
    unknown = ac.api.get("/nothingHere")
    assert unknown.status_code == 404
    assert "message" in unknown.json()
    not_allowed = ac.api("PATCH", "/contacts/1", json_body={})
    assert not_allowed.status_code == 405
    assert "message" in not_allowed.json()


def test_it_answers_400_for_a_body_that_is_not_json(ac):
    response = ac.api.session.post(
        f"{ac.url}/api/3/contacts", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "message" in response.json()


def test_it_creates_an_account_through_the_control_endpoint(ac):
    made = ac.control("POST", "/accounts", {"name": "tenant-b"}).json()
    assert made["account"] == "tenant-b"
    assert ac.client(made["api_key"]).get("/contacts").status_code == 200
    again = ac.control("POST", "/accounts", {"name": "tenant-b"}).json()
    assert again["api_key"] == made["api_key"]


def test_it_follows_the_runners_contract(tmp_path):
    """What sandbox/runner.py does: build, seed only when empty, hand out the demo key."""
    path = tmp_path / "activecampaign.sqlite3"
    app = ActiveCampaignSandbox(Database(path), rate_limit=5)
    assert app.rate_limit == 5
    assert app.is_empty()
    app.seed(40)
    account, key = app.account_ensure("demo")
    seeded = app.db.execute_one("SELECT COUNT(*) FROM contacts WHERE tenant = 1")[0]
    assert seeded > 0
    app.db.close()
    again = ActiveCampaignSandbox(Database(path), rate_limit=None)
    assert not again.is_empty()  # so the runner does not seed twice
    assert again.account_ensure("demo") == (account, key)
    assert again.rate_limit is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_sandbox/activecampaign/accounts", {"name": "intruder"}),
        ("PUT", "/_sandbox/faults", {"error_rate": 1.0}),
        ("GET", "/_sandbox/log", None),
        ("POST", "/_sandbox/log/clear", None),
    ],
)
def test_it_refuses_control_calls_without_its_admin_token(ac, method, path, body):
    for headers in ({}, {"X-Sandbox-Admin": "guess"}, {"X-Sandbox-Admin": ""}):
        refused = requests.request(method, f"{ac.url}{path}", json=body, headers=headers, timeout=5)
        assert refused.status_code == 403
        assert "X-Sandbox-Admin" in refused.json()["message"]
    # Nothing happened: no account, no fault, the log still there.
    assert ac.app.faults.error_rate == 0.0
    assert [name for (name,) in ac.app.db.execute("SELECT name FROM tenants")] == ["demo"]


def test_it_generates_its_own_admin_token_and_obeys_it(ac):
    other = ActiveCampaignSandbox(Database(":memory:"), rate_limit=None)
    assert len(ac.app.admin_token) >= 32 and other.admin_token != ac.app.admin_token
    allowed = requests.post(
        f"{ac.url}/_sandbox/activecampaign/accounts",
        json={"name": "x"},
        headers=ac.app.control_headers,
        timeout=5,
    )
    assert allowed.status_code == 200
    # The base control endpoint (faults, log) takes the same token.
    faults = requests.get(f"{ac.url}/_sandbox/faults", headers=ac.app.control_headers, timeout=5)
    assert faults.json()["error_rate"] == 0.0
    ac.app.admin_token = "rotated"
    assert ac.control("GET", "/webhook-deliveries").status_code == 200  # control_headers follows
    stale = requests.get(
        f"{ac.url}/_sandbox/faults",
        headers={"X-Sandbox-Admin": allowed.request.headers["X-Sandbox-Admin"]},
        timeout=5,
    )
    assert stale.status_code == 403
