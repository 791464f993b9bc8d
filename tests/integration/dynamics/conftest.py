"""The Dataverse connector against the Dataverse sandbox: real HTTP, real MSAL, real TLS.

The sandbox is started the way `sandbox.runner.sandboxes_start` starts it (the ActiveCampaign
half is left out): one in-memory organization per test, its Web API on a plain HTTP port and
the Entra stand-in on a TLS port, whose CA bundle reaches the connector only through
`HttpSettings(verify=…)` (REQUESTS_CA_BUNDLE is set on this machine and must not matter).

Time: retries and throttle waits run on a fake clock (`FakeClock`) unless a test needs the
sandbox's real-time windows, so that a 429 with Retry-After costs no wall time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests

from connectors.config import DynamicsConfig
from connectors.dynamics import DynamicsClient
from connectors.dynamics.auth import forget_apps
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import LocalStore
from sandbox.core import LogEntry
from sandbox.dataverse.app import DataverseSandbox
from sandbox.runner import DataverseEndpoint
from sandbox.server import ServerHandle, serve
from sandbox.store import Database
from sandbox.tls import certificate_ensure

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
}


@dataclass
class FakeClock:
    """Time that passes only when the code under test sleeps (retries, throttle waits)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@dataclass
class DataverseOrg:
    """One running sandbox organization and what a test needs to reach it from outside."""

    app: DataverseSandbox
    endpoint: DataverseEndpoint
    handles: list[ServerHandle] = field(default_factory=list, repr=False)
    _token: str | None = field(default=None, repr=False)

    @property
    def api(self) -> str:
        return f"{self.endpoint.org_url}/api/data/v9.2"

    def config(self, **overrides) -> DynamicsConfig:
        values = {
            "org_url": self.endpoint.org_url,
            "tenant_id": self.endpoint.tenant_id,
            "client_id": self.endpoint.client_id,
            "client_secret": self.endpoint.client_secret,
            "authority_host": self.endpoint.authority_host,
        }
        values.update(overrides)
        return DynamicsConfig(**values)

    # -- a plain Web API client, independent of the connector, to arrange data -----------------
    def session(self) -> requests.Session:
        if self._token is None:
            response = requests.post(
                f"{self.endpoint.authority_host}/{self.endpoint.tenant_id}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.endpoint.client_id,
                    "client_secret": self.endpoint.client_secret,
                    "scope": f"{self.endpoint.org_url}/.default",
                },
                verify=self.endpoint.ca_bundle,
                timeout=10,
            )
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        session = requests.Session()
        session.headers.update(ODATA_HEADERS)
        session.headers["Authorization"] = f"Bearer {self._token}"
        return session

    def create(self, entity_set: str, body: dict) -> str:
        response = self.session().post(f"{self.api}/{entity_set}", json=body, timeout=10)
        assert response.status_code == 204, response.text
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def update(self, entity_set: str, record_id: str, body: dict) -> None:
        response = self.session().patch(
            f"{self.api}/{entity_set}({record_id})",
            json=body,
            headers={"If-Match": "*"},
            timeout=10,
        )
        assert response.status_code == 204, response.text

    def delete(self, entity_set: str, record_id: str) -> None:
        response = self.session().delete(f"{self.api}/{entity_set}({record_id})", timeout=10)
        assert response.status_code == 204, response.text

    # -- what the sandbox holds and saw, read from the inside (no faults, no limits) ------------
    def stored(self, logical: str, where: str = "", params: tuple = ()) -> list[dict]:
        table = self.app.table(logical)
        sql = f'SELECT * FROM "{table.sql_table}"'  # noqa: S608 - table name from the model
        if where:
            sql += f" WHERE {where}"
        return [dict(row) for row in self.app.store.query(sql, params)]

    def api_log(self) -> list[LogEntry]:
        return self.app.log.entries(path_prefix="/api/")

    def token_requests(self) -> list[LogEntry]:
        return [e for e in self.app.log.entries(method="POST") if e.path.endswith("/token")]


def request_figures(entries: list[LogEntry]) -> dict[str, int]:
    """Requests by outcome: 'ok', or the injected/refused fault, or the HTTP status."""
    counts: Counter[str] = Counter()
    for entry in entries:
        if entry.fault:
            counts[entry.fault] += 1
        elif entry.status < 400:
            counts["ok"] += 1
        else:
            counts[str(entry.status)] += 1
    return dict(counts)


def org_start(tls_dir) -> DataverseOrg:
    """What sandboxes_start does for the Dataverse half, with the limits off."""
    app = DataverseSandbox(Database(":memory:"), requests_per_window=None, concurrency=None)
    tenant_id, client_id, client_secret = app.app_registration_ensure()
    certificate = certificate_ensure(tls_dir)
    handles = [
        serve(app, name="dataverse-sandbox"),
        serve(app, tls=certificate, name="dataverse-sandbox"),
    ]
    endpoint = DataverseEndpoint(
        org_url=handles[0].url,
        org_url_tls=handles[1].url,
        authority_host=handles[1].url,
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        ca_bundle=str(certificate.ca_bundle),
    )
    return DataverseOrg(app, endpoint, handles)


@pytest.fixture(autouse=True)
def _fresh_msal_apps():
    # MSAL apps (and their token caches) live in a module cache keyed by authority and client
    # id; each test starts without, as a new process would.
    forget_apps()
    yield
    forget_apps()


@pytest.fixture
def org(sandbox_tls_dir) -> DataverseOrg:
    running = org_start(sandbox_tls_dir)
    try:
        yield running
    finally:
        for handle in running.handles:
            handle.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(org, clock) -> Callable[..., DynamicsClient]:
    """A connector for `org` with short timeouts and retries on the fake clock."""

    def make(config: DynamicsConfig | None = None, **kwargs) -> DynamicsClient:
        kwargs.setdefault(
            "http_settings",
            HttpSettings(verify=org.endpoint.ca_bundle, connect_timeout=2.0, read_timeout=10.0),
        )
        kwargs.setdefault("throttle_store", LocalStore(clock=clock.monotonic))
        kwargs.setdefault("retry", RetryPolicy(attempts=8, backoff=0.05, backoff_max=0.5))
        kwargs.setdefault("sleep", clock.sleep)
        return DynamicsClient(config or org.config(), **kwargs)

    return make


@pytest.fixture
def client(make_client) -> DynamicsClient:
    return make_client()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
