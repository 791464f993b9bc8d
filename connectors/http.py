"""The one outbound HTTP chokepoint: every vendor request goes through VendorHttp.request.

It owns the requests.Session of one connection and, for every request: the timeouts, the
User-Agent, authentication headers, the shared throttle, retries with backoff and jitter
(honouring Retry-After), and the classification of every failure into connectors.errors.
Secrets never reach an error message or a log line.

It also guards where requests go (server-side request forgery): every connection is made by
`GuardedAdapter`, which resolves the host itself, refuses it if any of its addresses is not a
public one (`address_refusal`), and connects to exactly the address it checked, so a DNS answer
that changes between check and connect cannot slip through. Redirects are never followed, an
absolute link (a paging link) must name the connection's own host, and environment proxies
and .netrc are ignored (a proxy would be the address connected to, not the vendor).
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import random
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from .errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    FatalError,
    RateLimitedError,
    RetryableError,
    UnreachableError,
)
from .ratelimit import Throttle, ThrottleTimeout

logger = logging.getLogger(__name__)

USER_AGENT = "syncadmin/0.1 (+https://github.com/syncadmin/syncadmin)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    # True, or a CA bundle path (a corporate TLS proxy, a local test server). Passed on every
    # request: requests lets REQUESTS_CA_BUNDLE override a Session's own `verify`.
    verify: bool | str = True
    user_agent: str = USER_AGENT
    # Loopback addresses (local stand-ins for the vendors) may be connected to; nothing else widens.
    # Off unless the caller says so: the SYNCADMIN_ALLOW_LOCAL_URLS setting.
    allow_local_urls: bool = False

    @classmethod
    def from_settings(cls) -> HttpSettings:
        from django.conf import settings

        return cls(
            connect_timeout=getattr(settings, "CONNECTOR_CONNECT_TIMEOUT", 5.0),
            read_timeout=getattr(settings, "CONNECTOR_READ_TIMEOUT", 60.0),
            verify=getattr(settings, "CONNECTOR_CA_BUNDLE", "") or True,
            allow_local_urls=bool(getattr(settings, "SYNCADMIN_ALLOW_LOCAL_URLS", False)),
        )


# -- where connections may go ------------------------------------------------------------------
_CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291 2.5.5.1)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address sits in the low bits

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_refusal(address: str | Address, *, allow_local: bool = False) -> str | None:
    """Why a connection to `address` is refused (a short phrase), or None when it may go.

    Only public unicast addresses may be reached; with `allow_local`, loopback too (local
    test servers) and nothing else. IPv6 forms that carry an IPv4 address (mapped, compatible,
    6to4, Teredo, NAT64) are judged by what they carry, mapped and compatible ones refused.
    """
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if ip in _IPV4_COMPATIBLE and not (ip.is_loopback or ip.is_unspecified):
            return "an IPv4-compatible IPv6 address"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and address_refusal(embedded) is not None:
            return "an IPv6 address that carries an internal IPv4 address"
    if ip.is_loopback:
        return None if allow_local else "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CARRIER_GRADE_NAT:
        return "a carrier-grade NAT address"
    if ip.is_private:  # RFC 1918, unique-local fc00::/7, documentation, benchmarking, …
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


class AddressRefusedError(NewConnectionError):
    """The host resolves to an address the guard refuses: nothing was sent to it."""


def _vetted_addresses(conn: HTTPConnection, allow_local: bool) -> list[tuple[str, int]]:
    """Resolve the connection's host once; every address must pass, or none is used."""
    host = conn._dns_host.strip("[]")
    port = conn.port
    try:
        host.encode("idna")  # a label over 63 characters, an empty label
    except UnicodeError:
        raise NameResolutionError(
            conn.host, conn, socket.gaierror(f"invalid host name {host[:80]!r}")
        ) from None
    try:
        answers = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    except (UnicodeError, ValueError) as exc:
        raise NameResolutionError(
            conn.host, conn, socket.gaierror(f"invalid host name {host[:80]!r}")
        ) from exc
    addresses = []
    for _family, _type, _proto, _canonical, sockaddr in answers:
        refusal = address_refusal(sockaddr[0], allow_local=allow_local)
        if refusal is not None:
            # The reason is for the operator's log; the caller only learns "could not connect".
            logger.warning("refused to connect to %s, which is %s", host, refusal)
            raise AddressRefusedError(conn, f"{host} resolves to {refusal}")
        if (sockaddr[0], sockaddr[1]) not in addresses:
            addresses.append((sockaddr[0], sockaddr[1]))
    if not addresses:
        raise NameResolutionError(conn.host, conn, socket.gaierror("no address"))
    return addresses


