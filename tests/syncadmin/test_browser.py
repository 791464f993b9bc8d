from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_in_and_sees_the_dashboard(page, admin_user, password):
    browser_login(page, username=admin_user.username, password=password)

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
    ).to_be_visible()
    # Bootstrap and htmx are served by the app itself (no CDN): both are live in the page.
    assert page.evaluate("typeof bootstrap") == "object"
    assert page.evaluate("typeof htmx") == "object"


def test_it_rejects_a_wrong_password(page, admin_user):
    page.goto("/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()


def test_the_pages_run_under_the_content_security_policy(admin_page, norole_user):
    from integrations.models import Integration

    Integration.objects.get_or_create(name="Default")  # a transactional test starts empty
    page = admin_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    for path in ("/", "/settings/", "/data/", "/data/lead/", "/audit/"):
        assert page.goto(path).status == 200, path
    # The user page's script (moved out of the template) still drives the type-ahead and the
    # confirmation before removing someone.
    page.goto("/users/")
    page.get_by_label("Find a person by name or e-mail").press_sequentially("nora")
    page.get_by_role("option", name="Nora Tester").click()
    expect(page.get_by_text("Selected: Nora Tester")).to_be_visible()
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_enabled()

    assert violations == []
