"""The benchmark's own database and var directory, so that it never touches the user's data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from . import SCRATCH_ENV

ROOT = Path(__file__).resolve().parents[2]


def run_in_scratch(argv: list[str]) -> int:
    """Make a scratch database and var directory, run `manage.py <argv>` in them, clean up."""
    workdir = Path(tempfile.mkdtemp(prefix="syncadmin-bench-"))
    database_url, drop = _scratch_database(workdir)
    env = {
        **os.environ,
        SCRATCH_ENV: "1",
        "DATABASE_URL": database_url,
        "SYNCADMIN_VAR_DIR": str(workdir / "var"),
        # Its own queue: a worker of `make run` on the same broker never takes its tasks.
        "CELERY_TASK_DEFAULT_QUEUE": f"syncadmin-bench-{os.getpid()}",
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "syncadmin.settings.local"
        ),
    }
    env.setdefault("LOG_LEVEL", "WARNING")
    try:
        return subprocess.run(  # noqa: S603 - this interpreter, this project's manage.py
            [sys.executable, str(ROOT / "manage.py"), *argv], env=env, cwd=ROOT, check=False
        ).returncode
    finally:
        drop()
        shutil.rmtree(workdir, ignore_errors=True)


def _scratch_database(workdir: Path) -> tuple[str, Callable[[], None]]:
    """(DATABASE_URL of a new empty database, how to drop it) on the configured server."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None
    name = f"{settings['NAME']}_bench_{os.getpid()}"[:63]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    url = f"postgres://{auth}{host}:{port}/{name}"

    def drop() -> None:
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop
