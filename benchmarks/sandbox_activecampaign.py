"""Benchmark the ActiveCampaign sandbox: seed N people in memory, serve them, print figures.

    python benchmarks/sandbox_activecampaign.py [--people 100000] [--duration 10]

Prints the seeding time; requests/second of simple reads with keep-alive clients (wrk when it
is installed, else a threaded requests client): `GET /api/3/contacts/{id}` over random ids and
`GET /api/3/contacts?limit=100`; requests/second of `POST /api/3/contact/sync` writes; and
keyset paging over every contact (`orders[id]=ASC&id_greater=`) with the time per page in
the first and the last tenth, to show that paging does not slow down towards the end (plus a
sample of deep `offset` pages for contrast). Rate limits are off; nothing leaves localhost.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.activecampaign.app import ActiveCampaignSandbox
from sandbox.server import serve
from sandbox.store import Database

RANDOM_IDS_LUA = """
math.randomseed(7)
request = function()
  return wrk.format("GET", "/api/3/contacts/" .. math.random({low}, {high}))
end
"""


def wrk(url: str, key: str, *, duration: int, connections: int, script: str | None = None) -> dict:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "-H",
        f"Api-Token: {key}",
        url,
    ]
    if script:
        command[1:1] = ["-s", script]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    latency = re.search(r"Latency\s+([\d.]+\w+)", output).group(1)
    return {"rps": rate, "non_2xx": int(errors.group(1)) if errors else 0, "latency": latency}


def threaded(make_request, *, duration: int, connections: int) -> dict:
    """The fallback without wrk: `connections` keep-alive sessions hammering for `duration`."""
    counts, failures = [0] * connections, [0] * connections
    stop = time.monotonic() + duration

    def run(slot: int) -> None:
        session = requests.Session()
        n = 0
        while time.monotonic() < stop:
            response = make_request(session, slot, n)
            n += 1
            counts[slot] += 1
            if response.status_code >= 300:
                failures[slot] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"rps": sum(counts) / elapsed, "non_2xx": sum(failures), "latency": "n/a"}


def page_everything(url: str, key: str) -> tuple[int, list[float]]:
    session = requests.Session()
    session.headers["Api-Token"] = key
    last, seen, timings = 0, 0, []
    while True:
        started = time.perf_counter()
        response = session.get(
            f"{url}/api/3/contacts",
            params={"orders[id]": "ASC", "id_greater": last, "limit": 100},
            timeout=30,
        )
        contacts = response.json()["contacts"]
        timings.append(time.perf_counter() - started)
        if not contacts:
            return seen, timings
        seen += len(contacts)
        last = int(contacts[-1]["id"])


def offset_sample(url: str, key: str, total: int, pages: int = 10) -> tuple[float, float]:
    session = requests.Session()
    session.headers["Api-Token"] = key

    def average(start: int) -> float:
        timings = []
        for n in range(pages):
            began = time.perf_counter()
            session.get(
                f"{url}/api/3/contacts",
                params={"limit": 100, "offset": start + n * 100},
                timeout=30,
            ).raise_for_status()
            timings.append(time.perf_counter() - began)
        return statistics.mean(timings)

    return average(0), average(max(0, total - pages * 100))


def report(label: str, result: dict) -> None:
    print(
        f"{label:45s} {result['rps']:8.0f} req/s  latency {result['latency']:>8s}  "
        f"non-2xx {result['non_2xx']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    app = ActiveCampaignSandbox(Database(":memory:"), rate_limit=None)
    started = time.perf_counter()
    app.seed(args.people)
    seeding = time.perf_counter() - started
    _, key = app.account_ensure("demo")
    low, high = app.db.execute_one("SELECT MIN(id), MAX(id) FROM contacts")
    total = high - low + 1
    handle = serve(app, name="ac-benchmark")
    url = handle.url
    print(f"seeded {args.people:,} people -> {total:,} contacts in {seeding:.1f} s")
    use_wrk = shutil.which("wrk") is not None
    print(
        f"load generator: {'wrk' if use_wrk else 'threaded requests'}, "
        f"{args.connections} keep-alive connections, {args.duration} s per run"
    )
    headers = {"Api-Token": key}

    def read(path: str, *, lua: str | None = None, pick_path=None) -> dict:
        """Throughput of one GET: wrk (optionally driven by a Lua script) or threads."""
        if use_wrk:
            return wrk(
                url + path, key, duration=args.duration, connections=args.connections, script=lua
            )
        pick = pick_path or (lambda slot, n: path)
        return threaded(
            lambda s, slot, n: s.get(url + pick(slot, n), headers=headers, timeout=30),
            duration=args.duration,
            connections=args.connections,
        )

    script = None
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(RANDOM_IDS_LUA.replace("{low}", str(low)).replace("{high}", str(high)))
        report(
            "GET /api/3/contacts/{id} (random ids)",
            read(
                "/api/3/contacts/1",
                lua=script.name,
                pick_path=lambda slot, n: f"/api/3/contacts/{low + (slot * 7919 + n) % total}",
            ),
        )
        report("GET /api/3/contacts?limit=100", read("/api/3/contacts?limit=100"))

        seen, timings = page_everything(url, key)
        tenth = max(1, len(timings) // 10)
        first, last = statistics.mean(timings[:tenth]), statistics.mean(timings[-tenth - 1 : -1])
        print(
            f"keyset paging: {seen:,} contacts in {len(timings):,} pages, "
            f"{len(timings) / sum(timings):.0f} pages/s; first tenth {first * 1000:.2f} ms/page, "
            f"last tenth {last * 1000:.2f} ms/page (ratio {last / first:.2f})"
        )
        start_ms, end_ms = offset_sample(url, key, total)
        print(
            f"offset paging sample: offset 0 {start_ms * 1000:.2f} ms/page, "
            f"offset {max(0, total - 1000):,} {end_ms * 1000:.2f} ms/page"
        )

        def sync(session, slot: int, n: int):
            body = {"contact": {"email": f"bench{slot}.{n}@example.com", "firstName": "B"}}
            return session.post(f"{url}/api/3/contact/sync", json=body, headers=headers, timeout=30)

        report(
            "POST /api/3/contact/sync (4 threads)",
            threaded(sync, duration=min(args.duration, 5), connections=4),
        )
    finally:
        handle.stop()
        app.close()
        if script is not None:
            Path(script.name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
