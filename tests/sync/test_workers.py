"""The engine on real Celery workers through Redis: split work, shared rate limit, and runs
that survive a killed worker, a flushed queue and a faulty network without duplicates."""

from __future__ import annotations

import time

import pytest

from sync.models import RecordLink, SyncRun, WorkUnit
from sync.services import run_inline, run_start, runs_resume, sync_settings_save
from tests.sync.conftest import busiest_second, duplicates, lean_configuration

pytestmark = [
    pytest.mark.integration,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]
PEOPLE = 2500  # about 2,100 of them in Dynamics: leads and contacts
FEWER = 1200


def _wait(predicate, timeout: float, what: str, workers=None, tick: bool = False):
    deadline = time.monotonic() + timeout
    ticked = time.monotonic()
    while time.monotonic() < deadline:
        if predicate():
            return
        if tick and time.monotonic() - ticked > 5:
            runs_resume()  # what beat does every minute (here sooner, with short leases)
            ticked = time.monotonic()
        time.sleep(0.25)
    logs = workers.logs() if workers else ""
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def _finished(run: SyncRun) -> bool:
    run.refresh_from_db()
    return not run.is_active


def _assert_complete(sides, seeded_people: int) -> None:
    contacts = sides.ac_contacts()
    emails = [c.email.lower() for c in contacts]
    assert not duplicates(emails)
    dv_emails = {
        r.text("emailaddress1").lower()
        for table in ("contact", "lead")
        for r in sides.dv_rows(table)
    }
    assert set(emails) == dv_emails
    assert RecordLink.objects.filter(state=RecordLink.State.LINKED).count() == len(dv_emails)
    assert not RecordLink.objects.filter(state=RecordLink.State.PENDING).exists()


def _start_initial(integration) -> SyncRun:
    saved = sync_settings_save(integration=integration, enabled=True, schedule_hours=1)
    assert saved.initial_run is not None
    return saved.initial_run


def test_it_shares_the_initial_sync_between_two_workers_within_the_rate_limit(
    sides, sync_integration, workers
):
    lean_configuration(sync_integration)
    sides.dv_app.seed(FEWER)
    workers.start()
    workers.start()
    mark = sides.log_mark()
    run = _start_initial(sync_integration)
    _wait(lambda: _finished(run), 240, "the initial sync", workers)  # no beat: units hand back
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    _assert_complete(sides, FEWER)
    ac_requests = [e for e in sides.ac_app.log.entries(path_prefix="/api/3/") if e.started >= mark]
    assert busiest_second(ac_requests) <= 5
    assert WorkUnit.objects.filter(run=run).count() > 2  # the work was split


def test_it_completes_after_a_worker_is_killed_mid_sync(sides, sync_integration, workers):
    lean_configuration(sync_integration)
    sides.dv_app.seed(PEOPLE)
    first = workers.start()
    run = _start_initial(sync_integration)
    _wait(
        lambda: WorkUnit.objects.filter(run=run, status=WorkUnit.Status.DONE).exists(),
        120,
        "a first unit done",
        workers,
    )
    workers.kill(first)
    assert WorkUnit.objects.filter(run=run).exclude(status=WorkUnit.Status.DONE).exists()
    workers.start()
    _wait(lambda: _finished(run), 240, "the run to finish after the kill", workers, tick=True)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    _assert_complete(sides, PEOPLE)


def test_it_completes_after_redis_loses_its_queue(sides, sync_integration, workers, settings):
    import redis

    lean_configuration(sync_integration)
    sides.dv_app.seed(FEWER)
    run = _start_initial(sync_integration)  # queued: no worker yet
    _wait(lambda: redis.Redis.from_url(settings.REDIS_URL).dbsize() > 0, 10, "a queued task")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this test run's own Redis db
    workers.start()
    _wait(lambda: _finished(run), 240, "the run to finish after the flush", workers, tick=True)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    _assert_complete(sides, FEWER)


def test_it_completes_without_duplicates_when_a_tenth_of_the_answers_fail(
    sides, sync_integration, settings
):
    lean_configuration(sync_integration)
    sides.dv_app.seed(600)
    settings.CONNECTOR_READ_TIMEOUT = 2.0
    for app in (sides.ac_app, sides.dv_app):
        app.faults.error_rate = 0.04  # 500 / 502 / 503
        app.faults.drop_rate = 0.03  # the connection drops: no answer at all
        app.faults.seed = 7
    sides.ac_app.faults.force_429 = 3
    sides.dv_app.faults.force_429 = 3
    run = run_start(integration=sync_integration, trigger=SyncRun.Trigger.INITIAL, enqueue=False)
    run = run_inline(run=run)
    for app in (sides.ac_app, sides.dv_app):
        app.faults.error_rate = app.faults.drop_rate = 0
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    faults = [e for app in (sides.ac_app, sides.dv_app) for e in app.log.entries() if e.fault]
    assert len(faults) >= 5
    _assert_complete(sides, 600)
