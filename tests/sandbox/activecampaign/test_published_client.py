"""A v3 client published by others, used unchanged against the sandbox.

GearPlug's `activecampaign-python` (MIT, on PyPI) was written against the real API; nobody
here wrote it. If the sandbox drifted from AC's documented behaviour, these calls would break.
"""

from __future__ import annotations

import pytest
from activecampaign.client import Client

pytestmark = pytest.mark.integration


@pytest.fixture
def client(ac) -> Client:
    ac.app.seed(20)
    return Client(ac.url, ac.key)


def test_it_serves_the_contact_calls_of_a_published_client(client):
    contacts = client.contacts
    created = contacts.create_a_contact(
        {"contact": {"email": "gp@example.com", "firstName": "Gear", "lastName": "Plug"}}
    )
    contact_id = created["contact"]["id"]
    synced = contacts.create_or_update_contact(
        {"contact": {"email": "gp@example.com", "phone": "1"}}
    )
    assert (synced["contact"]["phone"], synced["contact"]["firstName"]) == ("1", "Gear")
    assert contacts.retrieve_a_contact(contact_id)["contact"]["email"] == "gp@example.com"
    updated = contacts.update_a_contact(contact_id, {"contact": {"lastName": "Plug2"}})
    assert updated["contact"]["lastName"] == "Plug2"
    assert contacts.list_all_contacts(email="gp@example.com")["meta"]["total"] == "1"
    listed = contacts.update_list_status_for_a_contact(
        {"contactList": {"list": 1, "contact": contact_id, "status": 1}}
    )
    assert listed["contactList"]["list"] == "1"
    assert contacts.retrieve_a_contacts_account_contacts(contact_id) == {"accountContacts": []}
    assert "contactDatum" in contacts.retrieve_a_contacts_data(contact_id)
    assert contacts.delete_a_contact(contact_id) == {}
    assert contacts.retrieve_a_contact(contact_id) == {
        "message": f"No Result found for Subscriber with id {contact_id}"
    }


def test_it_serves_the_field_tag_and_automation_calls_of_a_published_client(client):
    contacts = client.contacts
    contact_id = contacts.create_a_contact({"contact": {"email": "f@example.com"}})["contact"]["id"]
    assert len(contacts.list_all_custom_fields()["fields"]) == 4  # the seeded ones
    field_id = contacts.create_a_custom_field({"field": {"title": "Colour", "type": "dropdown"}})[
        "field"
    ]["id"]
    contacts.create_custom_field_options(
        {"fieldOptions": [{"field": field_id, "label": "Red", "value": "Red"}]}
    )
    assert contacts.retrieve_field_options(field_id)["fieldOptions"][0]["value"] == "Red"
    assert "fieldRel" in contacts.create_a_custom_field_relationship_to_list(
        {"fieldRel": {"field": field_id, "relid": 0}}
    )
    contacts.create_a_custom_field_value(
        {"fieldValue": {"contact": contact_id, "field": field_id, "value": "Red"}}
    )
    assert contacts.retrieve_a_contacts_field_values(contact_id)["fieldValues"][0]["value"] == "Red"
    tag = client.tags.create_a_tag({"tag": {"tag": "GP", "tagType": "contact", "description": ""}})
    link = contacts.add_a_tag_to_contact(
        {"contactTag": {"contact": contact_id, "tag": tag["tag"]["id"]}}
    )
    assert len(contacts.retrieve_contact_tags(contact_id)["contactTags"]) == 1
    assert contacts.remove_a_tag_from_a_contact(link["contactTag"]["id"]) == {}
    assert client.tags.list_all_tags(search="GP")["tags"][0]["tag"] == "GP"
    automations = client.automations.list_all_automations()["automations"]
    active = next(a for a in automations if a["status"] == "1")
    enrolment = contacts.add_a_contact_to_an_automation(
        {"contactAutomation": {"contact": contact_id, "automation": active["id"]}}
    )["contactAutomation"]
    assert (
        len(contacts.list_all_automations_the_contacts_is_in(contact_id)["contactAutomations"]) == 1
    )
    assert contacts.remove_a_contact_from_an_automation(enrolment["id"]) == {}


