"""Webhooks (§10): the management API and real, form-encoded deliveries."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.integration


def hook(ac, url, events, sources=("api",), **extra) -> dict:
    response = ac.api.post(
        "/webhooks",
        {
            "webhook": {
                "name": "d365-sync",
                "url": url,
                "events": list(events),
                "sources": list(sources),
                **extra,
            }
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["webhook"]


def settle(ac) -> None:
    assert ac.app.webhooks.drain(10)


def test_it_manages_webhooks(ac):
    created = hook(
        ac, "https://sync.example/ac/hook/secret", ["subscribe", "update"], ["public", "admin"]
    )
    assert created["listid"] == "0"
    assert created["events"] == ["subscribe", "update"]
    listed = ac.api.get("/webhooks", params={"filters[name]": "d365-sync"}).json()
    assert [w["id"] for w in listed["webhooks"]] == [created["id"]]
    assert listed["meta"]["total"] == "1"
    updated = ac.api.put(f"/webhooks/{created['id']}", {"webhook": {"events": ["update"]}}).json()[
        "webhook"
    ]
    assert updated["events"] == ["update"]
    assert ac.api.get(f"/webhooks/{created['id']}").json()["webhook"]["events"] == ["update"]
    assert ac.api.delete(f"/webhooks/{created['id']}").json() == {}
    assert ac.api.get(f"/webhooks/{created['id']}").status_code == 404


def test_it_validates_webhooks(ac):
    missing = ac.api.post(
        "/webhooks", {"webhook": {"name": "x", "url": "https://x.example", "events": ["update"]}}
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["source"]["pointer"] == "/data/attributes/sources"
    bad_event = ac.api.post(
        "/webhooks",
        {
            "webhook": {
                "name": "x",
                "url": "https://x.example",
                "events": ["nope"],
                "sources": ["api"],
            }
        },
    )
    assert bad_event.status_code == 422
    bad_source = ac.api.post(
        "/webhooks",
        {
            "webhook": {
                "name": "x",
                "url": "https://x.example",
                "events": ["update"],
                "sources": ["bots"],
            }
        },
    )
    assert bad_source.status_code == 422


def test_it_lists_the_webhook_events(ac):
    body = ac.api.get("/webhook/events").json()
    assert {"subscribe", "update", "contact_tag_added", "sent", "open", "click"} <= set(
        body["webhookEvents"]
    )
    assert body["meta"]["total"] == len(body["webhookEvents"])


def test_it_delivers_form_encoded_contact_events(ac, receiver):
    field = ac.api.post("/fields", {"field": {"title": "D365 Id", "type": "text"}}).json()["field"]
    hook(ac, f"{receiver.url}/ac/hook/secret", ["subscribe", "update"])
    created = ac.api.post(
        "/contact/sync",
        {
            "contact": {
                "email": "ana@contoso.example",
                "firstName": "Ana",
                "fieldValues": [{"field": field["id"], "value": "GUID-1"}],
            }
        },
    ).json()["contact"]
    ac.api.post("/contact/sync", {"contact": {"email": "ana@contoso.example", "lastName": "Silva"}})
    settle(ac)
    received = receiver.wait(2)
    assert [r.form["type"] for r in received] == ["subscribe", "update"]
    first = received[0]
    assert first.path == "/ac/hook/secret"
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert b"contact%5Bemail%5D=ana%40contoso.example" in first.body  # PHP-style bracket keys
    form = received[1].form
    assert form["contact[id]"] == created["id"]
    assert form["contact[email]"] == "ana@contoso.example"
    assert form["contact[last_name]"] == "Silva"
    assert form["contact[fields][d365_id]"] == "GUID-1"
    assert form["initiated_from"] == "api"
    assert form["date_time"].endswith("-05:00")


def test_it_filters_deliveries_by_event_and_source(ac, receiver):
    hook(ac, f"{receiver.url}/admin-only", ["update"], ["admin"])
    contact_id = ac.api.post("/contacts", {"contact": {"email": "s@example.com"}}).json()[
        "contact"
    ]["id"]
    ac.api.put(f"/contacts/{contact_id}", {"contact": {"firstName": "By API"}})
    settle(ac)
    assert receiver.received == []  # an API change has source `api`
    edited = ac.control("POST", f"/demo/contacts/{contact_id}", {"contact": {"firstName": "By UI"}})
    assert edited.status_code == 200
    settle(ac)
    received = receiver.wait(1)
    assert [(r.form["type"], r.form["initiated_from"]) for r in received] == [("update", "admin")]
    assert received[0].form["contact[first_name]"] == "By UI"


def test_it_fires_no_update_when_nothing_changed(ac, receiver):
    hook(ac, receiver.url, ["update"])
    ac.api.post("/contact/sync", {"contact": {"email": "n@example.com", "firstName": "N"}})
    ac.api.post("/contact/sync", {"contact": {"email": "n@example.com", "firstName": "N"}})
    settle(ac)
    assert receiver.received == []


def test_it_delivers_tag_events(ac, receiver):
    hook(ac, receiver.url, ["contact_tag_added", "contact_tag_removed"], ["api", "admin"])
    contact_id = int(
        ac.api.post("/contacts", {"contact": {"email": "t@example.com"}}).json()["contact"]["id"]
    )
    tag = ac.api.post("/tags", {"tag": {"tag": "D365: Contact", "tagType": "contact"}}).json()[
        "tag"
    ]
    link = ac.api.post(
        "/contactTags", {"contactTag": {"contact": contact_id, "tag": int(tag["id"])}}
    ).json()
    ac.api.delete(f"/contactTags/{link['contactTag']['id']}")
    ac.control("POST", f"/demo/contacts/{contact_id}/tags", {"tag": "VIP"})
    settle(ac)
    forms = [r.form for r in receiver.wait(3)]
    assert [(f["type"], f["tag"], f["initiated_from"]) for f in forms] == [
        ("contact_tag_added", "D365: Contact", "api"),
        ("contact_tag_removed", "D365: Contact", "api"),
        ("contact_tag_added", "VIP", "admin"),
    ]
    assert forms[0]["contact[tags]"] == "D365: Contact"


def test_it_delivers_campaign_events_with_their_sources(ac, receiver):
    ac.app.seed(2)
    hook(ac, receiver.url, ["sent", "open", "click"], ["api", "public"])
    contact_id = ac.api.post("/contacts", {"contact": {"email": "r@example.com"}}).json()[
        "contact"
    ]["id"]
    answer = requests.get(
        f"{ac.url}/admin/api.php",
        params={
            "api_action": "campaign_send",
            "api_output": "json",
            "email": "r@example.com",
            "campaignid": 1,
            "messageid": 0,
            "type": "mime",
            "action": "send",
        },
        headers={"Api-Token": ac.key},
        timeout=5,
    ).json()
    assert answer["result_code"] == 1
    ac.control("POST", "/demo/events", {"type": "open", "contact": contact_id, "campaign": 1})
    ac.control(
        "POST",
        "/demo/events",
        {"type": "click", "contact": contact_id, "campaign": 1, "url": "https://x.example/a"},
    )
    settle(ac)
    forms = [r.form for r in receiver.wait(3)]
    assert [(f["type"], f["initiated_from"]) for f in forms] == [
        ("sent", "api"),
        ("open", "public"),
        ("click", "public"),
    ]
    assert forms[0]["campaign[id]"] == "1"
    assert forms[0]["campaign[message][subject]"] == "What's new this spring"
    assert forms[0]["contact[email]"] == "r@example.com"
    assert forms[2]["link[url]"] == "https://x.example/a"


def test_it_delivers_form_submissions_as_public_subscribes(ac, receiver):
    ac.app.seed(2)
    hook(ac, receiver.url, ["subscribe"], ["public"], listid=1)
    submitted = ac.control(
        "POST",
        "/demo/forms/1/submit",
        {"email": "visitor@example.com", "firstName": "Vi", "list": 1},
    )
    assert submitted.status_code == 200
    settle(ac)
    forms = [r.form for r in receiver.wait(1)]
    assert [(f["type"], f["list"], f["form[id]"]) for f in forms] == [("subscribe", "1", "1")]
    contact_id = submitted.json()["contact"]
    feed = ac.api.get("/activities", params={"contact": contact_id}).json()["activities"]
    assert [(a["reference_type"], a["reference_action"]) for a in feed] == [("Form", "submit")]


def test_it_restricts_list_scoped_events_to_the_webhooks_list(ac, receiver):
    ac.app.seed(2)
    hook(ac, receiver.url, ["subscribe", "unsubscribe"], ["api"], listid=2)
    contact_id = ac.api.post("/contacts", {"contact": {"email": "l@example.com"}}).json()[
        "contact"
    ]["id"]
    ac.api.post(
        "/contactLists", {"contactList": {"list": "1", "contact": contact_id, "status": "1"}}
    )
    ac.api.post(
        "/contactLists", {"contactList": {"list": "2", "contact": contact_id, "status": "1"}}
    )
    ac.api.post(
        "/contactLists", {"contactList": {"list": "2", "contact": contact_id, "status": "2"}}
    )
    settle(ac)
    forms = [r.form for r in receiver.wait(2)]
    # The creation (no list) and list 1 are not list 2's business.
    assert [(f["type"], f["list"]) for f in forms] == [("subscribe", "2"), ("unsubscribe", "2")]


def test_it_disables_a_webhook_whose_receiver_answers_410(ac, receiver):
    created = hook(ac, receiver.url, ["subscribe"])
    receiver.status = 410
    ac.api.post("/contacts", {"contact": {"email": "a@example.com"}})
    settle(ac)
    ac.api.post("/contacts", {"contact": {"email": "b@example.com"}})
    settle(ac)
    assert len(receiver.received) == 1
    deliveries = ac.control("GET", "/webhook-deliveries").json()["deliveries"]
    assert [(d["webhook"], d["status"]) for d in deliveries] == [(int(created["id"]), 410)]


def test_it_never_retries_a_failed_delivery(ac, receiver):
    hook(ac, receiver.url, ["subscribe"])
    ac.app.webhooks.timeout = 0.2
    receiver.delay = 0.5
    ac.api.post("/contacts", {"contact": {"email": "slow@example.com"}})
    settle(ac)
    receiver.delay = 0
    receiver.status = 500
    ac.api.post("/contacts", {"contact": {"email": "failing@example.com"}})
    settle(ac)
    time.sleep(0.6)
    deliveries = ac.app.webhooks.deliveries
    assert len(deliveries) == 2
    assert "Timeout" in deliveries[0].error
    assert deliveries[1].status == 500
    assert len(receiver.received) == 2  # each event reached the receiver exactly once


def test_it_can_deliver_an_event_twice_to_show_at_least_once(ac, receiver):
    hook(ac, receiver.url, ["subscribe"])
    ac.app.webhooks.duplicate_rate = 1.0
    ac.api.post("/contacts", {"contact": {"email": "twice@example.com"}})
    settle(ac)
    received = receiver.wait(2)
    assert len(received) == 2
    assert received[0].form == received[1].form


def test_it_does_not_send_to_https_on_another_port(ac):
    hook(ac, "https://127.0.0.1:8443/hook", ["subscribe"])
    ac.api.post("/contacts", {"contact": {"email": "x@example.com"}})
    settle(ac)
    assert "port 443" in ac.app.webhooks.deliveries[0].error
