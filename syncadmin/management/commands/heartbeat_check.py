"""Exit 0 when a worker or beat process wrote its heartbeat recently (container healthchecks)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from syncadmin.heartbeat import KINDS, stale_after
from syncadmin.models import WorkerHeartbeat


class Command(BaseCommand):
    help = "Check that the worker or beat process (optionally: of this host) is alive."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--hostname", help="only this process (e.g. celery@$HOSTNAME)")

    def handle(self, *args, kind: str, hostname: str | None, **options):
        beats = WorkerHeartbeat.objects.filter(kind=kind)
        if hostname:
            beats = beats.filter(hostname=hostname)
        latest = beats.order_by("-seen_at").first()
        who = hostname or f"any {kind}"
        if latest is None:
            raise CommandError(f"no heartbeat from {who} yet")
        age = (timezone.now() - latest.seen_at).total_seconds()
        if age > stale_after().total_seconds():
            raise CommandError(f"{who} last reported {age:.0f} s ago")
        self.stdout.write(f"{latest.hostname} reported {age:.0f} s ago")
