"""Both sandboxes as the `sandbox` command and the tests' fixture start them.

Their /_sandbox/ control endpoints change what the sandboxes hold and how they fail, so they
answer only to the admin token generated at start: the command prints it with the
credentials, the `sandboxes` fixture hands it to tests as `control_headers`.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.integration


def test_it_guards_both_sandboxes_control_endpoints_with_one_generated_token(sandboxes):
    token = sandboxes.admin_token
    assert len(token) >= 32
    assert sandboxes.activecampaign_app.admin_token == token
    assert sandboxes.dataverse_app.admin_token == token
    for base in (sandboxes.activecampaign.api_url, sandboxes.dataverse.org_url):
        assert requests.get(f"{base}/_sandbox/faults", timeout=5).status_code == 403
        answer = requests.get(
            f"{base}/_sandbox/faults", headers=sandboxes.control_headers, timeout=5
        )
        assert answer.status_code == 200, answer.text
    refused = requests.get(f"{sandboxes.dataverse.org_url}/_sandbox/dataverse/state", timeout=5)
    assert refused.status_code == 403
    assert sandboxes.endpoints()["sandbox"] == {
        "admin_header": "X-Sandbox-Admin",
        "admin_token": token,
    }


def read_until(process: subprocess.Popen, marker: str, timeout: float = 60) -> list[str]:
    """Lines of the process's stdout up to the one holding `marker` (fails on timeout).

    A thread reads the pipe, so that a line already buffered is never waited for again.
    """
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} not printed; got: {''.join(seen)}")


def test_it_prints_the_admin_token_the_command_then_requires(tmp_path: Path):
    manage = Path(settings.BASE_DIR) / "manage.py"
    process = subprocess.Popen(
        [sys.executable, str(manage), "sandbox", "--memory", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = read_until(process, "X-Sandbox-Admin:")
        printed = "".join(lines)
        api_url = next(ln.split()[-1] for ln in lines if "API URL:" in ln)
        token = lines[-1].split("X-Sandbox-Admin:")[1].strip()
        assert token and token in printed
        faults = f"{api_url}/_sandbox/faults"
        assert requests.get(faults, timeout=5).status_code == 403
        assert requests.get(faults, headers={"X-Sandbox-Admin": "x"}, timeout=5).status_code == 403
        answer = requests.get(faults, headers={"X-Sandbox-Admin": token}, timeout=5)
        assert answer.status_code == 200, answer.text
        written = json.loads((tmp_path / "endpoints.json").read_text())
        assert written["sandbox"]["admin_token"] == token
    finally:
        process.terminate()
        process.wait(timeout=15)
