"""The screenshots of the guides (docs/admin-guide.md, docs/sales-guide.md), taken by walking
the admin's setup steps and a sales user's actions.

Run with SYNCADMIN_SCREENSHOTS=1 to write them into docs/images/ (then commit them); without it
the same walk runs and the pictures go to a temporary folder, so the guide's steps are checked
on every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import Integration
from integrations.roles import Role
from mapping import services as mapping_services
from sync.models import RunRecord, SyncRun, SyncSettings
from syncadmin.heartbeat import BEAT, WORKER, heartbeat_write
from tests.fixtures.browser import browser_login, htmx_swap
from tests.fixtures.metadata import metadata_seed
from tests.personas import PASSWORD, make_user
from tests.records.conftest import SYNCED_EMAIL, synced  # noqa: F401 - shared fixtures
from tests.sync.conftest import sides, sync_integration  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
MOST_BYTES = 200_000  # keep the repository small: a screenshot bigger than this fails


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 800}}


@pytest.fixture
def shoot(tmp_path):
    folder = IMAGES if os.environ.get("SYNCADMIN_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def shoot(target, name: str) -> None:
        path = folder / f"{name}.png"
        target.screenshot(path=str(path), animations="disabled", caret="initial")
        taken.append(path)

    shoot.taken = taken
    return shoot


def finished_run(integration, actor) -> SyncRun:
    now = timezone.now()
    run = SyncRun.objects.create(
        integration=integration,
        trigger=SyncRun.Trigger.INITIAL,
        status=SyncRun.Status.SUCCEEDED,
        actor=actor,
        started_at=now - timezone.timedelta(minutes=3),
        finished_at=now,
        counts={
            "lead": {"push": {"read": 212, "created": 207, "linked": 3, "skipped": 2}},
            "contact": {"push": {"read": 268, "created": 251, "linked": 15, "failed": 2}},
            "account": {"push": {"read": 20, "created": 20}},
        },
    )
    for email, reason in [
        ("ana@contoso.example", "Email: not an e-mail address."),
        ("li.wei@fabrikam.example", "ActiveCampaign is not answering properly right now."),
    ]:
        RunRecord.objects.create(
            run=run,
            entity="contact",
            direction="push",
            outcome=RunRecord.Outcome.FAILED,
            dynamics_id="6f1c2a8e-0d4b-4a57-9c3e-2b7d9a1e5f40",
            email=email,
            reason=reason,
            before={"email": ""},
            after={"email": email},
        )
    return run


def test_the_admin_guide_walk(admin_page, admin_user, sandboxes, settings, shoot):
    settings.CONNECTOR_CA_BUNDLE = sandboxes.dataverse.ca_bundle
    Integration.objects.get_or_create(name="Default")
    for kind in (WORKER, BEAT):
        heartbeat_write(kind=kind, hostname=f"{kind}@app-1")
    page = admin_page
    ac, dv = sandboxes.activecampaign, sandboxes.dataverse

    # Step 2: connect.
    page.goto("/")
    shoot(page, "dashboard-not-connected")
    page.goto("/settings/")
    page.get_by_label("API URL").fill("https://contoso.api-us1.com")
    page.get_by_label("API key").fill("•" * 12)
    page.get_by_label("Org URL").fill("https://contoso.crm4.dynamics.com")
    page.get_by_label("Tenant id").fill("0d5f3c9e-8b1a-4e2f-9a6d-7c4b2e1f3a58")
    page.get_by_label("Client id").fill("a7e4c2d9-3f6b-4a81-b5c0-9d2e8f1a6b34")
    page.get_by_label("Client secret").fill("•" * 12)
    page.get_by_text("Advanced").click()
    shoot(page, "settings")
    page.get_by_label("API URL").fill(ac.api_url)
    page.get_by_label("API key").fill(ac.api_key)
    page.get_by_label("Org URL").fill(dv.org_url)
    page.get_by_label("Tenant id").fill(dv.tenant_id)
    page.get_by_label("Client id").fill(dv.client_id)
    page.get_by_label("Client secret").fill(dv.client_secret)
    page.get_by_label("Authority host").fill(dv.authority_host)
    page.get_by_role("button", name="Connect").click()
    dialog = page.get_by_role("dialog", name="Connected")
    expect(dialog).to_be_visible()
    shoot(dialog.locator(".modal-content"), "connected")
    dialog.get_by_role("button", name="OK").click()
    integration = Integration.objects.get(name="Default")
    assert integration.is_connected

    # Step 3: users.
    make_user("maria", role=Role.ADMINISTRATOR)
    make_user("sam", role=Role.USER, entity_access=("contact",))
    make_user("nora")
    page.goto("/users/")
    page.get_by_label("Find a person by name or e-mail").press_sequentially("nor")
    expect(page.get_by_role("option", name="Nora Tester")).to_be_visible()
    shoot(page, "users")

    # Step 4: data configuration.
    metadata_seed(integration)
    mapping_services.entity_syncs_ensure(integration=integration)
    page.goto("/data/contact/")
    shoot(page, "data-configuration")
    page.get_by_role("button", name="Edit").click()
    picker = page.get_by_role("dialog", name="ActiveCampaign fields")
    picker.get_by_text("Birthday").click()
    shoot(picker.locator(".modal-content"), "custom-mapping-picker")
    with htmx_swap(page, "mapping-rows"):
        picker.get_by_role("button", name="Add").click()
    with htmx_swap(page, "mapping-rows"):
        page.get_by_label("Dynamics 365 field for Birthday").select_option(value="birthdate")
    custom = page.get_by_role("region", name="Custom mappings")
    shoot(custom, "custom-mapping")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved the Contacts configuration")).to_be_visible()

    # Step 5: sync settings, then the runs.
    SyncSettings.objects.create(integration=integration, initial_sync_at=timezone.now())
    run = finished_run(integration, admin_user)
    page.goto("/sync/")
    expect(page.locator('[data-run-status="succeeded"]')).to_be_visible()
    shoot(page, "sync-settings")
    page.goto("/sync/history/")
    shoot(page, "sync-history")
    page.goto(f"/sync/runs/{run.pk}/?outcome=failed")
    shoot(page, "run")
    page.goto("/sync/webhook/")
    page.get_by_role("button", name="Create the webhook URL").click()
    expect(page.get_by_role("textbox", name="Webhook URL")).to_be_visible()
    shoot(page, "webhook")
    page.goto("/")
    shoot(page, "dashboard")

    sizes = {path.name: path.stat().st_size for path in shoot.taken}
    assert len(sizes) == 12
    assert all(0 < size <= MOST_BYTES for size in sizes.values()), sizes


def test_the_sales_guide_walk(synced, page, shoot):  # noqa: F811
    make_user("uma", role=Role.USER)
    browser_login(page, username="uma", password=PASSWORD)

    page.goto("/records/contacts/")
    shoot(page, "records")
    page.locator("#records").get_by_role("link", name="Nadia O'Brien").click()
    expect(page.locator("#activity")).to_be_visible()
    shoot(page, "record")
    record_url = page.url
    page.get_by_role("link", name="Add to automation").click()
    page.locator("#automations").get_by_role("link", name="Welcome series").click()
    shoot(page.locator("main"), "add-to-automation")
    page.goto(record_url)
    page.get_by_role("link", name="Send campaign").click()
    page.locator("#campaigns").get_by_role("link", name="Product launch").click()
    expect(page.get_by_role("button", name="Confirm: send campaign")).to_be_visible()
    shoot(page.locator("main"), "send-campaign")
    assert SYNCED_EMAIL in page.content()

    sizes = {path.name: path.stat().st_size for path in shoot.taken}
    assert len(sizes) == 4
    assert all(0 < size <= MOST_BYTES for size in sizes.values()), sizes
