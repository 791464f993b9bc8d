"""Reads against the sandbox: keyset paging, changes since a time, typed field values, and
the mappable field lists with their options."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.activecampaign import ContactChanges
from connectors.types import ChoiceOption, FieldType

pytestmark = pytest.mark.integration

# 2024-05-01 03:30 UTC is 2024-04-30 22:30 in the sandbox account's zone (-05:00): the
# contacts below straddle the account's midnight, so a filter read in the wrong zone, or a
# timestamp compared without its offset, picks the wrong ones.
T0 = datetime(2024, 5, 1, 3, 30, tzinfo=UTC)


def at(ac, moment: datetime) -> None:
    """Set the sandbox's clock (its timestamps are whole seconds, like AC's)."""
    ac.clock = lambda: moment.timestamp()


def contact_queries(ac) -> list[dict[str, list[str]]]:
    return [
        parse_qs(entry.query)
        for entry in ac.log.entries(method="GET", path_prefix="/api/3/contacts")
        if entry.path == "/api/3/contacts"
    ]


# -- keyset paging ---------------------------------------------------------------------------
def test_it_pages_every_contact_by_id_to_the_end(client, ac):
    ac.seed(500)
    expected = [row["id"] for row in ac.db.execute("SELECT id FROM contacts ORDER BY id")]
    assert len(expected) > 300

    contacts = list(client.contacts.all())

    assert [int(c.id) for c in contacts] == expected
    pages = contact_queries(ac)
    assert len(pages) == math.ceil(len(expected) / 100)
    assert all(q["orders[id]"] == ["ASC"] and "offset" not in q for q in pages)
    assert "id_greater" not in pages[0]
    # Each page starts after the last id of the one before.
    assert [q["id_greater"][0] for q in pages[1:]] == [
        str(expected[i * 100 - 1]) for i in range(1, len(pages))
    ]


def test_it_reads_the_seeded_values_typed_from_the_side_load(client, ac):
    ac.seed(120)
    fields = {f.title: f for f in client.custom_fields.for_contacts()}
    stored = {
        (row["contact"], row["field"]): row["value"]
        for row in ac.db.execute("SELECT contact, field, value FROM field_values")
    }
    assert stored

    contacts = list(client.contacts.all())

    read = {
        (int(contact.id), int(value.field_id)): value.raw
        for contact in contacts
        for value in contact.field_values
    }
    assert read == stored
    interests = fields["Interests"]
    allowed = {option.value for option in interests.options}
    listboxes = [c.field_value(interests.id) for c in contacts if c.field_value(interests.id)]
    assert listboxes and all(isinstance(v.value, tuple) for v in listboxes)
    assert set().union(*(v.value for v in listboxes)) <= allowed
    birthdays = [c.field_value(fields["Birthday"].id) for c in contacts]
    assert any(isinstance(v.value, date) for v in birthdays if v is not None)


# -- field values the list does not side-load ---------------------------------------------------
@pytest.fixture
def list_without_value_side_load(monkeypatch):
    """The sandbox's contact list answering as if it knew no `include=fieldValues` (the public
    reference does not promise it): everything else unchanged."""
    from sandbox.activecampaign import contacts as sandbox_contacts

    includes = sandbox_contacts.CONTACT_INCLUDES - {"fieldValues"}
    monkeypatch.setattr(sandbox_contacts, "CONTACT_INCLUDES", includes)


def test_it_reads_values_per_contact_when_the_list_does_not_side_load_them(
    client, ac, list_without_value_side_load
):
    ac.seed(30)
    stored = {
        (row["contact"], row["field"]): row["value"]
        for row in ac.db.execute("SELECT contact, field, value FROM field_values")
    }
    assert stored
    ids = [row["id"] for row in ac.db.execute("SELECT id FROM contacts ORDER BY id")]

    contacts = list(client.contacts.all())

    assert [int(c.id) for c in contacts] == ids
    assert all(c.field_values_loaded for c in contacts)
    read = {(int(c.id), int(v.field_id)): v.raw for c in contacts for v in c.field_values}
    assert read == stored
    pages = contact_queries(ac)
    assert pages and all(q["include"] == ["fieldValues"] for q in pages)
    per_contact = ac.log.entries(method="GET", path_prefix="/api/3/contacts/")
    assert sorted(int(e.path.split("/")[4]) for e in per_contact) == ids


def test_it_rereads_known_contacts_by_id_in_few_requests(client, ac):
    ac.seed(250)
    ids = [str(row["id"]) for row in ac.db.execute("SELECT id FROM contacts ORDER BY id")]
    wanted = ids[5:165]  # 160 of them
    gone = wanted[3]
    client.contacts.delete(gone)
    before = len(contact_queries(ac))

    contacts = client.contacts.get_many(wanted)

    assert [c.id for c in contacts] == [i for i in wanted if i != gone]
    assert all(c.field_values_loaded for c in contacts)
    assert len(contact_queries(ac)) - before == 2  # 100 ids a request
    stored = {
        (row["contact"], row["field"]): row["value"]
        for row in ac.db.execute("SELECT contact, field, value FROM field_values")
        if str(row["contact"]) in set(wanted)
    }
    assert {(int(c.id), int(v.field_id)): v.raw for c in contacts for v in c.field_values} == (
        stored
    )


# -- typed values written and read back --------------------------------------------------------
@pytest.fixture
def typed_fields(client):
    return {
        "text": client.custom_fields.create(title="D365 Id", type="text"),
        "number": client.custom_fields.create(title="Employees", type="number"),
        "date": client.custom_fields.create(title="Birthday", type="date"),
        "datetime": client.custom_fields.create(title="Last meeting", type="datetime"),
        "dropdown": client.custom_fields.create(
            title="Lead source", type="dropdown", options=["Web", "Partner", "Event"]
        ),
        "listbox": client.custom_fields.create(
            title="Interests", type="listbox", options=["Webinars", "Newsletter", "Events"]
        ),
    }


def test_it_reads_back_typed_values_through_every_read_path(client, typed_fields):
    meeting = datetime(2024, 5, 31, 14, 45, tzinfo=UTC)
    written = client.contacts.sync(
        ContactChanges(
            email="ana.silva@contoso.example",
            first_name="Ana",
            field_values={
                typed_fields["text"].id: "6f1c2a9e-d365",
                typed_fields["number"].id: Decimal("1250.5"),
                typed_fields["date"].id: date(1990, 2, 28),
                typed_fields["datetime"].id: meeting,
                typed_fields["dropdown"].id: "Partner",
                typed_fields["listbox"].id: ["Webinars", "Events"],
            },
        )
    ).contact
    client.contacts.sync(ContactChanges(email="other@contoso.example", first_name="Other"))
    expected = {
        typed_fields["text"].id: "6f1c2a9e-d365",
        typed_fields["number"].id: Decimal("1250.5"),
        typed_fields["date"].id: date(1990, 2, 28),
        typed_fields["datetime"].id: meeting,
        typed_fields["dropdown"].id: "Partner",
        typed_fields["listbox"].id: ("Webinars", "Events"),
    }

    listed = {c.email: c for c in client.contacts.all()}
    single = client.contacts.get(written.id)
    by_email = client.contacts.find_by_email("ANA.SILVA@contoso.example")

    for contact in (written, listed["ana.silva@contoso.example"], single, by_email):
        assert {v.field_id: v.value for v in contact.field_values} == expected
    assert listed["other@contoso.example"].field_values == ()
    assert single.field_value(typed_fields["listbox"].id).raw == "||Webinars||Events||"


# -- changes since a time ----------------------------------------------------------------------
def test_it_reads_changes_since_a_moment_across_the_accounts_midnight(client, ac):
    emails = ["a@tz.example", "b@tz.example", "c@tz.example", "d@tz.example"]
    ids = {}
    for hours, email in zip([0, 1, 2, 3], emails, strict=True):
        at(ac, T0 + timedelta(hours=hours))
        ids[email] = client.contacts.sync(ContactChanges(email=email, first_name="x")).contact.id

    # since = 05:30 UTC = 00:30 local on May 1st: c (05:30, inclusive) and d (06:30).
    since = T0 + timedelta(hours=2)
    exact = list(client.contacts.changed_since(since, overlap=timedelta(0)))

    assert [c.email for c in exact] == ["c@tz.example", "d@tz.example"]
    assert [c.updated_at for c in exact] == [since, since + timedelta(hours=1)]
    assert all(c.updated_at.tzinfo is UTC for c in exact)
    sent = contact_queries(ac)[-1]["filters[updated_after]"][0]
    assert datetime.fromisoformat(sent) == since

    # The same instant written in other zones asks for the same contacts.
    for zone in ("America/Chicago", "Asia/Tokyo"):
        moment = since.astimezone(ZoneInfo(zone))
        again = list(client.contacts.changed_since(moment, overlap=timedelta(0)))
        assert [c.email for c in again] == ["c@tz.example", "d@tz.example"]


def test_it_rereads_an_overlap_and_skips_versions_already_handled(client, ac):
    emails = ["a@tz.example", "b@tz.example", "c@tz.example"]
    for hours, email in zip([0, 10, 20], emails, strict=True):
        at(ac, T0 + timedelta(hours=hours))
        client.contacts.sync(ContactChanges(email=email, first_name="x"))
    last_run = T0 + timedelta(hours=10)

    # First run since last_run with the default 24 h overlap re-reads everything from T0-14h.
    first = list(client.contacts.changed_since(last_run))
    assert [c.email for c in first] == emails
    handled = {c.version for c in first}

    # a changes (its udate moves); b and c do not. The next run sees a's new version only.
    at(ac, T0 + timedelta(hours=21))
    client.contacts.sync(ContactChanges(email="a@tz.example", first_name="Changed"))
    second = list(client.contacts.changed_since(T0 + timedelta(hours=20), seen=handled))

    assert [(c.email, c.first_name) for c in second] == [("a@tz.example", "Changed")]
    assert second[0].updated_at == T0 + timedelta(hours=21)


# -- the field lists a person maps from ---------------------------------------------------------
def test_it_lists_contact_fields_with_types_and_options(client, typed_fields):
    fields = {f.key: f for f in client.fields("contact")}

    for key in ("email", "firstName", "lastName", "phone", "jobTitle", "account"):
        assert key in fields and not fields[key].custom
    assert fields[typed_fields["number"].id].type == FieldType.DECIMAL
    assert fields[typed_fields["date"].id].type == FieldType.DATE
    assert fields[typed_fields["datetime"].id].type == FieldType.DATETIME
    dropdown = fields[typed_fields["dropdown"].id]
    assert dropdown.type == FieldType.CHOICE
    assert dropdown.options == (
        ChoiceOption("Web", "Web"),
        ChoiceOption("Partner", "Partner"),
        ChoiceOption("Event", "Event"),
    )
    listbox = fields[typed_fields["listbox"].id]
    assert listbox.type == FieldType.MULTI_CHOICE
    assert [o.value for o in listbox.options] == ["Webinars", "Newsletter", "Events"]
    assert dropdown.alias  # the perstag AC derived from the title


def test_it_lists_account_fields_with_types_and_options(client, sandboxes):
    api = requests.Session()
    api.headers["Api-Token"] = sandboxes.activecampaign.api_key
    url = sandboxes.activecampaign.api_url + "/api/3/accountCustomFieldMeta"
    for meta in (
        {"fieldLabel": "Tier", "fieldType": "dropdown", "fieldOptions": ["Gold", "Silver"]},
        {"fieldLabel": "Regions", "fieldType": "multiselect", "fieldOptions": ["EU", "US"]},
        {"fieldLabel": "Revenue", "fieldType": "currency", "fieldDefaultCurrency": "eur"},
    ):
        answer = api.post(url, json={"accountCustomFieldMetum": meta}, timeout=5)
        assert answer.ok, answer.text  # 200, as the reference's create-an-account-custom-field-meta

    fields = {f.label: f for f in client.fields("account")}

    assert fields["Account name"].required
    assert fields["Tier"].type == FieldType.CHOICE
    assert [o.value for o in fields["Tier"].options] == ["Gold", "Silver"]
    assert fields["Regions"].type == FieldType.MULTI_CHOICE
    assert [o.value for o in fields["Regions"].options] == ["EU", "US"]
    assert fields["Revenue"].type == FieldType.MONEY
