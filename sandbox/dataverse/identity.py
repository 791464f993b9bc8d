"""A stand-in for Microsoft Entra ID's v2.0 endpoints, enough for MSAL's client-credentials
flow: OpenID discovery, the token endpoint, the signing keys, and instance discovery.

Shapes: §1.2/§1.2a of README.md (S25, MSAL source), Entra error JSON per I9
(error, error_description "AADSTS…", error_codes, timestamp, trace_id, correlation_id,
error_uri) and the AADSTS reference
(https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
Tokens are RS256-signed JWTs (v1.0 access-token claims: aud, iss, appid, tid, oid, exp…)
verifiable with the keys at jwks_uri.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sandbox.store import Database

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@lru_cache(maxsize=256)
def origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with loopback names treated as one host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host in LOOPBACK:
        host = "loopback"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, host, port


@dataclass(frozen=True)
class AppRegistration:
    client_id: str
    tenant_id: str
    name: str
    object_id: str


@dataclass(frozen=True)
class Claims:
    client_id: str
    tenant_id: str
    audience: str
    expires: int
    object_id: str


class TokenError(Exception):
    """An Entra error answer: HTTP status and the JSON body."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body.get("error_description", ""))
        self.status = status
        self.body = body


class InvalidToken(Exception):
    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = (
            reason  # Dataverse 401 reason name (S1): InvalidAuthTicket, ExpiredAuthTicket…
        )
        self.description = description


