"""Rate limits planned, not discovered: one throttle per vendor account, shared by every process.

A Throttle admits a request only when every one of its sliding windows has room (an exact
sliding log, not a token bucket: a bucket's burst would let 5 + 4 requests into one second
at 5/s). The log lives in Redis when REDIS_URL is set, so every worker on every machine
shares it and Redis' own clock orders the requests; without Redis (the embedded default,
one machine) it lives in this process.

A 429's Retry-After pauses the whole key for every process (`penalize`).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rate:
    limit: int  # at most this many requests
    window: float  # per this many seconds


class ThrottleTimeout(Exception):
    """No slot within the time allowed (the caller treats it as retryable)."""


class Store(Protocol):
    def try_acquire(self, key: str, rates: Sequence[Rate]) -> float:
        """Record a request if every window has room and return 0, else the seconds to wait."""

    def penalize(self, key: str, seconds: float) -> None:
        """Admit nothing for key during the next `seconds`."""

    def lease(self, key: str, limit: int, ttl: float) -> str | None:
        """Take one of `limit` concurrency slots for at most ttl seconds; None if all taken."""

    def release(self, key: str, token: str) -> None: ...


class LocalStore:
    """In-process store, shared by every Throttle of this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, float], deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._leases: dict[str, dict[str, float]] = {}

    def try_acquire(self, key: str, rates: Sequence[Rate]) -> float:
        with self._lock:
            now = self._clock()
            blocked = self._blocked.get(key, 0.0)
            if blocked > now:
                return blocked - now
            wait = 0.0
            logs = []
            for rate in rates:
                log = self._logs.setdefault((key, rate.window), deque())
                while log and log[0] <= now - rate.window:
                    log.popleft()
                if len(log) >= rate.limit:
                    wait = max(wait, log[0] + rate.window - now)
                logs.append(log)
            if wait > 0:
                return wait
            for log in logs:
                log.append(now)
            return 0.0

    def penalize(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    def lease(self, key: str, limit: int, ttl: float) -> str | None:
        with self._lock:
            now = self._clock()
            leases = self._leases.setdefault(key, {})
            for token, expires in list(leases.items()):
                if expires <= now:
                    del leases[token]
            if len(leases) >= limit:
                return None
            token = uuid.uuid4().hex
            leases[token] = now + ttl
            return token

    def release(self, key: str, token: str) -> None:
        with self._lock:
            self._leases.get(key, {}).pop(token, None)


# Redis keeps one sorted set per window; scores are Redis' own clock in microseconds, so that
# every machine agrees on the order. Members are made unique with a counter. ARGV[1] is a
# time to use instead of Redis' clock ('' in production): tests move time without sleeping.
_NOW = """
local function clock()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local now = clock()
"""
_ACQUIRE = (
    _NOW
    + """
local blocked = tonumber(redis.call('GET', KEYS[1] .. ':blocked') or '0')
if blocked > now then return blocked - now end
local wait = 0
local n = (#ARGV - 1) / 2
for i = 1, n do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local log = KEYS[1] .. ':w' .. window
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  if redis.call('ZCARD', log) >= limit then
    local oldest = tonumber(redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')[2])
    wait = math.max(wait, oldest + window - now)
  end
end
if wait > 0 then return wait end
local seq = redis.call('INCR', KEYS[1] .. ':seq')
for i = 1, n do
  local window = tonumber(ARGV[2 * i + 1])
  local log = KEYS[1] .. ':w' .. window
  redis.call('ZADD', log, now, now .. ':' .. seq)
  redis.call('PEXPIRE', log, math.ceil(window / 1000) + 1000)
end
return 0
"""
)
_PENALIZE = (
    _NOW
    + """
local untilv = now + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1] .. ':blocked') or '0')
if untilv > current then
  redis.call('SET', KEYS[1] .. ':blocked', untilv, 'PX', math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
end
return 0
"""
)
_LEASE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / 1000) + 1000)
return 1
"""
)


class RedisStore:
    prefix = "syncadmin:throttle:"

    def __init__(self, url: str, *, clock: Callable[[], float] | None = None) -> None:
        """`clock` (seconds) replaces Redis' own clock, for tests only: production leaves it
        None, so that every process on every machine reads the one clock Redis keeps."""
        import redis

        self._clock = clock
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._penalize = self._redis.register_script(_PENALIZE)
        self._lease = self._redis.register_script(_LEASE)

    def try_acquire(self, key: str, rates: Sequence[Rate]) -> float:
        argv = list(
            itertools.chain.from_iterable(
                (rate.limit, int(rate.window * 1_000_000)) for rate in rates
            )
        )
        return int(self._acquire(keys=[self.prefix + key], args=[self._now(), *argv])) / 1_000_000

    def penalize(self, key: str, seconds: float) -> None:
        self._penalize(keys=[self.prefix + key], args=[self._now(), int(seconds * 1_000_000)])

    def lease(self, key: str, limit: int, ttl: float) -> str | None:
        token = uuid.uuid4().hex
        taken = self._lease(
            keys=[self.prefix + key + ":leases"],
            args=[self._now(), limit, int(ttl * 1_000_000), token],
        )
        return token if int(taken) else None

    def release(self, key: str, token: str) -> None:
        self._redis.zrem(self.prefix + key + ":leases", token)

    def _now(self) -> int | str:
        """The script's ARGV[1]: microseconds of the injected clock, or '' for Redis' own."""
        return "" if self._clock is None else int(self._clock() * 1_000_000)


_local_store = LocalStore()
_redis_stores: dict[str, RedisStore] = {}
_stores_lock = threading.Lock()


def default_store() -> Store:
    """Redis when REDIS_URL is configured, else this process's store."""
    from django.conf import settings

    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return _local_store
    with _stores_lock:
        if url not in _redis_stores:
            _redis_stores[url] = RedisStore(url)
        return _redis_stores[url]


class Throttle:
    """Blocks each request until the account's budget has room for it."""

    def __init__(
        self,
        key: str,
        rates: Sequence[Rate],
        *,
        concurrency: int | None = None,
        store: Store | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 600.0,
        lease_ttl: float = 300.0,
    ) -> None:
        self.key = key
        self.rates = tuple(rates)
        self.concurrency = concurrency
        self._store = store
        self._sleep = sleep
        self.max_wait = max_wait
        self.lease_ttl = lease_ttl

    @property
    def store(self) -> Store:
        return self._store if self._store is not None else default_store()

    def acquire(self) -> None:
        waited = 0.0
        while True:
            wait = self.store.try_acquire(self.key, self.rates)
            if wait <= 0:
                return
            if waited + wait > self.max_wait:
                raise ThrottleTimeout(f"no request slot for {self.key} within {self.max_wait:g} s")
            self._sleep(wait)
            waited += wait

    def penalize(self, seconds: float) -> None:
        self.store.penalize(self.key, seconds)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Admit the request (rate) and hold a concurrency slot while it runs."""
        self.acquire()
        if not self.concurrency:
            yield
            return
        waited = 0.0
        while (token := self.store.lease(self.key, self.concurrency, self.lease_ttl)) is None:
            if waited > self.max_wait:
                raise ThrottleTimeout(
                    f"no concurrency slot for {self.key} within {self.max_wait:g} s"
                )
            self._sleep(0.05)
            waited += 0.05
        try:
            yield
        finally:
            self.store.release(self.key, token)