class _GuardedConnectionMixin:
    """Connect only to an address that passed `address_refusal`, and to no other."""

    allow_local: bool = False

    def _new_conn(self) -> socket.socket:
        last_error: OSError | None = None
        for address, port in _vetted_addresses(self, self.allow_local):
            try:
                # An IP literal: create_connection does no DNS lookup of its own, so the
                # address checked is the address connected to (no DNS-rebinding gap).
                sock = create_connection(
                    (address, port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
                continue
            peer = sock.getpeername()[0]
            if address_refusal(peer, allow_local=self.allow_local) is not None:
                sock.close()
                raise AddressRefusedError(self, f"{self.host}: refused peer address")
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {last_error}"
        ) from last_error


def _pool_classes(allow_local: bool) -> dict[str, type[HTTPConnectionPool]]:
    attrs = {"allow_local": allow_local}
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), attrs)
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), attrs)
    return {
        "http": type(
            "GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
        ),
        "https": type(
            "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
        ),
    }


_POOL_CLASSES = {False: _pool_classes(False), True: _pool_classes(True)}


class GuardedAdapter(HTTPAdapter):
    """A transport adapter whose every connection goes through the address guard."""

    __attrs__ = [*HTTPAdapter.__attrs__, "allow_local"]

    def __init__(self, *, allow_local: bool = False, **kwargs) -> None:
        self.allow_local = allow_local
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES[self.allow_local]

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # Through a proxy the guard would check the proxy, not the vendor.
        raise requests.exceptions.InvalidProxyURL("proxies are not used for vendor requests")


