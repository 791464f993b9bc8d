"""The Entra stand-in: discovery, the client-credentials token endpoint, its error answers, and
how the Web API checks bearer tokens (401/403)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

pytestmark = pytest.mark.integration


def _entra_error(response, status: int, error: str, code: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"].startswith(f"AADSTS{code}:")
    assert body["error_codes"] == [code]
    for key in ("timestamp", "trace_id", "correlation_id", "error_uri"):
        assert body[key]
    return body


def test_it_publishes_the_openid_configuration_from_the_requests_own_host(dv):
    response = requests.get(
        f"{dv.tls_url}/{dv.tenant_id}/v2.0/.well-known/openid-configuration",
        verify=dv.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == f"{dv.tls_url}/{dv.tenant_id}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{dv.tls_url}/{dv.tenant_id}/oauth2/v2.0/authorize"
    assert config["issuer"] == f"{dv.tls_url}/{dv.tenant_id}/v2.0"
    assert config["jwks_uri"] == f"{dv.tls_url}/{dv.tenant_id}/discovery/v2.0/keys"
    plain = requests.get(
        f"{dv.url}/{dv.tenant_id}/v2.0/.well-known/openid-configuration", timeout=10
    )
    assert plain.json()["token_endpoint"].startswith(dv.url)


def test_it_answers_unknown_tenants_with_aadsts90002(dv):
    response = requests.get(
        f"{dv.tls_url}/not-a-tenant/v2.0/.well-known/openid-configuration",
        verify=dv.ca_bundle,
        timeout=10,
    )
    _entra_error(response, 400, "invalid_tenant", 90002)
    _entra_error(
        dv.token_response(tenant="00000000-0000-0000-0000-00000000dead"),
        400,
        "invalid_request",
        90002,
    )


def test_it_gives_the_real_msal_library_a_token(dv, monkeypatch):
    # REQUESTS_CA_BUNDLE (set on this machine) beats a Session's verify; point it at the
    # sandbox bundle (system CAs + the sandbox certificate), as the reference advises.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", dv.ca_bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", dv.ca_bundle)
    app = msal.ConfidentialClientApplication(
        dv.client_id,
        authority=f"{dv.tls_url}/{dv.tenant_id}",
        client_credential=dv.client_secret,
        instance_discovery=False,
        verify=dv.ca_bundle,
    )
    result = app.acquire_token_for_client(scopes=[f"{dv.url}/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    assert 0 < result["expires_in"] <= 3600
    who = dv.session(result["access_token"]).get(f"{dv.api}/WhoAmI", timeout=10)
    assert who.status_code == 200
    again = app.acquire_token_for_client(scopes=[f"{dv.url}/.default"])
    assert again["token_source"] == "cache"


def test_it_passes_msal_authority_validation_through_instance_discovery(dv, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", dv.ca_bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", dv.ca_bundle)
    discovery = requests.get(
        f"{dv.tls_url}/common/discovery/instance",
        params={
            "authorization_endpoint": f"{dv.tls_url}/{dv.tenant_id}/oauth2/v2.0/authorize",
            "api-version": "1.1",
        },
        verify=dv.ca_bundle,
        timeout=10,
    ).json()
    assert discovery["tenant_discovery_endpoint"] == (
        f"{dv.tls_url}/{dv.tenant_id}/v2.0/.well-known/openid-configuration"
    )
    # With a custom instance-discovery URL MSAL asks this endpoint, then the tenant's config.
    app = msal.ConfidentialClientApplication(
        dv.client_id,
        authority=f"{dv.tls_url}/{dv.tenant_id}",
        client_credential=dv.client_secret,
        instance_discovery=f"{dv.tls_url}/common/discovery/instance",
    )
    assert "access_token" in app.acquire_token_for_client(scopes=[f"{dv.url}/.default"])


def test_it_accepts_client_credentials_in_a_basic_authorization_header(dv):
    pair = f"{dv.client_id}:{dv.client_secret}".encode()
    response = requests.post(
        dv.token_url,
        data={"grant_type": "client_credentials", "scope": f"{dv.url}/.default"},
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
        verify=dv.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) >= {"access_token", "token_type", "expires_in", "ext_expires_in"}


def test_it_refuses_unknown_clients_with_aadsts700016(dv):
    body = _entra_error(
        dv.token_response(client_id="11111111-2222-3333-4444-555555555555"),
        400,
        "unauthorized_client",
        700016,
    )
    assert "11111111-2222-3333-4444-555555555555" in body["error_description"]


def test_it_refuses_a_wrong_secret_with_aadsts7000215_and_echoes_the_correlation_id(dv):
    response = requests.post(
        dv.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": dv.client_id,
            "client_secret": "wrong",
            "scope": f"{dv.url}/.default",
        },
        headers={"client-request-id": "6b3c1c9e-0000-4000-8000-000000000001"},
        verify=dv.ca_bundle,
        timeout=10,
    )
    body = _entra_error(response, 401, "invalid_client", 7000215)
    assert body["correlation_id"] == "6b3c1c9e-0000-4000-8000-000000000001"
    assert "wrong" not in body["error_description"]


def test_it_refuses_expired_secrets_with_aadsts7000222_and_revoked_ones_as_invalid(dv):
    info = dv.app.app_registration_create(name="expiring")
    assert dv.token_response(client_id=info.client_id, secret=info.client_secret).status_code == 200
    dv.app.secrets_expire(info.client_id)
    _entra_error(
        dv.token_response(client_id=info.client_id, secret=info.client_secret),
        401,
        "invalid_client",
        7000222,
    )
    fresh = dv.app.secret_add(info.client_id)
    assert dv.token_response(client_id=info.client_id, secret=fresh).status_code == 200
    dv.app.secrets_revoke(info.client_id)
    _entra_error(
        dv.token_response(client_id=info.client_id, secret=fresh), 401, "invalid_client", 7000215
    )


@pytest.mark.parametrize(
    "scope",
    [
        "https://contoso.crm.dynamics.com/.default",
        "{url}/api/data/v9.2/.default",
    ],
)
def test_it_refuses_a_resource_that_is_not_this_organization_with_aadsts500011(dv, scope):
    body = _entra_error(
        dv.token_response(scope=scope.format(url=dv.url)), 400, "invalid_resource", 500011
    )
    assert "resource principal named" in body["error_description"]


def test_it_requires_the_default_scope_for_client_credentials(dv):
    _entra_error(
        dv.token_response(scope=f"{dv.url}/user_impersonation"), 400, "invalid_scope", 1002012
    )
    _entra_error(dv.token_response(scope=""), 400, "invalid_request", 90014)
    response = requests.post(
        dv.token_url,
        data={"grant_type": "password", "client_id": dv.client_id, "scope": f"{dv.url}/.default"},
        verify=dv.ca_bundle,
        timeout=10,
    )
    _entra_error(response, 400, "unsupported_grant_type", 70003)


def test_it_signs_tokens_verifiably_with_the_published_keys(dv):
    token = dv.token_response().json()["access_token"]
    header_b64, body_b64, signature_b64 = token.split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header = json.loads(decode(header_b64))
    claims = json.loads(decode(body_b64))
    keys = requests.get(
        f"{dv.tls_url}/{dv.tenant_id}/discovery/v2.0/keys", verify=dv.ca_bundle, timeout=10
    )
    jwk = next(k for k in keys.json()["keys"] if k["kid"] == header["kid"])
    public = rsa.RSAPublicNumbers(
        int.from_bytes(decode(jwk["e"]), "big"), int.from_bytes(decode(jwk["n"]), "big")
    ).public_key()
    public.verify(
        decode(signature_b64),
        f"{header_b64}.{body_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert claims["aud"] == dv.url
    assert claims["appid"] == dv.client_id
    assert claims["tid"] == dv.tenant_id
    assert claims["exp"] - claims["iat"] == 3600


def test_it_accepts_certificate_credentials_from_msal(dv, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", dv.ca_bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", dv.ca_bundle)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncadmin test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    sha1_thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - x5t is SHA-1
    info = dv.app.app_registration_create(name="with-certificate")
    for credential in (
        {"private_key": key_pem, "public_certificate": cert_pem},  # PS256 + x5t#S256
        {
            "private_key": key_pem,
            "thumbprint": sha1_thumbprint,
        },  # RS256 + x5t
    ):
        app = msal.ConfidentialClientApplication(
            info.client_id,
            authority=f"{dv.tls_url}/{dv.tenant_id}",
            client_credential=credential,
            instance_discovery=False,
        )
        refused = app.acquire_token_for_client(scopes=[f"{dv.url}/.default"])
        assert refused.get("error") == "invalid_client", refused
        assert 700027 in refused["error_codes"]
    dv.app.certificate_add(info.client_id, cert_pem)
    for credential in (
        {"private_key": key_pem, "public_certificate": cert_pem},
        {"private_key": key_pem, "thumbprint": sha1_thumbprint},
    ):
        app = msal.ConfidentialClientApplication(
            info.client_id,
            authority=f"{dv.tls_url}/{dv.tenant_id}",
            client_credential=credential,
            instance_discovery=False,
        )
        result = app.acquire_token_for_client(scopes=[f"{dv.url}/.default"])
        assert "access_token" in result, result


# -- bearer tokens on the Web API -----------------------------------------------------------


def _dataverse_401(response) -> dict:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "authorization_uri=" in response.headers["WWW-Authenticate"]
    body = response.json()
    assert set(body["error"]) == {"code", "message"}
    return body


def test_it_answers_401_without_a_token_or_with_a_bad_one(dv):
    body = _dataverse_401(requests.get(f"{dv.api}/WhoAmI", timeout=10))
    assert "RequestIsNotAuthenticated" in body["error"]["message"]
    _dataverse_401(
        requests.get(f"{dv.api}/WhoAmI", headers={"Authorization": "Bearer nonsense"}, timeout=10)
    )
    token = dv.token()
    head, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["appid"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    body = _dataverse_401(
        requests.get(
            f"{dv.api}/WhoAmI",
            headers={"Authorization": f"Bearer {head}.{forged_payload}.{signature}"},
            timeout=10,
        )
    )
    assert "TamperedAuthTicket" in body["error"]["message"]


def test_it_binds_tokens_to_the_resource_they_were_issued_for(dv):
    tls_token = dv.token(scope=f"{dv.tls_url}/.default")
    assert (
        dv.session(tls_token)
        .get(f"{dv.tls_url}/api/data/v9.2/WhoAmI", verify=dv.ca_bundle, timeout=10)
        .status_code
        == 200
    )
    _dataverse_401(dv.session(tls_token).get(f"{dv.api}/WhoAmI", timeout=10))


def test_it_expires_tokens_after_the_token_lifetime(dv):
    dv.app.token_lifetime = 1
    token = dv.token_response().json()
    assert token["expires_in"] == 1
    time.sleep(1.2)
    body = _dataverse_401(dv.session(token["access_token"]).get(f"{dv.api}/WhoAmI", timeout=10))
    assert "ExpiredAuthTicket" in body["error"]["message"]


def test_it_forbids_a_valid_token_without_an_application_user(dv):
    info = dv.app.app_registration_create(name="no-app-user", application_user=False)
    token = dv.token_response(client_id=info.client_id, secret=info.client_secret)
    assert token.status_code == 200
    response = dv.session(token.json()["access_token"]).get(f"{dv.api}/WhoAmI", timeout=10)
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "0x80072560", "message": "The user is not a member of the organization."}
    }
    user_id = dv.app.application_user_create(info.client_id)
    who = dv.session(token.json()["access_token"]).get(f"{dv.api}/WhoAmI", timeout=10)
    assert who.status_code == 200
    assert who.json()["UserId"] == user_id


def test_it_keeps_another_tenants_app_out_of_this_organization(dv):
    other = dv.app.tenant_create("Fabrikam")
    info = dv.app.app_registration_create(name="elsewhere", tenant_id=other)
    _entra_error(
        dv.token_response(client_id=info.client_id, secret=info.client_secret, tenant=other),
        400,
        "invalid_resource",
        500011,
    )
    _entra_error(
        dv.token_response(client_id=info.client_id, secret=info.client_secret),
        400,
        "unauthorized_client",
        700016,
    )


def test_it_hands_out_the_same_registration_until_it_is_gone(dv):
    first = dv.app.app_registration_ensure()
    assert dv.app.app_registration_ensure() == first
    assert first == (dv.tenant_id, dv.client_id, dv.client_secret)


def test_it_logs_the_client_id_as_the_account(dv, s):
    dv.app.log.clear()
    s.get(f"{dv.api}/WhoAmI", timeout=10)
    entry = dv.app.log.entries(path_prefix="/api/data/v9.2/WhoAmI")[-1]
    assert entry.account == dv.client_id
    assert entry.status == 200


def test_it_manages_registrations_and_secrets_through_the_control_route(dv):
    control = f"{dv.url}/_sandbox/dataverse/app-registrations"
    admin = requests.Session()
    admin.headers.update(dv.app.control_headers)
    created = admin.post(control, json={"name": "via-http", "application_user": False}, timeout=10)
    assert created.status_code == 201
    info = created.json()
    assert info["application_user_id"] is None
    token = dv.token_response(client_id=info["client_id"], secret=info["client_secret"]).json()[
        "access_token"
    ]
    assert dv.session(token).get(f"{dv.api}/WhoAmI", timeout=10).status_code == 403
    extra = admin.post(f"{control}/{info['client_id']}/secrets", json={}, timeout=10).json()
    assert dv.token_response(client_id=info["client_id"], secret=extra["client_secret"]).ok
    admin.post(f"{control}/{info['client_id']}/secrets/expire", json={}, timeout=10)
    _entra_error(
        dv.token_response(client_id=info["client_id"], secret=extra["client_secret"]),
        401,
        "invalid_client",
        7000222,
    )
    assert admin.delete(f"{control}/{info['client_id']}", timeout=10).status_code == 200
    _entra_error(
        dv.token_response(client_id=info["client_id"], secret=extra["client_secret"]),
        400,
        "unauthorized_client",
        700016,
    )
