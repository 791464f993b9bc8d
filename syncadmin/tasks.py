from __future__ import annotations

from celery import shared_task

from . import health


@shared_task(name="syncadmin.health_ping", ignore_result=False, acks_late=False)
def health_ping() -> dict:
    """Answer /healthz's round trip and record that this worker is alive."""
    heartbeat = health.heartbeat_record(hostname=health_ping.request.hostname or "unknown")
    return {"hostname": heartbeat.hostname, "seen_at": heartbeat.seen_at.isoformat()}
