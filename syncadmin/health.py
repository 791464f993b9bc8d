"""Health of the parts the product needs: the database, the broker, a worker and beat.

Cheap enough to poll every second: one query (the heartbeats, which also proves the database
answers) and one broker connection; no task is sent. Anonymous callers get the verdict and the
names of failing parts; administrators also get the details (hosts, ages).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .heartbeat import process_states

logger = logging.getLogger(__name__)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, **self.extra}


def check_database_and_processes() -> list[Check]:
    """The database, the worker and beat, from one read of the heartbeats."""
    from django.db import connection

    try:
        states = process_states()
    except Exception as exc:  # any driver error means "down"; the class name says which
        logger.warning("health: database check failed: %s", exc.__class__.__name__)
        return [
            Check("database", False, f"database unreachable ({exc.__class__.__name__})"),
            Check("worker", False, "not checked: the database is down"),
            Check("beat", False, "not checked: the database is down"),
        ]
    checks = [Check("database", True, f"{connection.vendor} answers")]
    for state in states:
        if state.seen_at is None:
            detail = f"no {state.name} has reported yet"
        elif state.alive:
            detail = f"{state.name} {state.hostname} reported {state.seconds_ago} s ago"
        else:
            detail = f"{state.name} silent for {state.seconds_ago} s (last: {state.hostname})"
        extra = {"hostname": state.hostname, "seconds_ago": state.seconds_ago}
        checks.append(Check(state.kind, state.alive, detail, extra))
    return checks


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


def health_report(*, detailed: bool = False) -> tuple[bool, dict]:
    """Run every check; return (healthy, report) naming the failing parts.

    detailed adds each check's detail (hosts, database kind, ages): for administrators only.
    """
    checks = check_database_and_processes()
    checks.insert(1, check_broker())
    healthy = all(check.ok for check in checks)
    report = {
        "status": "ok" if healthy else "fail",
        "failing": [check.name for check in checks if not check.ok],
    }
    if detailed:
        report["checks"] = {check.name: check.as_dict() for check in checks}
    return healthy, report


# -- readiness ------------------------------------------------------------------------------------
# Once every migration is applied, a process stops asking (they are not unapplied under it).
_migrations_applied = False


def check_migrations() -> Check:
    """The database answers and every migration of the code is applied to it.

    The first answer costs a read of the migration files (~0.1 s); once everything is
    applied, a process only checks that the database answers (one SELECT 1).
    """
    global _migrations_applied
    from django.db import connection

    try:
        if _migrations_applied:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return Check("migrations", True, "applied")
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        logger.warning("readiness: database check failed: %s", exc.__class__.__name__)
        return Check("database", False, f"database unreachable ({exc.__class__.__name__})")
    if pending:
        return Check("migrations", False, f"{len(pending)} migrations not applied")
    _migrations_applied = True
    return Check("migrations", True, "applied")


def readiness_report() -> tuple[bool, dict]:
    """Whether this web process should get traffic: database up, migrated, broker reachable.

    For orchestrators (/readyz): the worker and beat are not asked (a web process serves
    pages without them; /healthz says when they stop). The answer names failing parts only.
    """
    checks = [check_migrations(), check_broker()]
    ready = all(check.ok for check in checks)
    return ready, {
        "status": "ready" if ready else "not ready",
        "failing": [check.name for check in checks if not check.ok],
    }
