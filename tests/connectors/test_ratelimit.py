"""The shared throttle: an exact sliding window, penalties and concurrency leases, in process
and in Redis (so every worker on every machine shares one budget)."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from connectors.ratelimit import LocalStore, Rate, RedisStore, Throttle, ThrottleTimeout


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_it_never_admits_more_than_the_limit_in_any_window():
    clock = FakeClock()
    throttle = Throttle("k", [Rate(5, 1.0)], store=LocalStore(clock=clock), sleep=clock.sleep)

    admitted = []
    for _ in range(40):
        throttle.acquire()
        admitted.append(clock.now)
        clock.now += 0.01  # the request itself takes a little time

    for i, start in enumerate(admitted):
        in_window = [t for t in admitted[i:] if t < start + 1.0]
        assert len(in_window) <= 5
    # and it is not needlessly slow: 40 requests at 5/s take about 8 s
    assert admitted[-1] - admitted[0] < 8.5


def test_it_applies_every_window_at_once():
    clock = FakeClock()
    store = LocalStore(clock=clock)
    rates = [Rate(10, 1.0), Rate(12, 300.0)]

    assert all(store.try_acquire("k", rates) == 0 for _ in range(10))
    assert store.try_acquire("k", rates) == pytest.approx(1.0)
    clock.now += 1.0
    assert store.try_acquire("k", rates) == 0
    assert store.try_acquire("k", rates) == 0
    assert store.try_acquire("k", rates) == pytest.approx(299.0)  # the 5-minute budget is spent


def test_it_pauses_a_penalized_key():
    clock = FakeClock()
    store = LocalStore(clock=clock)
    store.penalize("k", 3.0)

    assert store.try_acquire("k", [Rate(5, 1.0)]) == pytest.approx(3.0)
    assert store.try_acquire("other", [Rate(5, 1.0)]) == 0


def test_it_gives_up_after_max_wait():
    clock = FakeClock()
    throttle = Throttle(
        "k", [Rate(1, 60.0)], store=LocalStore(clock=clock), sleep=clock.sleep, max_wait=30
    )
    throttle.acquire()

    with pytest.raises(ThrottleTimeout):
        throttle.acquire()


def test_it_limits_concurrency():
    throttle = Throttle("k", [Rate(1000, 1.0)], concurrency=2, store=LocalStore())
    inside, peak, lock = [0], [0], threading.Lock()

    def work():
        with throttle.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak[0] == 2


@pytest.fixture
def redis_store():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    return RedisStore(url)


def test_redis_it_shares_one_window_between_clients(redis_store):
    key = f"test:{uuid.uuid4().hex}"
    rates = [Rate(5, 1.0)]
    first, second = RedisStore(os.environ["REDIS_URL"]), redis_store

    results = [store.try_acquire(key, rates) for store in (first, second) * 4]

    assert results[:5] == [0.0] * 5
    assert all(0 < wait <= 1.0 for wait in results[5:])


def test_redis_it_shares_a_penalty(redis_store):
    key = f"test:{uuid.uuid4().hex}"
    redis_store.penalize(key, 2.0)

    wait = RedisStore(os.environ["REDIS_URL"]).try_acquire(key, [Rate(5, 1.0)])

    assert 1.5 < wait <= 2.0


def test_redis_it_leases_concurrency_slots(redis_store):
    key = f"test:{uuid.uuid4().hex}"

    a = redis_store.lease(key, 2, ttl=30)
    b = redis_store.lease(key, 2, ttl=30)
    assert a and b and redis_store.lease(key, 2, ttl=30) is None
    redis_store.release(key, a)
    assert redis_store.lease(key, 2, ttl=30) is not None


def test_redis_an_expired_lease_frees_its_slot():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    clock = FakeClock()  # Redis' own clock cannot be moved: time is passed in instead
    store = RedisStore(url, clock=clock)
    key = f"test:{uuid.uuid4().hex}"
    assert store.lease(key, 1, ttl=0.05) is not None  # a worker that died holding the slot
    clock.now += 0.04
    assert store.lease(key, 1, ttl=30) is None  # still held

    clock.now += 0.02

    assert store.lease(key, 1, ttl=30) is not None
