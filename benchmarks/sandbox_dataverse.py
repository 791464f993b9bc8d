"""Print what the Dataverse sandbox sustains: seeding, simple reads per second, and paging a
large table page by page (first vs last page time shows whether paging stays linear).

Seeds in memory, serves over plain HTTP (waitress, as the runner does) with limits off, gets a
token from the sandbox's own token endpoint, then measures. Reads use wrk (keep-alive
connections) when /usr/bin/wrk exists, else a few client processes with keep-alive sessions.

    .venv/bin/python benchmarks/sandbox_dataverse.py [--people 100000]   (from the repo root)
        [--contacts 100000] [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from sandbox.dataverse.app import DataverseSandbox
from sandbox.server import serve
from sandbox.store import Database

HEADERS = {"Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}


def _client(url: str, token: str, seconds: float, result) -> None:
    session = requests.Session()
    session.headers.update({**HEADERS, "Authorization": f"Bearer {token}"})
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if session.get(url, timeout=30).status_code == 200:
            done += 1
    result.put(done)


def reads_per_second(url: str, token: str, seconds: float, connections: int) -> tuple[float, str]:
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(  # noqa: S603 - fixed argv, local server
            [
                wrk,
                "-t2",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "-H",
                f"Authorization: Bearer {token}",
                "-H",
                "Accept: application/json",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        note = f"wrk, {connections} connections" + (
            f", {errors.group(1)} non-2xx" if errors else ""
        )
        return rate, note
    result: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client, args=(url, token, seconds, result))
        for _ in range(4)
    ]
    for w in workers:
        w.start()
    total = sum(result.get() for _ in workers)
    for w in workers:
        w.join()
    return total / seconds, "4 client processes, keep-alive"


def page_through(session: requests.Session, url: str, page_size: int) -> tuple[int, list[float]]:
    rows, times = 0, []
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    for _ in range(10_000):
        started = time.perf_counter()
        response = session.get(url, headers=headers, timeout=120)
        response.raise_for_status()
        body = response.json()
        times.append(time.perf_counter() - started)
        rows += len(body["value"])
        url = body.get("@odata.nextLink")
        if not url:
            break
    return rows, times


def report_paging(label: str, rows: int, times: list[float]) -> None:
    print(
        f"  {label}: {rows:,} rows in {len(times)} pages, {sum(times):.2f} s total "
        f"({rows / sum(times):,.0f} rows/s); page time first {times[0] * 1000:.0f} ms, "
        f"median {statistics.median(times) * 1000:.0f} ms, last {times[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000, help="people per seeding round")
    parser.add_argument(
        "--contacts", type=int, default=100_000, help="seed until this many contacts"
    )
    parser.add_argument("--seconds", type=float, default=10, help="duration of each read test")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args()

    app = DataverseSandbox(Database(":memory:"), requests_per_window=None, concurrency=None)
    started = time.perf_counter()
    counts = app.seed(args.people)
    print(f"seed({args.people:,}): {time.perf_counter() - started:.2f} s  {counts}")
    contacts = app.store.count(app.table("contact"))
    rounds = 1
    while contacts < args.contacts and rounds < 10:
        started = time.perf_counter()
        app.seed(args.people)
        rounds += 1
        contacts = app.store.count(app.table("contact"))
        print(
            f"seed round {rounds}: {time.perf_counter() - started:.2f} s, contacts now {contacts:,}"
        )

    _tenant, client_id, secret = app.app_registration_ensure()
    handle = serve(app, name="dv-bench")
    try:
        token = requests.post(
            f"{handle.url}/{app.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": f"{handle.url}/.default",
            },
            timeout=10,
        ).json()["access_token"]
        api = f"{handle.url}/api/data/v9.2"
        session = requests.Session()
        session.headers.update({**HEADERS, "Authorization": f"Bearer {token}"})
        one = session.get(f"{api}/contacts?$select=contactid&$top=1", timeout=10).json()["value"][
            0
        ]["contactid"]

        print("simple reads (limits off):")
        for label, url in (
            (
                "GET contacts(<id>)?$select=fullname,emailaddress1",
                f"{api}/contacts({one})?$select=fullname,emailaddress1",
            ),
            ("GET contacts?$select=fullname&$top=5", f"{api}/contacts?$select=fullname&$top=5"),
            ("GET WhoAmI", f"{api}/WhoAmI"),
        ):
            rate, note = reads_per_second(url, token, args.seconds, args.connections)
            print(f"  {label}: {rate:,.0f} requests/s ({note})")

        print(f"paging contacts with odata.maxpagesize={args.page_size}:")
        rows, times = page_through(
            session, f"{api}/contacts?$select=fullname,emailaddress1,modifiedon", args.page_size
        )
        report_paging("all contacts, default order", rows, times)
        cutoff = app.store.query(
            "SELECT modifiedon FROM dv_contact ORDER BY modifiedon LIMIT 1 OFFSET ?",
            (contacts // 10,),
        )[0][0]
        rows, times = page_through(
            session,
            f"{api}/contacts?$select=fullname,modifiedon&$filter=modifiedon ge {cutoff}"
            "&$orderby=modifiedon asc,contactid asc",
            args.page_size,
        )
        report_paging(f"modifiedon ge {cutoff}, ordered by modifiedon", rows, times)
        rows, times = page_through(
            session,
            f"{api}/contacts?$select=fullname&$filter=modifiedon ge {cutoff}",
            args.page_size,
        )
        report_paging(f"modifiedon ge {cutoff}, default order", rows, times)
    finally:
        # waitress's loop thread can trip over the sockets stop() closes under it (EBADF);
        # that is shutdown noise, not a result.
        default_hook = threading.excepthook

        def quiet(args) -> None:
            if args.exc_type is not OSError:
                default_hook(args)

        threading.excepthook = quiet
        handle.stop()


if __name__ == "__main__":
    main()
