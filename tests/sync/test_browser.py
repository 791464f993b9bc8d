"""Sync pages in headless Chromium, with a real worker doing the sync behind them."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from sync.models import RecordLink, RunRecord, SyncRun, SyncSettings
from sync.services import run_inline, run_start, schedule_name
from tests.sync.conftest import lean_configuration

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def test_it_turns_global_sync_on_and_shows_the_initial_sync_to_its_end(
    sides, sync_integration, workers, admin_page
):
    lean_configuration(sync_integration)
    seeded = sides.dv_app.seed(30)
    workers.start()
    page = admin_page
    page.goto("/sync/")
    switch = page.get_by_role("switch", name="Global sync")
    expect(switch).to_be_checked()  # on by default (S-4.1)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The initial sync has started")).to_be_visible()
    expect(page.locator('[data-run-status="succeeded"]')).to_be_visible(timeout=90_000)
    bar = page.locator("progress#progress-contact")
    expect(bar).to_have_attribute("value", str(seeded["contacts"]))
    expect(bar).to_have_attribute("max", str(seeded["contacts"]))
    counts = page.locator("#run-counts")
    expect(
        counts.get_by_role("row", name=re.compile(r"^Contacts Dynamics 365 → ActiveCampaign"))
    ).to_contain_text(str(seeded["contacts"]))


def test_it_opens_a_run_with_a_failed_record_and_retries_it(
    sides, sync_integration, workers, admin_page
):
    lean_configuration(sync_integration)
    sides.dv_app.seed(10)
    run_inline(run=run_start(integration=sync_integration, trigger="initial", enqueue=False))
    missing = sides.dv_create("contact", {"emailaddress1": "retry.me@example.org", "lastname": "R"})
    failed_run = SyncRun.objects.create(
        integration=sync_integration,
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        counts={"contact": {"push": {"read": 1, "failed": 1}}},
    )
    RunRecord.objects.create(
        run=failed_run,
        entity="contact",
        direction="push",
        outcome=RunRecord.Outcome.FAILED,
        dynamics_id=missing,
        email="retry.me@example.org",
        reason="ActiveCampaign is not answering properly right now; try again later.",
    )
    workers.start()
    page = admin_page
    page.goto("/sync/history/")
    page.get_by_role("link", name=f"#{failed_run.pk}").click()
    row = page.locator('#run-records tr[data-outcome="failed"]')
    expect(row).to_contain_text("retry.me@example.org")
    page.get_by_role("button", name="Retry failed records").click()
    expect(page.get_by_text("Retrying the failed records")).to_be_visible()
    expect(page.locator('[data-run-status="succeeded"]')).to_be_visible(timeout=60_000)
    assert RecordLink.objects.get(dynamics_id=missing).state == RecordLink.State.LINKED
    assert "retry.me@example.org" in {c.email for c in sides.ac_contacts()}
    page.goto(f"/sync/runs/{failed_run.pk}/?outcome=failed")
    expect(page.locator('#run-records tr[data-outcome="failed"]')).to_contain_text("retried")


def test_it_changes_the_frequency_and_the_beat_schedule_follows(sync_integration, admin_page):
    SyncSettings.objects.filter(integration=sync_integration).update(initial_sync_at=timezone.now())
    page = admin_page
    page.goto("/sync/")
    page.get_by_label("Job frequency").select_option(label="Every 6 hours")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The schedule is updated")).to_be_visible()
    expect(page.get_by_label("Job frequency")).to_have_value("6")
    task = PeriodicTask.objects.get(name=schedule_name(sync_integration))
    assert (task.interval.every, task.interval.period, task.enabled) == (6, "hours", True)
    page.get_by_role("switch", name="Global sync").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Global sync is off")).to_be_visible()
    assert not PeriodicTask.objects.filter(name=schedule_name(sync_integration)).exists()