def entra_error(
    status: int, error: str, code: int, text: str, correlation_id: str | None = None
) -> TokenError:
    now = dt.datetime.now(dt.UTC)
    timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    trace_id = str(uuid.uuid4())
    correlation = correlation_id or str(uuid.uuid4())
    description = (
        f"AADSTS{code}: {text} Trace ID: {trace_id} Correlation ID: {correlation} "
        f"Timestamp: {timestamp}"
    )
    return TokenError(
        status,
        {
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
    )


class Identity:
    """Tenants, app registrations with secrets/certificates, and signed access tokens."""

    def __init__(self, db: Database, *, token_lifetime: int = 3600) -> None:
        self.db = db
        self.token_lifetime = token_lifetime
        self._verified: dict[str, Claims] = {}
        self._lock = threading.Lock()
        db.script(
            """
            CREATE TABLE IF NOT EXISTS dv_tenants (
                tenant_id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS dv_apps (
                client_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL,
                object_id TEXT NOT NULL, is_default INTEGER NOT NULL DEFAULT 0,
                created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS dv_secrets (
                secret_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, value TEXT NOT NULL,
                hint TEXT NOT NULL, created REAL NOT NULL, expires REAL,
                revoked INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS dv_certificates (
                sha1 TEXT NOT NULL, sha256 TEXT NOT NULL, client_id TEXT NOT NULL,
                public_pem TEXT NOT NULL, PRIMARY KEY (client_id, sha256));
            CREATE TABLE IF NOT EXISTS dv_signing_keys (
                kid TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created TEXT NOT NULL);
            """
        )
        row = db.execute_one(
            "SELECT kid, private_pem FROM dv_signing_keys ORDER BY created LIMIT 1"
        )
        if row is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            kid = b64url(hashlib.sha1(pem.encode()).digest())  # noqa: S324 - a key id, like x5t
            db.execute(
                "INSERT INTO dv_signing_keys (kid, private_pem, created) VALUES (?, ?, ?)",
                (kid, pem, dt.datetime.now(dt.UTC).isoformat()),
            )
            row = {"kid": kid, "private_pem": pem}
        self.kid = row["kid"]
        self._key = serialization.load_pem_private_key(row["private_pem"].encode(), password=None)

    # -- tenants and registrations -----------------------------------------------------------
    def tenant_create(self, name: str = "Contoso") -> str:
        tenant_id = str(uuid.uuid4())
        domain = f"{name.lower().replace(' ', '')}{tenant_id[:6]}.onmicrosoft.com"
        self.db.execute(
            "INSERT INTO dv_tenants (tenant_id, domain, name, created) VALUES (?, ?, ?, ?)",
            (tenant_id, domain, name, dt.datetime.now(dt.UTC).isoformat()),
        )
        return tenant_id

    def tenant(self, ref: str) -> dict | None:
        """A tenant by GUID or by its onmicrosoft.com domain (both work as authority)."""
        row = self.db.execute_one(
            "SELECT * FROM dv_tenants "
            "WHERE lower(tenant_id) = lower(?) OR lower(domain) = lower(?)",
            (ref, ref),
        )
        return dict(row) if row else None

    def app_create(self, tenant_id: str, name: str, *, default: bool = False) -> AppRegistration:
        client_id = str(uuid.uuid4())
        object_id = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO dv_apps (client_id, tenant_id, name, object_id, is_default, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                client_id,
                tenant_id,
                name,
                object_id,
                int(default),
                dt.datetime.now(dt.UTC).isoformat(),
            ),
        )
        return AppRegistration(client_id, tenant_id, name, object_id)

    def app(self, client_id: str) -> AppRegistration | None:
        row = self.db.execute_one(
            "SELECT client_id, tenant_id, name, object_id FROM dv_apps "
            "WHERE lower(client_id) = lower(?)",
            (client_id,),
        )
        return AppRegistration(**dict(row)) if row else None

    def default_app(self) -> AppRegistration | None:
        row = self.db.execute_one(
            "SELECT client_id, tenant_id, name, object_id FROM dv_apps WHERE is_default = 1 LIMIT 1"
        )
        return AppRegistration(**dict(row)) if row else None

    def app_delete(self, client_id: str) -> None:
        self.db.execute("DELETE FROM dv_apps WHERE client_id = ?", (client_id,))
        self.db.execute("DELETE FROM dv_secrets WHERE client_id = ?", (client_id,))
        self.db.execute("DELETE FROM dv_certificates WHERE client_id = ?", (client_id,))

    def secret_add(self, client_id: str, *, expires_in: float | None = None) -> tuple[str, str]:
        """A new client secret (value shown once in the portal; the sandbox keeps it so that
        app_registration_ensure can hand it out again after a restart)."""
        value = "".join(
            secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-")
            for _ in range(40)
        )
        secret_id = str(uuid.uuid4())
        now = time.time()
        self.db.execute(
            "INSERT INTO dv_secrets (secret_id, client_id, value, hint, created, expires, revoked) "
            "VALUES (?, ?, ?, ?, ?, ?, 0)",
            (secret_id, client_id, value, value[:3], now, now + expires_in if expires_in else None),
        )
        return secret_id, value

    def secret_current(self, client_id: str) -> str | None:
        row = self.db.execute_one(
            "SELECT value FROM dv_secrets WHERE client_id = ? AND revoked = 0 "
            "AND (expires IS NULL OR expires > ?) ORDER BY created DESC LIMIT 1",
            (client_id, time.time()),
        )
        return row["value"] if row else None

    def secrets_expire(self, client_id: str) -> None:
        self.db.execute(
            "UPDATE dv_secrets SET expires = ? WHERE client_id = ? AND revoked = 0",
            (time.time() - 1, client_id),
        )

    def secrets_revoke(self, client_id: str, secret_id: str | None = None) -> None:
        if secret_id:
            self.db.execute("UPDATE dv_secrets SET revoked = 1 WHERE secret_id = ?", (secret_id,))
        else:
            self.db.execute("UPDATE dv_secrets SET revoked = 1 WHERE client_id = ?", (client_id,))

    def certificate_add(self, client_id: str, certificate_pem: str) -> str:
        """Upload a public certificate (certificate credentials, §1.2); returns its SHA-1
        thumbprint, the form the Azure portal shows."""
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
        sha1 = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - x5t is SHA-1
        sha256 = cert.fingerprint(hashes.SHA256()).hex().upper()
        public_pem = (
            cert.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.db.execute(
            "INSERT OR REPLACE INTO dv_certificates (sha1, sha256, client_id, public_pem) "
            "VALUES (?, ?, ?, ?)",
            (sha1, sha256, client_id, public_pem),
        )
        return sha1

    # -- discovery -------------------------------------------------------------------------
    def openid_configuration(self, base: str, tenant_ref: str) -> dict:
        tenant = self.tenant(tenant_ref)
        if tenant is None and tenant_ref.lower() not in ("common", "organizations"):
            raise entra_error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant_ref}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud. Check with your subscription "
                "administrator, this may happen if there are no active subscriptions for the "
                "tenant.",
            )
        tid = tenant["tenant_id"] if tenant else "{tenantid}"
        path = tenant["tenant_id"] if tenant else tenant_ref
        return {
            "token_endpoint": f"{base}/{path}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{path}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{path}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{path}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{path}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{base}/{path}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def instance_discovery(self, base: str, authorization_endpoint: str | None) -> dict:
        """The answer MSAL gets from /common/discovery/instance when instance discovery is on."""
        host = urlsplit(base).netloc
        tenant = "common"
        if authorization_endpoint:
            path = urlsplit(authorization_endpoint).path.strip("/").split("/")
            if path and path[0]:
                tenant = path[0]
        return {
            "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }

    def jwks(self) -> dict:
        public = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.kid,
                    "n": _int_b64(public.n),
                    "e": _int_b64(public.e),
                }
            ]
        }

    # -- the token endpoint ------------------------------------------------------------------
    def token(
        self,
        *,
        base: str,
        tenant_ref: str,
        form: dict[str, str],
        authorization: str | None,
        correlation_id: str | None,
        resource_ok,
        org_tenant_id: str | None,
    ) -> dict:
        """Answer a POST to /{tenant}/oauth2/v2.0/token or raise TokenError."""

        def fail(status: int, error: str, code: int, text: str) -> TokenError:
            return entra_error(status, error, code, text, correlation_id)

        if tenant_ref.lower() in ("common", "organizations", "consumers"):
            raise fail(
                400,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any "
                "provided credentials.",
            )
        tenant = self.tenant(tenant_ref)
        if tenant is None:
            raise fail(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant_ref}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud. Check with your subscription "
                "administrator, this may happen if there are no active subscriptions for the "
                "tenant.",
            )
        grant_type = form.get("grant_type")
        if not grant_type:
            raise fail(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        if grant_type != "client_credentials":
            raise fail(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
                basic_id, _, basic_secret = decoded.partition(":")
                client_id = client_id or unquote_plus(basic_id)
                client_secret = client_secret or unquote_plus(basic_secret)
            except ValueError:
                pass
        if not client_id:
            raise fail(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        app = self.app(client_id)
        if app is None or app.tenant_id != tenant["tenant_id"]:
            raise fail(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant['name']}'. This can happen if the application has not been installed "
                "by the administrator of the tenant or consented to by any user in the tenant. "
                "You may have sent your authentication request to the wrong tenant.",
            )
        token_endpoint = f"{base}/{tenant_ref}/oauth2/v2.0/token"
        if form.get("client_assertion"):
            self._check_assertion(app, form, token_endpoint, fail)
        elif client_secret:
            self._check_secret(app, client_secret, fail)
        else:
            raise fail(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        scope = (form.get("scope") or "").split()
        scope = [s for s in scope if s not in RESERVED_SCOPES]
        if not scope:
            raise fail(
                400,
                "invalid_request",
                90014,
                "The required field 'scope' is missing from the credential. Ensure that you "
                "have all the necessary parameters for the login request.",
            )
        if len(scope) > 1 or not scope[0].endswith("/.default"):
            raise fail(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scope)} is not valid. Client credential "
                "flows must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        resource = scope[0][: -len("/.default")].rstrip("/")
        parts = urlsplit(resource)
        if (
            parts.path not in ("", "/")
            or origin_key(resource) is None
            or not resource_ok(resource)
            or tenant["tenant_id"] != org_tenant_id
        ):
            raise fail(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant['name']}. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant. You "
                "might have sent your authentication request to the wrong tenant.",
            )
        return self._issue(base, app, resource)

    def _check_secret(self, app: AppRegistration, secret: str, fail) -> None:
        rows = self.db.execute(
            "SELECT value, expires, revoked FROM dv_secrets WHERE client_id = ?", (app.client_id,)
        )
        now = time.time()
        for row in rows:
            if row["revoked"] or not secrets.compare_digest(row["value"], secret):
                continue
            if row["expires"] is not None and row["expires"] <= now:
                raise fail(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired. Visit "
                    "the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate credentials for "
                    "added security: https://aka.ms/certCreds.",
                )
            return
        raise fail(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app "
            f"'{app.client_id}'.",
        )

    def _check_assertion(self, app: AppRegistration, form: dict, audience: str, fail) -> None:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise fail(
                400,
                "invalid_request",
                50027,
                "Invalid JWT token. The client_assertion_type is not supported.",
            )
        try:
            head_b64, body_b64, sig_b64 = form["client_assertion"].split(".")
            header = json.loads(b64url_decode(head_b64))
            body = json.loads(b64url_decode(body_b64))
            signature = b64url_decode(sig_b64)
        except (ValueError, KeyError):
            raise fail(
                400, "invalid_request", 50027, "Invalid JWT token. Token format not valid."
            ) from None
        if "x5t#S256" in header:
            column, thumb = "sha256", b64url_decode(header["x5t#S256"]).hex().upper()
        elif "x5t" in header:
            column, thumb = "sha1", b64url_decode(header["x5t"]).hex().upper()
        else:
            raise fail(
                401, "invalid_client", 700027, "Client assertion failed signature validation."
            )
        row = self.db.execute_one(
            f"SELECT public_pem FROM dv_certificates WHERE client_id = ? AND {column} = ?",  # noqa: S608
            (app.client_id, thumb),
        )
        if row is None:
            raise fail(
                401,
                "invalid_client",
                700027,
                f"The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of key "
                f"used by client: '{thumb}', Please visit the Azure Portal, Graph Explorer or "
                f"directly use MS Graph to see configured keys for app Id '{app.client_id}'.]",
            )
        key = serialization.load_pem_public_key(row["public_pem"].encode())
        signed = f"{head_b64}.{body_b64}".encode()
        try:
            if header.get("alg") == "PS256":
                key.verify(
                    signature,
                    signed,
                    padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                    hashes.SHA256(),
                )
            elif header.get("alg") == "RS256":
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            else:
                raise InvalidSignature
        except InvalidSignature:
            raise fail(
                401, "invalid_client", 700027, "Client assertion failed signature validation."
            ) from None
        now = time.time()
        if (
            body.get("aud") != audience
            or body.get("iss") != app.client_id
            or body.get("sub") != app.client_id
        ):
            raise fail(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter "
                "or the audience is not the token endpoint.",
            )
        if float(body.get("exp", 0)) < now:
            raise fail(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            )

    def _issue(self, base: str, app: AppRegistration, resource: str) -> dict:
        now = int(time.time())
        lifetime = int(self.token_lifetime)
        claims = {
            "aud": resource,
            "iss": f"{base}/{app.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": app.client_id,
            "appidacr": "1",
            "idp": f"{base}/{app.tenant_id}/",
            "idtyp": "app",
            "oid": app.object_id,
            "sub": app.object_id,
            "tid": app.tenant_id,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._sign(claims),
        }

    def _sign(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    # -- checking bearer tokens --------------------------------------------------------------
    def verify(self, token: str) -> Claims:
        """Check signature and expiry; raises InvalidToken with the Dataverse reason name."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            with self._lock:
                if len(self._verified) > 10000:
                    self._verified.clear()
                self._verified[token] = claims
        if claims.expires <= time.time():
            raise InvalidToken("ExpiredAuthTicket", "The access token has expired.")
        return claims

    def _verify_signature(self, token: str) -> Claims:
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            header = json.loads(b64url_decode(head_b64))
            body = json.loads(b64url_decode(body_b64))
            signature = b64url_decode(sig_b64)
        except ValueError:
            raise InvalidToken("InvalidAuthTicket", "The access token is malformed.") from None
        if header.get("alg") != "RS256" or header.get("kid") != self.kid:
            raise InvalidToken(
                "InvalidAuthTicket", "The access token was not issued by this tenant."
            )
        try:
            self._key.public_key().verify(
                signature, f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise InvalidToken(
                "TamperedAuthTicket", "The access token signature is invalid."
            ) from None
        try:
            return Claims(
                client_id=body["appid"],
                tenant_id=body["tid"],
                audience=body["aud"],
                expires=int(body["exp"]),
                object_id=body["oid"],
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidToken(
                "InvalidAuthTicket", "The access token lacks required claims."
            ) from None
