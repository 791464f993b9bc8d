"""The Dataverse sandbox served in-process on free localhost ports (HTTP and HTTPS).

One seeded organization per test session keeps the directory fast; tests create the rows they
assert on and the `dv` fixture puts limits, faults, flags and webhooks back after each test.
The S, I and § marks in these tests point to the Sources of sandbox/dataverse/README.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
import requests

from sandbox.core import Faults
from sandbox.dataverse.app import DataverseSandbox
from sandbox.server import ServerHandle, serve
from sandbox.store import Database
from sandbox.tls import certificate_ensure

pytestmark = pytest.mark.integration

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
}


@dataclass
class Org:
    """How a client sees the sandbox: URLs, the app registration, and helpers."""

    app: DataverseSandbox
    url: str  # org URL over plain HTTP
    tls_url: str  # the same service over HTTPS (the authority host)
    tenant_id: str
    client_id: str
    client_secret: str
    ca_bundle: str
    handles: list[ServerHandle] = field(default_factory=list, repr=False)
    _tokens: dict = field(default_factory=dict, repr=False)

    @property
    def api(self) -> str:
        return f"{self.url}/api/data/v9.2"

    @property
    def token_url(self) -> str:
        return f"{self.tls_url}/{self.tenant_id}/oauth2/v2.0/token"

    def token_response(self, *, client_id=None, secret=None, scope=None, tenant=None, **extra):
        data = {
            "grant_type": "client_credentials",
            "client_id": client_id or self.client_id,
            "client_secret": secret if secret is not None else self.client_secret,
            "scope": scope if scope is not None else f"{self.url}/.default",
            **extra,
        }
        url = f"{self.tls_url}/{tenant or self.tenant_id}/oauth2/v2.0/token"
        # verify= per request: REQUESTS_CA_BUNDLE would override a Session's verify (§1.2a).
        return requests.post(url, data=data, verify=self.ca_bundle, timeout=10)

    def token(self, **kwargs) -> str:
        key = tuple(sorted(kwargs.items()))
        if key not in self._tokens:
            response = self.token_response(**kwargs)
            assert response.status_code == 200, response.text
            self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    def session(self, token: str | None = None) -> requests.Session:
        session = requests.Session()
        session.headers.update(ODATA_HEADERS)
        session.headers["Authorization"] = f"Bearer {token or self.token()}"
        return session

    def create(self, entity_set: str, body: dict, session: requests.Session | None = None) -> str:
        response = (session or self.session()).post(
            f"{self.api}/{entity_set}", json=body, timeout=10
        )
        assert response.status_code == 204, response.text
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def org_start(tls_dir, *, seed: int) -> Org:
    app = DataverseSandbox(Database(":memory:"), requests_per_window=None, concurrency=None)
    if seed:
        app.seed(seed)
    tenant_id, client_id, secret = app.app_registration_ensure()
    certificate = certificate_ensure(tls_dir)
    handles = [serve(app, name="dv-test"), serve(app, tls=certificate, name="dv-test")]
    return Org(
        app,
        handles[0].url,
        handles[1].url,
        tenant_id,
        client_id,
        secret,
        str(certificate.ca_bundle),
        handles,
    )


@pytest.fixture(scope="session")
def dv_tls_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("dv-tls")


@pytest.fixture(scope="session")
def dataverse_org(dv_tls_dir):
    org = org_start(dv_tls_dir, seed=300)
    yield org
    for handle in org.handles:
        handle.stop()


@pytest.fixture
def dv(dataverse_org):
    """The shared organization, with run-time settings restored after the test."""
    app = dataverse_org.app
    yield dataverse_org
    app.requests_per_window = None
    app.concurrency = None
    app.execution_ms_per_window = None
    app.window_seconds = 300
    app.token_lifetime = 3600
    app.faults = Faults()
    for logical in ("lead", "contact", "account", "opportunity"):
        if not app.table(logical).change_tracking:
            app.change_tracking_set(logical, True)
    if app.expire_change_tracking_days != 7:
        app.expire_change_tracking_days = 7
    for hook in app.webhooks.list():
        app.webhooks.unregister(hook["id"])


@pytest.fixture
def s(dv) -> requests.Session:
    """A Web API session for the default app registration."""
    return dv.session()


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"
