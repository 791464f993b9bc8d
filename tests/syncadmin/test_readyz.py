"""/readyz for orchestrators: migrations applied, database and broker reachable; any Host."""

from __future__ import annotations

import pytest
from django.db.migrations.recorder import MigrationRecorder

from syncadmin import health
from syncadmin.celery import app as celery_app


@pytest.fixture(autouse=True)
def _fresh_migration_check(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)


def readyz(client, **extra):
    # A probe asks the container by its address, which DJANGO_ALLOWED_HOSTS does not list.
    return client.get("/readyz", HTTP_HOST="10.0.3.7:8000", **extra)


@pytest.mark.django_db
def test_it_is_ready_when_migrated_and_the_broker_answers_whatever_the_host(client):
    first = readyz(client)
    cached = readyz(client)
    head = client.head("/readyz", HTTP_HOST="10.0.3.7:8000")

    assert first.status_code == cached.status_code == head.status_code == 200
    assert first.json() == {"status": "ready", "failing": []}
    assert first["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_other_pages_still_check_the_host(client):
    assert client.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 400
    assert client.get("/metrics", HTTP_HOST="10.0.3.7:8000").status_code == 400


@pytest.mark.django_db
def test_it_is_not_ready_while_a_migration_is_missing(client):
    MigrationRecorder.Migration.objects.filter(app="syncadmin").order_by("-id").first().delete()

    response = readyz(client)

    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failing": ["migrations"]}


@pytest.mark.django_db
def test_it_is_not_ready_without_the_broker_and_names_no_host(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")

    response = readyz(client)

    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failing": ["broker"]}
    assert b"127.0.0.1" not in response.content


def test_it_is_not_ready_without_the_database(client, database_down):
    with database_down():
        response = readyz(client)

    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failing": ["database"]}


@pytest.mark.django_db
def test_it_answers_only_reads(client):
    assert client.post("/readyz", HTTP_HOST="localhost").status_code == 405
