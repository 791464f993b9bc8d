"""A stored secret never goes to a host that was just typed: change where a side connects, and
its secret must be typed again, on every path that can change a connection."""

from __future__ import annotations

import contextlib
import io

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations import services
from integrations.models import AuditEntry, Integration
from integrations.services import SecretRequired, integration_connect
from tests.integrations.conftest import FORM

pytestmark = pytest.mark.django_db

AC_KEY = FORM["ac_api_key"]
DV_SECRET = FORM["dynamics_client_secret"]
OTHER_GUID = "99999999-8888-7777-6666-555555555555"
KEEP_SECRETS = {"ac_api_key": "", "dynamics_client_secret": ""}


@pytest.fixture
def connected(client, admin_user, fake_check):
    client.force_login(admin_user)
    client.post(reverse("integrations:settings"), FORM)
    integration = Integration.objects.get()
    assert integration.is_connected
    return integration


@pytest.mark.parametrize(
    ("field", "value", "secret", "words"),
    [
        ("ac_api_url", "https://attacker.example.com", "ac_api_key", "API URL changed"),
        ("dynamics_org_url", "https://attacker.example.com", "dynamics_client_secret", "Org URL"),
        ("dynamics_tenant_id", "attacker.onmicrosoft.com", "dynamics_client_secret", "Tenant id"),
        ("dynamics_client_id", OTHER_GUID, "dynamics_client_secret", "Client id"),
        (
            "dynamics_authority_host",
            "https://login.attacker.example.com",
            "dynamics_client_secret",
            "Authority host",
        ),
    ],
)
def test_it_asks_for_the_secret_again_when_its_endpoint_changes(
    client, connected, fake_check, field, value, secret, words
):
    calls, _ = fake_check

    response = client.post(reverse("integrations:settings"), {**FORM, **KEEP_SECRETS, field: value})

    assert len(calls) == 1  # only the first connect: nothing was sent anywhere
    errors = " ".join(response.context["form"].errors[secret])
    assert words in errors and "type the" in errors and "never sent to a new address" in errors
    other = "dynamics_client_secret" if secret == "ac_api_key" else "ac_api_key"
    assert other not in response.context["form"].errors
    integration = Integration.objects.get()
    assert getattr(integration, field) == FORM[field]


def test_it_connects_the_new_endpoint_with_the_secret_typed_again(client, connected, fake_check):
    calls, _ = fake_check

    client.post(
        reverse("integrations:settings"),
        {
            **FORM,
            "ac_api_key": "a-new-key-for-the-new-account",
            "dynamics_client_secret": "",
            "ac_api_url": "https://other.api-us1.com",
        },
    )

    assert calls[-1][0].api_url == "https://other.api-us1.com"
    assert calls[-1][0].api_key == "a-new-key-for-the-new-account"
    assert calls[-1][1].client_secret == DV_SECRET  # that side did not move: kept
    assert Integration.objects.get().ac_api_url == "https://other.api-us1.com"
    entry = AuditEntry.objects.get(action="integration.endpoint_change")
    assert entry.summary == "Changed ActiveCampaign API URL"
    assert entry.changes == {
        "ac_api_url": {"old": FORM["ac_api_url"], "new": "https://other.api-us1.com"}
    }
    connect = AuditEntry.objects.filter(action="integration.connect").first()
    assert connect.changes["ac_api_key"] == "(changed)"
    assert "a-new-key-for-the-new-account" not in str(connect.changes)


def test_it_audits_a_failed_attempt_to_move_an_endpoint(client, connected, fake_check):
    from connectors.services import ConnectionCheck, SideResult
    from connectors.types import Vendor

    _, result = fake_check
    result["check"] = ConnectionCheck(
        SideResult(Vendor.ACTIVECAMPAIGN, False, "ActiveCampaign could not be reached."),
        result["check"].dynamics,
    )

    client.post(
        reverse("integrations:settings"),
        {**FORM, "ac_api_key": "typed-again", "ac_api_url": "https://elsewhere.example.com"},
    )

    entry = AuditEntry.objects.get(action="integration.connect_failed")
    assert "ActiveCampaign API URL" in entry.summary
    assert entry.changes["ac_api_url"]["new"] == "https://elsewhere.example.com"
    assert "typed-again" not in str(entry.changes)
    assert Integration.objects.get().ac_api_url == FORM["ac_api_url"]


