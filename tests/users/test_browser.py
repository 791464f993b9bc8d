from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.roles import Role
from tests.fixtures.browser import browser_login
from tests.personas import PASSWORD, default_integration, make_user
from users import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_adds_a_user_through_the_type_ahead_and_gives_a_role(admin_page):
    default_integration()
    make_user("nora")
    make_user("norbert")
    page = admin_page

    page.goto("/users/")
    page.get_by_label("Find a person by name or e-mail").press_sequentially("nora@ex")
    suggestions = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    suggestion = suggestions.filter(has_text=re.compile("nora@example.com"))
    expect(suggestion).to_be_visible()
    expect(suggestions).to_have_count(1)
    suggestion.click()
    expect(page.get_by_text("Selected: Nora Tester")).to_be_visible()
    page.locator("#add-role").select_option(Role.ADMINISTRATOR.value)
    page.get_by_role("button", name="Add", exact=True).click()

    expect(page.get_by_text("Added Nora Tester as ActiveCampaign Administrator.")).to_be_visible()
    row = page.locator("tr[data-username=nora]")
    expect(row.get_by_label("Role of nora")).to_have_value(Role.ADMINISTRATOR.value)
    from django.contrib.auth import get_user_model

    nora = get_user_model().objects.get(username="nora")
    assert services.user_role(user=nora, integration=default_integration()) == Role.ADMINISTRATOR


def test_it_changes_a_role_on_the_page(admin_page):
    make_user("uma", role=Role.USER)
    page = admin_page

    page.goto("/users/")
    row = page.locator("tr[data-username=uma]")
    row.get_by_label("Role of uma").select_option(Role.ADMINISTRATOR.value)
    row.get_by_role("button", name="Save").click()

    expect(page.get_by_text("uma is now ActiveCampaign Administrator.")).to_be_visible()


def test_it_refuses_the_setup_pages_to_a_plain_user(page):
    make_user("uma", role=Role.USER)
    browser_login(page, username="uma", password=PASSWORD)

    for path in ("/settings/", "/users/", "/audit/"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(
            page.get_by_role("heading", name="You don't have access to this page")
        ).to_be_visible()
    page.goto("/")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Settings")).to_have_count(0)
    expect(navigation.get_by_role("link", name="User management")).to_have_count(0)
