from __future__ import annotations

import pytest
from django.db import OperationalError
from django.urls import reverse

from syncadmin import health
from syncadmin.celery import app as celery_app
from syncadmin.models import WorkerHeartbeat


@pytest.mark.celery
def test_it_reports_healthy_with_a_real_worker(client, celery_worker_process):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["hostname"].startswith("test-worker-")


@pytest.mark.celery
def test_it_records_the_heartbeat_written_by_the_worker(celery_worker_process):
    WorkerHeartbeat.objects.all().delete()

    from syncadmin.tasks import health_ping

    answer = health_ping.apply_async().get(timeout=20)

    # The effect is in the database, written by the worker process, not by this one.
    heartbeat = WorkerHeartbeat.objects.get()
    assert heartbeat.hostname == answer["hostname"]
    assert heartbeat.hostname.startswith("test-worker-")


@pytest.mark.django_db
def test_it_names_the_worker_when_none_answers(client, settings):
    settings.HEALTHZ_WORKER_TIMEOUT = 0.5
    # A queue no worker listens on: the task is queued and never answered.
    original = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = "nobody-listens-here"
    try:
        response = client.get(reverse("healthz"))
    finally:
        celery_app.conf.task_default_queue = original

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert "no worker answered" in body["checks"]["worker"]["detail"]


@pytest.mark.django_db
def test_it_names_the_broker_when_it_is_unreachable(client, monkeypatch):
    # Nothing listens on port 1.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker", "worker"]
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["worker"]["detail"] == "not checked: the broker is down"


@pytest.mark.django_db
def test_it_names_the_database_when_it_fails(client, monkeypatch):
    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    monkeypatch.setattr(
        health, "check_worker", lambda **kw: health.Check("worker", True, "skipped")
    )

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "OperationalError" in response.json()["checks"]["database"]["detail"]
