"""The Settings page in a browser: a failed Connect beside a working saved connection."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.models import Integration

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_a_failed_connect_points_at_the_authority_host_and_keeps_the_saved_one(
    admin_page, connected_integration
):
    page = admin_page
    saved_authority = connected_integration.dynamics_authority_host
    page.goto("/settings/")
    expect(page.locator("#connection-state")).to_have_text("Connected")

    page.get_by_text("Advanced").click()
    # Nothing listens on port 1: the identity provider cannot be reached.
    page.get_by_label("Authority host").fill("https://localhost:1")
    page.get_by_label("Client secret").fill(connected_integration.dynamics_client_secret)
    page.get_by_role("button", name="Connect").click()

    expect(page.locator("#connect-error")).to_be_visible()
    expect(page.locator("#connection-state")).to_have_text("Connected")
    expect(page.locator("#connection-stands")).to_contain_text("The saved connection still stands")
    authority = page.get_by_label("Authority host")
    expect(page.locator("details")).to_have_attribute("open", "")
    expect(authority).to_be_visible()
    expect(authority).to_be_focused()
    expect(authority).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#error_1_id_dynamics_authority_host")).to_contain_text(
        "could not connect to localhost:1"
    )
    integration = Integration.objects.get(pk=connected_integration.pk)
    assert integration.dynamics_authority_host == saved_authority
    assert integration.is_connected
