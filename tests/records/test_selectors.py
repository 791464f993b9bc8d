"""The records section's pure helpers, as tables: activity in words, the contact's AC link."""

from __future__ import annotations

import pytest
from django.utils import translation

from connectors.activecampaign.records import Activity
from integrations.models import Integration
from records.selectors import activity_text, contact_url


def _activity(kind: str, action: str = "", subject: str = "", url: str = "") -> Activity:
    return Activity(
        id="1",
        contact_id="4",
        occurred_at=None,
        kind=kind,
        action=action,
        description=f"connector words for {kind}",
        subject=subject,
        url=url,
    )


@pytest.mark.parametrize(
    ("activity", "text"),
    [
        (_activity("campaign", "sent", "Spring"), "Was sent campaign “Spring”"),
        (_activity("campaign", "open", "Spring"), "Opened campaign “Spring”"),
        (_activity("campaign", "bounce"), "Campaign a campaign bounced"),
        (
            _activity("link", "click", "Spring", "https://x.example/"),
            "Clicked https://x.example/ in campaign “Spring”",
        ),
        (_activity("link", "click"), "Clicked a link"),
        (_activity("automation", "start", "Welcome"), "Entered automation “Welcome”"),
        (_activity("automation", "completed", "Welcome"), "Completed automation “Welcome”"),
        (_activity("automation", "exit", "Welcome"), "Left automation “Welcome”"),
        (_activity("tag", "add", "VIP"), "Tag “VIP” added"),
        (_activity("tag", "remove", "VIP"), "Tag “VIP” removed"),
        (_activity("form", "submit", "Website signup"), "Submitted form “Website signup”"),
        (_activity("list", "unsubscribe", "Newsletter"), "Unsubscribed from list “Newsletter”"),
        (_activity("email"), "Was sent a 1:1 e-mail"),
        (_activity("deal", "won"), "connector words for deal"),
    ],
)
def test_it_says_what_happened(activity, text):
    with translation.override("en"):
        assert activity_text(activity) == text


@pytest.mark.parametrize(
    ("api_url", "link"),
    [
        ("https://acme.api-us1.com", "https://acme.activehosted.com/app/contacts/7"),
        ("https://acme.api-us1.com/api/3/", "https://acme.activehosted.com/app/contacts/7"),
        ("https://acme.api-eu2.com", "https://acme.activehosted.com/app/contacts/7"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/app/contacts/7"),
        ("", ""),  # not connected: no link
    ],
)
def test_it_links_the_contact_in_the_activecampaign_app(api_url, link):
    assert contact_url(integration=Integration(ac_api_url=api_url), ac_id="7") == link
