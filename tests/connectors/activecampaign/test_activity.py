"""The activity feed in words, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from .conftest import BASE, query

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

    feed = list(client.activities.for_contact("4", after=datetime(2024, 1, 1, tzinfo=UTC)))

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

    feed = list(client.activities.for_contact("4", max_items=150))

    assert len(feed) == 150
    assert len(rsps.calls) == 2


def test_it_names_enrolments_and_tag_links_through_what_they_link(rsps, client):
    # An item may name the enrolment (contactAutomation) or the contact-tag link; the named
    # automation or tag comes side-loaded beside the link.
    rsps.get(
        BASE + "activities",
        json={
            "activities": [
                {
                    "id": "2",
                    "tstamp": "2024-05-02T09:00:00-05:00",
                    "subscriberid": "4",
                    "reference_type": "SubscriberSeries",
                    "reference_action": "start",
                    "referenceModelName": "contactAutomation",
                    "reference": {"type": "contactAutomation", "id": "70"},
                },
                {
                    "id": "1",
                    "tstamp": "2024-05-01T09:00:00-05:00",
                    "subscriberid": "4",
                    "reference_type": "SubscriberTag",
                    "reference_action": "add",
                    "referenceModelName": "contactTag",
                    "reference": {"type": "contactTag", "id": "80"},
                },
            ],
            "contactAutomations": [{"id": "70", "automation": "3", "seriesid": "3"}],
            "automations": [{"id": "70", "name": "Wrong one"}, {"id": "3", "name": "Nurture"}],
            "contactTags": [{"id": "80", "tag": "9", "contact": "4"}],
            "tags": [{"id": "9", "tag": "Customer"}],
            "meta": {"total": "2"},
        },
    )

    feed = list(client.activities.for_contact("4"))

    assert [(a.kind, a.subject) for a in feed] == [("automation", "Nurture"), ("tag", "Customer")]
    assert [a.description for a in feed] == ["Entered automation “Nurture”", "Tag “Customer” added"]
    assert "reference.tag" in query(rsps.calls[0])["include"][0].split(",")
