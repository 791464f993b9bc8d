from __future__ import annotations

import base64

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from integrations.crypto import SecretsUnavailable
from integrations.models import Integration

pytestmark = pytest.mark.django_db

API_KEY = "ac-key-0123456789abcdef-SECRET"
CLIENT_SECRET = "dv~secret.ZYXWVUT-987654"


def raw_row(pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ac_api_key, dynamics_client_secret FROM integrations_integration WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_it_stores_no_secret_in_clear_text():
    integration = Integration.objects.create(
        name="Acme", ac_api_key=API_KEY, dynamics_client_secret=CLIENT_SECRET
    )

    stored_key, stored_secret = raw_row(integration.pk)

    assert API_KEY not in stored_key and CLIENT_SECRET not in stored_secret
    assert stored_key.startswith("gAAAA")  # a Fernet token
    fresh = Integration.objects.get(pk=integration.pk)
    assert fresh.ac_api_key == API_KEY
    assert fresh.dynamics_client_secret == CLIENT_SECRET


def test_it_rotates_to_a_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEY[0]
    integration = Integration.objects.create(name="Acme", ac_api_key=API_KEY)
    before = raw_row(integration.pk)[0]
    new_key = base64.urlsafe_b64encode(b"n" * 32).decode()
    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]

    call_command("rotate_secrets", stdout=open("/dev/null", "w"))  # noqa: SIM115

    after = raw_row(integration.pk)[0]
    assert after != before
    # Readable with the new key alone: the old one can now be dropped.
    settings.FIELD_ENCRYPTION_KEY = [new_key]
    assert Integration.objects.get(pk=integration.pk).ac_api_key == API_KEY


def test_it_keeps_an_empty_secret_empty():
    integration = Integration.objects.create(name="Acme")

    assert raw_row(integration.pk) == ("", "")


GUID = "11111111-2222-3333-4444-555555555555"
OTHER_KEY = base64.urlsafe_b64encode(b"w" * 32).decode()


@pytest.fixture
def stored(db):
    """The Default integration with both secrets stored (encrypted with the test key)."""
    integration = Integration.objects.get(name="Default")
    integration.ac_api_url = "https://acme.api-us1.com"
    integration.dynamics_org_url = "https://acme.crm.dynamics.com"
    integration.dynamics_tenant_id = integration.dynamics_client_id = GUID
    integration.ac_api_key, integration.dynamics_client_secret = API_KEY, CLIENT_SECRET
    integration.save()
    return integration


def test_it_decrypts_a_secret_only_when_it_is_read(stored, settings):
    settings.FIELD_ENCRYPTION_KEY = [OTHER_KEY]  # the stored tokens no longer decrypt

    loaded = Integration.objects.get(pk=stored.pk)

    assert loaded.name == "Default" and loaded.ac_api_url == "https://acme.api-us1.com"
    assert loaded.has_secret("ac_api_key") and loaded.has_secret("dynamics_client_secret")
    with pytest.raises(SecretsUnavailable, match="FIELD_ENCRYPTION_KEY"):
        loaded.ac_api_key  # noqa: B018


def test_saving_a_row_keeps_a_secret_nobody_read(stored):
    before = raw_row(stored.pk)
    loaded = Integration.objects.get(pk=stored.pk)

    loaded.name = "Renamed"
    loaded.save()

    assert raw_row(stored.pk) == before  # the same tokens, not re-encrypted values


@pytest.mark.parametrize("keys", [[OTHER_KEY], [], ["not-a-fernet-key"]])
def test_pages_without_secrets_work_with_a_wrong_or_missing_key(
    client, admin_user, stored, settings, keys
):
    settings.FIELD_ENCRYPTION_KEY = keys
    client.force_login(admin_user)

    for name in ("dashboard", "integrations:settings", "integrations:audit", "users:manage"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    assert 'id="connection-state"' in client.get(reverse("integrations:settings")).content.decode()


@pytest.mark.parametrize("keys", [[OTHER_KEY], []])
def test_a_page_that_needs_a_secret_says_what_to_fix(client, admin_user, stored, settings, keys):
    settings.FIELD_ENCRYPTION_KEY = keys
    client.force_login(admin_user)
    form = {
        "ac_api_url": stored.ac_api_url,
        "ac_api_key": "",  # keep the stored one: it must be decrypted now
        "dynamics_org_url": "https://acme.crm.dynamics.com",
        "dynamics_tenant_id": GUID,
        "dynamics_client_id": GUID,
        "dynamics_client_secret": "",
        "dynamics_authority_host": "https://login.microsoftonline.com",
        "ac_budget_share": "80",
        "dynamics_budget_share": "80",
    }

    response = client.post(reverse("integrations:settings"), form)

    assert response.status_code == 503
    html = response.content.decode()
    assert "Stored secrets cannot be read" in html
    assert "FIELD_ENCRYPTION_KEY" in html
    assert API_KEY not in html


def test_it_tells_a_secret_is_stored_without_decrypting_a_deferred_field(stored, settings):
    settings.FIELD_ENCRYPTION_KEY = [OTHER_KEY]

    loaded = Integration.objects.defer("ac_api_key").get(pk=stored.pk)

    assert loaded.has_secret("ac_api_key")
    assert not Integration.objects.create(name="Empty").has_secret("ac_api_key")
