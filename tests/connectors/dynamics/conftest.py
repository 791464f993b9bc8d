"""Fixtures for the Dataverse connector's unit tests: a mocked Entra tenant and Dataverse org.

Everything goes through the real MSAL and the real VendorHttp; `responses` answers instead of
the network. The authority host is not Microsoft's, so MSAL runs without instance discovery
(a test of the Microsoft host registers discovery itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest
import responses

from connectors.config import DynamicsConfig
from connectors.dynamics import DynamicsClient
from connectors.dynamics.auth import forget_apps
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import LocalStore

ORG = "https://contoso.crm.dynamics.com"
API = ORG + "/api/data/v9.2/"
AUTHORITY_HOST = "https://login.example.test"
TENANT = "contoso-tenant"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cr3t-value-that-must-never-show"
DISCOVERY_URL = f"{AUTHORITY_HOST}/{TENANT}/v2.0/.well-known/openid-configuration"
TOKEN_URL = f"{AUTHORITY_HOST}/{TENANT}/oauth2/v2.0/token"


def openid_configuration(host: str = AUTHORITY_HOST, tenant: str = TENANT) -> dict:
    return {
        "token_endpoint": f"{host}/{tenant}/oauth2/v2.0/token",
        "authorization_endpoint": f"{host}/{tenant}/oauth2/v2.0/authorize",
        "issuer": f"{host}/{tenant}/v2.0",
    }


@dataclass
class Identity:
    """The mocked Entra tenant: hands out token-1, token-2, … and counts token requests."""

    issued: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    def callback(self, request):
        self.bodies.append(request.body if isinstance(request.body, str) else request.body.decode())
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


@pytest.fixture(autouse=True)
def _fresh_msal_apps():
    # MSAL apps (and their token caches) live in a module cache: each test starts without.
    forget_apps()
    yield
    forget_apps()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def identity(mocked) -> Identity:
    ident = Identity()
    mocked.add(responses.GET, DISCOVERY_URL, json=openid_configuration())
    mocked.add_callback(responses.POST, TOKEN_URL, callback=ident.callback)
    return ident


@pytest.fixture
def config() -> DynamicsConfig:
    return DynamicsConfig(
        org_url=ORG,
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        authority_host=AUTHORITY_HOST,
    )


@dataclass
class FakeClock:
    """Time that passes only when the code under test sleeps (retries, throttle waits)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock) -> list[float]:
    return clock.sleeps


@pytest.fixture
def make_client(identity, config, clock) -> Callable[..., DynamicsClient]:
    def make(**kwargs) -> DynamicsClient:
        kwargs.setdefault("http_settings", HttpSettings())
        kwargs.setdefault("throttle_store", LocalStore(clock=clock.monotonic))
        kwargs.setdefault("retry", RetryPolicy(attempts=3, backoff=0.01, backoff_max=0.02))
        kwargs.setdefault("sleep", clock.sleep)
        return DynamicsClient(kwargs.pop("config", config), **kwargs)

    return make


@pytest.fixture
def client(make_client) -> DynamicsClient:
    return make_client()


def dataverse_calls(mocked) -> list:
    """The requests that went to the org (not to the identity provider)."""
    return [call for call in mocked.calls if call.request.url.startswith(ORG)]


def same_url(sent: str, link: str) -> bool:
    """The link was sent unchanged. urllib3 writes percent-escapes in upper case (`%2f` ->
    `%2F`), which RFC 3986 §2.1 makes equivalent; nothing else may differ."""

    def upper_escapes(url: str) -> str:
        return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), url)

    return upper_escapes(sent) == upper_escapes(link)


def odata_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def batch_response(
    parts: Sequence[tuple[int, dict[str, str], str]],
    boundary: str = "batchresponse_5f3e1d2c-0000-4000-8000-000000000001",
) -> tuple[str, bytes]:
    """A $batch answer as Dataverse writes it: (Content-Type, body), CRLF line ends."""
    reasons = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found"}
    reasons |= {412: "Precondition Failed", 403: "Forbidden", 500: "Internal Server Error"}
    lines: list[str] = []
    for status, headers, body in parts:
        lines += [f"--{boundary}", "Content-Type: application/http"]
        lines += ["Content-Transfer-Encoding: binary", ""]
        lines.append(f"HTTP/1.1 {status} {reasons.get(status, 'Status')}")
        for name, value in {"OData-Version": "4.0", **headers}.items():
            lines.append(f"{name}: {value}")
        lines.append("")
        lines.append(body)
    lines += [f"--{boundary}--", ""]
    return f"multipart/mixed; boundary={boundary}", "\r\n".join(lines).encode()


def add_batch(mocked, parts, status: int = 200):
    content_type, body = batch_response(parts)
    mocked.add(
        responses.POST,
        API + "$batch",
        body=body,
        status=status,
        content_type=content_type,
    )
