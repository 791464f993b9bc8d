"""The one outbound HTTP chokepoint: every vendor request goes through VendorHttp.request.

It owns the requests.Session of one connection and, for every request: the timeouts, the
User-Agent, authentication headers, the shared throttle, retries with backoff and jitter
(honouring Retry-After), and the classification of every failure into connectors.errors.
Secrets never reach an error message or a log line.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import NameResolutionError

from .errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
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

    @classmethod
    def from_settings(cls) -> HttpSettings:
        from django.conf import settings

        return cls(
            connect_timeout=getattr(settings, "CONNECTOR_CONNECT_TIMEOUT", 5.0),
            read_timeout=getattr(settings, "CONNECTOR_READ_TIMEOUT", 60.0),
            verify=getattr(settings, "CONNECTOR_CA_BUNDLE", "") or True,
        )


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
        self.session = requests.Session()
        self.session.headers.update(
            {"User-Agent": self.settings.user_agent, "Accept": "application/json"}
        )
        if default_headers:
            self.session.headers.update(default_headers)
        self._sleep = sleep

    # -- public ---------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """An absolute URL (e.g. an @odata.nextLink) is used as it is; a path is joined."""
        if urlsplit(path_or_url).scheme:
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

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
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return UnreachableError(
                f"no answer from {urlsplit(self.base_url).netloc} (connection timed out)",
                vendor=self.vendor,
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return RetryableError("no answer before the read timeout", vendor=self.vendor)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return RetryableError("the connection broke during the answer", vendor=self.vendor)
        if isinstance(exc, requests.exceptions.ConnectionError) and _connection_refused(exc):
            # Refused before anything was sent: safe to retry any method.
            return UnreachableError(
                f"nothing answers at {urlsplit(self.base_url).netloc} (connection refused)",
                vendor=self.vendor,
            )
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


def _connection_refused(exc: BaseException) -> bool:
    return any(isinstance(e, ConnectionRefusedError) for e in _causes(exc))