def guarded_session(settings: HttpSettings) -> requests.Session:
    """A requests Session whose connections pass the address guard; no proxies, no .netrc."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(allow_local=settings.allow_local_urls)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = settings.user_agent
    return session


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # in all, the first try included
    backoff: float = 0.5  # first backoff; doubles each attempt, with full jitter
    backoff_max: float = 30.0
    retry_after_max: float = 300.0  # a longer Retry-After is not waited for: the error is raised

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.backoff_max, self.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


# Each vendor maps a failed response (status >= 400) to one ConnectorError.
Classifier = Callable[[requests.Response], ConnectorError]


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None if absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


class VendorHttp:
    """One connection's HTTP: base URL, session, auth, throttle, retries, classification."""

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        classify: Classifier,
        auth_headers: Callable[[], Mapping[str, str]] | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
        throttle: Throttle | None = None,
        settings: HttpSettings | None = None,
        retry: RetryPolicy | None = None,
        secrets: Sequence[str] = (),
        default_headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/") + "/"
        self.classify = classify
        self.auth_headers = auth_headers
        self.on_unauthorized = on_unauthorized
        self.throttle = throttle
        self.settings = settings or HttpSettings()
        self.retry = retry or RetryPolicy()
        self._secrets = [s for s in secrets if s]
        self.session = guarded_session(self.settings)
        self.session.headers["Accept"] = "application/json"
        if default_headers:
            self.session.headers.update(default_headers)
        self._sleep = sleep

    # -- public ---------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """An absolute URL (e.g. an @odata.nextLink) is used as it is; a path is joined.

        An absolute URL must name the connection's own scheme, host and port: a paging link
        to anywhere else is refused, so the credentials never go there.
        """
        parts = urlsplit(path_or_url)
        if not parts.scheme and not parts.netloc:
            return urljoin(self.base_url, path_or_url.lstrip("/"))
        base = urlsplit(self.base_url)
        if not _same_origin(parts, base):
            raise FatalError(
                f"refused a link to another host ({_host_text(parts)}); "
                f"only {base.hostname} is used",
                vendor=self.vendor,
            )
        return path_or_url

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping | Sequence | None = None,
        json: object = None,
        data: bytes | str | Mapping | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
    ) -> requests.Response:
        """Send one logical request; return the 2xx/3xx response or raise a ConnectorError.

        idempotent: may a request that perhaps reached the vendor be sent again (after a
        timeout, a dropped connection or a 5xx)? Defaults to True for GET/PUT/DELETE; callers
        mark upserts (contact/sync, PATCH by key) as idempotent themselves. A 429 and a
        failure to connect are retried whatever the method: the vendor did not act.
        """
        method = method.upper()
        url = self.url(path_or_url)
        policy = retry or self.retry
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        refreshed_auth = False
        attempt = 0
        while True:
            attempt += 1
            error = self._attempt(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                idempotent=idempotent,
            )
            if isinstance(error, requests.Response):
                return error
            if (
                error.status == 401
                and self.on_unauthorized is not None
                and not refreshed_auth
                and self.on_unauthorized()
            ):
                # An expired token: fetch a new one and try once more, outside the budget
                # of retries.
                refreshed_auth = True
                attempt -= 1
                continue
            retryable = isinstance(error, RateLimitedError) or (
                isinstance(error, RetryableError) and (idempotent or error.unsent)
            )
            if not retryable or attempt >= policy.attempts:
                raise error
            if isinstance(error, RateLimitedError) and error.retry_after and self.throttle:
                # Everyone sharing this account waits, not only this request.
                self.throttle.penalize(error.retry_after)
            delay = policy.delay(attempt, error.retry_after)
            if delay > policy.retry_after_max:
                raise error
            logger.warning(
                "%s %s %s: %s; retry %d/%d in %.2f s",
                self.vendor,
                method,
                self._path(url),
                error.message,
                attempt,
                policy.attempts - 1,
                delay,
            )
            self._sleep(delay)

    # -- one attempt ------------------------------------------------------------------------
    def _attempt(self, method, url, *, params, json, data, headers, idempotent):
        send_headers = dict(headers or {})
        try:
            if self.auth_headers is not None:
                send_headers.update(self.auth_headers())
        except ConnectorError as exc:
            return exc
        started = time.monotonic()
        try:
            if self.throttle is not None:
                with self.throttle.slot():
                    response = self._send(method, url, params, json, data, send_headers)
            else:
                response = self._send(method, url, params, json, data, send_headers)
        except ThrottleTimeout as exc:
            return RetryableError(str(exc), vendor=self.vendor, unsent=True)
        except requests.RequestException as exc:
            return self._transport_error(exc)
        elapsed = time.monotonic() - started
        logger.debug(
            "%s %s %s -> %s in %.3f s",
            self.vendor,
            method,
            self._path(url),
            response.status_code,
            elapsed,
        )
        if response.status_code < 400:
            return response
        error = self.classify(response)
        error.message = self.redact(error.message)
        if error.retry_after is None:
            error.retry_after = retry_after_seconds(response)
        return error

    def _send(self, method, url, params, json, data, headers) -> requests.Response:
        return self.session.request(
            method,
            url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            verify=self.settings.verify,
            allow_redirects=False,
        )

    def _transport_error(self, exc: requests.RequestException) -> ConnectorError:
        """Classify a failure that produced no HTTP response."""
        name = exc.__class__.__name__
        host = urlsplit(self.base_url).netloc
        if isinstance(exc, requests.exceptions.SSLError):
            return ConfigurationError(
                f"TLS error ({name})", vendor=self.vendor, reason=ConfigReason.TLS
            )
        if isinstance(exc, requests.exceptions.ConnectionError) and _name_resolution_failed(exc):
            return ConfigurationError(
                f"unknown host {urlsplit(self.base_url).hostname}",
                vendor=self.vendor,
                reason=ConfigReason.UNREACHABLE,
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout) or (
            isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc)
        ):
            # Refused, timed out, or an address the guard refuses: nothing was sent, and the
            # words are the same for all three so that they tell nobody whether a port is open.
            return UnreachableError(could_not_connect(host), vendor=self.vendor)
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return RetryableError("no answer before the read timeout", vendor=self.vendor)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return RetryableError("the connection broke during the answer", vendor=self.vendor)
        if isinstance(exc, requests.exceptions.ConnectionError):
            # A reset after sending may have reached the vendor; only idempotent calls retry.
            return RetryableError(f"connection failed ({name})", vendor=self.vendor)
        return ConfigurationError(
            f"invalid request ({name})", vendor=self.vendor, reason=ConfigReason.OTHER
        )

    @staticmethod
    def _path(url: str) -> str:
        return urlsplit(url).path


def _causes(exc: BaseException | None):
    """The exception and everything it wraps (requests -> urllib3 -> socket errors)."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            *current.args,
        ]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def _name_resolution_failed(exc: BaseException) -> bool:
    return any(isinstance(e, NameResolutionError) for e in _causes(exc))


def _never_connected(exc: BaseException) -> bool:
    """Refused, or refused by the address guard: the request surely never left."""
    return any(
        isinstance(e, ConnectionRefusedError | AddressRefusedError | ConnectTimeoutError)
        for e in _causes(exc)
    )


def could_not_connect(host: str) -> str:
    """The one wording for every failure to connect (see VendorHttp._transport_error)."""
    return f"could not connect to {host}"


def _same_origin(link, base) -> bool:
    try:
        return (
            link.scheme.lower() == base.scheme.lower()
            and (link.hostname or "") == (base.hostname or "")
            and (link.port or _DEFAULT_PORTS.get(link.scheme.lower()))
            == (base.port or _DEFAULT_PORTS.get(base.scheme.lower()))
            and not link.username
            and not link.password
        )
    except ValueError:  # a port that is not a number
        return False


def _host_text(parts) -> str:
    try:
        return parts.hostname or "no host"
    except ValueError:
        return "an unreadable host"


_DEFAULT_PORTS = {"http": 80, "https": 443}
