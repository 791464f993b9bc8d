"""The admin flows with the keyboard alone: Tab to move, type, Space/Enter/arrows to act.

No click and no fill(): every step is a key press, as for someone who cannot use a mouse.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from integrations.models import Integration
from integrations.roles import Role
from mapping import services
from mapping.models import EntitySync, FieldMapping
from sync.models import SyncSettings
from sync.services import schedule_name
from tests.a11y.conftest import MOST_TABS, keyboard_login, tab_to, type_into
from tests.fixtures.browser import htmx_settled
from tests.fixtures.metadata import metadata_seed
from tests.personas import make_user
from users.services import user_entity_access, user_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def keyboard_admin(page, admin_user, password):
    keyboard_login(page, admin_user.username, password)
    return page


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(keyboard_admin):
    page = keyboard_admin
    Integration.objects.get_or_create(name="Default")
    page.goto("/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # hidden until focused, then shown
    page.keyboard.press("Enter")

    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the content, past the navigation
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.integration
def test_it_connects_in_settings_with_the_keyboard(keyboard_admin, sandboxes, settings):
    settings.CONNECTOR_CA_BUNDLE = sandboxes.dataverse.ca_bundle
    Integration.objects.get_or_create(name="Default")
    ac, dv = sandboxes.activecampaign, sandboxes.dataverse
    page = keyboard_admin
    page.goto("/settings/")

    type_into(page, page.get_by_label("API URL"), ac.api_url)
    type_into(page, page.get_by_label("API key"), ac.api_key)
    type_into(page, page.get_by_label("Org URL"), dv.org_url)
    type_into(page, page.get_by_label("Tenant id"), dv.tenant_id)
    type_into(page, page.get_by_label("Client id"), dv.client_id)
    type_into(page, page.get_by_label("Client secret"), dv.client_secret)
    tab_to(page, page.get_by_text("Advanced", exact=True))
    page.keyboard.press("Enter")  # opens the <details>
    type_into(page, page.get_by_label("Authority host"), dv.authority_host)
    tab_to(page, page.get_by_role("button", name="Connect"))
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Connected")
    expect(dialog).to_be_visible()
    tab_to(page, dialog.get_by_role("button", name="OK"))
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#connection-state")).to_have_text("Connected")
    assert Integration.objects.get(name="Default").is_connected


def test_it_configures_data_with_the_keyboard(keyboard_admin):
    integration, _ = Integration.objects.get_or_create(name="Default")
    integration.status = Integration.Status.CONNECTED
    integration.save()
    metadata_seed(integration)
    services.entity_syncs_ensure(integration=integration)
    page = keyboard_admin
    page.goto("/data/contact/")

    # Direction: Tab reaches the checked radio button, an arrow moves the choice.
    both = page.get_by_role("radio", name="Bidirectional")
    expect(both).to_be_checked()
    tab_to(page, both)
    page.keyboard.press("ArrowDown")
    one_way = page.get_by_role("radio", name="Push only (Dynamics 365 → ActiveCampaign)")
    expect(one_way).to_be_checked()
    expect(one_way).to_be_focused()

    # A custom mapping: the picker opens on Enter, a field is found by typing, Space picks it.
    tab_to(page, page.get_by_role("button", name="Edit"))
    page.keyboard.press("Enter")
    picker = page.get_by_role("dialog", name="ActiveCampaign fields")
    expect(picker).to_be_visible()
    type_into(page, picker.get_by_label("Search ActiveCampaign fields"), "birth")
    tab_to(page, picker.get_by_role("checkbox", name="Birthday"))
    page.keyboard.press("Space")
    tab_to(page, picker.get_by_role("button", name="Add"))
    with page.expect_response(lambda response: "mapping-rows" in response.url):
        page.keyboard.press("Enter")
    htmx_settled(page)
    expect(picker).to_be_hidden()
    select = page.get_by_label("Dynamics 365 field for Birthday")
    tab_to(page, select)
    with page.expect_response(lambda response: "mapping-rows" in response.url):
        page.keyboard.type("Birthday")  # a closed <select> picks the option typed
    htmx_settled(page)
    expect(page.get_by_label("Dynamics 365 field for Birthday")).to_have_value("birthdate")

    tab_to(page, page.get_by_role("button", name="Save changes"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Saved the Contacts configuration")).to_be_visible()
    contacts = EntitySync.objects.get(integration=integration, entity="contact")
    assert contacts.direction == "push"
    assert FieldMapping.objects.filter(
        entity_sync=contacts, ac_key="2", dynamics_key="birthdate"
    ).exists()


def test_it_sets_the_sync_settings_with_the_keyboard(keyboard_admin):
    integration, _ = Integration.objects.get_or_create(name="Default")
    SyncSettings.objects.create(integration=integration, initial_sync_at=timezone.now())
    page = keyboard_admin
    page.goto("/sync/")

    switch = page.get_by_role("switch", name="Global sync")
    tab_to(page, switch)
    page.keyboard.press("Space")
    expect(switch).not_to_be_checked()
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Global sync is off")).to_be_visible()
    assert not SyncSettings.objects.get(integration=integration).enabled

    switch = page.get_by_role("switch", name="Global sync")
    tab_to(page, switch)
    page.keyboard.press("Space")
    frequency = page.get_by_label("Job frequency")
    tab_to(page, frequency)
    page.keyboard.type("Every 6")  # a closed <select> picks the option typed
    expect(frequency).to_have_value("6")
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("The schedule is updated")).to_be_visible()

    saved = SyncSettings.objects.get(integration=integration)
    assert (saved.enabled, saved.schedule_hours) == (True, 6)
    task = PeriodicTask.objects.get(name=schedule_name(integration))
    assert (task.interval.every, task.interval.period) == (6, "hours")


def test_it_adds_a_user_with_the_keyboard(keyboard_admin):
    integration, _ = Integration.objects.get_or_create(name="Default")
    nora = make_user("nora")
    page = keyboard_admin
    page.goto("/users/")

    type_into(page, page.get_by_label("Find a person by name or e-mail"), "nora")
    suggestion = page.get_by_role("option", name="Nora Tester")
    tab_to(page, suggestion)
    page.keyboard.press("Enter")
    # The suggestions are gone; the focus goes on from the role, not from the top of the page.
    expect(page.get_by_label("Role", exact=True)).to_be_focused()
    page.keyboard.type("ActiveCampaign User")
    leads = page.locator("#add-user-form").get_by_role("checkbox", name="Leads")
    tab_to(page, leads)
    page.keyboard.press("Space")  # leads off: Nora may see contacts only
    expect(leads).not_to_be_checked()
    tab_to(page, page.get_by_role("button", name="Add", exact=True))
    page.keyboard.press("Enter")

    expect(page.locator('tr[data-username="nora"]')).to_be_visible()
    assert user_role(user=nora, integration=integration) == Role.USER
    assert user_entity_access(user=nora, integration=integration) == {"contact"}


FOCUS_SHOWN = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const ring = style.boxShadow !== "none";
    return outline || ring ? "" : element.outerHTML.slice(0, 120);
}"""


def test_every_keyboard_stop_shows_where_the_focus_is(keyboard_admin):
    integration, _ = Integration.objects.get_or_create(name="Default")
    integration.status = Integration.Status.CONNECTED
    integration.save()
    metadata_seed(integration)
    services.entity_syncs_ensure(integration=integration)
    SyncSettings.objects.create(integration=integration, initial_sync_at=timezone.now())
    page = keyboard_admin
    unmarked = {}
    for path in ("/", "/settings/", "/users/", "/data/contact/", "/sync/", "/sync/history/"):
        page.goto(path)
        for _ in range(MOST_TABS):
            page.keyboard.press("Tab")
            shown = page.evaluate(FOCUS_SHOWN)
            if shown is None:  # past the last stop
                break
            if shown:
                unmarked.setdefault(path, []).append(shown)
    assert not unmarked, unmarked
