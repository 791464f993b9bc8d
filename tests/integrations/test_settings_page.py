from __future__ import annotations

import re

import pytest
from django.urls import reverse

from connectors.services import ConnectionCheck, SideResult
from connectors.types import Vendor
from integrations.models import AuditEntry, Integration
from tests.integrations.conftest import FORM, ok

pytestmark = pytest.mark.django_db


def test_it_connects_saves_and_shows_the_confirmation(client, admin_user, fake_check):
    calls, _ = fake_check
    client.force_login(admin_user)

    response = client.post(reverse("integrations:settings"), FORM, follow=True)

    integration = Integration.objects.get()
    assert integration.is_connected
    assert integration.ac_api_key == "the-ac-key-123456"
    assert integration.ac_identity == "ann@acme (account acme)"
    assert calls[0][0].api_url == "https://acme.api-us1.com"
    assert calls[0][1].client_secret == "the-client-secret-xyz"
    html = response.content.decode()
    assert 'id="connected-dialog"' in html
    assert "Connected to activecampaign as ann@acme (account acme)." in html


def test_it_saves_nothing_when_a_side_fails(client, admin_user, fake_check):
    _, result = fake_check
    result["check"] = ConnectionCheck(
        SideResult(
            Vendor.ACTIVECAMPAIGN,
            False,
            "ActiveCampaign refused the credentials. Check the API key.",
            reason="unauthorized",
        ),
        ok(Vendor.DYNAMICS, "org acme"),
    )
    client.force_login(admin_user)

    response = client.post(reverse("integrations:settings"), FORM)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not connected: nothing was saved." in html
    assert "ActiveCampaign refused the credentials" in html
    integration = Integration.objects.get()
    assert not integration.is_connected
    assert integration.ac_api_key == "" and integration.ac_api_url == ""
    assert not AuditEntry.objects.filter(action="integration.connect").exists()


def test_it_never_shows_a_stored_secret(client, admin_user, fake_check):
    client.force_login(admin_user)
    client.post(reverse("integrations:settings"), FORM)

    html = client.get(reverse("integrations:settings")).content.decode()

    assert "the-ac-key-123456" not in html
    assert "the-client-secret-xyz" not in html
    assert "stored (leave blank to keep)" in html


def test_it_keeps_the_stored_secret_when_the_field_is_left_blank(client, admin_user, fake_check):
    calls, _ = fake_check
    client.force_login(admin_user)
    client.post(reverse("integrations:settings"), FORM)

    client.post(
        reverse("integrations:settings"), {**FORM, "ac_api_key": "", "dynamics_client_secret": ""}
    )

    assert calls[1][0].api_key == "the-ac-key-123456"
    assert calls[1][1].client_secret == "the-client-secret-xyz"
    assert Integration.objects.get().ac_api_key == "the-ac-key-123456"


def test_it_requires_the_secrets_the_first_time(client, admin_user, fake_check):
    calls, _ = fake_check
    client.force_login(admin_user)

    response = client.post(
        reverse("integrations:settings"), {**FORM, "ac_api_key": "", "dynamics_client_secret": ""}
    )

    assert calls == []
    assert response.context["form"].errors["ac_api_key"] == ["Enter the API key."]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("ac_api_url", "http://acme.api-us1.com", "https://"),
        ("dynamics_org_url", "https://192.168.1.10", "internal"),
        ("dynamics_client_id", "not-a-guid", "GUID"),
        ("dynamics_tenant_id", "???", "tenant"),
    ],
)
def test_it_explains_bad_input_next_to_the_field(
    client, admin_user, fake_check, settings, field, value, error
):
    settings.SYNCADMIN_ALLOW_LOCAL_URLS = False
    calls, _ = fake_check
    client.force_login(admin_user)

    response = client.post(reverse("integrations:settings"), {**FORM, field: value})

    assert calls == []
    assert error in " ".join(response.context["form"].errors[field])


