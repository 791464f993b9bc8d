"""Campaigns and their messages, and the v1 send to one contact (never twice)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import ConfigReason, ConfigurationError, RecordError, RetryableError

from .conftest import API_KEY, API_URL, BASE, path, query


def test_it_lists_campaigns_and_their_messages(rsps, client):
    rsps.get(
        BASE + "campaigns",
        json={
            "campaigns": [
                {
                    "id": "1",
                    "name": "Opt In Email",
                    "type": "single",
                    "status": "5",
                    "seriesid": "0",
                    "sdate": None,
                    "ldate": "2024-05-01T10:00:00-05:00",
                    "send_amt": "12",
                    "uniqueopens": "4",
                }
            ],
            "meta": {"total": "1"},
        },
    )
    rsps.get(
        BASE + "campaigns/1/campaignMessages",
        json={
            "campaignMessages": [
                {"id": "3", "campaignid": "1", "messageid": "7", "subject": "Spring offer"}
            ]
        },
    )

    (campaign,) = client.campaigns.all()
    (message,) = client.campaigns.messages(campaign.id)

    assert query(rsps.calls[0])["orders[sdate]"] == ["DESC"]
    assert (campaign.name, campaign.automation_id, campaign.send_amount) == (
        "Opt In Email",
        None,
        12,
    )
    assert campaign.last_sent_at == datetime(2024, 5, 1, 15, 0, tzinfo=UTC)
    assert (message.id, message.subject, message.campaign_id) == ("7", "Spring offer", "1")


V1 = f"{API_URL}/admin/api.php"


def test_it_sends_a_campaign_to_one_contact_through_v1(rsps, client):
    rsps.get(V1, json={"result_code": 1, "result_message": "Message sent", "result_output": "json"})

    result = client.campaigns.send(email="ana@contoso.example", campaign_id="1", message_id="7")

    request = rsps.calls[0].request
    assert path(rsps.calls[0]) == "/admin/api.php"
    assert query(rsps.calls[0]) == {
        "api_action": ["campaign_send"],
        "api_output": ["json"],
        "email": ["ana@contoso.example"],
        "campaignid": ["1"],
        "messageid": ["7"],
        "type": ["mime"],
        "action": ["send"],
    }
    assert request.headers["Api-Token"] == API_KEY
    assert API_KEY not in request.url
    assert result.message == "Message sent"


def test_it_reports_a_send_v1_refused(rsps, client):
    rsps.get(
        V1, json={"result_code": 0, "result_message": "Campaign not found", "result_output": "json"}
    )

    with pytest.raises(RecordError, match="Campaign not found"):
        client.campaigns.send(email="ana@contoso.example", campaign_id="99", message_id="7")


def test_it_reads_v1s_refused_key(rsps, client):
    rsps.get(
        V1,
        json={
            "result_code": "0",
            "result_message": "You are not authorized to access this file",
            "result_output": "json",
        },
    )

    with pytest.raises(ConfigurationError) as caught:
        client.campaigns.send(email="ana@contoso.example", campaign_id="1", message_id="7")

    assert caught.value.reason == ConfigReason.UNAUTHORIZED


def test_it_never_sends_a_campaign_twice(rsps, client):
    rsps.get(V1, status=504, body="Gateway Timeout")

    with pytest.raises(RetryableError):
        client.campaigns.send(email="ana@contoso.example", campaign_id="1", message_id="7")

    assert len(rsps.calls) == 1


def test_it_sends_again_after_a_429_which_sent_nothing(rsps, client):
    rsps.get(V1, status=429, json={}, headers={"Retry-After": "1"})
    rsps.get(V1, json={"result_code": 1, "result_message": "Message sent"})

    client.campaigns.send(email="ana@contoso.example", campaign_id="1", message_id="7")

    assert len(rsps.calls) == 2
