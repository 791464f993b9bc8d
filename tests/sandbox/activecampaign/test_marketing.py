"""Automations (§6), campaigns and messages (§7), lists (§2.6) and the activity feed (§9)."""

from __future__ import annotations

import json

import pytest
import requests

pytestmark = pytest.mark.integration


def automation_ids(ac) -> dict[str, dict]:
    return {a["status"]: a for a in ac.api.get("/automations").json()["automations"]}


@pytest.fixture
def sent(ac):
    """A seeded sandbox (2 people) plus a fresh contact that was sent campaign 1."""
    ac.app.seed(2)
    contact_id = ac.api.post("/contacts", {"contact": {"email": "reader@example.com"}}).json()[
        "contact"
    ]["id"]
    answer = send(ac, email="reader@example.com", campaignid=1)
    assert answer.json()["result_code"] == 1, answer.text
    return contact_id


def send(ac, *, use_header=True, **params):
    query = {
        "api_action": "campaign_send",
        "api_output": "json",
        "action": "send",
        "type": "mime",
        **params,
    }
    headers = {"Api-Token": ac.key} if use_header else {}
    if not use_header:
        query["api_key"] = ac.key
    return requests.get(f"{ac.url}/admin/api.php", params=query, headers=headers, timeout=5)


def test_it_lists_automations_with_their_status_and_starts(seeded):
    body = seeded.api.get("/automations").json()
    statuses = {a["status"] for a in body["automations"]}
    assert statuses == {"1", "2"}
    assert len(body["meta"]["starts"]) == len(body["automations"])
    assert {s["series"] for s in body["meta"]["starts"]} == {a["id"] for a in body["automations"]}
    one = seeded.api.get(f"/automations/{body['automations'][0]['id']}").json()["automation"]
    assert one["name"] == body["automations"][0]["name"]


def test_it_enrols_a_contact_into_an_active_automation(ac):
    ac.app.seed(2)
    active = next(a for a in ac.api.get("/automations").json()["automations"] if a["status"] == "1")
    contact_id = ac.api.post("/contacts", {"contact": {"email": "x@example.com"}}).json()[
        "contact"
    ]["id"]
    response = ac.api.post(
        "/contactAutomations",
        {"contactAutomation": {"contact": int(contact_id), "automation": int(active["id"])}},
    )
    assert response.status_code == 201
    enrolment = response.json()["contactAutomation"]
    assert enrolment["status"] == 1
    assert response.json()["contacts"][0]["id"] == contact_id
    mine = ac.api.get(f"/contacts/{contact_id}/contactAutomations").json()["contactAutomations"]
    assert [e["id"] for e in mine] == [enrolment["id"]]
    assert mine[0]["automation"] == active["id"]
    entered = ac.api.get(f"/automations/{active['id']}").json()["automation"]["entered"]
    assert int(entered) == int(active["entered"]) + 1
    feed = ac.api.get("/activities", params={"contact": contact_id}).json()["activities"]
    assert [a["reference_type"] for a in feed] == ["SubscriberSeries"]


def test_it_does_nothing_useful_when_enrolling_into_an_inactive_automation(ac):
    ac.app.seed(2)
    inactive = next(
        a for a in ac.api.get("/automations").json()["automations"] if a["status"] == "2"
    )
    contact_id = ac.api.post("/contacts", {"contact": {"email": "x@example.com"}}).json()[
        "contact"
    ]["id"]
    response = ac.api.post(
        "/contactAutomations",
        {"contactAutomation": {"contact": int(contact_id), "automation": int(inactive["id"])}},
    )
    assert response.status_code == 201
    enrolment = response.json()["contactAutomation"]
    assert enrolment["completeValue"] == 0
    assert enrolment["status"] == 2  # ended at once, without a step
    assert (
        ac.api.get(f"/automations/{inactive['id']}").json()["automation"]["entered"]
        == inactive["entered"]
    )
    assert ac.api.get("/activities", params={"contact": contact_id}).json()["activities"] == []


def test_it_refuses_to_enrol_into_a_missing_automation(ac):
    contact_id = ac.api.post("/contacts", {"contact": {"email": "x@example.com"}}).json()[
        "contact"
    ]["id"]
    response = ac.api.post(
        "/contactAutomations", {"contactAutomation": {"contact": int(contact_id), "automation": 99}}
    )
    assert response.status_code == 403
    assert response.json() == {"message": "Could not create SubscriberSeries"}


