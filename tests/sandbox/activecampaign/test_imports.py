"""Bulk contact import (§11.1): validation, asynchronous processing and its status."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration


def batch(ac, contacts, check=True, **extra):
    return ac.api.post("/import/bulk_import", {"contacts": contacts, **extra}, check=check)


def wait_done(ac, batch_id: str) -> dict:
    assert ac.app.imports.drain(10)
    return ac.api.get("/import/info", params={"batchId": batch_id}).json()


def test_it_queues_an_import_and_processes_it_later(ac):
    ac.app.import_delay = 0.3
    queued = batch(
        ac, [{"email": "a@example.com", "first_name": "Ana"}, {"email": "b@example.com"}]
    )
    assert queued.status_code == 200
    body = queued.json()
    assert body["success"] == 1
    assert body["queued_contacts"] == 2
    assert body["message"] == "Contact import queued"
    outstanding = ac.api.get("/import/info", params={"batchId": body["batchId"]}).json()
    assert outstanding == {"status": "outstanding", "success": [], "failure": []}
    assert ac.api.get("/contacts").json()["meta"]["total"] == "0"
    listing = ac.api.get("/import/bulk_import").json()
    assert listing["outstanding"][0]["batches"] == "1"
    assert listing["outstanding"][0]["contacts"] == "2"
    done = wait_done(ac, body["batchId"])
    assert done["status"] == "completed"
    assert len(done["success"]) == 2
    assert done["failure"] == []
    listing = ac.api.get("/import/bulk_import").json()
    assert listing["outstanding"] == []
    assert listing["recentlyCompleted"][0]["contacts"] == "2"


def test_it_imports_snake_case_attributes_fields_tags_accounts_and_lists(ac):
    ac.app.seed(2)
    interests = next(f for f in ac.api.get("/fields").json()["fields"] if f["title"] == "Interests")
    queued = batch(
        ac,
        [
            {
                "email": "ana@contoso.example",
                "first_name": "Ana",
                "last_name": "Silva",
                "phone": "+351210000000",
                "customer_acct_name": "Contoso Imports",
                "tags": ["D365: Contact", "customer"],
                "fields": [{"id": int(interests["id"]), "value": "||Webinars||Events||"}],
                "subscribe": [{"listid": "2"}],
                "exclude_automations": True,
            }
        ],
    ).json()
    done = wait_done(ac, queued["batchId"])
    contact_id = done["success"][0]
    contact = ac.api.get(f"/contacts/{contact_id}").json()
    assert (contact["contact"]["firstName"], contact["contact"]["lastName"]) == ("Ana", "Silva")
    assert contact["contact"]["orgname"] == "Contoso Imports"
    assert [v["value"] for v in contact["fieldValues"]] == ["||Webinars||Events||"]
    assert [m["list"] for m in contact["contactLists"]] == ["2"]
    tag_ids = {
        t["tag"] for t in ac.api.get(f"/contacts/{contact_id}/contactTags").json()["contactTags"]
    }
    names = {t["id"]: t["tag"] for t in ac.api.get("/tags", params={"limit": 100}).json()["tags"]}
    # "customer" matched the existing "Customer" tag; "D365: Contact" was created.
    assert {names[i] for i in tag_ids} == {"D365: Contact", "Customer"}


def test_it_updates_existing_contacts_by_email(ac):
    existing = ac.api.post(
        "/contacts", {"contact": {"email": "e@example.com", "firstName": "Old"}}
    ).json()
    done = wait_done(
        ac, batch(ac, [{"email": "E@example.com", "first_name": "New"}]).json()["batchId"]
    )
    assert done["success"] == [existing["contact"]["id"]]
    assert (
        ac.api.get(f"/contacts/{existing['contact']['id']}").json()["contact"]["firstName"] == "New"
    )


def test_it_validates_the_payload_before_queueing(ac):
    invalid = batch(ac, [{"email": "ok@example.com"}, {"email": "not-an-email"}])
    assert invalid.status_code == 400
    body = invalid.json()
    assert body["success"] == 0
    assert body["failureReasons"] == [
        {"contact": 1, "failureReason": "Field 'email' incorrect format"}
    ]
    too_many = batch(ac, [{"email": f"{n}@example.com"} for n in range(251)])
    assert too_many.status_code == 400
    assert isinstance(too_many.json()["failureReasons"][0], str)
    bad_fields = batch(
        ac, [{"email": "f@example.com", "fields": [{"value": "no id"}]}], check=False
    )
    assert bad_fields.status_code == 400
    assert ac.app.db.execute_one("SELECT COUNT(*) FROM imports")[0] == 0


def test_it_skips_contacts_unsubscribed_from_a_list_it_would_subscribe_them_to(ac):
    ac.app.seed(2)
    contact_id = ac.api.post("/contacts", {"contact": {"email": "gone@example.com"}}).json()[
        "contact"
    ]["id"]
    ac.api.post(
        "/contactLists", {"contactList": {"list": "2", "contact": contact_id, "status": "2"}}
    )
    queued = batch(
        ac,
        [
            {"email": "gone@example.com", "first_name": "X", "subscribe": [{"listid": 2}]},
            {"email": "new@example.com"},
        ],
        check=False,
    ).json()
    done = wait_done(ac, queued["batchId"])
    assert done["failure"] == ["gone@example.com"]
    assert len(done["success"]) == 1
    assert ac.api.get(f"/contacts/{contact_id}").json()["contact"]["firstName"] == ""


def test_it_fires_no_webhooks_for_imports(ac, receiver):
    ac.api.post(
        "/webhooks",
        {
            "webhook": {
                "name": "h",
                "url": receiver.url,
                "events": ["subscribe", "update", "contact_tag_added"],
                "sources": ["public", "admin", "api", "system"],
            }
        },
    )
    wait_done(ac, batch(ac, [{"email": "quiet@example.com", "tags": ["T"]}]).json()["batchId"])
    assert ac.app.webhooks.drain(5)
    time.sleep(0.1)
    assert receiver.received == []


def test_it_calls_the_callback_once_done(ac, receiver):
    queued = batch(
        ac,
        [{"email": "cb@example.com"}],
        callback={
            "url": f"{receiver.url}/import-done",
            "requestType": "POST",
            "detailed_results": "true",
            "params": [{"key": "run", "value": "42"}],
            "headers": [{"key": "X-Token", "value": "t0ken"}],
        },
    ).json()
    wait_done(ac, queued["batchId"])
    received = receiver.wait(1)
    assert received[0].path == "/import-done"
    assert received[0].headers["X-Token"] == "t0ken"
    assert received[0].form["run"] == "42"
    assert received[0].form["batchId"] == queued["batchId"]


def test_it_answers_info_errors(ac):
    missing = ac.api.get("/import/info")
    assert missing.status_code == 400
    assert missing.json() == {"success": 0, "message": "'batchId' is a required field."}
    assert ac.api.get("/import/info", params={"batchId": "nope"}).status_code == 404


def test_it_limits_single_contact_imports_when_rate_limits_are_on(ac):
    ac.app.rate_limit = 1000  # the account's 5/s is not what is tested here
    answers = [batch(ac, [{"email": f"{n}@example.com"}]).status_code for n in range(21)]
    assert answers[:20] == [200] * 20
    assert answers[20] == 400
    refused = batch(ac, [{"email": "x@example.com"}]).json()
    assert refused["message"] == "Rate limit exceeded."
