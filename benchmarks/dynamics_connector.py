"""Print what the Dataverse connector costs per row and per $batch.

The read runs over real HTTP against a throwaway local server that answers with precomputed
5000-row pages, so the figures are the connector's own cost (HTTP client, JSON, typed rows) and
its memory while streaming; the $batch figures are CPU only (build 1000 operations, parse a
1000-part answer).

    .venv/bin/python benchmarks/dynamics_connector.py [pages] [page_size]   (from the repo root)
"""

from __future__ import annotations

import json
import sys
import threading
import time
import tracemalloc
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.config import DynamicsConfig
from connectors.dynamics import DynamicsClient, RecordWrite
from connectors.dynamics.batch import build_batch, parse_batch_response
from connectors.http import HttpSettings
from connectors.ratelimit import LocalStore


class StaticToken:
    """Stands in for MSAL: the benchmark measures Dataverse traffic only."""

    def auth_headers(self):
        return {"Authorization": "Bearer benchmark"}

    def invalidate(self):
        return True


def page(base: str, size: int, number: int, pages: int) -> bytes:
    rows = [
        {
            "@odata.etag": f'W/"{number * size + i}"',
            "contactid": str(uuid.UUID(int=number * size + i + 1)),
            "firstname": f"First{i}",
            "lastname": f"Last{i}",
            "emailaddress1": f"person{number}.{i}@example.com",
            "telephone1": "+1 555 0100",
            "jobtitle": "Buyer",
            "address1_city": "Seattle",
            "_parentcustomerid_value": str(uuid.UUID(int=10**9 + i)),
            "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account",
            "modifiedon": "2024-03-02T10:15:00Z",
        }
        for i in range(size)
    ]
    payload: dict = {"value": rows}
    if number + 1 < pages:
        payload["@odata.nextLink"] = f"{base}/api/data/v9.2/contacts?$skiptoken={number + 1}"
    return json.dumps(payload).encode()


def serve(pages: int, size: int):
    lookups = json.dumps(
        {"value": [{"LogicalName": "parentcustomerid", "Targets": ["account", "contact"]}]}
    ).encode()
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # http.server calls it by this name
            if "EntityDefinitions" in self.path:
                body = lookups
            else:
                token = self.path.rpartition("$skiptoken=")[2]
                body = bodies[int(token) if token.isdigit() else 0]
            self.send_response(200)
            self.send_header("Content-Type", "application/json; odata.metadata=minimal")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_port}"
    bodies.extend(page(base, size, n, pages) for n in range(pages))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    server, base = serve(pages, size)
    config = DynamicsConfig(base, "tenant", "client", "secret")
    client = DynamicsClient(
        config,
        http_settings=HttpSettings(allow_local_urls=True),  # the local server below
        throttle_store=LocalStore(),
        token_provider=StaticToken(),
    )
    columns = ["firstname", "lastname", "emailaddress1", "telephone1", "jobtitle"]
    columns += ["address1_city", "parentcustomerid"]

    tracemalloc.start()
    started = time.perf_counter()
    count = sum(1 for _ in client.rows("contact", columns, page_size=size))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    server.shutdown()
    print(
        f"read: {count} rows in {pages} pages of {size} over local HTTP: {elapsed:.2f} s, "
        f"{count / elapsed:,.0f} rows/s, {elapsed / count * 1e6:.1f} µs/row, "
        f"peak traced memory {peak / 2**20:.1f} MiB"
    )

    writes = [
        RecordWrite.create("contact", {"firstname": f"F{i}", "lastname": f"L{i}", "jobtitle": "x"})
        for i in range(1000)
    ]
    started = time.perf_counter()
    operations = [client._operation(w, False) for w in writes]  # the batch's own parts
    body = build_batch(operations, "batch_bench")
    built = time.perf_counter() - started
    lines = []
    for write in writes:
        lines += ["--batchresponse_b", "Content-Type: application/http"]
        lines += ["Content-Transfer-Encoding: binary", "", "HTTP/1.1 204 No Content"]
        lines += [f"OData-EntityId: {base}/api/data/v9.2/contacts({write.id})", "", ""]
    answer = "\r\n".join([*lines, "--batchresponse_b--", ""]).encode()
    started = time.perf_counter()
    parts = parse_batch_response("multipart/mixed; boundary=batchresponse_b", answer)
    parsed = time.perf_counter() - started
    print(
        f"$batch of 1000 creates: body {len(body) / 1024:.0f} KiB built in {built * 1000:.1f} ms;"
        f" answer of {len(parts)} parts parsed in {parsed * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
