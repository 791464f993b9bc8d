"""/healthz and the dashboard read the heartbeats that the worker and beat write themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.app.task import Task
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from syncadmin import heartbeat
from syncadmin.celery import app as celery_app
from syncadmin.models import WorkerHeartbeat
from tests.fixtures.celery_worker import _database_url

ROOT = Path(__file__).resolve().parents[2]


def beat_now(kind: str, hostname: str, *, ago: float = 0) -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"kind": kind, "seen_at": timezone.now() - timedelta(seconds=ago)},
    )


def wait_for(condition, *, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


@pytest.mark.celery
def test_the_worker_writes_its_heartbeat_again_and_again(celery_worker_process):
    first = WorkerHeartbeat.objects.get(hostname__startswith="test-worker-")

    later = wait_for(
        lambda: WorkerHeartbeat.objects.filter(pk=first.pk, seen_at__gt=first.seen_at).first(),
        what="a second heartbeat",
    )

    assert later.kind == "worker"


@pytest.mark.celery
def test_beat_writes_its_heartbeat_from_its_scheduler(transactional_db, settings, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "syncadmin.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
    }
    log = tmp_path / "beat.log"
    with log.open("w") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "syncadmin", "beat", "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        row = wait_for(lambda: WorkerHeartbeat.objects.filter(kind="beat").first(), what="beat")
        wait_for(
            lambda: WorkerHeartbeat.objects.filter(pk=row.pk, seen_at__gt=row.seen_at).exists(),
            what="beat's second heartbeat",
        )
    finally:
        beat.terminate()
        beat.wait(timeout=15)

    assert row.hostname.startswith("beat@"), log.read_text()


@pytest.mark.django_db
def test_it_is_healthy_from_fresh_heartbeats_without_sending_a_task(client, monkeypatch):
    beat_now("worker", "celery@web-1")
    beat_now("beat", "beat@web-1")

    def no_tasks(*args, **kwargs):
        raise AssertionError("/healthz sent a task")

    monkeypatch.setattr(Task, "apply_async", no_tasks)
    monkeypatch.setattr(celery_app, "send_task", no_tasks)

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "failing": []}


@pytest.mark.django_db
def test_it_names_no_hosts_or_versions_to_anonymous_callers(client):
    beat_now("worker", "celery@secret-host-7")

    body = client.get(reverse("healthz")).content.decode()

    assert "secret-host-7" not in body
    assert "postgresql" not in body and "sqlite" not in body and "redis" not in body.lower()
    assert set(client.get(reverse("healthz")).json()) == {"status", "failing"}


@pytest.mark.django_db
def test_it_gives_administrators_the_details(client, ac_admin, ac_user):
    beat_now("worker", "celery@web-1")
    beat_now("beat", "beat@web-1", ago=5)

    client.force_login(ac_user)
    assert "checks" not in client.get(reverse("healthz")).json()
    client.force_login(ac_admin)
    checks = client.get(reverse("healthz")).json()["checks"]

    assert checks["worker"]["hostname"] == "celery@web-1"
    assert checks["beat"]["ok"] is True
    assert checks["beat"]["seconds_ago"] >= 5
    assert checks["database"]["ok"] and checks["broker"]["ok"]


@pytest.mark.django_db
def test_it_names_a_silent_worker_and_the_dashboard_warns(client, admin_user, settings):
    settings.SYNCADMIN_HEARTBEAT_STALE_AFTER = 60
    beat_now("worker", "celery@web-1", ago=120)
    beat_now("beat", "beat@web-1")

    health = client.get(reverse("healthz"))
    client.force_login(admin_user)
    dashboard = client.get(reverse("dashboard")).content.decode()

    assert health.status_code == 503
    assert health.json()["failing"] == ["worker"]
    assert "The Celery worker last reported 2\xa0minutes ago." in dashboard
    assert "Syncs and other background jobs do not run until it is back." in dashboard
    assert "Celery beat (the scheduler)" in dashboard and "Scheduled syncs do not" not in dashboard


@pytest.mark.django_db
def test_it_names_beat_when_it_never_reported(client):
    beat_now("worker", "celery@web-1")

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["beat"]


@pytest.mark.django_db
def test_it_names_the_broker_when_it_is_unreachable(client, monkeypatch):
    beat_now("worker", "celery@web-1")
    beat_now("beat", "beat@web-1")
    # Nothing listens on port 1.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


@pytest.mark.django_db
def test_it_names_the_database_when_it_fails(client, monkeypatch):
    def broken(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("syncadmin.health.process_states", broken)

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["database", "worker", "beat"]


@pytest.mark.django_db
def test_it_forgets_processes_gone_for_a_day():
    beat_now("worker", "celery@retired", ago=2 * 24 * 3600)

    heartbeat.heartbeat_write(kind="worker", hostname="celery@web-1")

    assert list(WorkerHeartbeat.objects.values_list("hostname", flat=True)) == ["celery@web-1"]


@pytest.mark.django_db
def test_the_healthcheck_command_reads_one_process_heartbeat(settings):
    from django.core.management import CommandError, call_command

    beat_now("worker", "celery@web-1")
    beat_now("worker", "celery@web-2", ago=600)

    call_command("heartbeat_check", "worker", "--hostname", "celery@web-1")
    with pytest.raises(CommandError, match="celery@web-2 last reported 600 s ago"):
        call_command("heartbeat_check", "worker", "--hostname", "celery@web-2")
    with pytest.raises(CommandError, match="no heartbeat from any beat yet"):
        call_command("heartbeat_check", "beat")
