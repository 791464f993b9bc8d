"""The account budget holds across OS processes: two workers sharing one AC account through
Redis never put more than 5 requests into any one second at the account's door.

The door is a tiny local HTTP server standing in for the account; it stamps each request's
arrival. Needs the real Redis (REDIS_URL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REQUESTS_PER_WORKER = 12


class Account(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), AccountHandler)
        self.arrivals: list[float] = []
        self.lock = threading.Lock()


class AccountHandler(BaseHTTPRequestHandler):
    server: Account

    def do_GET(self):
        with self.server.lock:
            self.server.arrivals.append(time.monotonic())
        payload = json.dumps({"user": {"id": "1", "username": "throttle"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def account():
    server = Account()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set")
    return url


def most_in_one_second(arrivals: list[float]) -> int:
    times = sorted(arrivals)
    most, start = 0, 0
    for end, stamp in enumerate(times):
        while stamp - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def run_two_workers(account: Account, store: str) -> list[float]:
    api_url = f"http://127.0.0.1:{account.server_address[1]}"
    start_at = time.time() + 1.5  # both interpreters up before the first request
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.connectors.activecampaign.throttle_worker",
                api_url,
                store,
                str(REQUESTS_PER_WORKER),
                str(start_at),
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=60)
        assert worker.returncode == 0, errors.decode()
    return list(account.arrivals)


def _forget(redis_url: str, account: Account) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    pattern = f"syncadmin:throttle:activecampaign:127.0.0.1:{account.server_address[1]}*"
    for key in client.scan_iter(match=pattern):
        client.delete(key)


def test_it_keeps_two_processes_within_five_a_second(account, redis_url):
    _forget(redis_url, account)

    arrivals = run_two_workers(account, redis_url)

    assert len(arrivals) == 2 * REQUESTS_PER_WORKER
    assert most_in_one_second(arrivals) <= 5


def test_it_would_see_two_unshared_throttles_overrun_the_account(account):
    # The control: one throttle per process, no sharing. The same measurement catches it.
    arrivals = run_two_workers(account, "local")

    assert len(arrivals) == 2 * REQUESTS_PER_WORKER
    assert most_in_one_second(arrivals) > 5
