"""MSAL client credentials against a mocked Entra: requests, caching, and every error mapped."""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs

import pytest
import requests
import responses
from urllib3.exceptions import NameResolutionError

from connectors.config import DynamicsConfig
from connectors.dynamics.auth import MsalTokenProvider, scope_for
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    RetryableError,
    UnreachableError,
    user_message,
)
from connectors.http import HttpSettings

from .conftest import (
    AUTHORITY_HOST,
    CLIENT_ID,
    DISCOVERY_URL,
    SECRET,
    TENANT,
    TOKEN_URL,
    openid_configuration,
)


def _entra_error(code: int, error: str, text: str) -> dict:
    # The shape Entra answers with (ALM4Dataverse/…PowerShell#23).
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: 747b9c67\r\n"
        "Correlation ID: 4a778a9e\r\nTimestamp: 2024-12-26 18:31:09Z",
        "error_codes": [code],
        "timestamp": "2024-12-26 18:31:09Z",
        "trace_id": "747b9c67",
        "correlation_id": "4a778a9e",
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


@pytest.fixture
def discovery(mocked):
    mocked.add(responses.GET, DISCOVERY_URL, json=openid_configuration())
    return mocked


def _provider(config, **kwargs) -> MsalTokenProvider:
    return MsalTokenProvider(config, settings=kwargs.pop("settings", HttpSettings()), **kwargs)


def test_it_asks_for_the_environment_default_scope_with_client_credentials(identity, config):
    token = _provider(config).access_token()

    assert token == "token-1"
    form = parse_qs(identity.bodies[0])
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == [CLIENT_ID]
    assert form["scope"] == ["https://contoso.crm.dynamics.com/.default"]


def test_it_builds_the_scope_from_scheme_and_host_only():
    assert scope_for("https://org.crm4.dynamics.com/api/data/v9.2/") == (
        "https://org.crm4.dynamics.com/.default"
    )


def test_it_keeps_one_app_per_process_and_answers_from_its_cache(identity, config, mocked):
    first = _provider(config)
    second = _provider(config)  # another client of the same connection, same process

    assert first.access_token() == "token-1"
    assert second.access_token() == "token-1"
    assert first.auth_headers() == {"Authorization": "Bearer token-1"}

    discoveries = [c for c in mocked.calls if c.request.url == DISCOVERY_URL]
    assert len(discoveries) == 1
    assert identity.issued == ["token-1"]


def test_it_builds_a_new_app_when_the_secret_changes(identity, config):
    _provider(config).access_token()
    changed = DynamicsConfig(
        org_url=config.org_url,
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret="a-new-secret",
        authority_host=AUTHORITY_HOST,
    )
    assert _provider(changed).access_token() == "token-2"


def test_it_fetches_a_new_token_after_invalidate(identity, config):
    provider = _provider(config)
    assert provider.access_token() == "token-1"
    assert provider.invalidate() is True
    assert provider.access_token() == "token-2"


def test_it_never_asks_microsoft_about_an_unknown_authority_host(identity, config, mocked):
    _provider(config).access_token()
    hosts = {requests.utils.urlparse(c.request.url).hostname for c in mocked.calls}
    assert hosts == {"login.example.test"}


def test_it_uses_microsoft_discovery_for_the_microsoft_host(mocked):
    host = "https://login.microsoftonline.com"
    config = DynamicsConfig(
        org_url="https://contoso.crm.dynamics.com",
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
    )
    mocked.add(
        responses.GET,
        f"{host}/{TENANT}/v2.0/.well-known/openid-configuration",
        json=openid_configuration(host),
    )
    mocked.add(
        responses.GET,
        f"{host}/common/discovery/instance",
        json={
            "tenant_discovery_endpoint": f"{host}/{TENANT}/v2.0/.well-known/openid-configuration",
            "metadata": [
                {
                    "preferred_network": "login.microsoftonline.com",
                    "preferred_cache": "login.windows.net",
                    "aliases": ["login.microsoftonline.com", "login.windows.net"],
                }
            ],
        },
    )
    mocked.add(
        responses.POST,
        f"{host}/{TENANT}/oauth2/v2.0/token",
        json={"access_token": "ms-token", "token_type": "Bearer", "expires_in": 3600},
    )
    provider = _provider(config)
    assert provider.access_token() == "ms-token"
    assert provider.invalidate()


def test_it_sends_our_ca_bundle_and_timeouts_on_every_identity_request(
    identity, config, mocked, monkeypatch, tmp_path
):
    # requests would let REQUESTS_CA_BUNDLE win over a Session's verify; a per-request verify
    # must win instead.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "not-this-one.pem"))
    bundle = str(tmp_path / "ours.pem")
    settings = HttpSettings(verify=bundle, connect_timeout=2.0, read_timeout=9.0)

    _provider(config, settings=settings).access_token()

    assert len(mocked.calls) == 2
    for call in mocked.calls:
        assert call.request.req_kwargs["verify"] == bundle
        assert call.request.req_kwargs["timeout"] == (2.0, 9.0)


