"""A delivery's life without the vendors: claimed once, one contact at a time, never lost,
never left processing, and an unexpected error ends its run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sync.models import SyncRun, WebhookDelivery
from sync.services import runs_resume
from sync.webhooks.services import webhook_delivery_process
from tests.personas import default_integration

pytestmark = pytest.mark.django_db


def _delivery(**values) -> WebhookDelivery:
    defaults = {
        "integration": default_integration(),
        "event": "update",
        "contact_id": "7",
        "email": "ana@contoso.example",
        "entity": "contact",
        "dedupe_key": str(WebhookDelivery.objects.count()).rjust(64, "0"),
    }
    return WebhookDelivery.objects.create(**{**defaults, **values})


def test_a_delivery_is_processed_once_whatever_the_number_of_messages(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "sync.webhooks.services._process",
        lambda delivery: calls.append(delivery.pk) or (WebhookDelivery.Status.DONE, "", None),
    )
    delivery = _delivery()

    outcomes = [webhook_delivery_process(delivery_id=delivery.pk) for _ in range(3)]

    assert outcomes == ["done", "busy", "busy"]
    assert calls == [delivery.pk]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == ("done", 1, None)


def test_two_deliveries_about_one_contact_take_turns(monkeypatch):
    from connectors.ratelimit import default_store

    delivery = _delivery()
    store = default_store()
    key = f"webhook:{delivery.integration_id}:contact:ana@contoso.example"
    token = store.lease(key, 1, 30)  # another worker is processing this contact
    try:
        assert webhook_delivery_process(delivery_id=delivery.pk) == "retry"
    finally:
        store.release(key, token)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 0)  # waits for its turn

    monkeypatch.setattr(
        "sync.webhooks.services._process", lambda d: (WebhookDelivery.Status.DONE, "", None)
    )
    assert webhook_delivery_process(delivery_id=delivery.pk) == "done"


def test_an_unexpected_error_fails_the_delivery_with_its_kind_only(monkeypatch):
    def broken(delivery):
        raise RuntimeError("token=abc123 leaked in a message")

    monkeypatch.setattr("sync.webhooks.services._process", broken)
    delivery = _delivery()

    assert webhook_delivery_process(delivery_id=delivery.pk) == "done"

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "RuntimeError" in delivery.error and "abc123" not in delivery.error


def test_an_unexpected_error_inside_a_record_sync_ends_its_run(monkeypatch):
    from sync import services

    integration = default_integration()
    monkeypatch.setattr(type(integration), "is_connected", property(lambda self: True))
    monkeypatch.setattr(services, "_snapshot_ready", lambda integration: _Snapshot())
    monkeypatch.setattr(services, "run_inline", _explode)

    with pytest.raises(RuntimeError):
        services.record_sync(
            integration=integration, entity="contact", ac_id="7", trigger=SyncRun.Trigger.WEBHOOK
        )

    run = SyncRun.objects.get()
    assert (run.trigger, run.status) == ("webhook", "failed")
    assert run.finished_at is not None


class _Snapshot:
    def entity(self, key):
        return type("Config", (), {"enabled": True})()


def _explode(*, run):
    raise RuntimeError("boom")


def test_lost_and_abandoned_deliveries_are_queued_again(no_enqueue):
    old = timezone.now() - dt.timedelta(minutes=5)
    lost = _delivery(received_at=old)
    abandoned = _delivery(
        status=WebhookDelivery.Status.PROCESSING, lease_until=timezone.now() - dt.timedelta(1)
    )
    _delivery()  # just received: its message is on its way
    _delivery(
        status=WebhookDelivery.Status.PROCESSING, lease_until=timezone.now() + dt.timedelta(1)
    )
    _delivery(received_at=old, status=WebhookDelivery.Status.FAILED)  # waits for a person

    resumed = runs_resume()

    assert sorted(no_enqueue) == sorted([lost.pk, abandoned.pk])
    assert resumed.get("webhooks") == 2


def test_processed_deliveries_are_kept_a_month_and_failed_ones_until_retried(no_enqueue):
    old = timezone.now() - dt.timedelta(days=31)
    failed = _delivery(received_at=old, status=WebhookDelivery.Status.FAILED)
    recent = _delivery(received_at=timezone.now() - dt.timedelta(days=29), status="done")
    _delivery(received_at=old, status=WebhookDelivery.Status.DONE)
    _delivery(received_at=old, status=WebhookDelivery.Status.SKIPPED)

    runs_resume()

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {failed.pk, recent.pk}
