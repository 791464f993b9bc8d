"""Request shape (base URL, headers), the connection check, the account throttle, 429s."""

from __future__ import annotations

import pytest

from connectors.activecampaign import ActiveCampaignClient, account_rate, account_throttle_key
from connectors.config import ActiveCampaignConfig
from connectors.errors import ConfigurationError, RateLimitedError
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import Rate

from .conftest import API_KEY, API_URL, BASE, body, path

ME = {
    "user": {
        "id": "3",
        "username": "jdoe",
        "firstName": "John",
        "lastName": "Doe",
        "email": "johndoe@example.com",
    }
}


def test_it_checks_the_connection_with_users_me(rsps, client):
    rsps.get(BASE + "users/me", json=ME)

    info = client.check()

    assert info.user_id == "3"
    assert info.display_name == "John Doe"
    assert info.email == "johndoe@example.com"
    assert info.api_host == "acme.api-us1.com"
    assert info.api_url == API_URL
    assert [c.request.url for c in rsps.calls] == [f"{API_URL}/api/3/users/me"]


def test_it_sends_the_key_the_user_agent_and_json(rsps, client):
    rsps.get(BASE + "users/me", json=ME)
    rsps.post(BASE + "webhooks", json={"webhook": {"id": "1", "name": "n", "url": "https://x"}})

    client.check()
    client.webhooks.create(name="n", url="https://x.example/hook", events=["update"])

    get, post = (call.request for call in rsps.calls)
    assert get.headers["Api-Token"] == API_KEY
    assert get.headers["Accept"] == "application/json"
    assert get.headers["User-Agent"].startswith("syncadmin/")
    assert "Content-Type" not in get.headers
    assert post.headers["Api-Token"] == API_KEY
    assert post.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "entered",
    [
        "https://acme.api-us1.com",
        "https://acme.api-us1.com/",
        "https://acme.api-us1.com/api/3",
        "  https://acme.api-us1.com/api/3/ ",
    ],
)
def test_it_takes_the_api_url_as_people_paste_it(rsps, make_client, entered):
    rsps.get(BASE + "users/me", json=ME)

    make_client(api_url=entered).check()

    assert rsps.calls[0].request.url == f"{API_URL}/api/3/users/me"


@pytest.mark.parametrize("entered", ["acme.api-us1.com", "", "ftp://acme.api-us1.com"])
def test_it_refuses_an_api_url_that_is_not_a_url(make_client, entered):
    with pytest.raises(ConfigurationError):
        make_client(api_url=entered)


def test_it_keeps_the_key_out_of_its_repr():
    config = ActiveCampaignConfig(api_url=API_URL, api_key=API_KEY)

    assert API_KEY not in repr(config)


def test_it_reads_http_settings_from_django_when_none_are_given(settings):
    settings.CONNECTOR_READ_TIMEOUT = 12.5
    settings.CONNECTOR_CA_BUNDLE = "/etc/ssl/sandbox-ca.pem"

    client = ActiveCampaignClient(ActiveCampaignConfig(api_url=API_URL, api_key=API_KEY))

    assert client.http.settings.read_timeout == 12.5
    assert client.http.settings.verify == "/etc/ssl/sandbox-ca.pem"


# -- throttle --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("share", "per_second"),
    [(0.8, 4), (1.0, 5), (0.5, 2), (0.1, 1), (0.0, 1), (2.0, 5), (0.61, 3)],
)
def test_it_budgets_floor_of_five_times_the_share(share, per_second):
    rate = account_rate(share)

    assert rate.limit == per_second
    assert rate.window > 1.0  # padded against network jitter


def test_it_keys_the_throttle_by_the_account_host(make_client):
    client = make_client()
    other_key = make_client(api_key="another-key-of-the-same-account")

    assert client.throttle.key == "activecampaign:acme.api-us1.com"
    assert other_key.throttle.key == client.throttle.key  # one budget per account, any key
    assert client.throttle.rates == (account_rate(0.8),)
    assert account_throttle_key("https://Other.api-us1.com/") == "activecampaign:other.api-us1.com"


def test_it_shares_the_default_store_through_redis_when_configured(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    client = ActiveCampaignClient(
        ActiveCampaignConfig(api_url=API_URL, api_key=API_KEY), http_settings=HttpSettings()
    )

    assert type(client.throttle.store).__name__ == "RedisStore"


def test_it_paces_requests_to_the_budget(rsps, client, clock):
    rsps.get(BASE + "users/me", json=ME)
    started = clock.now

    for _ in range(9):
        client.check()

    # 4 per 1.2 s: the 5th waits for the 1st to leave the window, the 9th for the 5th.
    assert clock.now - started == pytest.approx(2 * 1.2)
    assert len(rsps.calls) == 9


def test_it_waits_out_retry_after_and_pauses_the_whole_account(rsps, make_client, clock):
    first = make_client(retry=RetryPolicy(attempts=2))
    second = make_client(api_key="second-integration-key")
    rsps.get(
        BASE + "users/me", status=429, json={"message": "Too Many"}, headers={"Retry-After": "3"}
    )
    rsps.get(BASE + "users/me", json=ME)
    rsps.get(BASE + "automations", json={"automations": [], "meta": {"total": "0"}})
    seen = {}

    def first_waits(seconds):
        # While the first worker waits out its 429, a second worker of the same account
        # sends a request: it must wait for the same penalty.
        seen["first"] = seconds
        before = clock.now
        list(second.automations.all())
        seen["second"] = clock.now - before

    first.http._sleep = first_waits
    first.check()

    assert seen["first"] == 3.0
    assert seen["second"] == pytest.approx(3.0)
    assert [path(call) for call in rsps.calls] == [
        "/api/3/users/me",
        "/api/3/automations",
        "/api/3/users/me",
    ]


def test_it_gives_up_on_a_retry_after_longer_than_it_may_wait(rsps, make_client):
    client = make_client(retry=RetryPolicy(retry_after_max=60))
    rsps.get(BASE + "users/me", status=429, json={}, headers={"Retry-After": "3600"})

    with pytest.raises(RateLimitedError) as caught:
        client.check()

    assert caught.value.retry_after == 3600
    assert len(rsps.calls) == 1


def test_it_uses_one_http_layer_for_every_request(rsps, client):
    rsps.get(BASE + "users/me", json=ME)
    rsps.post(BASE + "tags", json={"tag": {"id": "5", "tag": "D365: Contact"}})
    rsps.get(BASE + "tags", json={"tags": [], "meta": {"total": "0"}})

    client.check()
    client.tags.ensure("D365: Contact")

    assert client.throttle is client.http.throttle
    assert body(rsps.calls[-1]) == {
        "tag": {"tag": "D365: Contact", "tagType": "contact", "description": ""}
    }


def test_it_runs_the_budget_at_the_rate_given(rsps, make_client, clock):
    client = make_client(budget_share=0.2)
    rsps.get(BASE + "users/me", json=ME)
    started = clock.now

    client.check()
    client.check()

    assert client.throttle.rates == (Rate(1, 1.2),)
    assert clock.now - started == pytest.approx(1.2)
