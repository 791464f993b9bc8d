"""The README's run command: the whole product on the embedded default, no Redis or PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("runapp")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "REDIS_URL",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "CELERY_TASK_DEFAULT_QUEUE",
        }
    }
    env["SYNCADMIN_VAR_DIR"] = str(tmp_path / "var")
    log = tmp_path / "runapp.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runapp", "--port", str(port), "--no-sandboxes"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "syncadmin is running" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runapp did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", log, tmp_path / "var"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.celery
def test_it_runs_the_product_on_sqlite_with_no_servers(running_app):
    url, _log, var = running_app

    assert requests.get(f"{url}/login/", timeout=10).status_code == 200
    # Healthy once the worker and beat have written their first heartbeats.
    deadline = time.monotonic() + 60
    while (health := requests.get(f"{url}/healthz", timeout=30)).status_code != 200:
        assert time.monotonic() < deadline, health.text
        time.sleep(0.5)
    assert health.json() == {"status": "ok", "failing": []}
    assert (var / "syncadmin.sqlite3").exists()


@pytest.mark.celery
def test_it_prints_a_one_time_password_that_logs_in(running_app):
    url, log, _var = running_app
    password = re.search(r"one-time password \(shown only now\):\s+(\S+)", log.read_text()).group(1)

    session = requests.Session()
    session.get(f"{url}/login/", timeout=10)
    response = session.post(
        f"{url}/login/",
        timeout=10,
        data={
            "username": "admin",
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/login/"},
    )

    # Logged in, and sent straight to choose a new password.
    assert response.url == f"{url}/password/change/"
    # An administrator sees the health details: SQLite, and the worker's and beat's heartbeats.
    checks = session.get(f"{url}/healthz", timeout=30).json()["checks"]
    assert checks["database"] == {"ok": True, "detail": "sqlite answers"}
    assert checks["worker"]["ok"] is True and checks["beat"]["ok"] is True


@pytest.mark.celery
def test_it_runs_with_debug_off_and_still_serves_static_files(running_app):
    url, _log, _var = running_app

    missing = requests.get(f"{url}/no-such-page/", timeout=10)
    login = requests.get(f"{url}/login/", timeout=10).text

    # DEBUG off: the product's own 404 page, not Django's debug page listing the URL patterns.
    assert missing.status_code == 404
    assert "This page does not exist" in missing.text
    assert "URLconf" not in missing.text
    # Static files still served (WhiteNoise, hashed names from collectstatic).
    stylesheet = re.search(r'href="(/static/bootstrap/css/bootstrap\.min\.[^"]*css)"', login)
    assert stylesheet, login
    assert requests.get(url + stylesheet.group(1), timeout=10).status_code == 200


@pytest.mark.celery
def test_it_restarts_a_worker_that_stopped_and_says_so(running_app):
    url, log, _var = running_app
    banner = log.read_text()
    worker_pid = int(re.search(r"worker \(pid (\d+)\)", banner).group(1))

    os.kill(worker_pid, signal.SIGKILL)

    deadline = time.monotonic() + 60
    while "runapp: worker restarted (pid" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    text = log.read_text()
    assert f"runapp: the worker stopped (exit code {-signal.SIGKILL}); restarting it" in text
    new_pid = int(re.search(r"runapp: worker restarted \(pid (\d+)\)", text).group(1))
    assert new_pid != worker_pid
    # The new worker reports through its heartbeat: the product is healthy again.
    while requests.get(f"{url}/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline + 60, requests.get(f"{url}/healthz", timeout=10).text
        time.sleep(0.5)


class FakeProcess:
    """A process that has already exited with this code."""

    pid = 4242

    def __init__(self, code: int):
        self.returncode = code

    def poll(self):
        return self.returncode


def test_it_stops_everything_when_a_worker_keeps_stopping(capsys):
    from io import StringIO

    from syncadmin.management.commands import runapp

    command = runapp.Command(stdout=StringIO(), stderr=StringIO())
    worker = runapp.Child("worker", ["celery", "worker"], FakeProcess(1))
    started = []
    command._start = lambda child, env: (
        started.append(child.name),
        setattr(child, "process", FakeProcess(1)),
    )

    stopped = command._supervise([worker], {"signal": None}, env={})

    assert stopped is worker
    assert started == ["worker"] * runapp.MAX_RESTARTS
    message = command._stopped_message(stopped)
    assert message.startswith("the worker stopped again (exit code 1) after 3 restarts")
    assert "everything was stopped" in message


def test_it_does_not_restart_the_web_server():
    from io import StringIO

    from syncadmin.management.commands import runapp

    command = runapp.Command(stdout=StringIO(), stderr=StringIO())
    web = runapp.Child("web", ["gunicorn"], FakeProcess(3))

    stopped = command._supervise([web], {"signal": None}, env={})

    assert stopped is web
    assert command._stopped_message(web) == (
        "the web process stopped (exit code 3); everything else was stopped too. "
        "Its output above says why."
    )
