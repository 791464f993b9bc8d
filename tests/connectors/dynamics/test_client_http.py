"""The client on VendorHttp: token refresh, 429 and Retry-After, retries, the throttle."""

from __future__ import annotations

import pytest
import responses

from connectors.config import DynamicsConfig
from connectors.dynamics import DynamicsClient
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    RateLimitedError,
    RecordError,
    user_message,
)
from connectors.http import RetryPolicy
from connectors.ratelimit import Rate

from .conftest import API, AUTHORITY_HOST, CLIENT_ID, SECRET, TENANT, dataverse_calls, odata_error

WHO = {
    "BusinessUnitId": "b0000000-0000-0000-0000-000000000001",
    "UserId": "a0000000-0000-0000-0000-000000000001",
    "OrganizationId": "c0000000-0000-0000-0000-000000000001",
}


def test_it_refreshes_an_expired_token_once_and_succeeds(client, mocked, identity):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        status=401,
        body="",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'},
    )
    mocked.add(responses.GET, API + "WhoAmI", json=WHO)

    assert client.who_am_i().user_id == WHO["UserId"]

    auth = [c.request.headers["Authorization"] for c in dataverse_calls(mocked)]
    assert auth == ["Bearer token-1", "Bearer token-2"]
    assert identity.issued == ["token-1", "token-2"]


def test_it_reports_unauthorized_after_the_one_refresh(client, mocked, identity):
    mocked.add(responses.GET, API + "WhoAmI", status=401, body="")

    with pytest.raises(ConfigurationError) as caught:
        client.who_am_i()

    assert caught.value.reason is ConfigReason.UNAUTHORIZED
    assert len(dataverse_calls(mocked)) == 2
    assert identity.issued == ["token-1", "token-2"]


def test_it_waits_retry_after_on_429_and_resends(client, mocked, sleeps):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        status=429,
        headers={"Retry-After": "7"},
        json=odata_error(
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        ),
    )
    mocked.add(responses.GET, API + "WhoAmI", json=WHO)

    client.who_am_i()

    assert len(dataverse_calls(mocked)) == 2
    assert sleeps[0] == 7  # the Retry-After, then the throttle's own wait behind the penalty
    assert sum(sleeps) >= 7


def test_it_raises_rate_limited_when_retries_run_out(make_client, mocked):
    client = make_client(retry=RetryPolicy(attempts=2))
    for _ in range(2):
        mocked.add(
            responses.GET,
            API + "WhoAmI",
            status=429,
            headers={"Retry-After": "3"},
            json=odata_error(
                "0x80072326", "Number of concurrent requests exceeded the limit of 52."
            ),
        )
    with pytest.raises(RateLimitedError) as caught:
        client.who_am_i()
    assert caught.value.retry_after == 3
    assert caught.value.code == "0x80072326"
    assert "rate limiting" in user_message(caught.value)


def test_it_retries_a_server_error_on_a_read(client, mocked):
    mocked.add(responses.GET, API + "WhoAmI", status=503, body="")
    mocked.add(responses.GET, API + "WhoAmI", json=WHO)
    assert client.who_am_i().organization_id == WHO["OrganizationId"]
    assert len(dataverse_calls(mocked)) == 2


def test_it_does_not_retry_a_record_error(client, mocked):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        status=400,
        json=odata_error("0x0", "Could not find a property named 'Name' on type 'x'."),
    )
    with pytest.raises(RecordError):
        client.who_am_i()
    assert len(dataverse_calls(mocked)) == 1


def test_it_never_puts_the_secret_in_an_error(client, mocked):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        status=400,
        json=odata_error("0x80040265", f"plug-in echoed {SECRET}"),
    )
    with pytest.raises(RecordError) as caught:
        client.who_am_i()
    assert SECRET not in caught.value.message
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(client.config)


def _config(**overrides) -> DynamicsConfig:
    values = {
        "org_url": "https://Contoso.crm.dynamics.com/api/data/v9.2/",
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "authority_host": AUTHORITY_HOST,
    }
    return DynamicsConfig(**(values | overrides))


def test_it_plans_one_throttle_per_org_and_application_user():
    client = DynamicsClient(_config(budget_share=0.5))
    assert client.base_url == "https://Contoso.crm.dynamics.com/api/data/v9.2/"
    assert client.throttle.key == f"dynamics:contoso.crm.dynamics.com:{CLIENT_ID}"
    assert client.throttle.rates == (Rate(3000, 300.0),)
    assert client.throttle.concurrency == 8
    assert DynamicsClient(_config(), concurrency=500).throttle.concurrency == 52
    assert DynamicsClient(_config(budget_share=0.8)).throttle.rates == (Rate(4800, 300.0),)


def test_it_refuses_an_org_url_that_is_not_one():
    with pytest.raises(ConfigurationError):
        DynamicsClient(_config(org_url="contoso"))
