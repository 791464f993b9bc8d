"""`manage.py bench`: the real engine on a real Celery worker against both sandboxes, measured.

The command runs in two processes so that it never touches the user's data:

1. the one started by `manage.py bench` makes a scratch database (a new PostgreSQL database
   next to the configured one, or a SQLite file) and a scratch var directory, then starts
2. itself again with that environment (`SYNCADMIN_BENCH_SCRATCH=1`): it migrates the scratch
   database, starts the sandboxes as HTTP servers, seeds them, and for each scenario starts a
   fresh Celery worker process (its own queue), runs one sync on it and measures it
   (`benchmarks.sync_bench.scenarios`). The first process then drops the scratch database.

API calls are counted where they arrive (the sandboxes' request logs); worker CPU and peak RSS
are read from /proc for the worker's process (Linux).
"""

from __future__ import annotations

import os

SCRATCH_ENV = "SYNCADMIN_BENCH_SCRATCH"


def main(options: dict, stdout, stderr) -> int:
    """Run the benchmark; the exit status (0 when every scenario's run succeeded).

    options: records (int), scenarios (names), rate_limits (bool), json (bool), profile (bool),
    workers (int).
    """
    if os.environ.get(SCRATCH_ENV) == "1":
        from .scenarios import run_all

        return run_all(options, stdout, stderr)
    from .scratch import run_in_scratch

    argv = ["bench", "--records", str(options["records"])]
    argv += ["--scenario", ",".join(options["scenarios"])]
    argv += ["--rate-limits", "on" if options["rate_limits"] else "off"]
    argv += ["--json"] if options["json"] else []
    argv += ["--profile"] if options.get("profile") else []
    argv += ["--workers", str(options.get("workers", 1))]
    return run_in_scratch(argv)
