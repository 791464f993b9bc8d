"""Sales-side calls: automations, campaigns and the v1 send, the activity feed, webhooks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import ConfigReason, ConfigurationError, RecordError, RetryableError

from .conftest import API_KEY, API_URL, BASE, body, path, query

AUTOMATIONS = {
    "automations": [
        {
            "id": "1",
            "name": "Email Subscription",
            "status": "2",
            "entered": "0",
            "exited": "0",
            "cdate": "2018-08-06T16:28:43-05:00",
            "mdate": "2018-08-06T16:33:10-05:00",
        },
        {
            "id": "2",
            "name": "Welcome series",
            "status": 1,
            "entered": "2",
            "exited": "2",
            "cdate": "2018-09-18T10:46:32-05:00",
            "mdate": "2018-09-18T10:54:30-05:00",
        },
    ],
    "meta": {"total": "2", "starts": []},
}


def test_it_lists_automations_with_their_status(rsps, client):
    rsps.get(BASE + "automations", json=AUTOMATIONS)

    automations = list(client.automations())

    assert [(a.id, a.name, a.active) for a in automations] == [
        ("1", "Email Subscription", False),
        ("2", "Welcome series", True),  # status as an int: ids and flags flip types
    ]
    assert automations[1].entered == 2


def test_it_adds_a_contact_to_an_active_automation(rsps, client):
    rsps.get(BASE + "automations/2", json={"automation": AUTOMATIONS["automations"][1]})
    rsps.post(
        BASE + "contactAutomations",
        status=201,
        json={
            "contacts": [{"id": "117"}],
            "contactAutomation": {
                "id": "9",
                "contact": "117",
                "seriesid": "2",
                "status": "1",
                "adddate": "2024-05-01T10:00:00-05:00",
            },
        },
    )

    enrolment = client.contact_automation_add("117", "2")

    assert body(rsps.calls[1]) == {"contactAutomation": {"contact": 117, "automation": 2}}
    assert (enrolment.id, enrolment.automation_id) == ("9", "2")
    assert enrolment.added_at == datetime(2024, 5, 1, 15, 0, tzinfo=UTC)


def test_it_refuses_an_inactive_automation_clearly(rsps, client):
    rsps.get(BASE + "automations/1", json=AUTOMATIONS)  # the SPEC's list-shaped answer

    with pytest.raises(RecordError, match="not active") as caught:
        client.contact_automation_add("117", "1")

    assert caught.value.code == "automation_inactive"
    assert [call.request.method for call in rsps.calls] == ["GET"]


def test_it_reports_an_enrolment_ac_refuses_as_a_record_error(rsps, client):
    rsps.get(BASE + "automations/2", json={"automation": AUTOMATIONS["automations"][1]})
    rsps.post(
        BASE + "contactAutomations",
        status=403,
        json={"message": "Could not create SubscriberSeries"},
    )
    rsps.get(BASE + "users/me", json={"user": {"id": "1"}})

    with pytest.raises(RecordError, match="SubscriberSeries"):
        client.contact_automation_add("117", "2")


def test_it_never_repeats_an_enrolment_that_may_have_happened(rsps, client):
    rsps.get(BASE + "automations/2", json={"automation": AUTOMATIONS["automations"][1]})
    rsps.post(BASE + "contactAutomations", status=500, json={"message": "oops"})

    with pytest.raises(RetryableError):
        client.contact_automation_add("117", "2")

    assert [call.request.method for call in rsps.calls].count("POST") == 1


def test_it_lists_a_contacts_automations(rsps, client):
    rsps.get(
        BASE + "contacts/6/contactAutomations",
        json={
            "contactAutomations": [
                {
                    "id": "6",
                    "contact": "6",
                    "seriesid": "2",
                    "status": "2",
                    "completed": 1,
                    "completeValue": 100,
                    "adddate": "2022-03-01T08:51:57-06:00",
                    "remdate": "2022-03-01T08:51:58-06:00",
                    "automation": "2",
                }
            ]
        },
    )

    (enrolment,) = client.contact_automations("6")

    assert enrolment.automation_id == "2"
    assert enrolment.completed is True and enrolment.complete_percent == 100
    assert enrolment.removed_at == datetime(2022, 3, 1, 14, 51, 58, tzinfo=UTC)


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

    (campaign,) = client.campaigns()
    (message,) = client.campaign_messages(campaign.id)

    assert query(rsps.calls[0])["orders[sdate]"] == ["DESC"]
    assert (campaign.name, campaign.automation_id, campaign.send_amount) == (
        "Opt In Email",
        None,
        12,
    )
    assert campaign.last_sent_at == datetime(2024, 5, 1, 15, 0, tzinfo=UTC)
    assert (message.id, message.subject, message.campaign_id) == ("7", "Spring offer", "1")


# -- v1 campaign_send ------------------------------------------------------------------------
V1 = f"{API_URL}/admin/api.php"


def test_it_sends_a_campaign_to_one_contact_through_v1(rsps, client):
    rsps.get(V1, json={"result_code": 1, "result_message": "Message sent", "result_output": "json"})

    result = client.campaign_send(email="ana@contoso.example", campaign_id="1", message_id="7")

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
        client.campaign_send(email="ana@contoso.example", campaign_id="99", message_id="7")


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
        client.campaign_send(email="ana@contoso.example", campaign_id="1", message_id="7")

    assert caught.value.reason == ConfigReason.UNAUTHORIZED


def test_it_never_sends_a_campaign_twice(rsps, client):
    rsps.get(V1, status=504, body="Gateway Timeout")

    with pytest.raises(RetryableError):
        client.campaign_send(email="ana@contoso.example", campaign_id="1", message_id="7")

    assert len(rsps.calls) == 1


def test_it_sends_again_after_a_429_which_sent_nothing(rsps, client):
    rsps.get(V1, status=429, json={}, headers={"Retry-After": "1"})
    rsps.get(V1, json={"result_code": 1, "result_message": "Message sent"})

    client.campaign_send(email="ana@contoso.example", campaign_id="1", message_id="7")

    assert len(rsps.calls) == 2


# -- activity feed ---------------------------------------------------------------------------
FEED = {
    "activities": [
        {
            "id": "900",
            "tstamp": "2024-05-03T09:00:00-05:00",
            "subscriberid": "4",
            "reference_type": "CampaignLog",
            "reference_action": "open",
            "referenceModelName": "log",
            "reference": {"type": "log", "id": "31"},
        },
        {
            "id": "899",
            "tstamp": "2024-05-02T09:00:00-05:00",
            "subscriberid": "4",
            "reference_type": "LinkData",
            "reference_action": "click",
            "reference": {"type": "link", "id": "5"},
        },
        {
            "id": "898",
            "tstamp": "2024-05-01T09:00:00-05:00",
            "subscriberid": "4",
            "reference_type": "SubscriberSeries",
            "reference_action": "",
            "reference": {"type": "automation", "id": "2"},
        },
        {
            "id": "897",
            "tstamp": "2024-04-30T09:00:00-05:00",
            "subscriberid": "4",
            "reference_type": "SubscriberList",
            "reference_action": "unsubscribe",
            "reference": {"type": "list", "id": "1"},
        },
        {
            "id": "865",
            "tstamp": "2019-01-03T12:16:19-06:00",
            "subscriberid": "4",
            "reference_type": "SubscriberEmail",
            "reference_id": "13",
            "reference_action": "",
            "referenceModelName": "contact-email",
            "reference": {"type": "contact-email", "id": "13"},
        },
        {
            "id": "864",
            "tstamp": "2019-01-02T12:00:00-06:00",
            "subscriberid": "4",
            "reference_type": "SomethingNew",
            "reference_action": "happened",
            "reference": {"type": "somethingNew", "id": "1"},
        },
    ],
    "logs": [{"id": "31", "campaign": "7"}],
    "campaigns": [{"id": "7", "name": "Spring offer"}],
    "links": [{"id": "5", "link": "https://contoso.example/offer", "campaignid": "7"}],
    "automations": [{"id": "2", "name": "Welcome series"}],
    "lists": [{"id": "1", "name": "Newsletter"}],
    "meta": {"total": "6"},
}


def test_it_reads_the_activity_feed_in_words(rsps, client):
    rsps.get(BASE + "activities", json=FEED)

    feed = list(client.contact_activities("4", after=datetime(2024, 1, 1, tzinfo=UTC)))

    assert [item.description for item in feed] == [
        "Opened campaign “Spring offer”",
        "Clicked https://contoso.example/offer in campaign “Spring offer”",
        "Entered automation “Welcome series”",
        "Unsubscribed from list “Newsletter”",
        "Was sent a 1:1 e-mail",
        "Something new happened",
    ]
    assert feed[0].occurred_at == datetime(2024, 5, 3, 14, 0, tzinfo=UTC)
    assert (feed[1].kind, feed[1].url, feed[1].subject) == (
        "link",
        "https://contoso.example/offer",
        "Spring offer",
    )
    params = query(rsps.calls[0])
    assert params["contact"] == ["4"]
    assert params["after"] == ["2024-01-01T00:00:00+00:00"]
    assert params["orders[tstamp]"] == ["DESC"]
    assert "reference.campaign" in params["include"][0].split(",")


def test_it_bounds_the_activity_feed(rsps, client):
    many = {
        "activities": [{**FEED["activities"][4], "id": str(i)} for i in range(100)],
        "meta": {"total": "100000"},
    }
    rsps.get(BASE + "activities", json=many)

    feed = list(client.contact_activities("4", max_items=150))

    assert len(feed) == 150
    assert len(rsps.calls) == 2


# -- webhooks --------------------------------------------------------------------------------
HOOK = {
    "id": "1",
    "name": "syncadmin",
    "url": "https://sync.example/ac/hook/s3cret",
    "events": ["update", "contact_tag_added"],
    "sources": ["public", "admin", "system"],
    "listid": "0",
    "cdate": "2016-01-01T12:00:00-00:00",
}


def test_it_registers_a_webhook_without_the_api_source(rsps, client):
    rsps.post(BASE + "webhooks", status=201, json={"webhook": HOOK})

    hook = client.webhook_create(
        name="syncadmin", url=HOOK["url"], events=["update", "contact_tag_added"]
    )

    assert body(rsps.calls[0]) == {
        "webhook": {
            "name": "syncadmin",
            "url": HOOK["url"],
            "events": ["update", "contact_tag_added"],
            "sources": ["public", "admin", "system"],
            "listid": 0,
        }
    }
    assert "api" not in hook.sources


def test_it_refuses_an_unknown_source(client):
    with pytest.raises(ValueError):
        client.webhook_create(name="n", url="https://x", events=["update"], sources=["robots"])


def test_it_lists_and_deletes_webhooks(rsps, client):
    rsps.get(BASE + "webhooks", json={"webhooks": [HOOK], "meta": {"total": "1"}})
    rsps.delete(BASE + "webhooks/1", json={})
    rsps.delete(BASE + "webhooks/2", status=404, json={"message": "No Result found"})

    (hook,) = client.webhooks(url=HOOK["url"])
    client.webhook_delete(hook.id)
    client.webhook_delete("2")  # already gone: fine

    assert query(rsps.calls[0])["filters[url]"] == [HOOK["url"]]
    assert [path(call) for call in rsps.calls[1:]] == ["/api/3/webhooks/1", "/api/3/webhooks/2"]


def test_it_lists_messages(rsps, client):
    rsps.get(
        BASE + "messages",
        json={
            "messages": [
                {
                    "id": "7",
                    "subject": "Update your subscription",
                    "fromname": "John Doe",
                    "fromemail": "noreply@example.com",
                    "name": "",
                }
            ],
            "meta": {"total": "1"},
        },
    )

    (message,) = client.messages()

    assert (message.id, message.subject, message.from_email) == (
        "7",
        "Update your subscription",
        "noreply@example.com",
    )
