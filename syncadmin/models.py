from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker or beat process said it is alive (syncadmin.heartbeat)."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Celery worker"
        BEAT = "beat", "Celery beat"

    hostname = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WORKER)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} {self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
