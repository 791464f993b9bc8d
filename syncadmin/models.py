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


class ApiCallCounter(models.Model):
    """Vendor API calls counted by every process, summed here for /metrics (syncadmin.metrics).

    Each process adds what it counted every few seconds in one statement; the web process
    reads the sums when Prometheus scrapes. The database is the one place that every gunicorn
    worker and every Celery worker, on any machine, can add to.
    """

    vendor = models.CharField(max_length=30)
    # "requests" (label: the status class), "duration_bucket" (label: the bucket's upper
    # bound, counts per bucket, not cumulative), "duration_sum" (label: "").
    series = models.CharField(max_length=20)
    label = models.CharField(max_length=20, blank=True)
    value = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "series", "label"], name="one_api_call_counter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vendor} {self.series} {self.label}: {self.value:g}"