def test_it_removes_a_contact_from_an_automation(ac):
    ac.app.seed(2)
    active = next(a for a in ac.api.get("/automations").json()["automations"] if a["status"] == "1")
    contact_id = ac.api.post("/contacts", {"contact": {"email": "x@example.com"}}).json()[
        "contact"
    ]["id"]
    enrolment = ac.api.post(
        "/contactAutomations",
        {"contactAutomation": {"contact": int(contact_id), "automation": int(active["id"])}},
    ).json()["contactAutomation"]
    assert (
        ac.api.get(f"/contactAutomations/{enrolment['id']}").json()["contactAutomation"]["contact"]
        == contact_id
    )
    listed = ac.api.get("/contactAutomations", params={"filters[contact]": contact_id}).json()
    assert listed["meta"]["total"] == "1"
    assert ac.api.delete(f"/contactAutomations/{enrolment['id']}").json() == {}
    gone = ac.api.delete(f"/contactAutomations/{enrolment['id']}")
    assert gone.status_code == 403  # as delete-a-contactautomation documents it
    assert ac.api.get(f"/contactAutomations/{enrolment['id']}").status_code == 404


def test_it_lists_campaigns_with_their_stats_and_links(seeded):
    campaigns = seeded.api.get("/campaigns").json()["campaigns"]
    sent = [c for c in campaigns if c["status"] == "5"]
    assert sent and all(int(c["send_amt"]) > 0 for c in sent)
    for key in (
        "opens",
        "uniqueopens",
        "linkclicks",
        "uniquelinkclicks",
        "hardbounces",
        "unsubscribes",
    ):
        assert key in sent[0]
    ordered = seeded.api.get("/campaigns", params={"orders[sdate]": "DESC"}).json()["campaigns"]
    dates = [c["sdate"] for c in ordered if c["sdate"]]
    assert dates == sorted(dates, reverse=True)
    links = seeded.api.get(f"/campaigns/{sent[0]['id']}/links").json()["links"]
    assert {link["link"] for link in links} == {
        "https://www.example.com/offer",
        "https://www.example.com/blog",
    }
    assert seeded.api.get("/campaigns/999").json() == {
        "message": "No Result found for Campaign with id 999"
    }


def test_it_serves_the_campaign_messages_its_campaigns_link_to(seeded):
    # Every campaign links campaigns/{id}/campaignMessages (SPEC list-all-campaigns) and
    # campaignMessage (SPEC retrieve-a-campaign); TAP reads /campaignMessages. Each item names
    # the message and carries its subject (TAP schemas/campaign_messages.json).
    campaign = next(
        c for c in seeded.api.get("/campaigns").json()["campaigns"] if c["status"] == "5"
    )
    link = campaign["links"]["campaignMessages"]
    assert link.endswith(f"/api/3/campaigns/{campaign['id']}/campaignMessages")
    items = seeded.api.get(f"/campaigns/{campaign['id']}/campaignMessages").json()[
        "campaignMessages"
    ]
    assert items and all(i["campaignid"] == campaign["id"] for i in items)
    message = seeded.api.get(f"/messages/{items[0]['messageid']}").json()["message"]
    assert items[0]["subject"] == message["subject"]
    assert int(items[0]["send_amt"]) == int(campaign["send_amt"])
    single = seeded.api.get(f"/campaigns/{campaign['id']}/campaignMessage").json()
    assert single["campaignMessage"]["id"] == items[0]["id"]
    everything = seeded.api.get("/campaignMessages", params={"limit": 100}).json()
    assert int(everything["meta"]["total"]) == len(everything["campaignMessages"]) >= len(items)
    assert seeded.api.get("/campaigns/999/campaignMessages").status_code == 404


def test_it_creates_a_draft_campaign_and_soft_fails_deleting_a_missing_one(ac):
    created = ac.api.post(
        "/campaign", {"type": "single", "name": "Draft", "canSplitContent": False}
    )
    assert created.status_code == 200
    campaign_id = created.json()["id"]
    assert isinstance(campaign_id, int)
    assert ac.api.get(f"/campaigns/{campaign_id}").json()["campaign"]["status"] == "0"
    bad = ac.api.post("/campaign", {"type": "single"}, check=False)
    assert bad.status_code == 400
    assert bad.json() == {"errors": ["Field name is required"]}
    assert ac.api.delete(f"/campaigns/{campaign_id}", check=False).json()["succeeded"] == 1
    assert ac.api.delete(f"/campaigns/{campaign_id}", check=False).json()["succeeded"] == 0