def test_it_serves_the_campaign_webhook_and_custom_object_calls_of_a_published_client(client, ac):
    assert len(client.campaigns.list_all_campaigns()["campaigns"]) == 4
    assert len(client.campaigns.retrieve_a_link_associated_campaign(1)["links"]) == 2
    hook = client.webhooks.create_a_webhook(
        {
            "webhook": {
                "name": "w",
                "url": "http://127.0.0.1:9/x",
                "events": ["update"],
                "sources": ["admin"],
            }
        }
    )["webhook"]
    assert client.webhooks.list_all_webhooks()["meta"]["total"] == "1"
    assert client.webhooks.delete_a_webhook(hook["id"]) == {}
    contact_id = client.contacts.create_a_contact({"contact": {"email": "o@example.com"}})[
        "contact"
    ]["id"]
    objects = client.customobjects
    schema = objects.create_a_schema(
        {
            "schema": {
                "slug": "gp-obj",
                "labels": {"singular": "Object", "plural": "Objects"},
                "fields": [
                    {"id": "n", "labels": {"singular": "N", "plural": "N"}, "type": "number"}
                ],
                "relationships": [
                    {
                        "id": "primary-contact",
                        "labels": {"singular": "Contact", "plural": "Contacts"},
                        "namespace": "contacts",
                        "hasMany": False,
                    }
                ],
            }
        }
    )["schema"]
    record = objects.create_or_update_record(
        schema["id"],
        {
            "record": {
                "externalId": "e1",
                "fields": [{"id": "n", "value": 5}],
                "relationships": {"primary-contact": [int(contact_id)]},
            }
        },
    )["record"]
    assert record["relationships"] == {"primary-contact": [contact_id]}
    assert (
        objects.retrieve_a_record_by_external_id(schema["id"], "e1")["record"]["id"] == record["id"]
    )
    assert (
        objects.retrieve_a_schema(schema["id"], show_all_fields=True)["schema"]["slug"] == "gp-obj"
    )
    assert objects.delete_a_record_by_external_id(schema["id"], "e1") == ""  # 202, no body
    assert ac.api.get(f"/customObjects/records/{schema['id']}").json()["records"] == []


def test_it_serves_the_token_checks_and_read_streams_of_a_published_client(client, ac):
    # The token checks: the key's own user, and the bare API root older taps call first.
    assert client.users.retrieve_logged_in_user()["user"]["username"] == "admin"
    assert client._get("/") == {}
    assert Client(ac.url, "not-a-key")._get("/") == {"message": "Forbidden"}
    # created_timestamp/updated_timestamp, the replication keys of campaigns, lists and tags.
    for records in (
        client.campaigns.list_all_campaigns()["campaigns"],
        client.lists.retrieve_all_lists()["lists"],
        client.tags.list_all_tags()["tags"],
    ):
        assert records
        assert all(r["created_timestamp"] and r["updated_timestamp"] for r in records)
    # Deals, read-only, by page and one by one.
    first = client.deals.list_all_deals(limit=2, offset=0)
    seeded = ac.app.db.execute_one("SELECT COUNT(*) FROM deals")[0]
    assert first["meta"]["total"] == seeded > 2
    everything = client.deals.list_all_deals(limit=100)["deals"]
    assert [d["id"] for d in everything[:2]] == [d["id"] for d in first["deals"]]
    deal = client.deals.retrieve_a_deal(everything[-1]["id"])["deal"]
    assert deal == everything[-1]
    # The contact list with side-loads; segments and forms through the client's own request
    # path (it has no method for them).
    page = client.contacts.list_all_contacts(include="accountContacts,deals", limit=100)
    assert len(page["accountContacts"]) == len(page["contacts"])
    assert {d["id"] for d in page["deals"]} == {d["id"] for d in everything}
    assert client._get("/segments", params={"limit": 2})["meta"]["total"] == "3"
    forms = client._get("/forms")["forms"]
    assert [f["name"] for f in forms] == ["Website signup", "Webinar registration"]
