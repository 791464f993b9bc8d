"""The benchmark's Celery worker process: started, watched (CPU, peak RSS) and stopped.

`python -m benchmarks.sync_bench.worker <celery worker arguments>` is `celery -A syncadmin
worker`, with the connectors' own pacing lifted when the benchmark runs with rate limits off
(SYNCADMIN_BENCH_UNTHROTTLED=1): the sandboxes then answer as fast as they can and the figures
show the engine's own speed instead of the 5 requests a second that ActiveCampaign allows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

UNTHROTTLED_ENV = "SYNCADMIN_BENCH_UNTHROTTLED"
ROOT = Path(__file__).resolve().parents[2]


def lift_pacing() -> None:
    """No client-side pacing of ActiveCampaign calls in this process (rate limits off)."""
    from connectors.activecampaign import api, imports
    from connectors.ratelimit import Rate

    api.ACCOUNT_RATE_LIMIT = 1_000_000
    imports.BULK_IMPORT_MULTI_RATE = Rate(1_000_000, 60.0)
    imports.BULK_IMPORT_SINGLE_RATE = Rate(1_000_000, 60.0)


class Worker:
    """One `celery worker --pool solo` process on the benchmark's queue."""

    def __init__(self, *, log: Path, env: dict, name: str) -> None:
        self.log = log
        self.env = env
        self.hostname = f"{name}@bench"
        self.process: subprocess.Popen | None = None
        self._cpu_start = 0.0

    def start(self, timeout: float = 120) -> None:
        from django.conf import settings

        from syncadmin.models import WorkerHeartbeat

        with self.log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our module
                [
                    sys.executable,
                    "-m",
                    "benchmarks.sync_bench.worker",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "WARNING",
                    "--queues",
                    settings.CELERY_TASK_DEFAULT_QUEUE,
                    "--hostname",
                    self.hostname,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        # Ready when its heartbeat row appears: written once it consumes the queue.
        deadline = time.monotonic() + timeout
        while not WorkerHeartbeat.objects.filter(hostname=self.hostname).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the benchmark's worker did not start:\n{self.tail()}")
            time.sleep(0.05)
        self._cpu_start = self.cpu_seconds()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU of the worker process so far (/proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def cpu_since_ready(self) -> float:
        return self.cpu_seconds() - self._cpu_start

    def peak_rss_mb(self) -> float:
        """The process' peak resident set size (VmHWM), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except OSError:
            return ""


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncadmin.settings.local")
    if os.environ.get(UNTHROTTLED_ENV) == "1":
        lift_pacing()
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", "-A", "syncadmin", *sys.argv[1:]]
    profile_path = os.environ.get("SYNCADMIN_BENCH_PROFILE")
    if not profile_path:
        celery_main()
        return
    import cProfile
    import time

    # CPU time, not wall time: the figure to explain is the worker's CPU per record (waits
    # for the vendors and the database would otherwise dominate).
    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(celery_main)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(profile_path)


if __name__ == "__main__":
    main()
