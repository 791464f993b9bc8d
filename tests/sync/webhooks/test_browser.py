"""The webhook page in headless Chromium: the URL shown once, pasted into the ActiveCampaign
sandbox, its deliveries processed by a real worker, a failed one retried from the page."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from connectors.activecampaign.records import ContactChanges
from integrations.models import Integration
from sync.models import SyncRun, WebhookDelivery
from sync.services import run_inline, run_start
from tests.sync.webhooks.conftest import automation_updates

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def test_an_administrator_creates_the_url_and_follows_its_deliveries(
    sides, sync_integration, workers, admin_page
):
    run_inline(run=run_start(integration=sync_integration, trigger="initial", enqueue=False))
    workers.start()
    page = admin_page
    page.goto("/sync/history/")
    page.get_by_role("link", name="ActiveCampaign webhook").click()
    expect(page.get_by_text("No webhook URL yet")).to_be_visible()

    page.get_by_role("button", name="Create the webhook URL").click()
    field = page.get_by_role("textbox", name="Webhook URL")
    expect(field).to_have_value(re.compile(r"/hooks/activecampaign/[\w-]{40,}/$"))
    url = field.input_value()
    page.reload()
    expect(page.get_by_role("textbox", name="Webhook URL")).to_have_count(0)  # shown once

    # Pasted into ActiveCampaign; Dynamics 365 refuses the credentials for a while.
    sides.ac.webhooks.create(name="syncadmin", url=url, events=["update"], sources=("system",))
    right = sync_integration.dynamics_client_secret
    sync_integration.dynamics_client_secret = "revoked"
    sync_integration.save()
    contact = sides.ac.contacts.sync(ContactChanges(email="browse@example.org")).contact
    automation_updates(sides.sandboxes, contact.id, firstName="Browsy")
    row = page.locator("#webhook-deliveries tbody tr").first
    _wait(lambda: WebhookDelivery.objects.filter(status="failed").exists(), workers)
    page.reload()
    expect(row).to_have_attribute("data-status", "failed")
    expect(row).to_contain_text("Dynamics 365 refused the credentials")

    integration = Integration.objects.get(pk=sync_integration.pk)
    integration.dynamics_client_secret = right
    integration.save()
    row.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("is processed again")).to_be_visible()
    _wait(lambda: WebhookDelivery.objects.filter(status="done").exists(), workers)
    page.reload()
    expect(row).to_have_attribute("data-status", "done")
    [found] = sides.dv.find_contacts_by_email("browse@example.org", ["firstname"])
    assert found.text("firstname") == "Browsy"

    row.get_by_role("link").click()
    expect(page.locator("#run-webhook")).to_contain_text("Processed")
    run = SyncRun.objects.get(webhook_deliveries__isnull=False, status="succeeded")
    assert run.trigger == SyncRun.Trigger.WEBHOOK


def _wait(predicate, workers, timeout: float = 60) -> None:
    """The worker's progress, read from the database (the page does not refresh itself)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out\n{workers.logs()}")
        time.sleep(0.2)