def test_it_manages_messages(ac):
    body = {
        "message": {
            "fromname": "AC Admin",
            "fromemail": "noreply@example.com",
            "reply2": "hello@example.com",
            "subject": "Hello",
            "preheader_text": "Pre-header Text",
            "text": "hello",
            "html": "<div>hello</div>",
        }
    }
    refused = ac.api.post("/messages", {"message": {"subject": "no sender"}})
    assert refused.status_code == 422
    created = ac.api.post("/messages", body)
    assert created.status_code == 201
    message_id = created.json()["message"]["id"]
    updated = ac.api.put(
        f"/messages/{message_id}", {"message": {**body["message"], "subject": "Hi"}}
    )
    assert updated.json()["message"]["subject"] == "Hi"
    assert ac.api.get("/messages").json()["meta"]["total"] == "1"
    assert ac.api.delete(f"/messages/{message_id}").json() == {}
    assert ac.api.get(f"/messages/{message_id}").json() == {
        "message": f"No Result found for Message with id {message_id}"
    }


def test_it_sends_a_campaign_to_one_contact_through_v1(ac, sent):
    campaign = ac.api.get("/campaigns/1").json()["campaign"]
    contact = ac.api.get(f"/contacts/{sent}").json()["contact"]
    assert contact["sentcnt"] == "1"
    feed = ac.api.get(
        "/activities", params={"contact": sent, "include": "reference.log.campaign"}
    ).json()
    assert [(a["reference_type"], a["reference_action"]) for a in feed["activities"]] == [
        ("CampaignLog", "sent")
    ]
    assert json.loads(feed["activities"][0]["jsonData"])["campaignid"] == 1
    assert [c["id"] for c in feed["campaigns"]] == ["1"]
    assert feed["logs"][0]["campaignid"] == "1"
    before = int(campaign["send_amt"])
    send(ac, email="reader@example.com", campaignid=1, use_header=False)  # api_key param
    assert int(ac.api.get("/campaigns/1").json()["campaign"]["send_amt"]) == before + 1


def test_it_sends_a_test_without_counting_it(ac, sent):
    before = ac.api.get("/campaigns/1").json()["campaign"]["send_amt"]
    answer = send(ac, email="reader@example.com", campaignid=1, action="test").json()
    assert answer["result_code"] == 1
    assert ac.api.get("/campaigns/1").json()["campaign"]["send_amt"] == before


def test_it_answers_v1_failures_inside_a_200(ac, sent):
    unknown_campaign = send(ac, email="reader@example.com", campaignid=999)
    assert unknown_campaign.status_code == 200
    assert unknown_campaign.json()["result_code"] == 0
    assert send(ac, email="nobody@example.com", campaignid=1).json()["result_code"] == 0
    bad_key = requests.get(
        f"{ac.url}/admin/api.php",
        params={"api_action": "campaign_send", "api_output": "json", "api_key": "wrong"},
        timeout=5,
    )
    assert bad_key.status_code == 200
    assert bad_key.json() == {
        "result_code": 0,
        "result_message": "You are not authorized to access this file",
        "result_output": "json",
    }


def test_it_records_opens_and_clicks_and_updates_the_stats(ac, sent):
    before = ac.api.get("/campaigns/1").json()["campaign"]
    assert (
        ac.control(
            "POST", "/demo/events", {"type": "open", "contact": sent, "campaign": 1}
        ).status_code
        == 200
    )
    ac.control("POST", "/demo/events", {"type": "open", "contact": sent, "campaign": 1})
    clicked = ac.control(
        "POST",
        "/demo/events",
        {"type": "click", "contact": sent, "campaign": 1, "url": "https://www.example.com/offer"},
    )
    assert clicked.status_code == 200
    after = ac.api.get("/campaigns/1").json()["campaign"]
    assert int(after["opens"]) == int(before["opens"]) + 2
    assert int(after["uniqueopens"]) == int(before["uniqueopens"]) + 1
    assert int(after["linkclicks"]) == int(before["linkclicks"]) + 1
    feed = ac.api.get(
        "/activities",
        params={"contact": sent, "orders[tstamp]": "ASC", "include": "reference.link"},
    ).json()
    assert [a["reference_action"] for a in feed["activities"]] == ["sent", "open", "open", "click"]
    assert feed["links"][0]["link"] == "https://www.example.com/offer"
    never = ac.control("POST", "/demo/events", {"type": "open", "contact": sent, "campaign": 2})
    assert never.status_code == 409


