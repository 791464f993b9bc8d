from __future__ import annotations

import base64

import pytest
from django.core.management import call_command
from django.db import connection

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
