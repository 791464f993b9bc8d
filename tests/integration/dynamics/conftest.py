"""The Dataverse connector against the Dataverse sandbox: real HTTP, real MSAL, real TLS.

The sandbox is started the way `sandbox.runner.sandboxes_start` starts it (the ActiveCampaign
half is left out): one in-memory organization per test, its Web API on a plain HTTP port and
the Entra stand-in on a TLS port, whose CA bundle reaches the connector only through
`HttpSettings(verify=…)` (REQUESTS_CA_BUNDLE is set on this machine and must not matter).

Time: retries and throttle waits run on a fake clock (`FakeClock`) unless a test needs the
sandbox's real-time windows, so that a 429 with Retry-After costs no wall time.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from waitress.channel import ClientDisconnected

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


class CurrentApp:
    """A WSGI app that hands each request to the organization of the running test.

    Starting and stopping the listeners costs about 1.5 s (waitress' shutdown, werkzeug's poll
    interval); serving every test's fresh organization through one pair of listeners keeps
    the directory fast while no state leaks from one test to the next.
    """

    def __init__(self) -> None:
        self.app: DataverseSandbox | None = None
        # (method, path, query, Prefer header) of every request: the sandbox's own log keeps
        # no headers, and the tests check that preferences are resent page after page.
        self.seen: list[tuple[str, str, str, str]] = []
        self.lost_answers = LostAnswers()

    def reset(self, app: DataverseSandbox) -> None:
        self.app = app
        self.seen.clear()
        self.lost_answers = LostAnswers()

    def __call__(self, environ, start_response):
        self.seen.append(
            (
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_PREFER", ""),
            )
        )
        if self.lost_answers.hits(environ):
            # The service acts, then the answer never arrives (a gateway timing out after the
            # commit). The sandbox's own faults all strike before the request is handled.
            answer: list = []
            body = b"".join(self.app(environ, lambda *args, **kwargs: answer.extend(args)))
            if answer[0].startswith("2"):
                self.lost_answers.record()
                raise ClientDisconnected("sandbox fault: the answer was lost after it acted")
            start_response(*answer)  # the sandbox refused it anyway: deliver that
            return [body]
        return self.app(environ, start_response)


@dataclass
class LostAnswers:
    """Lose the answer to this share of `$batch` requests, after the sandbox handled them."""

    rate: float = 0.0
    seed: int = 0
    count: int = 0  # answers lost after the sandbox handled the request successfully
    _random: random.Random | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hits(self, environ) -> bool:
        if not self.rate or not environ.get("PATH_INFO", "").endswith("/$batch"):
            return False
        with self._lock:
            if self._random is None:
                self._random = random.Random(self.seed)
            return self._random.random() < self.rate

    def record(self) -> None:
        with self._lock:
            self.count += 1


@dataclass
class Listeners:
    current: CurrentApp
    http: ServerHandle
    https: ServerHandle
    ca_bundle: str


@dataclass
class DataverseOrg:
    """One running sandbox organization and what a test needs to reach it from outside."""

    app: DataverseSandbox
    endpoint: DataverseEndpoint
    listeners: Listeners = field(repr=False)
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

    def prefer_headers(self, path: str) -> list[str]:
        """The Prefer header of every GET to `path` (below /api/data/v9.2/), in order."""
        full = f"/api/data/v9.2/{path}"
        return [
            prefer
            for method, seen, _, prefer in self.listeners.current.seen
            if method == "GET" and seen == full
        ]

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


def org_start(listeners: Listeners) -> DataverseOrg:
    """What sandboxes_start does for the Dataverse half (limits off), on the shared listeners."""
    app = DataverseSandbox(Database(":memory:"), requests_per_window=None, concurrency=None)
    tenant_id, client_id, client_secret = app.app_registration_ensure()
    listeners.current.reset(app)
    endpoint = DataverseEndpoint(
        org_url=listeners.http.url,
        org_url_tls=listeners.https.url,
        authority_host=listeners.https.url,
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        ca_bundle=listeners.ca_bundle,
    )
    return DataverseOrg(app, endpoint, listeners)


@pytest.fixture(scope="session")
def dataverse_listeners(sandbox_tls_dir) -> Listeners:
    """The Web API over HTTP and the identity endpoint over TLS, as the runner serves them."""
    certificate = certificate_ensure(sandbox_tls_dir)
    current = CurrentApp()
    http = serve(current, name="dataverse-sandbox")
    https = serve(current, tls=certificate, name="dataverse-sandbox")
    try:
        yield Listeners(current, http, https, str(certificate.ca_bundle))
    finally:
        http.stop()
        https.stop()


@pytest.fixture(autouse=True)
def _fresh_msal_apps():
    # MSAL apps (and their token caches) live in a module cache keyed by authority and client
    # id; each test starts without, as a new process would.
    forget_apps()
    yield
    forget_apps()


@pytest.fixture
def org(dataverse_listeners) -> DataverseOrg:
    """A fresh, empty organization (limits off) for each test."""
    running = org_start(dataverse_listeners)
    try:
        yield running
    finally:
        dataverse_listeners.current.app = None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(org, clock) -> Callable[..., DynamicsClient]:
    """A connector for `org` with short timeouts and retries on the fake clock."""

    def make(config: DynamicsConfig | None = None, **kwargs) -> DynamicsClient:
        kwargs.setdefault(
            "http_settings",
            HttpSettings(
                verify=org.endpoint.ca_bundle,
                connect_timeout=2.0,
                read_timeout=10.0,
                allow_local_urls=True,
            ),
        )
        kwargs.setdefault("throttle_store", LocalStore(clock=clock.monotonic))
        kwargs.setdefault("retry", RetryPolicy(attempts=8, backoff=0.05, backoff_max=0.5))
        kwargs.setdefault("sleep", clock.sleep)
        return DynamicsClient(config or org.config(), **kwargs)

    return make


@pytest.fixture
def client(make_client) -> DynamicsClient:
    return make_client()