def test_it_filters_the_activity_feed_by_time(ac):
    ac.app.seed(2)
    contact_id = ac.api.post("/contacts", {"contact": {"email": "f@example.com"}}).json()[
        "contact"
    ]["id"]
    tag = ac.api.post("/tags", {"tag": {"tag": "A", "tagType": "contact"}}).json()["tag"]
    other = ac.api.post("/tags", {"tag": {"tag": "B", "tagType": "contact"}}).json()["tag"]
    ac.app.clock = lambda: 1_700_000_000.0
    ac.api.post("/contactTags", {"contactTag": {"contact": int(contact_id), "tag": int(tag["id"])}})
    ac.app.clock = lambda: 1_700_000_600.0
    ac.api.post(
        "/contactTags", {"contactTag": {"contact": int(contact_id), "tag": int(other["id"])}}
    )
    feed = ac.api.get(
        "/activities", params={"contact": contact_id, "include": "reference.tag"}
    ).json()
    assert [a["reference_type"] for a in feed["activities"]] == ["SubscriberTag", "SubscriberTag"]
    assert feed["activities"][0]["tstamp"] > feed["activities"][1]["tstamp"]  # newest first
    assert {t["tag"] for t in feed["tags"]} == {"A", "B"}
    later = ac.api.get(
        "/activities", params={"contact": contact_id, "after": "2023-11-14T17:20:00-05:00"}
    ).json()
    assert later["meta"]["total"] == "1"


def test_it_subscribes_contacts_to_lists(ac):
    ac.app.seed(2)
    contact_id = ac.api.post("/contacts", {"contact": {"email": "l@example.com"}}).json()[
        "contact"
    ]["id"]
    response = ac.api.post(
        "/contactLists", {"contactList": {"list": "2", "contact": contact_id, "status": "1"}}
    )
    assert response.status_code == 200
    assert response.json()["contactList"]["status"] == 1
    memberships = ac.api.get(f"/contacts/{contact_id}/contactLists").json()["contactLists"]
    assert [(m["list"], m["status"]) for m in memberships] == [("2", "1")]
    ac.api.post(
        "/contactLists", {"contactList": {"list": "2", "contact": contact_id, "status": "2"}}
    )
    unsubscribed = ac.api.get("/contacts", params={"listid": 2, "status": 2}).json()["contacts"]
    assert [c["id"] for c in unsubscribed] == [contact_id]
    assert ac.api.get("/lists/99").json() == {"message": "No Result found for _List with id 99"}
    assert (
        ac.api.post(
            "/lists",
            {
                "list": {
                    "name": "Events",
                    "stringid": "events",
                    "sender_url": "https://x.example",
                    "sender_reminder": "r",
                }
            },
        ).status_code
        == 200
    )


def test_it_seeds_the_documented_kinds_of_data(seeded):
    titles = {f["title"]: f["type"] for f in seeded.api.get("/fields").json()["fields"]}
    assert titles == {
        "Lead source": "dropdown",
        "Interests": "listbox",
        "Birthday": "date",
        "D365 Id": "text",
    }
    assert int(seeded.api.get("/accounts").json()["meta"]["total"]) > 10
    assert int(seeded.api.get("/accountContacts").json()["meta"]["total"]) > 100
    assert int(seeded.api.get("/tags").json()["meta"]["total"]) >= 5
    assert seeded.api.get("/accountCustomFieldMeta").json()["accountCustomFieldMeta"]
    kinds = {
        a["reference_type"]
        for a in seeded.api.get("/activities", params={"limit": 100}).json()["activities"]
    }
    assert {"CampaignLog", "SubscriberTag"} <= kinds
    all_kinds = {
        r[0] for r in seeded.app.db.execute("SELECT DISTINCT reference_type FROM activities")
    }
    assert all_kinds == {"CampaignLog", "LinkData", "SubscriberTag", "SubscriberSeries", "Form"}
