"""`manage.py bench`: measure the sync engine on a real worker against both sandboxes.

A development tool (the sandboxes are not installed in production): the work is done by
`benchmarks.sync_bench`, in a scratch database of its own.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


def _scenarios(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


class Command(BaseCommand):
    help = (
        "Benchmark the sync engine: seed the sandboxes, run each scenario on a real Celery "
        "worker, print API calls, wall time, worker CPU and peak RSS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--records", type=int, default=20_000, help="N (default 20,000)")
        parser.add_argument(
            "--scenario",
            action="append",
            type=_scenarios,
            help="initial_push, initial_pull, incremental, noop (repeat or comma list; "
            "default all)",
        )
        parser.add_argument("--rate-limits", choices=("on", "off"), default="on")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument(
            "--profile", action="store_true", help="print a cProfile of each worker"
        )
        parser.add_argument(
            "--workers", type=int, default=1, help="Celery worker processes (default 1)"
        )

    def handle(self, *args, **options):
        from benchmarks.sync_bench import main
        from benchmarks.sync_bench.scenarios import SCENARIOS

        scenarios = [name for names in options["scenario"] or [SCENARIOS] for name in names]
        unknown = sorted(set(scenarios) - set(SCENARIOS))
        if unknown:
            known = ", ".join(SCENARIOS)
            raise CommandError(f"Unknown scenario {', '.join(unknown)}: use {known}.")
        if options["records"] < 2:
            raise CommandError("--records must be at least 2.")
        if not 1 <= options["workers"] <= 16:
            raise CommandError("--workers must be between 1 and 16.")
        status = main(
            {
                "records": options["records"],
                "scenarios": list(dict.fromkeys(scenarios)),
                "rate_limits": options["rate_limits"] == "on",
                "json": options["json"],
                "profile": options["profile"],
                "workers": options["workers"],
            },
            self.stdout,
            sys.stderr,
        )
        if status:
            raise CommandError("A benchmark run did not succeed (see above).", returncode=status)
