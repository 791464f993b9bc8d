"""Health of the parts the product needs: the database, the broker and a worker."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, **self.extra}


def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": timezone.now()}
    )
    return heartbeat


def workers_recent(*, limit: int = 5) -> list[WorkerHeartbeat]:
    return list(WorkerHeartbeat.objects.order_by("-seen_at")[:limit])


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the class name says which
        logger.warning("health: database check failed: %s", exc.__class__.__name__)
        return Check("database", False, f"database unreachable ({exc.__class__.__name__})")
    return Check("database", True, f"{connection.vendor} answers")


def check_broker() -> Check:
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        logger.warning("health: broker check failed: %s", exc.__class__.__name__)
        return Check("broker", False, f"broker unreachable ({exc.__class__.__name__})")
    return Check("broker", True, f"{transport} broker answers")


def check_worker(*, timeout: float) -> Check:
    from .tasks import health_ping

    try:
        # expires: a ping nobody picked up in time is dropped, not run later.
        result = health_ping.apply_async(expires=max(timeout * 2, 10))
    except Exception as exc:
        return Check("worker", False, f"could not queue the health task ({exc.__class__.__name__})")
    try:
        answer = result.get(timeout=timeout, disable_sync_subtasks=False)
    except CeleryTimeoutError:
        return Check("worker", False, f"no worker answered within {timeout:g} s")
    except Exception as exc:
        return Check("worker", False, f"the health task failed ({exc.__class__.__name__})")
    finally:
        # The file-system result store raises when nothing was ever written.
        with contextlib.suppress(OSError):
            result.forget()
    return Check(
        "worker", True, f"worker {answer['hostname']} answered", {"hostname": answer["hostname"]}
    )


def health_report(*, worker_timeout: float | None = None) -> tuple[bool, dict]:
    """Run every check; return (healthy, report) where report names each part."""
    timeout = settings.HEALTHZ_WORKER_TIMEOUT if worker_timeout is None else worker_timeout
    checks = [check_database(), check_broker()]
    # A worker cannot answer through a broker that is down: report that instead of waiting.
    if checks[-1].ok:
        checks.append(check_worker(timeout=timeout))
    else:
        checks.append(Check("worker", False, "not checked: the broker is down"))
    healthy = all(check.ok for check in checks)
    report = {
        "status": "ok" if healthy else "fail",
        "failing": [check.name for check in checks if not check.ok],
        "checks": {check.name: check.as_dict() for check in checks},
    }
    return healthy, report
