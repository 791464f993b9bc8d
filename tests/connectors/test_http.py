"""The shared HTTP chokepoint: retries, Retry-After, idempotency, classification, redaction."""

from __future__ import annotations

import pytest
import requests
import responses

from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    RecordError,
    RetryableError,
    UnreachableError,
)
from connectors.http import HttpSettings, RetryPolicy, VendorHttp, retry_after_seconds
from connectors.ratelimit import LocalStore, Rate, Throttle

BASE = "https://vendor.example/api/"


def classify(response: requests.Response) -> ConnectorError:
    if response.status_code == 429:
        return RateLimitedError("slow down", vendor="test", status=429)
    if response.status_code >= 500:
        return RetryableError("server error", vendor="test", status=response.status_code)
    if response.status_code in (401, 403):
        return ConfigurationError(
            f"refused key {response.request.headers.get('Api-Token')}",
            vendor="test",
            status=response.status_code,
            reason=ConfigReason.UNAUTHORIZED,
        )
    return RecordError(response.text, vendor="test", status=response.status_code)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def http(sleeps):
    return VendorHttp(
        vendor="test",
        base_url=BASE,
        classify=classify,
        auth_headers=lambda: {"Api-Token": "s3cret-key"},
        secrets=["s3cret-key"],
        retry=RetryPolicy(attempts=4, backoff=1.0),
        sleep=sleeps.append,
    )


@responses.activate
def test_it_sends_auth_user_agent_and_timeouts(http):
    responses.get(BASE + "things", json={"ok": True})

    http.request("GET", "things", params={"limit": 100})

    sent = responses.calls[0].request
    assert sent.headers["Api-Token"] == "s3cret-key"
    assert sent.headers["User-Agent"].startswith("syncadmin/")
    assert sent.url == BASE + "things?limit=100"
    assert sent.req_kwargs["timeout"] == (5.0, 60.0)


@responses.activate
def test_it_follows_absolute_urls_untouched(http):
    next_link = "https://vendor.example/api/things?$skiptoken=%3Ccookie%20x%3D%221%22%3E"
    responses.get(next_link, json={})

    http.request("GET", next_link)

    assert responses.calls[0].request.url == next_link


@responses.activate
def test_it_retries_5xx_on_idempotent_calls_with_backoff(http, sleeps):
    responses.get(BASE + "things", status=503)
    responses.get(BASE + "things", status=502)
    responses.get(BASE + "things", json={"ok": True})

    response = http.request("GET", "things")

    assert response.json() == {"ok": True}
    assert len(responses.calls) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # doubling, with jitter


@responses.activate
def test_it_gives_up_after_the_bounded_attempts(http, sleeps):
    responses.get(BASE + "things", status=500)

    with pytest.raises(RetryableError):
        http.request("GET", "things")

    assert len(responses.calls) == 4
    assert len(sleeps) == 3


@responses.activate
def test_it_does_not_resend_a_non_idempotent_post_after_a_5xx(http):
    responses.post(BASE + "things", status=502)

    with pytest.raises(RetryableError):
        http.request("POST", "things", json={"a": 1})

    assert len(responses.calls) == 1


@responses.activate
def test_it_resends_a_post_marked_idempotent(http):
    responses.post(BASE + "contact/sync", status=502)
    responses.post(BASE + "contact/sync", json={"contact": {}})

    http.request("POST", "contact/sync", json={"a": 1}, idempotent=True)

    assert len(responses.calls) == 2


@responses.activate
def test_it_honours_retry_after_and_pauses_the_whole_account(sleeps):
    clock = {"now": 1000.0}

    def sleep(seconds):
        sleeps.append(seconds)
        clock["now"] += seconds

    store = LocalStore(clock=lambda: clock["now"])
    throttle = Throttle("test:acct", [Rate(100, 1.0)], store=store, sleep=sleep)
    http = VendorHttp(
        vendor="test", base_url=BASE, classify=classify, throttle=throttle, sleep=sleep
    )
    other = Throttle("test:acct", [Rate(100, 1.0)], store=store, sleep=sleep)
    responses.post(BASE + "things", status=429, headers={"Retry-After": "7"})
    responses.post(BASE + "things", json={})

    http.request("POST", "things", json={})  # a 429 means "not done": safe even for POST

    assert sleeps == [7.0]
    # Any other client of the account waited out the same penalty.
    clock["now"] -= 7.0
    other.acquire()
    assert sleeps[-1] == pytest.approx(7.0)


