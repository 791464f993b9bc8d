"""`manage.py sync run|status`: run a sync in the foreground, or show where each one stands."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from sync import selectors, services
from sync.engine import ENTITY_ORDER, step_label
from sync.models import SyncRun


class Command(BaseCommand):
    help = "Run a sync in the foreground (no worker needed), or show the sync status."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        run = actions.add_parser("run", help="run a sync now, in this process")
        run.add_argument("--integration", help="integration name (default: the only one)")
        run.add_argument("--initial", action="store_true", help="run the initial sync")
        run.add_argument("--entity", choices=ENTITY_ORDER, help="one entity only")
        status = actions.add_parser("status", help="settings, the running and the last run")
        status.add_argument("--integration", help="integration name (default: every one)")

    def handle(self, *args, action: str, integration: str | None = None, **options):
        if action == "run":
            self._run(self._one(integration), options["initial"], options.get("entity") or "")
        else:
            self._status(integration)

    def _one(self, name: str | None) -> Integration:
        integrations = Integration.objects.order_by("name")
        if name:
            found = integrations.filter(name=name).first()
            if found is None:
                raise CommandError(f"No integration named {name!r}.")
            return found
        if integrations.count() != 1:
            raise CommandError("Several integrations exist: name one with --integration.")
        return integrations.first()

    def _run(self, integration: Integration, initial: bool, entity: str) -> None:
        trigger = SyncRun.Trigger.INITIAL if initial else SyncRun.Trigger.MANUAL
        try:
            run = services.run_start(
                integration=integration, trigger=trigger, entity=entity, enqueue=False
            )
        except services.RunRefused as refused:
            raise CommandError(refused.message) from None
        total = len(run.steps)

        def progress(current: SyncRun, step: dict) -> None:
            self.stdout.write(f"[{current.step_index + 1}/{total}] {step_label(step)}")

        self.stdout.write(f"Run #{run.pk} of {integration.name} ({run.get_trigger_display()})")
        run = services.run_inline(run=run, progress=progress)
        for label, direction, values in selectors.run_progress(run=run).counts:
            numbers = ", ".join(f"{name} {n}" for name, n in values.items())
            self.stdout.write(f"  {label} {direction}: {numbers}")
        failed = run.records.filter(outcome="failed").count()
        if failed:
            self.stdout.write(f"  {failed} record(s) failed: see the run page for reasons.")
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(run.message or f"The run ended {run.status}.")
        self.stdout.write(self.style.SUCCESS(f"Run #{run.pk} finished."))

    def _status(self, name: str | None) -> None:
        integrations = Integration.objects.order_by("name")
        if name:
            integrations = integrations.filter(name=name)
            if not integrations.exists():
                raise CommandError(f"No integration named {name!r}.")
        for integration in integrations:
            info = selectors.dashboard_sync(integration=integration)
            current = info.settings
            state = "on" if current is None or current.enabled else "off"
            hours = current.schedule_hours if current else 1
            self.stdout.write(f"{integration.name}: global sync {state}, every {hours} h")
            if info.paused_reason:
                self.stdout.write(f"  PAUSED: {info.paused_reason}")
            if current is None or current.initial_sync_at is None:
                self.stdout.write("  initial sync: not started")
            for label, run in (("running", info.active_run), ("last run", info.last_run)):
                if run is None or (label == "last run" and run == info.active_run):
                    continue
                when = run.finished_at or run.started_at or run.created_at
                self.stdout.write(
                    f"  {label}: #{run.pk} {run.get_trigger_display()} {run.get_status_display()}"
                    f" {when:%Y-%m-%d %H:%M:%S}" + (f" ({run.message})" if run.message else "")
                )
