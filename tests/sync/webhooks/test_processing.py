"""Deliveries processed against both sandboxes over real HTTP (the task's function, called
here): the Dynamics record is created through the mapping and linked, once; a failure is kept
and a retry after the fix succeeds; the next scheduled run neither echoes nor duplicates."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.activecampaign.records import ContactChanges
from integrations.models import Integration
from mapping.models import EntitySync
from sync.models import RecordLink, SyncRun, WebhookDelivery
from sync.services import run_inline, run_start
from sync.webhooks.services import webhook_delivery_process, webhook_delivery_retry
from tests.sync.webhooks.conftest import FORM, body, hook_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(sync_integration):
    """The integration after its initial sync (empty sandboxes): webhooks may create."""
    run = run_start(integration=sync_integration, trigger=SyncRun.Trigger.INITIAL, enqueue=False)
    assert run_inline(run=run).status == SyncRun.Status.SUCCEEDED
    return sync_integration


@pytest.fixture
def secret(synced):
    from sync.webhooks.services import webhook_secret_rotate

    return webhook_secret_rotate(integration=synced)


def _ac_contact(sides, email="wendy@example.org", first_name="Wendy"):
    return sides.ac.contacts.sync(
        ContactChanges(email=email, first_name=first_name, last_name="Hook")
    ).contact


def _deliver(client, secret, contact, entity=None, **extra) -> WebhookDelivery:
    response = client.post(
        hook_url(secret, entity),
        data=body(id=contact.id, email=contact.email, **extra),
        content_type=FORM,
    )
    assert response.status_code in (200, 202), response.content
    return WebhookDelivery.objects.get(pk=response.json()["delivery"])


def _process(delivery: WebhookDelivery) -> WebhookDelivery:
    assert webhook_delivery_process(delivery_id=delivery.pk) == "done"
    delivery.refresh_from_db()
    return delivery


def test_a_delivery_creates_the_dynamics_contact_through_the_mapping_and_links_it(
    client, sides, secret, no_enqueue
):
    contact = _ac_contact(sides)

    delivery = _process(_deliver(client, secret, contact))

    assert delivery.status == WebhookDelivery.Status.DONE, delivery.error
    assert no_enqueue == [delivery.pk]
    assert delivery.run.trigger == SyncRun.Trigger.WEBHOOK
    assert delivery.run.status == SyncRun.Status.SUCCEEDED
    [row] = sides.dv.find_contacts_by_email("wendy@example.org", ["firstname", "lastname"])
    assert (row.text("firstname"), row.text("lastname")) == ("Wendy", "Hook")
    assert not sides.dv.find_leads_by_email("wendy@example.org")
    link = RecordLink.objects.get(ac_object="contact", ac_id=contact.id)
    assert (link.entity, link.dynamics_id, link.state) == ("contact", row.id, "linked")
    assert {"D365: Contact", "D365: Pulled from ActiveCampaign"} <= sides.tags_of(contact.id)


def test_the_same_delivery_twice_creates_one_record_and_writes_nothing_more(
    client, sides, secret, no_enqueue
):
    contact = _ac_contact(sides)
    first = _process(_deliver(client, secret, contact))
    mark = sides.log_mark()

    again = _deliver(client, secret, contact)  # ActiveCampaign delivers at least once
    assert again.pk == first.pk and WebhookDelivery.objects.count() == 1
    assert webhook_delivery_process(delivery_id=first.pk) == "busy"  # a duplicate task
    later = _process(_deliver(client, secret, contact, first_name="Wendy"))  # another event
    assert later.pk != first.pk and later.status == WebhookDelivery.Status.DONE, later.error

    assert len(sides.dv.find_contacts_by_email("wendy@example.org")) == 1
    assert sides.writes(mark)["dynamics"] == []
    assert RecordLink.objects.filter(ac_id=contact.id).count() == 1


def test_the_next_scheduled_run_neither_echoes_nor_duplicates_it(
    client, sides, secret, synced, no_enqueue
):
    contact = _ac_contact(sides)
    _process(_deliver(client, secret, contact))
    mark = sides.log_mark()

    run = run_inline(
        run=run_start(integration=synced, trigger=SyncRun.Trigger.SCHEDULE, enqueue=False)
    )

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    writes = sides.writes(mark)
    assert writes == {"activecampaign": [], "dynamics": []}, writes
    assert len(sides.dv.find_contacts_by_email("wendy@example.org")) == 1


def test_the_url_chooses_a_lead_for_one_automation(client, sides, secret, no_enqueue):
    contact = _ac_contact(sides, email="lena@example.org", first_name="Lena")

    delivery = _process(_deliver(client, secret, contact, entity="lead"))

    assert delivery.status == WebhookDelivery.Status.DONE, delivery.error
    [row] = sides.dv.find_leads_by_email("lena@example.org", ["firstname"])
    assert row.text("firstname") == "Lena"
    assert not sides.dv.find_contacts_by_email("lena@example.org")
    assert RecordLink.objects.get(ac_id=contact.id).entity == "lead"


def test_a_delivery_naming_only_an_e_mail_finds_its_contact(client, sides, secret, no_enqueue):
    contact = _ac_contact(sides)
    response = client.post(
        hook_url(secret),
        data=b"type=subscribe&date_time=2024-05-01T10%3A12%3A00-05%3A00&contact%5Bemail%5D="
        + contact.email.replace("@", "%40").encode(),
        content_type=FORM,
    )

    delivery = _process(WebhookDelivery.objects.get(pk=response.json()["delivery"]))

    assert delivery.status == WebhookDelivery.Status.DONE, delivery.error
    assert RecordLink.objects.get(ac_id=contact.id).state == RecordLink.State.LINKED


def test_a_failing_delivery_is_kept_and_a_retry_after_the_fix_succeeds(
    client, sides, secret, synced, admin_user, no_enqueue
):
    contact = _ac_contact(sides)
    right = synced.dynamics_client_secret
    synced.dynamics_client_secret = "revoked"
    synced.save()

    failed = _process(_deliver(client, secret, contact))

    assert failed.status == WebhookDelivery.Status.FAILED and failed.error
    assert failed.run.status == SyncRun.Status.FAILED
    assert not sides.dv.find_contacts_by_email("wendy@example.org")
    assert not RecordLink.objects.filter(ac_id=contact.id, state="linked").exists()
    client.force_login(admin_user)
    page = client.get(reverse("sync:webhook")).content.decode()
    assert f'data-delivery="{failed.pk}" data-status="failed"' in page
    assert reverse("sync:webhook_retry", args=[failed.pk]) in page
    history = client.get(reverse("sync:history")).content.decode()
    assert 'id="webhook-link"' in history and "1 failed" in history
    run_page = client.get(reverse("sync:run", args=[failed.run.pk])).content.decode()
    assert 'id="run-webhook"' in run_page and 'id="retry-failed"' not in run_page

    synced = Integration.objects.get(pk=synced.pk)
    synced.dynamics_client_secret = right
    synced.save()
    retried = client.post(reverse("sync:webhook_retry", args=[failed.pk]))

    assert retried.status_code == 302
    assert no_enqueue == [failed.pk, failed.pk]
    done = _process(failed)
    assert done.status == WebhookDelivery.Status.DONE, done.error
    assert done.attempts == 2 and done.error == ""
    assert len(sides.dv.find_contacts_by_email("wendy@example.org")) == 1
    assert not webhook_delivery_retry(delivery=done)  # done is done


def test_a_delivery_the_configuration_does_not_sync_is_kept_as_not_synced(
    client, sides, secret, synced, no_enqueue
):
    EntitySync.objects.filter(integration=synced, entity__in=["lead", "contact"]).update(
        direction="push"
    )
    contact = _ac_contact(sides)

    skipped = _process(_deliver(client, secret, contact))

    assert skipped.status == WebhookDelivery.Status.SKIPPED
    assert "Dynamics 365" in skipped.error
    assert not sides.dv.find_contacts_by_email("wendy@example.org")
    EntitySync.objects.filter(integration=synced, entity__in=["lead", "contact"]).update(
        direction="bidirectional"
    )
    assert webhook_delivery_retry(delivery=skipped)
    assert _process(skipped).status == WebhookDelivery.Status.DONE


def test_nothing_is_created_before_the_initial_sync(client, sides, sync_integration, no_enqueue):
    from sync.webhooks.services import webhook_secret_rotate

    secret = webhook_secret_rotate(integration=sync_integration)
    contact = _ac_contact(sides)

    delivery = _process(_deliver(client, secret, contact))

    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "initial sync" in delivery.error
    assert not sides.dv.find_contacts_by_email("wendy@example.org")


def test_a_dynamics_record_made_since_the_last_run_is_linked_not_duplicated(
    client, sides, secret, no_enqueue
):
    # Created in Dynamics after the last run: the engine has not seen it yet.
    existing = sides.dv_create(
        "lead", {"emailaddress1": "early@example.org", "firstname": "E", "lastname": "Early"}
    )
    contact = _ac_contact(sides, email="early@example.org", first_name="Eve")

    delivery = _process(_deliver(client, secret, contact))

    assert delivery.status == WebhookDelivery.Status.DONE, delivery.error
    assert not sides.dv.find_contacts_by_email("early@example.org")
    [lead] = sides.dv.find_leads_by_email("early@example.org", ["firstname"])
    assert (lead.id, lead.text("firstname")) == (existing, "Eve")
    link = RecordLink.objects.get(ac_object="contact", ac_id=contact.id)
    assert (link.entity, link.dynamics_id, link.state) == ("lead", existing, "linked")
