"""Writes against the sandbox: contact sync and update, bulk import, tags, accounts and their
contacts, custom fields, custom objects. What the sandbox holds afterwards is read from its
database: the truth the connector's own answers are compared with."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import requests

from connectors.activecampaign import (
    AccountFieldInput,
    ContactChanges,
    CustomObjectField,
    CustomObjectSchemaSpec,
    ImportContact,
    ImportOutcome,
    ListStatus,
)
from connectors.errors import ConflictError
from connectors.types import ChoiceOption

from .conftest import requests_by_path

pytestmark = pytest.mark.integration


def count(ac, sql: str, *params) -> int:
    return ac.db.execute_one(sql, params)[0]


@pytest.fixture
def api(sandboxes):
    """Plain HTTP to the sandbox, for arranging what the connector does not write."""
    session = requests.Session()
    session.headers["Api-Token"] = sandboxes.activecampaign.api_key
    base = sandboxes.activecampaign.api_url + "/api/3/"

    def call(method: str, path: str, body=None):
        answer = session.request(method, base + path, json=body, timeout=5)
        assert answer.ok, answer.text
        return answer.json()

    return call


# -- contact/sync and PUT ------------------------------------------------------------------
def test_it_creates_then_updates_only_the_given_fields(client, ac):
    colour = client.custom_fields.create(title="Colour", type="text")
    size = client.custom_fields.create(title="Size", type="text")
    first = client.contacts.sync(
        ContactChanges(
            email="ana@contoso.example",
            first_name="Ana",
            last_name="Silva",
            phone="+351210000000",
            field_values={colour.id: "Blue", size.id: "M"},
        )
    )
    assert first.created

    second = client.contacts.sync(
        ContactChanges(email="ana@contoso.example", last_name="Silva-Costa", first_name="")
    )

    assert not second.created
    assert second.contact.id == first.contact.id
    stored = client.contacts.get(first.contact.id)
    # An empty first name is "not given", never a clear; what was not sent stays.
    assert (stored.first_name, stored.last_name, stored.phone) == (
        "Ana",
        "Silva-Costa",
        "+351210000000",
    )
    assert {v.field_id: v.raw for v in stored.field_values} == {colour.id: "Blue", size.id: "M"}
    sent = ac.log.entries(method="POST", path_prefix="/api/3/contact/sync")
    assert [e.status for e in sent] == [201, 200]


def test_it_clears_only_what_is_deliberately_cleared(client):
    colour = client.custom_fields.create(title="Colour", type="text")
    size = client.custom_fields.create(title="Size", type="text")
    contact = client.contacts.sync(
        ContactChanges(
            email="ana@contoso.example",
            first_name="Ana",
            phone="+351210000000",
            field_values={colour.id: "Blue", size.id: "M"},
        )
    ).contact

    client.contacts.sync(
        ContactChanges(email="ana@contoso.example", clear=frozenset({"phone", colour.id}))
    )

    stored = client.contacts.get(contact.id)
    assert (stored.first_name, stored.phone) == ("Ana", "")
    assert stored.field_value(colour.id).raw == ""
    assert stored.field_value(size.id).raw == "M"


def test_it_changes_an_email_by_id_without_making_a_second_contact(client, ac):
    contact = client.contacts.sync(
        ContactChanges(email="old@contoso.example", first_name="Ana")
    ).contact

    updated = client.contacts.update(contact.id, ContactChanges(email="new@contoso.example"))

    assert (updated.id, updated.email, updated.first_name) == (
        contact.id,
        "new@contoso.example",
        "Ana",
    )
    # The next sync by the new address finds the same contact.
    again = client.contacts.sync(ContactChanges(email="new@contoso.example", last_name="Silva"))
    assert not again.created and again.contact.id == contact.id
    assert client.contacts.find_by_email("old@contoso.example") is None
    assert count(ac, "SELECT COUNT(*) FROM contacts") == 1


def test_it_refuses_an_email_taken_by_another_contact_as_a_conflict(client):
    client.contacts.sync(ContactChanges(email="taken@contoso.example"))
    other = client.contacts.sync(ContactChanges(email="other@contoso.example")).contact

    with pytest.raises(ConflictError) as caught:
        client.contacts.update(other.id, ContactChanges(email="taken@contoso.example"))

    assert caught.value.field == "email"


def test_it_deletes_contacts_accounts_and_records_and_takes_gone_as_done(client, ac):
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    account = client.accounts.ensure("Contoso")
    schema = client.custom_objects.ensure_schema(OPPORTUNITY_V1)
    client.custom_objects.upsert(schema, external_id="opp-1", values={"name": "Renewal"})

    assert client.contacts.delete(contact.id) is True
    assert client.accounts.delete(account.id) is True
    assert client.custom_objects.delete(schema, "opp-1") is True

    assert client.contacts.find_by_email("ana@contoso.example") is None
    assert client.accounts.find("Contoso") is None
    assert client.custom_objects.record(schema, "opp-1") is None
    # Deleted meanwhile (by someone else, or by our own earlier try): done either way.
    assert client.contacts.delete(contact.id) is False
    assert client.accounts.delete(account.id) is False
    assert client.custom_objects.delete(schema, "opp-1") is False


# -- lists -------------------------------------------------------------------------------------
def test_it_subscribes_and_unsubscribes_without_overriding_an_unsubscribe(client, ac, api):
    newsletter = api("POST", "lists", {"list": {"name": "Newsletter", "sender_url": "x"}})["list"]
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact

    assert [m.name for m in client.lists.all()] == ["Newsletter"]
    assert client.lists.subscribe(contact.id, newsletter["id"]).status is ListStatus.ACTIVE
    assert client.lists.unsubscribe(contact.id, newsletter["id"]).status is (
        ListStatus.UNSUBSCRIBED
    )
    # She unsubscribed: a sync that wants her on the list leaves her off it.
    kept = client.lists.subscribe(contact.id, newsletter["id"])

    assert kept.status is ListStatus.UNSUBSCRIBED
    stored = ac.db.execute_one(
        "SELECT status FROM contact_lists WHERE contact = ?", (int(contact.id),)
    )
    assert stored["status"] == 2
    (membership,) = client.lists.for_contact(contact.id)
    assert (membership.list_id, membership.status) == (newsletter["id"], ListStatus.UNSUBSCRIBED)


# -- bulk import -----------------------------------------------------------------------------
def patient_sleep(clock):
    """The injected clock, with real pauses long enough for the sandbox's import worker."""

    def sleep(seconds: float) -> None:
        clock.sleep(0)
        clock.now += max(0.0, seconds)
        time.sleep(min(max(0.0, seconds), 0.05))

    return sleep


