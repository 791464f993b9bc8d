"""The sales actions with the keyboard alone, against both sandboxes: a sales user finds a synced
contact, adds it to an automation and sends it a campaign with Tab, typing and Enter, and every
state of the way (list, record, pickers, confirmations, results) passes axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.roles import Role
from sync.models import RecordLink
from tests.a11y.conftest import axe_violations, keyboard_login, tab_to, type_into
from tests.personas import PASSWORD, make_user
from tests.records.conftest import SYNCED_EMAIL, synced  # noqa: F401 - shared fixtures
from tests.sync.conftest import sides, sync_integration  # noqa: F401 - shared fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_a_sales_user_adds_to_an_automation_and_sends_a_campaign_with_the_keyboard(
    synced,  # noqa: F811
    page,
    axe_path,
):
    make_user("uma", role=Role.USER)
    link = RecordLink.objects.get(entity="contact", email=SYNCED_EMAIL)
    keyboard_login(page, "uma", PASSWORD)
    found = {}

    def enter_and_load() -> None:
        """Enter on a link or a submit button: wait for the next page before looking at it."""
        with page.expect_navigation():
            page.keyboard.press("Enter")

    def check(state: str) -> None:
        if violations := axe_violations(page, axe_path):
            found[state] = violations

    main_menu = page.get_by_role("navigation", name="Main")
    tab_to(page, main_menu.get_by_role("link", name="Records"))
    enter_and_load()
    tab_to(page, page.locator("#record-sections").get_by_role("link", name=re.compile("Contacts")))
    enter_and_load()
    type_into(page, page.get_by_label("Search by name, e-mail or company"), "nadia")
    enter_and_load()  # submits the search
    check("contacts found")
    tab_to(page, page.locator("#records").get_by_role("link", name="Nadia O'Brien"))
    enter_and_load()
    expect(page.get_by_role("heading", name="Nadia O'Brien")).to_be_visible()
    check("record page")

    # Add to automation: search, pick, confirm.
    tab_to(page, page.get_by_role("link", name="Add to automation"))
    enter_and_load()
    check("automations")
    type_into(page, page.get_by_label("Search active automations"), "welcome")
    enter_and_load()
    tab_to(page, page.locator("#automations").get_by_role("link", name="Welcome series"))
    enter_and_load()
    check("automation confirmation")
    tab_to(page, page.get_by_role("button", name="Confirm: add to automation"))
    enter_and_load()
    added = f"{SYNCED_EMAIL} was added to the automation."
    expect(page.get_by_role("alert")).to_contain_text(added)
    check("added to the automation")
    enrolled = synced.ac.automations.for_contact(link.ac_id)
    assert "1" in [e.automation_id for e in enrolled]

    # Send campaign: pick it, keep its message (a radio button), confirm.
    tab_to(page, page.get_by_role("link", name="Send campaign"))
    enter_and_load()
    check("campaigns")
    tab_to(page, page.locator("#campaigns").get_by_role("link", name="Product launch"))
    enter_and_load()
    message = page.get_by_label("Meet the new platform")
    expect(message).to_be_checked()
    tab_to(page, message)  # the message choice is reachable (arrows would change it)
    check("campaign confirmation")
    tab_to(page, page.get_by_role("button", name="Confirm: send campaign"))
    enter_and_load()
    expect(page.get_by_role("alert")).to_contain_text(f"The campaign was sent to {SYNCED_EMAIL}.")
    check("campaign sent")
    sent = [
        a.subject
        for a in synced.ac.activities.for_contact(link.ac_id)
        if a.kind == "campaign" and a.action == "sent"
    ]
    assert "Product launch" in sent

    assert not found, "\n".join(f"{s}:\n  " + "\n  ".join(v) for s, v in found.items())
