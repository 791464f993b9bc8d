"""Fixtures for the ActiveCampaign connector tests.

Every request a test sends through `rsps` is checked against AC's v3 reference on teardown
(openapi_contract): the unit tests double as contract tests.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.activecampaign import ActiveCampaignClient
from connectors.config import ActiveCampaignConfig
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import LocalStore

from . import openapi_contract

API_URL = "https://acme.api-us1.com"
BASE = f"{API_URL}/api/3/"
API_KEY = "ac-key-0123456789abcdef"


class FakeClock:
    """Monotonic time that moves only when someone sleeps: throttles and backoffs cost
    nothing, and every wait is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock) -> LocalStore:
    return LocalStore(clock=clock)


@pytest.fixture
def make_client(clock, store):
    def make(**overrides) -> ActiveCampaignClient:
        config = ActiveCampaignConfig(
            api_url=overrides.pop("api_url", API_URL),
            api_key=overrides.pop("api_key", API_KEY),
            budget_share=overrides.pop("budget_share", 0.8),
        )
        return ActiveCampaignClient(
            config,
            http_settings=overrides.pop("http_settings", HttpSettings()),
            throttle_store=overrides.pop("throttle_store", store),
            retry=overrides.pop("retry", RetryPolicy()),
            sleep=overrides.pop("sleep", clock.sleep),
        )

    return make


@pytest.fixture
def client(make_client) -> ActiveCampaignClient:
    return make_client()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        problems = []
        for call in mock.calls:
            request = call.request
            problems += openapi_contract.check_request(request.method, request.url, request.body)
    assert not problems, "requests that do not fit AC's v3 reference:\n" + "\n".join(problems)


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)


def body(call) -> dict:
    return json.loads(call.request.body)


def path(call) -> str:
    return urlsplit(call.request.url).path