def test_it_imports_600_contacts_in_three_requests_and_polls_them_to_the_end(
    make_client, clock, ac
):
    client = make_client(sleep=patient_sleep(clock))
    segment = client.custom_fields.create(title="Segment", type="text")
    ac.import_delay = 0.15  # each batch waits "outstanding" a little, as AC's queue does
    people = [
        ImportContact(
            email=f"person{i:04d}@import.example",
            first_name=f"First{i}",
            last_name="Imported",
            account_name=f"Company {i % 7}",
            tags=("D365: Contact", "Imported"),
            field_values={segment.id: f"S{i % 3}"},
        )
        for i in range(600)
    ]

    result = client.imports.bulk(people, poll_interval=0.5, wait=120)

    assert result.count(ImportOutcome.IMPORTED) == 600
    assert len(result.batch_ids) == 3
    posts = ac.log.entries(method="POST", path_prefix="/api/3/import/bulk_import")
    assert len(posts) == 3
    polls = ac.log.entries(method="GET", path_prefix="/api/3/import/info")
    assert {parse_qs(p.query)["batchId"][0] for p in polls} == set(result.batch_ids)
    assert len(polls) > len(result.batch_ids)  # polled while outstanding, until completed
    assert count(ac, "SELECT COUNT(*) FROM contacts") == 600
    assert count(ac, "SELECT COUNT(*) FROM tags") == 2
    assert count(ac, "SELECT COUNT(*) FROM contact_tags") == 1200
    assert count(ac, "SELECT COUNT(*) FROM companies") == 7
    assert count(ac, "SELECT COUNT(*) FROM account_contacts") == 600
    assert count(ac, "SELECT COUNT(*) FROM field_values WHERE value = 'S1'") == 200
    print(f"\nbulk import: 600 contacts, {len(posts)} POSTs, {len(polls)} status polls")


