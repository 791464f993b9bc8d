"""Access tokens for Dataverse from Microsoft Entra, with MSAL's client-credentials flow.

- One `ConfidentialClientApplication` per (authority, client id) per process, kept in a module
  cache: MSAL's token cache lives in the app object, and building one costs a discovery call.
- `acquire_token_for_client` runs before every request: since MSAL 1.23 it answers from its
  cache and renews a token five minutes before it expires, so this is cheap and never sends an
  expired token. A 401 from Dataverse drops the cached token (`invalidate`) and the request is
  sent once more with a new one (VendorHttp).
- MSAL talks HTTP through `MsalHttpClient`, which applies our timeouts and `verify` on every
  request (a requests Session's own `verify` would lose to REQUESTS_CA_BUNDLE), connects only
  through the address guard of connectors.http, and never follows a redirect: discovery and
  token calls go to the configured authority host and nowhere else.
- An authority host that Microsoft does not know (a national cloud proxy, a local stand-in) is
  used with `instance_discovery=False`, so that MSAL does not ask login.microsoftonline.com
  about it.
- MSAL reports token failures as a dict (`error`, `error_description`, `error_codes`), not as
  exceptions; those and the exceptions it does raise become ConfigurationError / RetryableError
  that keep Entra's AADSTS text. The client secret never appears in them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import msal
import requests

from connectors.config import DynamicsConfig
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    RetryableError,
    UnreachableError,
)
from connectors.http import (
    HttpSettings,
    _name_resolution_failed,
    _never_connected,
    could_not_connect,
    guarded_session,
)

logger = logging.getLogger(__name__)

VENDOR = "dynamics"
AUTHORITY_HOST = "authority_host"  # the DynamicsConfig field that transport errors here are about

# Hosts MSAL itself treats as Microsoft's (msal.authority.WELL_KNOWN_AUTHORITY_HOSTS): for
# these, MSAL's own discovery is right; for any other host it must be switched off.
MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
        "login-us.microsoftonline.com",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.sg",
    }
)

# AADSTS codes -> what the admin got wrong (700016, 500011, 7000215 and 7000222 are the ones a
# client-credentials token request meets), from Entra's error code list
# (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
# 90002 tenant not found, 900023 invalid tenant identifier, 7000216 client assertion/secret
# missing, 70011 invalid scope.
_TENANT_CODES = frozenset({90002, 900023, 90013})
_CLIENT_CODES = frozenset({700016})
_SECRET_CODES = frozenset({7000215, 7000222, 7000216, 700027})
_RESOURCE_CODES = frozenset({500011, 70011, 500014})
# 50196: "The server is temporarily throttling requests"; 50000: "There was an error issuing
# a token or an issue with our sign-in service" (a server error).
_TRANSIENT_CODES = frozenset({50196, 50000})
_AADSTS = re.compile(r"AADSTS(\d+)")


def scope_for(org_url: str) -> str:
    """`https://<org>.crm.dynamics.com/.default`: scheme and host only (no path)."""
    parts = urlsplit(org_url.strip())
    return f"{parts.scheme}://{parts.netloc}/.default"


def authority_for(config: DynamicsConfig) -> str:
    return f"{config.authority_host.rstrip('/')}/{config.tenant_id.strip().strip('/')}"


def is_microsoft_authority(authority_host: str) -> bool:
    host = (urlsplit(authority_host).hostname or "").lower()
    return host in MICROSOFT_AUTHORITY_HOSTS


class OtherHostRefused(requests.exceptions.RequestException):
    """MSAL was about to call a host other than the authority's (a discovery answer's
    token endpoint elsewhere): refused before anything, the client secret above all, is sent."""


class MsalHttpClient:
    """The HTTP client MSAL uses (its `http_client` interface: get/post/close).

    Only the configured authority host is called (and, for a Microsoft authority, Microsoft's
    own authority hosts, which MSAL's instance discovery asks).
    """

    def __init__(self, settings: HttpSettings, *, authority_host: str | None = None) -> None:
        self._settings = settings
        self._session = guarded_session(settings)
        self._hosts: frozenset[str] | None = None
        if authority_host is not None:
            host = (urlsplit(authority_host).netloc or "").lower()
            extra = MICROSOFT_AUTHORITY_HOSTS if is_microsoft_authority(authority_host) else ()
            self._hosts = frozenset({host, *extra})

    def _check(self, url: str) -> None:
        if self._hosts is None:
            return
        host = (urlsplit(url).netloc or "").lower()
        if urlsplit(url).scheme != "https" or host not in self._hosts:
            raise OtherHostRefused(f"refused a call to {urlsplit(url).hostname or 'no host'}")

    def _kwargs(self, kwargs: dict) -> dict:
        kwargs.setdefault("timeout", (self._settings.connect_timeout, self._settings.read_timeout))
        # Per request, so that REQUESTS_CA_BUNDLE cannot override a configured CA bundle.
        kwargs["verify"] = self._settings.verify
        # A redirect would carry the client secret (a token POST) to wherever it points.
        kwargs["allow_redirects"] = False
        return kwargs

    def get(self, url, params=None, headers=None, **kwargs):
        self._check(url)
        return self._session.get(url, params=params, headers=headers, **self._kwargs(kwargs))

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self._check(url)
        return self._session.post(
            url, params=params, data=data, headers=headers, **self._kwargs(kwargs)
        )

    def close(self) -> None:
        self._session.close()


AppFactory = Callable[..., object]
# What MSAL lets escape from its HTTP calls: requests' errors, and MsalServiceError for a 5xx
# (its throttled HTTP client's raise_for_status).
_TRANSPORT_ERRORS = (requests.exceptions.RequestException, msal.exceptions.MsalServiceError)

_apps: dict[tuple[str, str], tuple[str, object]] = {}
_apps_lock = threading.Lock()
# One lock per connection while its app is built (a network call): a slow or dead authority
# holds up only the clients of that connection.
_build_locks: dict[tuple[str, str], threading.Lock] = {}


def forget_apps() -> None:
    """Drop every cached MSAL app (tests; after credentials change, the cache renews itself)."""
    with _apps_lock:
        _apps.clear()
        _build_locks.clear()


def _fingerprint(config: DynamicsConfig, settings: HttpSettings) -> str:
    # A different secret or TLS setting needs a different app; the secret itself is not kept
    # as a dict key, only a digest of it.
    parts = (config.client_secret, repr(settings.verify), repr(settings.connect_timeout))
    material = "\0".join((*parts, repr(settings.read_timeout), repr(settings.allow_local_urls)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class MsalTokenProvider:
    """Bearer tokens for one Dataverse environment, for VendorHttp's auth callbacks."""

    def __init__(
        self,
        config: DynamicsConfig,
        *,
        settings: HttpSettings | None = None,
        app_factory: AppFactory | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or HttpSettings()
        self.scope = scope_for(config.org_url)
        self.authority = authority_for(config)
        self._app_factory = app_factory or msal.ConfidentialClientApplication

    # -- VendorHttp callbacks ---------------------------------------------------------------
    def auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def invalidate(self) -> bool:
        """Forget the cached token so that the next request gets a new one."""
        with _apps_lock:
            cached = _apps.get(self._key)
        if cached is None:
            return True
        try:
            cached[1].remove_tokens_for_client()
        except Exception as exc:  # a failed clean-up must not hide the 401
            logger.warning("could not drop the cached Dataverse token: %s", exc.__class__.__name__)
            self._forget_app()
        return True

    # -- tokens -----------------------------------------------------------------------------
    def access_token(self) -> str:
        app = self._app()
        try:
            result = app.acquire_token_for_client(scopes=[self.scope])
        except ValueError as exc:
            raise self._error(
                f"the identity provider answered without a token response ({exc})",
                ConfigReason.OTHER,
            ) from None
        except _TRANSPORT_ERRORS as exc:
            raise self._exception(exc) from None
        if isinstance(result, dict) and result.get("access_token"):
            return str(result["access_token"])
        raise self._result_error(result if isinstance(result, dict) else {})

    @property
    def _key(self) -> tuple[str, str]:
        return (self.authority.lower(), self.config.client_id.strip().lower())

    def _forget_app(self) -> None:
        with _apps_lock:
            _apps.pop(self._key, None)

    def _app(self):
        fingerprint = _fingerprint(self.config, self.settings)
        with _apps_lock:
            cached = _apps.get(self._key)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            build_lock = _build_locks.setdefault(self._key, threading.Lock())
        with build_lock:
            with _apps_lock:
                cached = _apps.get(self._key)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]  # built by another thread meanwhile
            kwargs = {
                "authority": self.authority,
                "client_credential": self.config.client_secret,
                "token_cache": msal.TokenCache(),
                "http_client": MsalHttpClient(
                    self.settings, authority_host=self.config.authority_host
                ),
            }
            if not is_microsoft_authority(self.config.authority_host):
                kwargs["instance_discovery"] = False
            try:
                # Building the app fetches the tenant's OpenID configuration.
                app = self._app_factory(self.config.client_id.strip(), **kwargs)
            except ValueError as exc:
                # MSAL replaces the discovery answer ("AADSTS90002: Tenant '…' not found") by
                # a generic message; the answer survives in the exception's context.
                message = _discovery_message(exc)
                codes = _AADSTS.findall(message)
                if {int(code) for code in codes} & _TRANSIENT_CODES:
                    # Throttled or a server error while discovering: nothing is wrong with
                    # the tenant, try again later.
                    raise RetryableError(
                        self._redact(message), vendor=VENDOR, code=f"AADSTS{codes[0]}", unsent=True
                    ) from None
                raise self._error(
                    message, ConfigReason.TENANT, code=f"AADSTS{codes[0]}" if codes else None
                ) from None
            except _TRANSPORT_ERRORS as exc:
                raise self._exception(exc) from None
            with _apps_lock:
                _apps[self._key] = (fingerprint, app)
            return app

    # -- errors -----------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        secret = self.config.client_secret
        return text.replace(secret, "***") if secret else text

    def _error(self, message: str, reason: ConfigReason, **kwargs) -> ConfigurationError:
        return ConfigurationError(self._redact(message), vendor=VENDOR, reason=reason, **kwargs)

    def _result_error(self, result: Mapping) -> ConnectorError:
        error = str(result.get("error") or "")
        description = str(result.get("error_description") or "")
        codes = {int(c) for c in result.get("error_codes") or () if str(c).isdigit()}
        codes |= {int(c) for c in _AADSTS.findall(description)}
        message = _first_line(description) or error or "no access token"
        correlation = result.get("correlation_id")
        if correlation:
            message = f"{message} (correlation id {correlation})"
        code = f"AADSTS{min(codes)}" if codes else (error or None)
        if error in ("temporarily_unavailable", "server_error"):
            return RetryableError(self._redact(message), vendor=VENDOR, code=code, unsent=True)
        if codes & _TENANT_CODES:
            reason = ConfigReason.TENANT
        elif codes & _CLIENT_CODES:
            reason = ConfigReason.CLIENT
        elif codes & _SECRET_CODES or error == "invalid_client":
            reason = ConfigReason.UNAUTHORIZED
        elif codes & _RESOURCE_CODES or error in ("invalid_resource", "invalid_scope"):
            reason = ConfigReason.RESOURCE
        else:
            reason = ConfigReason.OTHER
        return self._error(message, reason, code=code)

    def _exception(self, exc: Exception) -> ConnectorError:
        """An exception raised inside MSAL: mostly the HTTP layer's."""
        name = exc.__class__.__name__
        host = urlsplit(self.config.authority_host).hostname
        netloc = urlsplit(self.config.authority_host).netloc
        if isinstance(exc, OtherHostRefused):
            return self._error(
                f"the identity provider {host} pointed elsewhere: {exc}",
                ConfigReason.NOT_AN_API,
                setting=AUTHORITY_HOST,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return self._error(
                f"TLS error talking to {host} ({name})", ConfigReason.TLS, setting=AUTHORITY_HOST
            )
        if isinstance(exc, requests.exceptions.ConnectionError) and _name_resolution_failed(exc):
            return self._error(
                f"unknown host {host}", ConfigReason.UNREACHABLE, setting=AUTHORITY_HOST
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout) or (
            isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc)
        ):
            # Refused, timed out or refused by the address guard: the same words for each.
            return UnreachableError(
                f"identity provider: {could_not_connect(netloc)}",
                vendor=VENDOR,
                setting=AUTHORITY_HOST,
            )
        # Timeouts, refused connections, a 5xx from Entra: the Dataverse request itself was
        # never sent, so it is safe to try again whatever its method.
        return RetryableError(
            self._redact(f"the identity provider {host} did not answer ({name})"),
            vendor=VENDOR,
            unsent=True,
            setting=AUTHORITY_HOST,
        )


def _discovery_message(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        match = re.search(r"AADSTS\d+:[^\r\n\\\"]*", str(seen))
        if match:
            return match.group(0).strip()
        seen = seen.__cause__ or seen.__context__
    return _first_line(str(exc))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""
