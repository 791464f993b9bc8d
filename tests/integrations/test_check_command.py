from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_it_reports_both_sides_in_words(connected_integration):
    out = io.StringIO()

    call_command("connectors", "check", stdout=out)

    text = out.getvalue()
    assert "Default:" in text
    assert "OK   Connected to ActiveCampaign as" in text
    assert "OK   Connected to Dynamics 365" in text


def test_it_fails_naming_the_side_and_the_reason(connected_integration):
    connected_integration.ac_api_key = "wrong-key"
    connected_integration.save()
    out = io.StringIO()

    with pytest.raises(CommandError, match="Connection check failed for: Default"):
        call_command("connectors", "check", "--integration", "Default", stdout=out)

    assert "FAIL ActiveCampaign refused the credentials. Check the API key." in out.getvalue()
    assert "wrong-key" not in out.getvalue()


def test_it_says_what_is_missing_before_anything_is_configured(db):
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("connectors", "check", stdout=out)

    assert "not configured yet" in out.getvalue()
