"""Fixtures for the ActiveCampaign integration tests: the real connector against the real
sandbox over HTTP (the `sandboxes` fixture: in memory, rate limits off).

Waiting is injected: the client's throttle, backoffs and polls run on a clock that moves when
someone sleeps, with a short real pause so that the sandbox's background work (imports,
webhook deliveries) still gets on. A test that needs real time (the rate-limit tests) passes
`sleep=time.sleep` and a real store.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from connectors.activecampaign import ActiveCampaignClient
from connectors.config import ActiveCampaignConfig
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import LocalStore, Store

# The longest real pause one injected sleep takes: enough for the sandbox's threads to run.
REAL_PAUSE = 0.01


class FastClock:
    """Monotonic time that moves when someone sleeps; every wait is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)
        time.sleep(min(max(0.0, seconds), REAL_PAUSE))


@pytest.fixture
def clock() -> FastClock:
    return FastClock()


@pytest.fixture
def ac(sandboxes):
    """The AC sandbox app: faults, rate_limit, log, seed, db, clock."""
    app = sandboxes.activecampaign_app
    yield app
    app.close()


@pytest.fixture
def make_client(sandboxes, clock) -> Callable[..., ActiveCampaignClient]:
    def make(
        *,
        api_url: str | None = None,
        api_key: str | None = None,
        budget_share: float = 1.0,
        retry: RetryPolicy | None = None,
        store: Store | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> ActiveCampaignClient:
        return ActiveCampaignClient(
            ActiveCampaignConfig(
                api_url=api_url or sandboxes.activecampaign.api_url,
                api_key=api_key or sandboxes.activecampaign.api_key,
                budget_share=budget_share,
            ),
            http_settings=HttpSettings(
                connect_timeout=2.0, read_timeout=10.0, allow_local_urls=True
            ),
            throttle_store=store or LocalStore(clock=clock),
            retry=retry or RetryPolicy(attempts=5, backoff=0.05, backoff_max=1.0),
            sleep=sleep or clock.sleep,
        )

    return make


@pytest.fixture
def client(make_client) -> ActiveCampaignClient:
    return make_client()


def requests_by_path(app, method: str | None = None) -> Counter:
    """How many requests the sandbox logged per (method, path)."""
    return Counter((e.method, e.path) for e in app.log.entries(method=method))