def test_the_service_refuses_a_moved_endpoint_without_its_secret(connected, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "connection_check", lambda **kw: sent.append(kw))
    values = {**FORM, **KEEP_SECRETS, "dynamics_authority_host": "https://login.evil.example"}

    with pytest.raises(SecretRequired) as raised:
        integration_connect(integration=connected, values=values, actor=None)

    assert raised.value.secrets == {"dynamics_client_secret": ("dynamics_authority_host",)}
    assert sent == []


@pytest.mark.integration
def test_it_sends_no_stored_key_to_a_host_typed_in_its_place(
    client, admin_user, connected_integration, recorder
):
    # Real HTTP: the stored key would reach the new "account" if the form let it through.
    client.force_login(admin_user)
    integration = connected_integration
    form = {
        "ac_api_url": recorder.url,
        "ac_api_key": "",
        "dynamics_org_url": integration.dynamics_org_url,
        "dynamics_tenant_id": integration.dynamics_tenant_id,
        "dynamics_client_id": integration.dynamics_client_id,
        "dynamics_client_secret": "",
        "dynamics_authority_host": integration.dynamics_authority_host,
        "ac_budget_share": "80",
        "dynamics_budget_share": "80",
    }

    response = client.post(reverse("integrations:settings"), form)

    assert response.status_code == 200
    assert "ac_api_key" in response.context["form"].errors
    assert recorder.seen == []
    assert Integration.objects.get(pk=integration.pk).ac_api_url != recorder.url


def test_a_new_integration_holds_no_secret_to_send(client, connected):
    client.post(reverse("integrations:add"), {"name": "Second client"})

    response = client.post(reverse("integrations:settings"), {**FORM, **KEEP_SECRETS})

    second = Integration.objects.get(name="Second client")
    assert not second.has_secret("ac_api_key") and not second.has_secret("dynamics_client_secret")
    errors = response.context["form"].errors
    assert errors["ac_api_key"] == ["Enter the API key."]
    assert errors["dynamics_client_secret"] == ["Enter the client secret."]


def test_the_admin_cannot_move_an_endpoint(client, connected):
    url = reverse("admin:integrations_integration_change", args=[connected.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert AC_KEY not in page.content.decode()

    client.post(
        url,
        {
            "name": "Renamed",
            "ac_api_url": "https://attacker.example.com",
            "dynamics_org_url": "https://attacker.example.com",
            "dynamics_authority_host": "https://login.attacker.example.com",
            "ac_budget_share": "80",
            "dynamics_budget_share": "80",
            "created_at_0": "2024-01-01",
            "created_at_1": "00:00:00",
        },
    )

    integration = Integration.objects.get()
    assert integration.ac_api_url == FORM["ac_api_url"]
    assert integration.dynamics_org_url == FORM["dynamics_org_url"]
    assert integration.dynamics_authority_host == FORM["dynamics_authority_host"]


def test_a_config_file_cannot_move_an_endpoint(connected, tmp_path):
    exported = tmp_path / "exported.yaml"
    call_command("syncconfig", "export", "-o", str(exported), stdout=io.StringIO())
    document = yaml.safe_load(exported.read_text())
    document.update(
        {"ac_api_url": "https://attacker.example.com", "dynamics_org_url": "https://x.example"}
    )
    document.setdefault("connection", {})["ac_api_url"] = "https://attacker.example.com"
    path = tmp_path / "moved.yaml"
    path.write_text(yaml.safe_dump(document))

    with contextlib.suppress(CommandError):  # refusing the file is as good as ignoring the keys
        call_command("syncconfig", "import", str(path), stdout=io.StringIO())

    integration = Integration.objects.get()
    assert integration.ac_api_url == FORM["ac_api_url"]
    assert integration.dynamics_org_url == FORM["dynamics_org_url"]
