"""`check()` against the sandbox: the connection works, or the failure reads as what to fix.

Every failure goes through the real MSAL against the sandbox's Entra stand-in (TLS) and the
real Web API, and is checked twice: the reason the product acts on, and the words a person
reads (`user_message`), which must never contain the secret.
"""

from __future__ import annotations

import socket
import uuid

import pytest

from connectors.errors import ConfigReason, ConfigurationError, ConnectorError, user_message
from connectors.http import HttpSettings
from connectors.services import dynamics_check

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _failure(client) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        client.check()
    return caught.value


def test_it_reports_the_organization_and_the_application_user(org, client):
    info = client.check()

    (app_user,) = org.stored("systemuser", "applicationid = ?", (org.endpoint.client_id,))
    assert info.organization_id == org.app.organization_id
    assert info.user_id == app_user["systemuserid"]
    assert info.business_unit_id == org.app.business_unit_id
    assert info.org_url == org.endpoint.org_url
    assert info.readable_tables == ("lead", "contact", "account", "opportunity")
    # One token for the whole check: MSAL answered every later request from its cache.
    assert len(org.token_requests()) == 1


def test_it_names_a_wrong_tenant(org, make_client):
    client = make_client(org.config(tenant_id=str(uuid.uuid4())))

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.TENANT
    assert error.code == "AADSTS90002"
    assert "tenant" in user_message(error).lower()


def test_it_names_an_unknown_client_id(org, make_client):
    client = make_client(org.config(client_id=str(uuid.uuid4())))

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.CLIENT
    assert error.code == "AADSTS700016"
    assert "client) id was not found" in user_message(error)


def test_it_names_a_bad_secret_without_showing_it(org, make_client):
    secret = "not-the-secret-" + uuid.uuid4().hex
    client = make_client(org.config(client_secret=secret))

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.UNAUTHORIZED
    assert error.code == "AADSTS7000215"
    message = user_message(error)
    assert "client secret" in message
    assert secret not in message and secret not in str(error)


def test_it_names_an_expired_secret(org, make_client):
    registration = org.app.app_registration_create(name="expiring")
    org.app.secrets_expire(registration.client_id)
    client = make_client(
        org.config(client_id=registration.client_id, client_secret=registration.client_secret)
    )

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.UNAUTHORIZED
    assert error.code == "AADSTS7000222"
    message = user_message(error)
    assert "client secret" in message and "expired" in message
    assert registration.client_secret not in message


def test_it_names_a_missing_application_user(org, make_client):
    registration = org.app.app_registration_create(name="no-user", application_user=False)
    client = make_client(
        org.config(client_id=registration.client_id, client_secret=registration.client_secret)
    )

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.NO_APPLICATION_USER
    assert error.status == 403
    assert "no application user" in user_message(error)
    # Entra did issue a token: the refusal came from the environment itself.
    assert [e.status for e in org.token_requests()] == [200]


def test_it_names_a_wrong_org_url_as_an_unknown_resource(org, make_client):
    client = make_client(org.config(org_url="https://contoso-typo.crm.dynamics.com"))

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.RESOURCE
    assert error.code == "AADSTS500011"
    assert "org URL" in user_message(error)
    assert org.api_log() == []  # nothing was sent to any environment


def test_it_names_an_org_host_that_does_not_answer(org, make_client):
    # The tenant knows the environment (a token is issued) but nothing listens there.
    client = make_client(org.config(org_url=f"http://127.0.0.1:{_free_port()}"))

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.UNREACHABLE
    assert "could not be reached" in user_message(error)


def test_it_names_an_identity_host_that_does_not_answer(org, make_client):
    client = make_client(org.config(authority_host=f"https://localhost:{_free_port()}"))

    error = _failure(client)

    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.UNREACHABLE
    assert "could not be reached" in user_message(error)


def test_it_tells_the_settings_page_what_it_reached_or_what_to_fix(org):
    settings = HttpSettings(
        verify=org.endpoint.ca_bundle, connect_timeout=2.0, read_timeout=10.0, allow_local_urls=True
    )

    ok = dynamics_check(org.config(), http_settings=settings)
    registration = org.app.app_registration_create(name="no-user", application_user=False)
    refused = dynamics_check(
        org.config(client_id=registration.client_id, client_secret=registration.client_secret),
        http_settings=settings,
    )

    (app_user,) = org.stored("systemuser", "applicationid = ?", (org.endpoint.client_id,))
    assert ok.ok and app_user["systemuserid"] in ok.message
    assert org.app.organization_id in ok.identity
    assert not refused.ok and refused.reason == "no_application_user"
    assert "no application user" in refused.message
    assert registration.client_secret not in refused.message
