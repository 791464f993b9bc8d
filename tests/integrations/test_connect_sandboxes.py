"""Connecting for real: the Settings page against both sandboxes (S-1.2), and no secret in
any log line of a failed connect."""

from __future__ import annotations

import logging

import pytest
from playwright.sync_api import expect

from integrations.models import Integration
from integrations.services import integration_connect

pytestmark = pytest.mark.integration


def fill_settings(page, sandboxes, *, api_key: str) -> None:
    ac, dv = sandboxes.activecampaign, sandboxes.dataverse
    page.goto("/settings/")
    page.get_by_label("API URL").fill(ac.api_url)
    page.get_by_label("API key").fill(api_key)
    page.get_by_label("Org URL").fill(dv.org_url)
    page.get_by_label("Tenant id").fill(dv.tenant_id)
    page.get_by_label("Client id").fill(dv.client_id)
    page.get_by_label("Client secret").fill(dv.client_secret)
    page.get_by_text("Advanced").click()
    page.get_by_label("Authority host").fill(dv.authority_host)
    page.get_by_role("button", name="Connect").click()


@pytest.fixture
def trust_sandbox_tls(settings, sandboxes):
    settings.CONNECTOR_CA_BUNDLE = sandboxes.dataverse.ca_bundle


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_connects_to_both_sandboxes_and_confirms(admin_page, sandboxes, trust_sandbox_tls):
    Integration.objects.get_or_create(name="Default")
    page = admin_page

    fill_settings(page, sandboxes, api_key=sandboxes.activecampaign.api_key)

    dialog = page.get_by_role("dialog", name="Connected")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Connected to ActiveCampaign as")
    expect(dialog).to_contain_text("Connected to Dynamics 365")
    dialog.get_by_role("button", name="OK").click()
    expect(page.locator("#connection-state")).to_have_text("Connected")
    integration = Integration.objects.get(name="Default")
    assert integration.is_connected
    assert integration.ac_api_key == sandboxes.activecampaign.api_key
    page.goto("/")
    expect(page.get_by_text("Not connected yet")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_wrong_key_names_activecampaign_and_saves_nothing(
    admin_page, sandboxes, trust_sandbox_tls
):
    Integration.objects.get_or_create(name="Default")
    page = admin_page

    fill_settings(page, sandboxes, api_key="not-the-right-key-0000")

    error = page.locator("#connect-error")
    expect(error).to_contain_text("Not connected: nothing was saved.")
    expect(error).to_contain_text("ActiveCampaign refused the credentials")
    expect(error).to_contain_text("Connected to Dynamics 365")  # the other side was fine
    expect(page.locator("#connection-state")).to_have_text("Not connected yet")
    integration = Integration.objects.get(name="Default")
    assert not integration.is_connected and integration.ac_api_key == ""
    assert "not-the-right-key-0000" not in page.content()


@pytest.mark.django_db
def test_a_failed_connect_logs_no_secret(sandboxes, settings, caplog, admin_user):
    settings.CONNECTOR_CA_BUNDLE = sandboxes.dataverse.ca_bundle
    caplog.set_level(logging.DEBUG)
    ac_key, dv_secret = "wrong-ac-key-5ecret-111", "wrong-dv-5ecret-222"
    dv = sandboxes.dataverse
    integration = Integration.objects.get(name="Default")

    outcome = integration_connect(
        integration=integration,
        actor=admin_user,
        values={
            "ac_api_url": sandboxes.activecampaign.api_url,
            "ac_api_key": ac_key,
            "ac_budget_share": 80,
            "dynamics_org_url": dv.org_url,
            "dynamics_tenant_id": dv.tenant_id,
            "dynamics_client_id": dv.client_id,
            "dynamics_client_secret": dv_secret,
            "dynamics_authority_host": dv.authority_host,
            "dynamics_budget_share": 80,
        },
    )

    assert not outcome.saved
    assert outcome.check.activecampaign.reason == "unauthorized"
    assert outcome.check.dynamics.reason == "unauthorized"
    assert len(caplog.records) > 0  # the failure was logged, just not the secrets
    for text in (caplog.text, str(outcome.check)):
        assert ac_key not in text and dv_secret not in text
    assert not Integration.objects.get(pk=integration.pk).is_connected
