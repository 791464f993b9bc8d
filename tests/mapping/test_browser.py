"""Data configuration flows in headless Chromium (S-3)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connectors.types import ChoiceOption, FieldType, field_info_to_dict
from mapping.models import (
    EntitySync,
    FieldMapping,
    MetadataSnapshot,
    OpportunitySync,
    SelectionCriterion,
)
from tests.fixtures.browser import htmx_swap
from tests.fixtures.metadata import ac, dv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def save(page):
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(re.compile(r"Saved the .* configuration"))).to_be_visible()


def test_it_toggles_an_entity_and_sets_its_direction(admin_page, integration):
    page = admin_page
    page.goto("/data/account/")

    page.get_by_label("Sync accounts").uncheck()
    expect(page.get_by_label("Most recent change wins")).to_be_checked()
    page.get_by_label("Pull only (ActiveCampaign → Dynamics 365)").check()
    expect(page.get_by_label("Delete in ActiveCampaign")).to_be_hidden()  # nothing is pushed
    page.get_by_label("Push only (Dynamics 365 → ActiveCampaign)").check()
    expect(page.locator("td.field-direction").first).to_be_hidden()  # only when bidirectional
    expect(page.get_by_label("Dynamics 365 wins")).to_be_hidden()  # no conflict one way
    page.get_by_label("Delete in ActiveCampaign").check()
    save(page)

    row = EntitySync.objects.get(integration=integration, entity="account")
    assert (row.enabled, row.direction, row.deletion_policy) == (False, "push", "delete")
    expect(page.get_by_label("Sync accounts")).not_to_be_checked()


def test_it_adds_and_removes_criteria(admin_page, integration):
    page = admin_page
    page.goto("/data/lead/")

    page.get_by_label("Records matching criteria").check()
    for _ in range(2):
        with htmx_swap(page, "criterion-row"):
            page.get_by_role("button", name="Add criterion").click()
    rows = page.locator("#criteria-rows tr")
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    with htmx_swap(page, "criterion-row"):
        first.get_by_label("Criterion field").select_option(label="Lead Source")
    expect(first.get_by_label("Criterion operator")).to_contain_text("is one of")
    with htmx_swap(page, "criterion-row"):
        first.get_by_label("Criterion operator").select_option(label="is")
    first.get_by_label("Criterion value").select_option(label="Web")
    with htmx_swap(page, "criterion-row"):
        second.get_by_label("Criterion field").select_option(label="First Name")
    second.get_by_label("Criterion value").fill("An")
    save(page)
    assert SelectionCriterion.objects.filter(entity_sync__entity="lead").count() == 2

    page.locator("#criteria-rows tr").nth(1).get_by_role("button", name="Remove criterion").click()
    save(page)

    stored = SelectionCriterion.objects.get(entity_sync__entity="lead")
    assert (stored.field_key, stored.operator, stored.value) == ("leadsourcecode", "is", "8")


def test_it_shows_a_bad_criterion_next_to_its_row(admin_page, integration):
    page = admin_page
    page.goto("/data/lead/")
    page.get_by_label("Records matching criteria").check()
    with htmx_swap(page, "criterion-row"):
        page.get_by_role("button", name="Add criterion").click()
    row = page.locator("#criteria-rows tr").first
    with htmx_swap(page, "criterion-row"):
        row.get_by_label("Criterion field").select_option(label="Score")
    row.get_by_label("Criterion value").fill("")

    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    expect(page.locator("#criteria-rows tr").first.locator(".invalid-feedback")).to_be_visible()
    assert not SelectionCriterion.objects.exists()


def test_it_remaps_a_standard_field_to_a_custom_one_and_back(admin_page, integration):
    page = admin_page
    page.goto("/data/lead/")

    page.get_by_label("Sync Job title").uncheck()
    save(page)
    page.get_by_role("button", name="Edit").click()
    picker = page.locator("#ac-picker")
    picker.get_by_label("Search ActiveCampaign fields").fill("job")
    picker.get_by_text("Job title").click()
    with htmx_swap(page, "mapping-rows"):
        picker.get_by_role("button", name="Add").click()
    select = page.get_by_label("Dynamics 365 field for Job title")
    with htmx_swap(page, "mapping-rows"):
        select.select_option(value="new_position")
    save(page)
    assert FieldMapping.objects.filter(
        entity_sync__entity="lead", standard="", ac_key="jobTitle", dynamics_key="new_position"
    ).exists()

    page.get_by_label("Sync Job title").check()
    save(page)

    expect(page.get_by_label("Dynamics 365 field for Job title")).to_have_count(0)
    rows = FieldMapping.objects.filter(entity_sync__entity="lead", ac_key="jobTitle")
    assert [(r.standard, r.dynamics_key, r.enabled) for r in rows] == [
        ("Job title", "jobtitle", True)
    ]


def test_a_custom_mapping_offers_only_compatible_fields(admin_page, integration):
    page = admin_page
    page.goto("/data/contact/")

    page.get_by_role("button", name="Edit").click()
    page.locator("#ac-picker").get_by_text("Birthday").click()
    with htmx_swap(page, "mapping-rows"):
        page.locator("#ac-picker").get_by_role("button", name="Add").click()

    select = page.get_by_label("Dynamics 365 field for Birthday")
    offered = select.locator("option").all_inner_texts()
    assert any(text.startswith("Birthday") for text in offered)
    assert not any(text.startswith(("Lead Source", "Score", "Business Phone")) for text in offered)
    # Nothing is chosen for a hurried person to save by mistake.
    expect(select.locator("option:checked")).to_have_text("Choose a field…")
    page.get_by_role("button", name="Save changes").click()
    problems = page.locator("#save-problems")
    expect(problems.get_by_role("paragraph")).to_have_text(
        "Nothing was saved to Contacts. Fix these (each is marked on its row too):"
    )
    expect(problems.get_by_role("listitem")).to_have_text(
        "Mapping of “Birthday”: Choose the Dynamics 365 field for “Birthday”."
    )
    assert not FieldMapping.objects.filter(entity_sync__entity="contact", ac_key="2").exists()
    select = page.get_by_label("Dynamics 365 field for Birthday")
    with htmx_swap(page, "mapping-rows"):
        select.select_option(value="birthdate")
    save(page)
    assert FieldMapping.objects.filter(
        entity_sync__entity="contact", ac_key="2", dynamics_key="birthdate"
    ).exists()


def test_it_enables_opportunities_and_makes_custom_fields_permanent(
    admin_page, integration, activecampaign_schemas
):
    page = admin_page
    page.goto("/data/opportunity/")

    page.get_by_label("Sync opportunities").check()
    page.get_by_label("Map opportunity custom fields").check()
    expect(
        page.get_by_text("Once saved, opportunity custom field mapping is permanent")
    ).to_be_visible()
    page.get_by_role("button", name="Edit").click()
    page.locator("#dv-picker").get_by_text("Region").click()
    with htmx_swap(page, "opportunity/rows"):
        page.locator("#dv-picker").get_by_role("button", name="Add").click()
    expect(page.get_by_role("button", name="Remove Region")).to_be_visible()  # a trash icon
    page.once("dialog", lambda dialog: dialog.accept())  # the permanence warning
    save(page)

    # Saved: the toggle is locked on, and the trash icon became an on/off toggle.
    expect(page.get_by_label("On (permanent: it cannot be turned off)")).to_be_disabled()
    expect(page.get_by_role("button", name="Remove Region")).to_have_count(0)
    expect(page.get_by_label("Sync Region")).to_be_checked()
    page.get_by_label("Sync Region").uncheck()
    save(page)
    opportunity = OpportunitySync.objects.get(integration=integration)
    field = opportunity.fields.get()
    assert opportunity.custom_fields_enabled and field.in_schema and not field.enabled
    assert "d365-new-region" in [f.id for f in activecampaign_schemas.specs[-1].fields]


def add_custom_mapping(page, label: str, dynamics_field: str | None = None):
    page.get_by_role("button", name="Edit").click()
    picker = page.locator("#ac-picker")
    picker.get_by_label("Search ActiveCampaign fields").fill(label.lower())
    picker.locator(f"[data-label^='{label.lower()} ']").click()
    with htmx_swap(page, "mapping-rows"):
        picker.get_by_role("button", name="Add").click()
    if dynamics_field:
        with htmx_swap(page, "mapping-rows"):
            page.get_by_label(f"Dynamics 365 field for {label}").select_option(value=dynamics_field)
    return page.locator("tr.mapping-row", has=page.get_by_label(f"Dynamics 365 field for {label}"))


def test_choice_options_pair_by_label_and_one_may_stay_unpaired(admin_page, integration):
    page = admin_page
    page.goto("/data/lead/")

    row = add_custom_mapping(page, "Lead source", "leadsourcecode")

    # Same labels are paired both ways (Dynamics "Web" = 8 ↔ ActiveCampaign "Web"): nothing to
    # review, so the pairs stay folded under their summary.
    row.get_by_text("Option pairs: 10 paired").click()
    expect(row.get_by_label("ActiveCampaign option for “Web”")).to_have_value("Web")
    expect(row.get_by_label("Dynamics 365 option for “Web”")).to_have_value("8")
    # …and one may be left unpaired: its value is not synced, and the row says so.
    row.get_by_label("ActiveCampaign option for “Other”").select_option(label="Not synced")
    expect(row.get_by_text("Option pairs: 9 paired, 1 not synced")).to_be_visible()
    save(page)

    stored = FieldMapping.objects.get(entity_sync__entity="lead", ac_key="1")
    assert "10" not in stored.value_map["push"] and stored.value_map["push"]["8"] == "Web"
    assert stored.value_map["pull"]["Other"] == "10"
    row = page.locator(
        "tr.mapping-row", has=page.get_by_label("Dynamics 365 field for Lead source")
    )
    expect(row.get_by_text("Option pairs: 9 paired, 1 not synced")).to_be_visible()
    expect(row.get_by_label("ActiveCampaign option for “Other”")).to_have_value("")


def test_a_long_list_of_options_keeps_the_row_in_shape(admin_page, integration):
    countries = [f"Country number {i} with a rather long name" for i in range(40)]
    ac_country = ac(
        "contact",
        "50",
        "Country",
        FieldType.CHOICE,
        custom=True,
        options=tuple(ChoiceOption(c, c) for c in countries[:35]),
    )
    dv_country = dv(
        "lead",
        "new_country",
        "Country",
        FieldType.CHOICE,
        custom=True,
        options=tuple(ChoiceOption(str(100 + i), c) for i, c in enumerate(countries)),
    )
    for vendor, entity, extra in (
        ("activecampaign", "contact", ac_country),
        ("dynamics", "lead", dv_country),
    ):
        snapshot = MetadataSnapshot.objects.get(
            integration=integration, vendor=vendor, entity=entity
        )
        snapshot.fields.append(field_info_to_dict(extra))
        snapshot.save()
    page = admin_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/data/lead/")

    row = add_custom_mapping(page, "Country", "new_country")

    expect(row.get_by_text("Option pairs: 70 paired, 5 not synced")).to_be_visible()
    pairs = row.locator(".option-pairs")
    assert pairs.evaluate("box => box.scrollHeight > box.clientHeight")  # scrolls in place…
    assert row.bounding_box()["height"] < 500  # …so 75 pairs do not make a 4,000-pixel row
    field, remove = row.locator("td").first.bounding_box(), row.get_by_role("button").bounding_box()
    assert abs(field["y"] - remove["y"]) < 40  # the row's controls stay on its first line


def test_leaving_with_unsaved_changes_asks_first(admin_page, integration):
    page = admin_page
    page.goto("/data/lead/")
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay

    page.on("dialog", answer)
    page.get_by_label("Sync Job title").uncheck()
    page.get_by_role("link", name="Contacts").click()

    expect(page.get_by_label("Sync Job title")).not_to_be_checked()  # still here, change kept
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/data/lead/")

    save(page)  # saved: nothing to lose any more
    page.get_by_role("link", name="Contacts").click()
    page.wait_for_url("**/data/contact/")
    assert dialogs == ["beforeunload"]
