"""Celery beat's scheduler: django-celery-beat's, plus beat's own heartbeat."""

from __future__ import annotations

import logging
import socket
import time

from django.conf import settings
from django.db import close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from .heartbeat import BEAT, heartbeat_write

logger = logging.getLogger(__name__)


class HeartbeatScheduler(DatabaseScheduler):
    """Writes beat's heartbeat every SYNCADMIN_HEARTBEAT_INTERVAL seconds from its loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_heartbeat = 0.0
        self._hostname = f"beat@{socket.gethostname()}"

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now >= self._next_heartbeat:
            try:
                close_old_connections()
                heartbeat_write(kind=BEAT, hostname=self._hostname)
            except Exception as exc:  # the database may be down for a moment
                logger.warning("heartbeat: could not record beat (%s)", exc.__class__.__name__)
            self._next_heartbeat = now + settings.SYNCADMIN_HEARTBEAT_INTERVAL
        wait = super().tick(*args, **kwargs)
        return min(wait, max(0.5, self._next_heartbeat - time.monotonic()))
