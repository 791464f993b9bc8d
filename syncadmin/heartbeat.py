"""Heartbeats: the Celery worker and beat each write "still alive" every few seconds.

/healthz and the dashboard read them (one small query) instead of sending a task through the
broker on every hit. The worker writes from a thread started when it is ready to consume
(Celery's worker_ready signal); beat writes from its scheduler loop (syncadmin.beat).
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

logger = logging.getLogger(__name__)

WORKER = "worker"
BEAT = "beat"
KINDS = (WORKER, BEAT)
# Rows of processes gone for this long are deleted (a renamed or retired machine).
FORGET_AFTER = timedelta(days=1)


def heartbeat_write(*, kind: str, hostname: str) -> None:
    """Record that this process is alive now; forget processes long gone."""
    from .models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:255], defaults={"kind": kind, "seen_at": now}
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


@dataclass(frozen=True)
class ProcessState:
    """The freshest heartbeat of one kind of process and whether it is recent enough."""

    kind: str
    alive: bool
    hostname: str | None
    seen_at: datetime | None
    seconds_ago: int | None

    @property
    def name(self) -> str:
        """The process in English, for /healthz and the logs (read by machines and operators)."""
        return _NAMES[self.kind]

    @property
    def label(self) -> str:
        """The process in the language of the request, for the dashboard."""
        return gettext(_NAMES[self.kind])


_NAMES = {WORKER: gettext_noop("Celery worker"), BEAT: gettext_noop("Celery beat (the scheduler)")}


def stale_after() -> timedelta:
    return timedelta(seconds=settings.SYNCADMIN_HEARTBEAT_STALE_AFTER)


def process_states(*, now: datetime | None = None) -> list[ProcessState]:
    """The worker's and beat's state from their heartbeats, in one query."""
    from .models import WorkerHeartbeat

    now = now or timezone.now()
    freshest: dict[str, tuple[str, datetime]] = {}
    for kind, hostname, seen_at in WorkerHeartbeat.objects.values_list(
        "kind", "hostname", "seen_at"
    ):
        if kind not in freshest or seen_at > freshest[kind][1]:
            freshest[kind] = (hostname, seen_at)
    states = []
    for kind in KINDS:
        if kind not in freshest:
            states.append(ProcessState(kind, False, None, None, None))
            continue
        hostname, seen_at = freshest[kind]
        ago = max(0, int((now - seen_at).total_seconds()))
        alive = now - seen_at <= stale_after()
        states.append(ProcessState(kind, alive, hostname, seen_at, ago))
    return states


class _WorkerHeartbeat:
    """The worker's heartbeat thread: started on worker_ready, stopped on worker_shutdown."""

    def __init__(self):
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, hostname: str) -> None:
        self.stop.clear()
        self._beat(hostname)  # at once: "ready" is visible before the first interval
        self.thread = threading.Thread(
            target=self._run, args=(hostname,), name="syncadmin-heartbeat", daemon=True
        )
        self.thread.start()

    def _run(self, hostname: str) -> None:
        while not self.stop.wait(settings.SYNCADMIN_HEARTBEAT_INTERVAL):
            self._beat(hostname)

    def _beat(self, hostname: str) -> None:
        try:
            # This thread's own connection: dropped when the database closed it meanwhile.
            close_old_connections()
            heartbeat_write(kind=WORKER, hostname=hostname)
        except Exception as exc:  # the database may be down for a moment: try again later
            logger.warning("heartbeat: could not record the worker (%s)", exc.__class__.__name__)


_worker_heartbeat = _WorkerHeartbeat()


def on_worker_ready(sender=None, **kwargs) -> None:
    hostname = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}"
    _worker_heartbeat.start(hostname)


def on_worker_shutdown(sender=None, **kwargs) -> None:
    _worker_heartbeat.stop.set()