@responses.activate
def test_it_raises_a_retry_after_longer_than_it_will_wait(http):
    responses.get(BASE + "things", status=429, headers={"Retry-After": "3600"})

    with pytest.raises(RateLimitedError) as raised:
        http.request("GET", "things")

    assert raised.value.retry_after == 3600.0
    assert len(responses.calls) == 1


@responses.activate
def test_it_refreshes_auth_once_on_401():
    tokens = iter(["old", "new"])
    current = {"token": next(tokens)}

    def refresh():
        current["token"] = next(tokens)
        return True

    http = VendorHttp(
        vendor="test",
        base_url=BASE,
        classify=classify,
        auth_headers=lambda: {"Authorization": f"Bearer {current['token']}"},
        on_unauthorized=refresh,
        sleep=lambda s: None,
    )
    responses.get(BASE + "me", status=401)
    responses.get(BASE + "me", json={"id": 1})

    http.request("GET", "me")

    assert [c.request.headers["Authorization"] for c in responses.calls] == [
        "Bearer old",
        "Bearer new",
    ]


@responses.activate
def test_it_keeps_secrets_out_of_error_messages(http):
    responses.get(BASE + "me", status=403)

    with pytest.raises(ConfigurationError) as raised:
        http.request("GET", "me")

    assert "s3cret-key" not in str(raised.value)
    assert "***" in raised.value.message


def test_it_classifies_an_unknown_host_as_configuration(http):
    http.base_url = "http://no-such-host.invalid/"

    with pytest.raises(ConfigurationError) as raised:
        http.request("GET", "x")

    assert raised.value.reason == ConfigReason.UNREACHABLE


def test_it_retries_a_refused_connection_even_for_post(sleeps):
    http = VendorHttp(
        vendor="test",
        base_url="http://127.0.0.1:1/",
        classify=classify,
        settings=HttpSettings(allow_local_urls=True),
        retry=RetryPolicy(attempts=3, backoff=0.01),
        sleep=sleeps.append,
    )

    with pytest.raises(RetryableError) as raised:
        http.request("POST", "x", json={})

    assert raised.value.unsent
    assert len(sleeps) == 2  # refused before sending: retried like any idempotent call


def test_it_marks_a_refused_connection_as_unreachable_and_a_reset_as_not(sleeps):
    http = VendorHttp(
        vendor="test",
        base_url="http://127.0.0.1:1/",
        classify=classify,
        settings=HttpSettings(allow_local_urls=True),
        retry=RetryPolicy(attempts=1),
        sleep=sleeps.append,
    )
    with pytest.raises(UnreachableError) as refused:
        http.request("GET", "x")
    assert refused.value.message == "could not connect to 127.0.0.1:1"

    with responses.RequestsMock() as mocked:
        mocked.get(BASE + "x", body=requests.exceptions.ConnectionError("reset by peer"))
        with pytest.raises(RetryableError) as reset:
            VendorHttp(
                vendor="test", base_url=BASE, classify=classify, retry=RetryPolicy(attempts=1)
            ).request("GET", "x")
    # A reset may come after the vendor acted: neither unreachable nor surely unsent.
    assert not isinstance(reset.value, UnreachableError)
    assert not reset.value.unsent


def test_it_reads_retry_after_as_seconds_or_date():
    response = requests.Response()
    response.headers["Retry-After"] = "12"
    assert retry_after_seconds(response) == 12.0
    response.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds(response) == 0.0
    response.headers["Retry-After"] = "soon"
    assert retry_after_seconds(response) is None