def test_it_maps_refused_and_skipped_contacts_back_to_their_inputs(make_client, clock, ac, api):
    client = make_client(sleep=patient_sleep(clock))
    newsletter = api("POST", "lists", {"list": {"name": "Newsletter", "sender_url": "x"}})
    list_id = newsletter["list"]["id"]
    gone = client.contacts.sync(ContactChanges(email="gone@import.example")).contact
    api(
        "POST",
        "contactLists",
        {"contactList": {"list": list_id, "contact": gone.id, "status": 2}},
    )
    people = [
        ImportContact(email="ok1@import.example", subscribe_list_ids=(list_id,)),
        ImportContact(email="not-an-email", subscribe_list_ids=(list_id,)),
        ImportContact(email="gone@import.example", subscribe_list_ids=(list_id,)),
        ImportContact(email="x@", subscribe_list_ids=(list_id,)),
        ImportContact(email="ok2@import.example", subscribe_list_ids=(list_id,)),
    ]

    result = client.imports.bulk(people, poll_interval=0.5, wait=60)

    outcomes = [(r.index, r.email, r.outcome) for r in result.results]
    assert outcomes == [
        (0, "ok1@import.example", ImportOutcome.IMPORTED),
        (1, "not-an-email", ImportOutcome.REJECTED),
        (2, "gone@import.example", ImportOutcome.FAILED),
        (3, "x@", ImportOutcome.REJECTED),
        (4, "ok2@import.example", ImportOutcome.IMPORTED),
    ]
    assert "email" in result.results[1].reason.lower()
    # Refused once with reasons, sent again without the two refused contacts.
    posts = ac.log.entries(method="POST", path_prefix="/api/3/import/bulk_import")
    assert [p.status for p in posts] == [400, 200]
    assert count(ac, "SELECT COUNT(*) FROM contacts") == 3


# -- tags --------------------------------------------------------------------------------------
def test_it_finds_or_creates_tags_and_adds_and_removes_them_once(client, make_client, ac):
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    created = client.tags.ensure("D365: Customer")

    # Another process (no cache) finds it by name, whatever the case.
    found = make_client().tags.ensure("d365: customer")
    client.tags.add(contact.id, "D365: Customer")
    client.tags.add(contact.id, created)

    assert found.id == created.id
    assert count(ac, "SELECT COUNT(*) FROM tags") == 1
    assert requests_by_path(ac, "POST")[("POST", "/api/3/tags")] == 1
    assert count(ac, "SELECT COUNT(*) FROM contact_tags") == 1
    assert [t.tag_id for t in client.tags.for_contact(contact.id)] == [created.id]

    assert client.tags.remove(contact.id, "D365: Customer") is True
    assert count(ac, "SELECT COUNT(*) FROM contact_tags") == 0
    assert client.tags.remove(contact.id, "D365: Customer") is False
    assert client.tags.remove(contact.id, "Never existed") is False


def test_it_takes_a_404_on_untagging_as_done(client, ac, sandboxes):
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    client.tags.add(contact.id, "Webinar attendee")
    stale = client.tags.for_contact(contact.id)
    # An automation (here: a user in AC's UI) removes it between our read and our DELETE.
    removed = requests.post(
        f"{sandboxes.activecampaign.api_url}/_sandbox/activecampaign/demo/contacts/"
        f"{contact.id}/tags",
        json={"tag": "Webinar attendee", "remove": True},
        headers=sandboxes.control_headers,
        timeout=5,
    )
    assert removed.json() == {"changed": True}
    client.tags.for_contact = lambda contact_id: stale

    assert client.tags.remove(contact.id, "Webinar attendee") is True

    deletes = ac.log.entries(method="DELETE", path_prefix="/api/3/contactTags/")
    assert [e.status for e in deletes] == [404]