def test_it_audits_the_connect_without_secrets(client, admin_user, fake_check):
    client.force_login(admin_user)

    client.post(reverse("integrations:settings"), FORM)

    entry = AuditEntry.objects.get(action="integration.connect")
    assert entry.actor == admin_user
    assert entry.changes["ac_api_key"] == "(set)"
    assert entry.changes["ac_api_url"] == {"old": "", "new": "https://acme.api-us1.com"}
    assert "the-ac-key-123456" not in str(entry.changes)
    html = client.get(reverse("integrations:audit")).content.decode()
    assert "Connected ActiveCampaign and Dynamics 365" in html
    assert "the-ac-key-123456" not in html


def test_it_shows_not_connected_on_the_dashboard_until_connected(client, admin_user, fake_check):
    client.force_login(admin_user)

    before = client.get(reverse("dashboard")).content.decode()
    client.post(reverse("integrations:settings"), FORM)
    after = client.get(reverse("dashboard")).content.decode()

    assert "Not connected yet" in before and reverse("integrations:settings") in before
    assert "Not connected yet" not in after
    assert "org acme, app user 42" in after


def test_it_adds_a_second_integration_and_switches(client, admin_user, fake_check):
    client.force_login(admin_user)
    client.post(reverse("integrations:settings"), FORM)

    client.post(reverse("integrations:add"), {"name": "Second client"})
    page = client.get(reverse("integrations:settings"))

    assert page.context["integration"].name == "Second client"
    assert not page.context["integration"].is_connected
    first = Integration.objects.get(name="Default")
    client.post(reverse("integrations:switch"), {"integration": first.pk})
    assert client.get(reverse("integrations:settings")).context["integration"] == first


def test_it_refuses_a_duplicate_integration_name(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("integrations:add"), {"name": "default"})

    assert "exists already" in str(response.context["form"].errors)
    assert Integration.objects.count() == 1


def _failed(vendor, message, setting=""):
    return SideResult(vendor, False, message, reason="unreachable", setting=setting)


def test_it_says_the_saved_connection_still_stands_after_a_failed_connect(
    client, admin_user, fake_check
):
    _, result = fake_check
    client.force_login(admin_user)
    client.post(reverse("integrations:settings"), FORM)
    result["check"] = ConnectionCheck(
        ok(Vendor.ACTIVECAMPAIGN, "ann@acme"),
        _failed(Vendor.DYNAMICS, "Dynamics 365 could not be reached.", "org_url"),
    )

    response = client.post(
        reverse("integrations:settings"), {**FORM, "dynamics_budget_share": "50"}
    )

    html = response.content.decode()
    assert 'id="connection-state">Connected<' in html
    assert "The saved connection still stands" in html
    assert "Not connected: nothing was saved." not in html
    assert response.context["form"].errors["dynamics_org_url"] == [
        "Dynamics 365 could not be reached."
    ]
    assert Integration.objects.get().dynamics_budget_share == 80


def test_it_opens_advanced_at_an_authority_host_error(client, admin_user, fake_check):
    _, result = fake_check
    message = "Dynamics 365 could not be reached. (identity provider: could not connect to x)"
    result["check"] = ConnectionCheck(
        ok(Vendor.ACTIVECAMPAIGN, "ann@acme"),
        _failed(Vendor.DYNAMICS, message, "authority_host"),
    )
    client.force_login(admin_user)

    response = client.post(reverse("integrations:settings"), FORM)

    html = response.content.decode()
    assert '<details class="mt-4" open>' in html
    assert response.context["form"].errors["dynamics_authority_host"] == [message]
    authority_input = re.search(r'<input[^>]*name="dynamics_authority_host"[^>]*>', html)
    assert "autofocus" in authority_input.group(0)
    assert "is-invalid" in authority_input.group(0)


@pytest.mark.parametrize(
    "url", ["https://" + "a" * 64 + ".api-us1.com", "https://[::1", "https://acme.com:port"]
)
def test_a_malformed_host_is_a_field_error_not_a_server_error(client, admin_user, fake_check, url):
    calls, _ = fake_check
    client.force_login(admin_user)

    response = client.post(reverse("integrations:settings"), {**FORM, "ac_api_url": url})

    assert response.status_code == 200
    assert response.context["form"].errors["ac_api_url"]
    assert calls == []
