"""What both vendor sandboxes share: routing, a request log, fault injection, rate limits.

A vendor sandbox subclasses SandboxApp, declares werkzeug routes and answers with
werkzeug Responses. Everything here is test-visible: tests read `app.log` and set
`app.faults` directly, and the `sandbox` command exposes both on an admin endpoint.

The control endpoints (`/_sandbox/...`) are not part of any vendor's API: they change what the
sandbox holds and how it fails. Each sandbox generates its own admin token when it starts
(printed by `manage.py sandbox` with the credentials) and refuses every control call that does
not carry it in the `X-Sandbox-Admin` header.
"""

from __future__ import annotations

import hmac
import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from waitress.channel import ClientDisconnected
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response


@dataclass
class Faults:
    """Injected trouble. Rates are probabilities per request (0.0-1.0).

    Faults happen before the request is handled: a failed request changed nothing, the way a
    gateway error or a connection reset in front of the service would behave.
    """

    error_rate: float = 0.0  # answer 500/502/503 at random
    drop_rate: float = 0.0  # close the connection without an answer
    latency: float = 0.0  # seconds added to every request
    latency_jitter: float = 0.0  # plus up to this many seconds at random
    force_429: int = 0  # the next N requests are refused with 429
    force_429_retry_after: int = 1
    seed: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LogEntry:
    method: str
    path: str
    query: str
    status: int
    started: float  # time.time() when the request arrived
    duration: float
    account: str
    fault: str = ""  # "error", "drop", "429", "rate-limit" when the sandbox injected or refused


class RequestLog:
    """The last `maxlen` requests, thread-safe, newest last."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, *, method: str | None = None, path_prefix: str | None = None
    ) -> list[LogEntry]:
        with self._lock:
            entries = list(self._entries)
        return [
            e
            for e in entries
            if (method is None or e.method == method)
            and (path_prefix is None or e.path.startswith(path_prefix))
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class SlidingWindow:
    """At most `limit` requests per `window` seconds per key (an exact sliding log)."""

    limit: int
    window: float
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, now: float | None = None) -> float:
        """Count a request; return 0 if allowed, else the seconds until one would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


class Concurrency:
    """At most `limit` requests in flight per key."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, key: str) -> bool:
        with self._lock:
            if self._in_flight.get(key, 0) >= self.limit:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1


ADMIN_HEADER = "X-Sandbox-Admin"


def admin_token_new() -> str:
    """A fresh control token: 32 URL-safe characters from the OS's random source."""
    return secrets.token_urlsafe(24)


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":")),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