@pytest.mark.parametrize(
    ("code", "error", "text", "reason"),
    [
        (
            700016,
            "unauthorized_client",
            f"Application with identifier '{CLIENT_ID}' was not found in the directory 'Contoso'.",
            ConfigReason.CLIENT,
        ),
        (
            7000215,
            "invalid_client",
            "Invalid client secret provided. Ensure the secret being sent in the request is "
            "the client secret value, not the client secret ID.",
            ConfigReason.UNAUTHORIZED,
        ),
        (
            7000222,
            "invalid_client",
            "The provided client secret keys for app are expired.",
            ConfigReason.UNAUTHORIZED,
        ),
        (
            500011,
            "invalid_resource",
            "The resource principal named https://wrong.crm.dynamics.com was not found in the "
            "tenant named Contoso.",
            ConfigReason.RESOURCE,
        ),
        (90002, "invalid_tenant", "Tenant 'contoso-tenant' not found.", ConfigReason.TENANT),
    ],
)
def test_it_maps_entra_token_errors(discovery, config, code, error, text, reason):
    discovery.add(responses.POST, TOKEN_URL, status=400, json=_entra_error(code, error, text))

    with pytest.raises(ConfigurationError) as caught:
        _provider(config).access_token()

    assert caught.value.reason is reason
    assert caught.value.code == f"AADSTS{code}"
    assert caught.value.message.startswith(f"AADSTS{code}: {text}")
    assert "correlation id 4a778a9e" in caught.value.message
    assert SECRET not in caught.value.message
    assert SECRET not in user_message(caught.value)


def test_it_maps_an_unknown_tenant_at_discovery_to_tenant(mocked, config):
    mocked.add(
        responses.GET,
        DISCOVERY_URL,
        status=400,
        json=_entra_error(90002, "invalid_tenant", "Tenant 'contoso-tenant' not found."),
    )
    with pytest.raises(ConfigurationError) as caught:
        _provider(config).access_token()
    assert caught.value.reason is ConfigReason.TENANT
    assert caught.value.message.startswith("AADSTS90002: Tenant 'contoso-tenant' not found.")
    assert caught.value.code == "AADSTS90002"


def test_it_treats_a_throttled_discovery_as_retryable_not_as_an_unknown_tenant(mocked, config):
    mocked.add(
        responses.GET,
        DISCOVERY_URL,
        status=429,
        json=_entra_error(
            50196, "temporarily_unavailable", "The server is temporarily throttling requests."
        ),
    )
    with pytest.raises(RetryableError) as caught:
        _provider(config).access_token()
    assert caught.value.unsent is True


def test_it_maps_an_authority_that_is_not_an_identity_provider_to_tenant(mocked, config):
    mocked.add(responses.GET, DISCOVERY_URL, body="<html>hello</html>", content_type="text/html")
    with pytest.raises(ConfigurationError) as caught:
        _provider(config).access_token()
    assert caught.value.reason is ConfigReason.TENANT


def test_it_treats_an_entra_server_error_as_retryable_and_unsent(discovery, config):
    discovery.add(responses.POST, TOKEN_URL, status=503, body="busy")
    with pytest.raises(RetryableError) as caught:
        _provider(config).access_token()
    assert caught.value.unsent is True


def test_it_maps_an_unknown_identity_host_to_unreachable(mocked, config):
    failure = requests.exceptions.ConnectionError(
        NameResolutionError(
            "login.example.test", None, socket.gaierror(-2, "Name or service not known")
        )
    )
    mocked.add(responses.GET, DISCOVERY_URL, body=failure)
    with pytest.raises(ConfigurationError) as caught:
        _provider(config).access_token()
    assert caught.value.reason is ConfigReason.UNREACHABLE
    assert "login.example.test" in caught.value.message


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("timed out"),
        requests.exceptions.ReadTimeout("no answer"),
        requests.exceptions.ConnectionError("connection refused"),
    ],
)
def test_it_treats_network_failures_as_retryable(discovery, config, failure):
    discovery.add(responses.POST, TOKEN_URL, body=failure)
    with pytest.raises(RetryableError) as caught:
        _provider(config).access_token()
    assert caught.value.unsent is True


def test_it_marks_an_identity_host_that_refuses_connections_as_unreachable(config):
    # Nothing listens on port 1: MSAL's discovery request is refused.
    config = DynamicsConfig(
        org_url=config.org_url,
        tenant_id=config.tenant_id,
        client_id=config.client_id,
        client_secret=config.client_secret,
        authority_host="https://127.0.0.1:1",
    )
    with pytest.raises(UnreachableError) as caught:
        _provider(config).access_token()
    assert caught.value.unsent is True
    assert "127.0.0.1" in caught.value.message


def test_it_maps_tls_failures_to_tls(mocked, config):
    mocked.add(responses.GET, DISCOVERY_URL, body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(ConfigurationError) as caught:
        _provider(config).access_token()
    assert caught.value.reason is ConfigReason.TLS


def test_it_does_not_cache_a_failed_app(mocked, config):
    mocked.add(responses.GET, DISCOVERY_URL, body=requests.exceptions.ConnectTimeout("slow"))
    with pytest.raises(RetryableError):
        _provider(config).access_token()

    mocked.replace(responses.GET, DISCOVERY_URL, json=openid_configuration())
    mocked.add(
        responses.POST,
        TOKEN_URL,
        body=json.dumps({"access_token": "later", "token_type": "Bearer", "expires_in": 3600}),
    )
    assert _provider(config).access_token() == "later"