# -- accounts and their contacts ------------------------------------------------------------
def test_it_finds_or_creates_accounts_with_custom_fields(client, ac, api):
    revenue = api(
        "POST",
        "accountCustomFieldMeta",
        {"accountCustomFieldMetum": {"fieldLabel": "Revenue", "fieldType": "currency"}},
    )["accountCustomFieldMetum"]["id"]
    regions = api(
        "POST",
        "accountCustomFieldMeta",
        {
            "accountCustomFieldMetum": {
                "fieldLabel": "Regions",
                "fieldType": "multiselect",
                "fieldOptions": ["EU", "US", "APAC"],
            }
        },
    )["accountCustomFieldMetum"]["id"]

    created = client.accounts.ensure(
        "Contoso Ltd",
        url="https://contoso.example",
        fields=[
            AccountFieldInput(revenue, Decimal("12500.50"), currency="EUR"),
            AccountFieldInput(regions, ["EU", "APAC"]),
        ],
    )
    again = client.accounts.ensure("contoso ltd")

    assert again.id == created.id
    assert count(ac, "SELECT COUNT(*) FROM companies") == 1
    values = {v.field_id: v for v in client.accounts.get(created.id).field_values}
    assert values[revenue].value == Decimal("12500.50")
    assert values[revenue].currency.upper() == "EUR"
    assert values[regions].value == ("EU", "APAC")

    client.accounts.update(created.id, fields=[AccountFieldInput(regions, ["US"])])
    client.accounts.ensure("Fabrikam Inc")
    listed = {a.name: a for a in client.accounts.all()}
    assert {v.field_id: v.value for v in listed["Contoso Ltd"].field_values} == {
        revenue: Decimal("12500.50"),
        regions: ("US",),
    }
    assert listed["Fabrikam Inc"].field_values == ()


def test_it_links_a_contact_to_one_account_and_moves_it(client, ac):
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    contoso = client.accounts.ensure("Contoso Ltd")
    fabrikam = client.accounts.ensure("Fabrikam Inc")

    first = client.accounts.link_contact(contact.id, contoso.id, job_title="Buyer")
    same = client.accounts.link_contact(contact.id, contoso.id, job_title="Buyer")
    moved = client.accounts.link_contact(contact.id, fabrikam.id)

    assert same == first
    assert (moved.id, moved.account_id, moved.job_title) == (first.id, fabrikam.id, "Buyer")
    rows = ac.db.execute("SELECT account, job_title FROM account_contacts")
    assert [(r["account"], r["job_title"]) for r in rows] == [(int(fabrikam.id), "Buyer")]
    assert requests_by_path(ac, "POST")[("POST", "/api/3/accountContacts")] == 1
    assert client.accounts.contact_link(contact.id).account_id == fabrikam.id

    retitled = client.accounts.link_contact(contact.id, fabrikam.id, job_title="CFO")
    assert retitled.job_title == "CFO"
    assert client.accounts.unlink_contact(contact.id) is True
    assert client.accounts.contact_link(contact.id) is None
    assert client.accounts.unlink_contact(contact.id) is False


# -- custom fields -------------------------------------------------------------------------
def test_it_creates_choice_fields_with_options_visible_on_every_list(client, ac):
    field = client.custom_fields.create(
        title="Lead source",
        type="dropdown",
        options=[ChoiceOption("web", "Web"), "Partner"],
    )
    client.custom_fields.options_add(field.id, ["Event"])

    listed = {f.id: f for f in client.custom_fields.for_contacts()}[field.id]
    assert [(o.value, o.label) for o in listed.options] == [
        ("web", "Web"),
        ("Partner", "Partner"),
        ("Event", "Event"),
    ]
    assert listed.list_ids == ("0",)
    assert count(ac, "SELECT COUNT(*) FROM field_rels WHERE relid = 0") == 1
    with pytest.raises(ConflictError):
        client.custom_fields.create(title="Lead source", type="text")


