"""The account's 5 requests/second, measured where AC counts them: at the sandbox's door.

Two OS processes, each with its own ActiveCampaignClient on the same account, share the
throttle through the real Redis; the sandbox's own limit is off, so only the clients hold the
rate. From the sandbox's request log: no one-second window may hold more than 5 requests.
The control run (one throttle per process) shows the same measurement catches an overrun.
Then, with the sandbox's 5/s limit on, a client in normal operation never meets a 429.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.activecampaign import ContactChanges, account_throttle_key
from connectors.ratelimit import LocalStore

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CALLS_PER_WORKER = 12
# Each worker's first contact upsert also reads the field definitions (to type values): one
# request more than it makes calls.
REQUESTS_PER_WORKER = CALLS_PER_WORKER + 1


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set")
    return url


def most_in_one_second(stamps: list[float]) -> int:
    times = sorted(stamps)
    most, start = 0, 0
    for end, stamp in enumerate(times):
        while stamp - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def achieved_rate(stamps: list[float]) -> float:
    times = sorted(stamps)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def run_workers(sandboxes, store: str, workers: int = 2) -> None:
    endpoint = sandboxes.activecampaign
    start_at = time.time() + 1.5  # every interpreter up before the first call
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.activecampaign.rate_worker",
                endpoint.api_url,
                endpoint.api_key,
                store,
                str(CALLS_PER_WORKER),
                str(start_at),
                f"w{n}",
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        for n in range(workers)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0, errors.decode()[-2000:]


def forget(redis_url: str, api_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"syncadmin:throttle:{account_throttle_key(api_url)}*"):
        client.delete(key)


def test_it_keeps_two_processes_within_five_a_second_at_the_sandbox(ac, sandboxes, redis_url):
    assert ac.rate_limit is None  # only the clients hold the rate
    forget(redis_url, sandboxes.activecampaign.api_url)

    try:
        run_workers(sandboxes, redis_url)
    finally:
        forget(redis_url, sandboxes.activecampaign.api_url)

    stamps = [e.started for e in ac.log.entries() if e.account]
    assert len(stamps) == 2 * REQUESTS_PER_WORKER
    peak = most_in_one_second(stamps)
    print(
        f"\nshared throttle (Redis), 2 processes: {len(stamps)} requests, at most {peak} in "
        f"any one second, {achieved_rate(stamps):.2f} requests/s achieved"
    )
    assert peak <= 5


def test_it_would_see_two_unshared_throttles_overrun_the_account(ac, sandboxes):
    # The control: one throttle per process, nothing shared. The same measurement catches it.
    run_workers(sandboxes, "local")

    stamps = [e.started for e in ac.log.entries() if e.account]
    peak = most_in_one_second(stamps)
    print(
        f"\nunshared throttles, 2 processes: {len(stamps)} requests, at most {peak} in any "
        f"one second, {achieved_rate(stamps):.2f} requests/s"
    )
    assert len(stamps) == 2 * REQUESTS_PER_WORKER
    assert peak > 5


def test_it_meets_no_429_from_the_sandboxes_own_limit_in_normal_operation(make_client, ac):
    ac.rate_limit = 5
    client = make_client(store=LocalStore(), sleep=time.sleep)

    client.check()
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    for i in range(6):
        client.tags.add(contact.id, f"Tag {i}")  # a search, a create, a link each
    client.tags.for_contact(contact.id)

    log = [e for e in ac.log.entries() if e.account]
    assert len(log) >= 20
    assert [e for e in log if e.status == 429] == []
    stamps = [e.started for e in log]
    print(
        f"\nsandbox limit on (5/s): {len(log)} requests, no 429, at most "
        f"{most_in_one_second(stamps)} in any one second, {achieved_rate(stamps):.2f} "
        "requests/s achieved"
    )
