"""The records section in headless Chromium against both sandboxes over HTTP: a sales user
opens a synced contact, reads its marketing activity, adds it to an automation and sends it a
campaign; a user without contact access sees no contacts; a user of another integration sees
nothing of this one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.models import Integration
from integrations.roles import Role
from sync.models import RecordLink
from tests.fixtures.browser import browser_login
from tests.personas import PASSWORD, make_user
from tests.records.conftest import SYNCED_EMAIL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_a_sales_user_reads_a_contacts_activity_enrols_it_and_sends_it_a_campaign(
    synced, sync_integration, page
):
    make_user("uma", role=Role.USER)
    link = RecordLink.objects.get(entity="contact", email=SYNCED_EMAIL)
    browser_login(page, username="uma", password=PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
    page.locator("#record-sections").get_by_role("link", name=re.compile("Contacts")).click()
    page.get_by_label("Search by name, e-mail or company").fill("nadia")
    page.get_by_role("button", name="Search").click()
    page.locator("#records").get_by_role("link", name="Nadia O'Brien").click()

    expect(page.get_by_role("heading", name="Nadia O'Brien")).to_be_visible()
    activity = page.locator("#activity")
    expect(activity).to_contain_text("Opened campaign “Webinar invitation”")
    expect(activity).to_contain_text("Entered automation “Lead nurture”")
    expect(page.locator("#dynamics-fields")).to_contain_text("Contoso Ltd")
    expect(page.locator("#record-tags")).to_contain_text("D365: Contact")

    # Add to automation: only active ones are offered; search, pick, confirm.
    page.get_by_role("link", name="Add to automation").click()
    offered = page.locator("#automations")
    expect(offered).to_contain_text("Welcome series")
    expect(offered).not_to_contain_text("Re-engagement (paused)")
    page.get_by_label("Search active automations").fill("welcome")
    page.get_by_role("button", name="Search").click()
    page.locator("#automations").get_by_role("link", name="Welcome series").click()
    page.get_by_role("button", name="Confirm: add to automation").click()
    added = f"{SYNCED_EMAIL} was added to the automation."
    expect(page.get_by_role("alert")).to_contain_text(added)
    expect(page.locator("#activity")).to_contain_text("Entered automation “Welcome series”")
    enrolled = synced.ac.automations.for_contact(link.ac_id)
    assert "1" in [e.automation_id for e in enrolled]  # the sandbox shows the enrolment

    # Send campaign: pick it, confirm its message.
    page.get_by_role("link", name="Send campaign").click()
    page.locator("#campaigns").get_by_role("link", name="Product launch").click()
    expect(page.get_by_label("Meet the new platform")).to_be_checked()
    page.get_by_role("button", name="Confirm: send campaign").click()
    expect(page.get_by_role("alert")).to_contain_text(f"The campaign was sent to {SYNCED_EMAIL}.")
    expect(page.locator("#activity")).to_contain_text("Was sent campaign “Product launch”")
    sent = [
        a.subject
        for a in synced.ac.activities.for_contact(link.ac_id)
        if a.kind == "campaign" and a.action == "sent"
    ]
    assert "Product launch" in sent


def test_a_user_without_contact_access_does_not_see_contacts(synced, page, live_server):
    make_user("lena", role=Role.USER, entity_access=("lead",))
    link = RecordLink.objects.get(entity="contact", email=SYNCED_EMAIL)
    browser_login(page, username="lena", password=PASSWORD)

    page.goto("/records/")
    sections = page.locator("#record-sections")
    expect(sections.get_by_role("link", name=re.compile("Leads"))).to_be_visible()
    expect(sections.get_by_role("link", name=re.compile("Contacts"))).to_have_count(0)
    page.goto(f"/records/contacts/{link.dynamics_id}/")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
    expect(page.get_by_text("Nadia")).to_have_count(0)


def test_a_user_of_another_integration_sees_nothing_of_this_one(synced, page, sync_integration):
    other = Integration.objects.create(name="Bravo Client")
    make_user("otto", role=Role.USER, integration=other)
    link = RecordLink.objects.get(entity="contact", email=SYNCED_EMAIL)
    browser_login(page, username="otto", password=PASSWORD)

    page.goto("/records/contacts/")
    expect(page.get_by_text("No record of this kind has been synced yet.")).to_be_visible()
    expect(page.get_by_text(sync_integration.name)).to_have_count(0)
    response = page.goto(f"/records/contacts/{link.dynamics_id}/")
    assert response.status == 404
    expect(page.get_by_text("Nadia")).to_have_count(0)


def test_a_sales_user_does_it_all_with_the_keyboard(synced, page):
    """No click and no fill(): Tab to move, type, Enter and the arrow keys to act."""
    from tests.a11y.conftest import keyboard_login, tab_to, type_into

    make_user("uma", role=Role.USER)
    link = RecordLink.objects.get(entity="contact", email=SYNCED_EMAIL)
    keyboard_login(page, "uma", PASSWORD)
    page.goto("/records/contacts/")

    type_into(page, page.get_by_label("Search by name, e-mail or company"), "nadia")
    page.keyboard.press("Enter")
    tab_to(page, page.locator("#records").get_by_role("link", name="Nadia O'Brien"))
    page.keyboard.press("Enter")
    expect(page.locator("#activity")).to_contain_text("Opened campaign “Webinar invitation”")

    tab_to(page, page.get_by_role("link", name="Add to automation"))
    page.keyboard.press("Enter")
    tab_to(page, page.locator("#automations").get_by_role("link", name="Webinar follow-up"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Confirm: add to automation"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("was added to the automation.")

    tab_to(page, page.get_by_role("link", name="Send campaign"))
    page.keyboard.press("Enter")
    tab_to(page, page.locator("#campaigns").get_by_role("link", name="Spring newsletter"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("What's new this spring"))
    page.keyboard.press("ArrowDown")  # one message: the arrows keep it chosen
    expect(page.get_by_label("What's new this spring")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Confirm: send campaign"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(f"The campaign was sent to {SYNCED_EMAIL}.")

    enrolled = synced.ac.automations.for_contact(link.ac_id)
    assert "3" in [e.automation_id for e in enrolled]  # "Webinar follow-up"
    sent = [
        a.subject
        for a in synced.ac.activities.for_contact(link.ac_id)
        if a.kind == "campaign" and a.action == "sent"
    ]
    assert sent.count("Spring newsletter") == 2  # the seeded send and this one
