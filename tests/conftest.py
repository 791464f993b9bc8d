"""Shared fixtures: personas, a real Celery worker, headless Chromium, and the skip guard."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls that the tests
# make around it are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.celery_worker",
    "tests.fixtures.sandboxes",
    "tests.fixtures.receiver",
    "tests.fixtures.recorder",
]


def _compile_translations() -> None:
    """Compile locale/*/LC_MESSAGES/*.po into the .mo files Django reads, when missing or
    older than the .po (`make test` does it too; this covers a bare `pytest`). Before any test
    runs, so that no catalogue is loaded from a stale file."""
    for po in Path(__file__).resolve().parent.parent.glob("locale/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


_compile_translations()

_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # CI sets SYNCADMIN_NO_SKIPS=1: a run in which any test (browser, Celery, integration…)
    # was skipped counts as a failure, because a skipped test proves nothing.
    if os.environ.get("SYNCADMIN_NO_SKIPS") == "1" and _skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(
                f"SYNCADMIN_NO_SKIPS: {len(_skipped)} test(s) were skipped; that fails this run:",
                red=True,
            )
            for nodeid in _skipped:
                reporter.write_line(f"  {nodeid}", red=True)
        session.exitstatus = 1


@pytest.fixture
def password() -> str:
    return "correct horse battery staple"


@pytest.fixture
def admin_user(django_user_model, password):
    return django_user_model.objects.create_superuser(
        username="alice", email="alice@example.com", password=password, first_name="Alice"
    )


@pytest.fixture
def norole_user(db):
    from tests.personas import make_user

    return make_user("nora")


@pytest.fixture
def ac_user(db):
    from integrations.roles import Role
    from tests.personas import make_user

    return make_user("uma", role=Role.USER)


@pytest.fixture
def ac_admin(db):
    from integrations.roles import Role
    from tests.personas import make_user

    return make_user("adam", role=Role.ADMINISTRATOR)