# -- custom objects --------------------------------------------------------------------------
OPPORTUNITY_V1 = CustomObjectSchemaSpec(
    slug="d365-opportunity",
    label="Opportunity",
    plural_label="Opportunities",
    description="Mirrored from Dynamics 365",
    fields=(
        CustomObjectField("name", "Topic", "text", plural_label="Topics", required=True),
        CustomObjectField("est-revenue", "Est. revenue", "currency", default_currency="EUR"),
        CustomObjectField("stage", "Stage", "dropdown", options=("Qualify", "Develop")),
        CustomObjectField("close-date", "Est. close", "date"),
    ),
)
OPPORTUNITY_V2 = CustomObjectSchemaSpec(
    slug="d365-opportunity",
    label="Opportunity",
    plural_label="Opportunities",
    fields=(
        CustomObjectField("stage", "Stage", "dropdown", options=("Qualify", "Develop", "Close")),
        CustomObjectField("probability", "Probability", "number", scale=0),
    ),
)


def test_it_creates_a_schema_then_only_ever_extends_it(client, ac):
    created = client.custom_objects.ensure_schema(OPPORTUNITY_V1)
    extended = client.custom_objects.ensure_schema(OPPORTUNITY_V2)
    unchanged = client.custom_objects.ensure_schema(OPPORTUNITY_V2)

    assert extended.id == created.id == unchanged.id
    assert [f.id for f in extended.active_fields] == [
        "name",
        "est-revenue",
        "stage",
        "close-date",
        "probability",
    ]
    assert extended.field("stage").options == ("Qualify", "Develop", "Close")
    assert extended.field("name").required
    assert [r.id for r in extended.relationships] == ["primary-contact"]
    writes = requests_by_path(ac)
    assert writes[("POST", "/api/3/customObjects/schemas")] == 1
    assert writes[("PUT", f"/api/3/customObjects/schemas/{created.id}")] == 1
    assert not [e for e in ac.log.entries(method="DELETE")]
    assert count(ac, "SELECT COUNT(*) FROM co_schemas") == 1
    assert client.custom_objects.schemas() == [unchanged]


def test_it_upserts_a_record_by_external_id_linked_to_its_contact(client, ac):
    schema = client.custom_objects.ensure_schema(OPPORTUNITY_V1)
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    other = client.contacts.sync(ContactChanges(email="bo@contoso.example")).contact
    values = {
        "name": "Renewal 2025",
        "est-revenue": Decimal("12500.50"),
        "stage": "Qualify",
        "close-date": date(2025, 3, 31),
    }

    first = client.custom_objects.upsert(
        schema, external_id="opp-6f1c", values=values, contact_id=contact.id
    )
    second = client.custom_objects.upsert(
        schema,
        external_id="opp-6f1c",
        values={**values, "stage": "Develop"},
        contact_id=contact.id,
    )
    client.custom_objects.upsert(
        schema, external_id="opp-9a2b", values={"name": "New deal"}, contact_id=other.id
    )

    assert second.id == first.id
    assert count(ac, "SELECT COUNT(*) FROM co_records") == 2
    read = client.custom_objects.record(schema.id, "opp-6f1c")
    assert read.id == first.id and read.contact_ids == (contact.id,)
    assert read.value("stage") == "Develop"
    assert read.value("name") == "Renewal 2025"
    assert read.value("close-date") == date(2025, 3, 31)
    assert read.value("est-revenue") == Decimal("12500.50")
    assert client.custom_objects.record(schema.id, "opp-9a2b").contact_ids == (other.id,)
    assert client.custom_objects.record(schema.id, "opp-none") is None
