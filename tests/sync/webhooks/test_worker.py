"""End to end over real HTTP: the ActiveCampaign sandbox delivers its webhooks to the live
server, a real Celery worker (Redis) processes them against the Dataverse sandbox."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import requests
from django.urls import reverse

from connectors.activecampaign.records import ContactChanges
from sync.models import RecordLink, SyncRun, WebhookDelivery
from sync.services import run_inline, run_start
from sync.webhooks.services import webhook_secret_rotate
from tests.sync.webhooks.conftest import FORM, automation_updates

pytestmark = [
    pytest.mark.integration,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def _wait(predicate, what: str, workers, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{workers.logs()}")


def _settled() -> bool:
    deliveries = WebhookDelivery.objects.all()
    return (
        deliveries.exists()
        and not deliveries.filter(
            status__in=[WebhookDelivery.Status.QUEUED, WebhookDelivery.Status.PROCESSING]
        ).exists()
    )


@pytest.fixture
def hooked(sides, sync_integration, live_server, workers):
    """Initially synced; the sandbox's webhook calls this integration's URL on the live
    server for the sources an automation and a user are (not `api`: our own writes)."""
    run = run_start(integration=sync_integration, trigger=SyncRun.Trigger.INITIAL, enqueue=False)
    assert run_inline(run=run).status == SyncRun.Status.SUCCEEDED
    secret = webhook_secret_rotate(integration=sync_integration)
    url = live_server.url + reverse("hook_activecampaign", args=[secret])
    sides.ac.webhooks.create(
        name="syncadmin", url=url, events=["subscribe", "update"], sources=("admin", "system")
    )
    workers.start()
    return url


def test_the_sandbox_s_deliveries_create_one_dynamics_contact_on_a_worker(hooked, sides, workers):
    sides.ac_app.webhooks.duplicate_rate = 1.0  # every event delivered twice (at least once)
    contact = sides.ac.contacts.sync(
        ContactChanges(email="webby@example.org", first_name="Webby", last_name="Hooks")
    ).contact  # source `api`: no delivery

    automation_updates(sides.sandboxes, contact.id, firstName="Webster")
    _wait(_settled, "the delivery processed", workers)

    sent = [d for d in sides.ac_app.webhooks.deliveries if d.url == hooked]
    assert len(sent) == 2 and {d.status for d in sent} <= {200, 202}, sent
    delivery = WebhookDelivery.objects.get()  # the second copy was a duplicate
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.error
    assert delivery.payload["initiated_from"] == "system"
    assert delivery.run.trigger == SyncRun.Trigger.WEBHOOK
    [row] = sides.dv.find_contacts_by_email("webby@example.org", ["firstname", "lastname"])
    assert (row.text("firstname"), row.text("lastname")) == ("Webster", "Hooks")
    link = RecordLink.objects.get(ac_object="contact", ac_id=contact.id)
    assert (link.dynamics_id, link.state) == (row.id, RecordLink.State.LINKED)

    # The same body once more, from outside the sandbox: nothing new.
    response = requests.post(
        hooked,
        data=urllib.parse.urlencode(sent[0].body),
        headers={"Content-Type": FORM},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.count() == 1
    assert len(sides.dv.find_contacts_by_email("webby@example.org")) == 1


def test_a_second_change_updates_the_same_record_and_a_lead_automation_makes_a_lead(
    hooked, sides, workers
):
    contact = sides.ac.contacts.sync(
        ContactChanges(email="twice@example.org", first_name="Tw")
    ).contact
    automation_updates(sides.sandboxes, contact.id, firstName="Two")
    _wait(_settled, "the first delivery", workers)
    automation_updates(sides.sandboxes, contact.id, lastName="Changes")
    _wait(lambda: WebhookDelivery.objects.count() == 2 and _settled(), "the second", workers)

    [row] = sides.dv.find_contacts_by_email("twice@example.org", ["firstname", "lastname"])
    assert (row.text("firstname"), row.text("lastname")) == ("Two", "Changes")
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"done"}

    # An automation of its own calls the URL with ?entity=lead (the only webhook now).
    for webhook in sides.ac.webhooks.all(url=hooked):
        sides.ac.webhooks.delete(webhook.id)
    lead_url = f"{hooked}?entity=lead"
    sides.ac.webhooks.create(name="leads", url=lead_url, events=["update"], sources=("admin",))
    other = sides.ac.contacts.sync(
        ContactChanges(email="leady@example.org", first_name="L")
    ).contact
    automation_updates(sides.sandboxes, other.id, source="admin", lastName="Lead")
    _wait(lambda: WebhookDelivery.objects.count() == 3 and _settled(), "the lead", workers)

    [lead] = sides.dv.find_leads_by_email("leady@example.org", ["lastname"])
    assert lead.text("lastname") == "Lead"
    assert not sides.dv.find_contacts_by_email("leady@example.org")