class SandboxApp:
    """Base WSGI app: routes to `self.<endpoint>(request, **args)` with faults and logging.

    Subclasses set `rules`, implement `account_of(request)` (the key for rate limits and
    the log), `rate_limited(request, account, retry_after)` and `error_response(status,
    message)` in their vendor's shapes, and may override `before(request, account)` to
    authenticate.
    """

    name = "sandbox"
    rules: list[Rule] = []

    def __init__(self, *, faults: Faults | None = None, log: RequestLog | None = None) -> None:
        self.faults = faults or Faults()
        self.log = log or RequestLog()
        # Rules are bound to one Map: each app instance gets its own copies.
        self.url_map = Map(
            [rule.empty() for rule in self.rules], strict_slashes=False, merge_slashes=False
        )
        self._random = random.Random(self.faults.seed)  # noqa: S311 - faults, not secrets
        self._fault_lock = threading.Lock()
        # Required on every /_sandbox/ call; set another (e.g. one shared by two sandboxes).
        self.admin_token: str = admin_token_new()

    @property
    def control_headers(self) -> dict[str, str]:
        """The header a control call needs, for tests and tools that drive the sandbox."""
        return {ADMIN_HEADER: self.admin_token}

    def admin_refused(self, request: Request) -> Response | None:
        """A 403 unless the request carries this sandbox's admin token; None when it does."""
        sent = request.headers.get(ADMIN_HEADER, "").encode()
        expected = (self.admin_token or "").encode()
        if expected and hmac.compare_digest(sent, expected):
            return None
        return json_response(
            {
                "message": f"bad or missing {ADMIN_HEADER} header: sandbox control calls need "
                "the admin token printed when the sandbox started"
            },
            403,
        )

    # -- hooks for the vendor sandboxes ----------------------------------------------------
    def account_of(self, request: Request) -> str:
        return ""

    def before(self, request: Request, account: str) -> Response | None:
        """Authenticate and apply rate limits; return a Response to stop there."""
        return None

    def error_response(self, status: int, message: str) -> Response:
        return json_response({"message": message}, status)

    def rate_limited(self, request: Request, account: str, retry_after: int) -> Response:
        response = self.error_response(429, "Too Many Requests")
        response.headers["Retry-After"] = str(retry_after)
        return response

    # -- plumbing -------------------------------------------------------------------------
    def _fault(self) -> str:
        faults = self.faults
        with self._fault_lock:
            if faults.force_429 > 0:
                faults.force_429 -= 1
                return "429"
            roll = self._random.random()
            if roll < faults.drop_rate:
                return "drop"
            if roll < faults.drop_rate + faults.error_rate:
                return "error"
            jitter = self._random.random() * faults.latency_jitter if faults.latency_jitter else 0
        delay = faults.latency + jitter
        if delay > 0:
            time.sleep(delay)
        return ""

    def dispatch(self, request: Request, account: str) -> tuple[Response, str]:
        if request.path.startswith("/_sandbox/"):
            return self.admin_refused(request) or self._admin(request), ""
        fault = self._fault()
        if fault == "drop":
            raise ClientDisconnected("sandbox fault: connection dropped")
        if fault == "error":
            status = self._random.choice([500, 502, 503])
            return self.error_response(status, "Injected server error (sandbox fault)"), fault
        if fault == "429":
            return self.rate_limited(request, account, self.faults.force_429_retry_after), fault
        stopped = self.before(request, account)
        if stopped is not None:
            return stopped, "rate-limit" if stopped.status_code == 429 else ""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return self.error_response(404, f"No route for {request.method} {request.path}"), ""
        except MethodNotAllowed:
            return self.error_response(
                405, f"{request.method} is not allowed on {request.path}"
            ), ""
        except HTTPException as exc:
            return self.error_response(exc.code or 400, exc.description or "Bad request"), ""
        handler: Callable[..., Response] = getattr(self, endpoint)
        return handler(request, **args), ""

    # -- the control endpoint, for a sandbox running in another process ---------------------
    def _admin(self, request: Request) -> Response:
        """GET/PUT /_sandbox/faults, GET /_sandbox/log, POST /_sandbox/log/clear.

        Reached only with the admin token (`dispatch` checks it for every /_sandbox/ path).
        """
        if request.path == "/_sandbox/faults":
            if request.method == "PUT":
                changes = request.get_json(force=True, silent=True) or {}
                unknown = set(changes) - set(Faults.__dataclass_fields__)
                if unknown:
                    return json_response({"message": f"unknown fault(s): {sorted(unknown)}"}, 400)
                with self._fault_lock:
                    for key, value in changes.items():
                        setattr(self.faults, key, value)
                    if "seed" in changes:
                        self._random.seed(changes["seed"])
            return json_response(self.faults.as_dict())
        if request.path == "/_sandbox/log":
            since = float(request.args.get("since", 0))
            return json_response(
                {"entries": [asdict(e) for e in self.log.entries() if e.started >= since]}
            )
        if request.path == "/_sandbox/log/clear" and request.method == "POST":
            self.log.clear()
            return json_response({"cleared": True})
        return json_response({"message": "unknown sandbox control path"}, 404)

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        started = time.time()
        request = Request(environ)
        account = ""
        try:
            account = self.account_of(request)
            response, fault = self.dispatch(request, account)
        except ClientDisconnected:
            self.log.append(
                LogEntry(
                    request.method,
                    request.path,
                    request.query_string.decode(),
                    0,
                    started,
                    time.time() - started,
                    account,
                    "drop",
                )
            )
            raise
        self.log.append(
            LogEntry(
                request.method,
                request.path,
                request.query_string.decode(),
                response.status_code,
                started,
                time.time() - started,
                account,
                fault,
            )
        )
        return response(environ, start_response)
