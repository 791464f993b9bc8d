"""Contacts: keyset streams, changes since a time, typed field values, sync and update."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.activecampaign import ContactChanges
from connectors.errors import FatalError, NotFoundError

from .conftest import BASE, body, path, query

FIELDS = {
    "fields": [
        {"id": "12", "title": "D365 id", "type": "text", "perstag": "D365_ID"},
        {"id": "14", "title": "Renewal", "type": "date", "perstag": "RENEWAL"},
        {"id": "15", "title": "Interests", "type": "listbox", "perstag": "INTERESTS"},
        {"id": "16", "title": "Score", "type": "number", "perstag": "SCORE"},
        {"id": "17", "title": "Last call", "type": "datetime", "perstag": "LAST_CALL"},
        {"id": "18", "title": "Segment", "type": "dropdown", "perstag": "SEGMENT"},
    ],
    "fieldOptions": [],
    "fieldRels": [],
    "meta": {"total": "6"},
}


def _contact(contact_id: int, *, udate="2024-05-01T10:03:23-05:00", value_ids=(), **extra) -> dict:
    return {
        "id": str(contact_id),
        "email": f"person{contact_id}@contoso.example",
        "firstName": f"First{contact_id}",
        "lastName": "Silva",
        "phone": "",
        "cdate": "2024-04-01T09:00:00-05:00",
        "udate": udate,
        # Inside `contact`, fieldValues are the ids of its values, never the values.
        "fieldValues": list(value_ids),
        "links": {"fieldValues": f"https://acme.api-us1.com/api/3/contacts/{contact_id}/fv"},
        **extra,
    }


def _value(contact_id: int, field: str, value: str, value_id: str = "900") -> dict:
    return {
        "contact": str(contact_id),
        "field": field,
        "value": value,
        "cdate": "2024-05-01T10:03:23-05:00",
        "udate": "2024-05-01T10:03:23-05:00",
        "id": value_id,
        "owner": str(contact_id),
    }


def test_it_streams_contacts_by_keyset_until_the_end(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    first = [_contact(i) for i in range(1, 101)]
    second = [_contact(i) for i in range(101, 151)]
    page = {"fieldValues": []}  # side-loaded: none of them has a value
    rsps.get(BASE + "contacts", json={**page, "contacts": first, "meta": {"total": "150"}})
    rsps.get(BASE + "contacts", json={**page, "contacts": second, "meta": {"total": "50"}})

    contacts = list(client.contacts.all())

    assert [c.id for c in contacts] == [str(i) for i in range(1, 151)]
    assert all(c.field_values_loaded and c.field_values == () for c in contacts)
    pages = [call for call in rsps.calls if path(call) == "/api/3/contacts"]
    assert len(pages) == 2  # the total says the second page was the last
    assert query(pages[0]) == {"orders[id]": ["ASC"], "limit": ["100"], "include": ["fieldValues"]}
    assert query(pages[1])["id_greater"] == ["100"]
    assert "offset" not in query(pages[1])


def test_it_ends_on_an_empty_page_when_the_total_counts_everything(rsps, client):
    rsps.get(BASE + "contacts", json={"contacts": [_contact(1)], "meta": {"total": "7"}})
    rsps.get(BASE + "contacts", json={"contacts": [], "meta": {"total": "7"}})

    contacts = list(client.contacts.all(with_field_values=False))

    assert [c.id for c in contacts] == ["1"]
    assert len(rsps.calls) == 2
    assert "include" not in query(rsps.calls[0])


def test_it_stops_when_the_server_ignores_id_greater(rsps, client):
    page = {"contacts": [_contact(i) for i in range(1, 101)], "meta": {"total": "1000"}}
    rsps.get(BASE + "contacts", json=page)

    with pytest.raises(FatalError, match="do not move on"):
        list(client.contacts.all(with_field_values=False))

    assert len(rsps.calls) == 2


def test_it_bounds_every_paging_loop(rsps, client):
    pages = iter(range(0, 10_000, 100))

    def next_page(request):
        start = next(pages)
        contacts = [_contact(i) for i in range(start + 1, start + 101)]
        import json

        return 200, {}, json.dumps({"contacts": contacts, "meta": {"total": "100000"}})

    rsps.add_callback("GET", BASE + "contacts", callback=next_page)

    with pytest.raises(FatalError, match="did not end after 3 pages"):
        list(client.contacts.all(with_field_values=False, max_pages=3))

    assert len(rsps.calls) == 3


def test_it_types_side_loaded_field_values(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    values = [
        _value(5, "12", "D365-GUID", "31"),
        _value(5, "14", "2024-05-31"),
        _value(5, "15", "||Webinar||Newsletter||"),
        _value(5, "16", "12.50"),
        _value(5, "17", "2020-05-19T02:45:00-05:00"),
        _value(5, "18", "Gold"),
        _value(6, "12", "OTHER-GUID"),
    ]
    rsps.get(
        BASE + "contacts",
        json={
            "contacts": [_contact(5), _contact(6)],
            "fieldValues": values,
            "meta": {"total": "2"},
        },
    )

    ana, other = list(client.contacts.all())

    assert ana.field_value("12").value == "D365-GUID"
    assert ana.field_value("12").id == "31"
    assert ana.field_value("14").value == date(2024, 5, 31)
    assert ana.field_value("15").value == ("Webinar", "Newsletter")
    assert ana.field_value("15").raw == "||Webinar||Newsletter||"
    assert ana.field_value("16").value == Decimal("12.50")
    assert ana.field_value("17").value == datetime(2020, 5, 19, 7, 45, tzinfo=UTC)
    assert ana.field_value("18").value == "Gold"
    assert [v.field_id for v in other.field_values] == ["12"]
    assert other.field_value("12").value == "OTHER-GUID"


def test_it_converts_udate_from_the_account_offset_to_utc(rsps, client):
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(1, udate="2024-05-01T22:30:00-05:00")], "meta": {"total": "1"}},
    )

    (contact,) = client.contacts.all(with_field_values=False)

    assert contact.updated_at == datetime(2024, 5, 2, 3, 30, tzinfo=UTC)
    assert contact.updated_at.tzinfo is UTC
    assert contact.created_at == datetime(2024, 4, 1, 14, 0, tzinfo=UTC)


def test_it_reads_zoneless_field_timestamps_in_the_account_offset(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    value = _value(1, "17", "2024-05-01 08:00:00")
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(1)], "fieldValues": [value], "meta": {"total": "1"}},
    )

    (contact,) = client.contacts.all()

    # The contact's own timestamps say the account runs at -05:00.
    assert contact.field_value("17").value == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)


def test_it_reads_empty_and_zero_dates_as_none(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    values = [_value(1, "14", "0000-00-00"), _value(1, "15", ""), _value(1, "16", "n/a")]
    rsps.get(
        BASE + "contacts",
        json={
            "contacts": [_contact(1, udate=None, updated_utc_timestamp="2024-05-01 10:00:00")],
            "fieldValues": values,
            "meta": {"total": "1"},
        },
    )

    (contact,) = client.contacts.all()

    assert contact.field_value("14").value is None
    assert contact.field_value("15").value == ()
    assert contact.field_value("16").value is None
    assert contact.field_value("16").raw == "n/a"  # unreadable: kept, not lost
    assert contact.updated_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_it_asks_for_changes_since_a_time_with_an_overlap(rsps, client):
    since = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    rsps.get(BASE + "contacts", json={"contacts": [], "meta": {"total": "0"}})

    list(client.contacts.changed_since(since, with_field_values=False))

    assert query(rsps.calls[0]) == {
        "filters[updated_after]": ["2024-05-01T12:00:00+00:00"],
        "orders[id]": ["ASC"],
        "limit": ["100"],
    }


def test_it_filters_and_deduplicates_changes_by_id_and_udate(rsps, client):
    since = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    contacts = [
        # Before the overlap window (a server that reads only the date part sends it).
        _contact(1, udate="2024-05-01T06:59:59-05:00"),
        # Inside the window, already handled by the last run: same (id, udate).
        _contact(2, udate="2024-05-01T20:00:00-05:00"),
        # Inside the window, changed again since: a new udate.
        _contact(3, udate="2024-05-02T08:00:00-05:00"),
        _contact(4, udate="2024-05-02T09:00:00-05:00"),
    ]
    rsps.get(BASE + "contacts", json={"contacts": contacts, "meta": {"total": "4"}})
    handled = {
        ("2", datetime(2024, 5, 2, 1, 0, tzinfo=UTC)),
        ("3", datetime(2024, 5, 2, tzinfo=UTC)),
    }

    changed = list(client.contacts.changed_since(since, seen=handled, with_field_values=False))

    assert [c.id for c in changed] == ["3", "4"]


def test_it_drops_a_contact_a_page_repeats(rsps, client):
    same = _contact(3, udate="2024-05-02T08:00:00-05:00")
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(2), same, dict(same)], "meta": {"total": "3"}},
    )

    changed = list(
        client.contacts.changed_since(datetime(2024, 5, 1, tzinfo=UTC), with_field_values=False)
    )

    assert [c.id for c in changed] == ["2", "3"]


def test_it_refuses_a_naive_since(client):
    with pytest.raises(ValueError, match="aware"):
        client.contacts.changed_since(datetime(2024, 5, 2), overlap=timedelta(0))


def test_it_reads_one_contact_with_its_values(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(
        BASE + "contacts/5",
        json={"contact": _contact(5), "fieldValues": [_value(5, "16", "3")], "contactLists": []},
    )

    contact = client.contacts.get("5")

    assert contact.email == "person5@contoso.example"
    assert contact.field_value("16").value == Decimal(3)


def test_it_reads_the_bounces_of_a_contact(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(
        BASE + "contacts/5",
        json={"contact": _contact(5, bounced_hard="1", bounced_soft="2"), "fieldValues": []},
    )
    rsps.get(BASE + "contacts/6", json={"contact": _contact(6), "fieldValues": []})

    bounced, clean = client.contacts.get("5"), client.contacts.get("6")

    assert (bounced.bounced_hard, bounced.bounced_soft) == (1, 2)
    assert (clean.bounced_hard, clean.bounced_soft) == (0, 0)


def test_it_reports_a_missing_contact(rsps, client):
    rsps.get(BASE + "contacts/404", status=404, json={"message": "No Result found for Subscriber"})
    rsps.get(BASE + "users/me", json={"user": {"id": "1"}})
    rsps.get(BASE + "fields", json=FIELDS)

    with pytest.raises(NotFoundError):
        client.contacts.get("404")


def test_it_finds_a_contact_by_email(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(8)], "fieldValues": [], "meta": {"total": "1"}},
    )

    found = client.contacts.find_by_email("Person8@Contoso.example")

    assert found.id == "8"
    lookup = next(call for call in rsps.calls if path(call) == "/api/3/contacts")
    assert query(lookup) == {
        "email": ["Person8@Contoso.example"],
        "include": ["fieldValues"],
    }


def test_it_answers_none_for_an_unknown_email(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(BASE + "contacts", json={"contacts": [], "meta": {"total": "0"}})

    assert client.contacts.find_by_email("nobody@contoso.example") is None


# -- writes ----------------------------------------------------------------------------------
SYNCED = {
    "fieldValues": [_value(10, "12", "D365-CONTACT-GUID", "14")],
    "contact": {
        "id": "10",
        "email": "ana@contoso.example",
        "firstName": "Ana",
        "lastName": "Silva",
        "cdate": "2024-05-01T10:03:23-05:00",
        "udate": "2024-05-01T10:03:23-05:00",
        "fieldValues": ["14"],
    },
}


def test_it_upserts_by_email_on_the_singular_path(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.post(BASE + "contact/sync", json=SYNCED, status=201)

    result = client.contacts.sync(
        ContactChanges(
            email="ana@contoso.example",
            first_name="Ana",
            last_name="Silva",
            field_values={
                "12": "D365-CONTACT-GUID",
                "14": date(2024, 5, 31),
                "15": ["Webinar", "Newsletter"],
                "16": Decimal("12.50"),
                "17": datetime(2020, 5, 19, 2, 45, tzinfo=UTC),
            },
        )
    )

    sync = next(call for call in rsps.calls if path(call) == "/api/3/contact/sync")
    assert body(sync) == {
        "contact": {
            "email": "ana@contoso.example",
            "firstName": "Ana",
            "lastName": "Silva",
            "fieldValues": [
                {"field": "12", "value": "D365-CONTACT-GUID"},
                {"field": "14", "value": "2024-05-31"},
                {"field": "15", "value": "||Webinar||Newsletter||"},
                {"field": "16", "value": "12.5"},
                {"field": "17", "value": "2020-05-19T02:45:00+00:00"},
            ],
        }
    }
    assert result.created is True
    assert result.contact.id == "10"
    assert result.contact.field_value("12").value == "D365-CONTACT-GUID"


def test_it_sends_only_what_it_is_given(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    updated = {**SYNCED, "contact": {**SYNCED["contact"], "udate": "2024-06-01T10:00:00-05:00"}}
    rsps.post(BASE + "contact/sync", json=updated)

    result = client.contacts.sync(
        ContactChanges(
            email="ana@contoso.example",
            first_name="",  # empty in the source: not a reason to wipe AC
            last_name=None,
            phone="+351210000000",
            field_values={"12": "", "15": [], "16": None},
        )
    )

    sync = next(call for call in rsps.calls if path(call) == "/api/3/contact/sync")
    assert body(sync) == {"contact": {"email": "ana@contoso.example", "phone": "+351210000000"}}
    assert result.created is False


def test_it_calls_an_update_in_the_creations_second_an_update(rsps, client):
    # Found against the sandbox: timestamps are whole seconds, so an update right after the
    # creation answers cdate == udate; the 200 (not the documented create's 201) tells.
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.post(BASE + "contact/sync", json=SYNCED, status=200)

    result = client.contacts.sync(ContactChanges(email="ana@contoso.example", last_name="Silva"))

    assert result.created is False


def test_it_calls_a_201_with_a_later_udate_an_update(rsps, client):
    # If AC answered 201 on the update path too (undocumented), the timestamps still tell.
    rsps.get(BASE + "fields", json=FIELDS)
    updated = {**SYNCED, "contact": {**SYNCED["contact"], "udate": "2024-06-01T10:00:00-05:00"}}
    rsps.post(BASE + "contact/sync", json=updated, status=201)

    assert client.contacts.sync(ContactChanges(email="ana@contoso.example")).created is False


def test_it_clears_only_on_purpose(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.post(BASE + "contact/sync", json=SYNCED)

    client.contacts.sync(
        ContactChanges(
            email="ana@contoso.example",
            first_name="",
            field_values={"15": []},
            clear=frozenset({"firstName", "15", "18"}),
        )
    )

    sync = next(call for call in rsps.calls if path(call) == "/api/3/contact/sync")
    assert body(sync) == {
        "contact": {
            "email": "ana@contoso.example",
            "firstName": "",
            "fieldValues": [{"field": "15", "value": ""}, {"field": "18", "value": ""}],
        }
    }


def test_it_needs_an_email_to_sync(client):
    with pytest.raises(ValueError, match="e-mail"):
        client.contacts.sync(ContactChanges(first_name="Ana"))
    with pytest.raises(ValueError, match="cannot be cleared"):
        client.contacts.sync(ContactChanges(email="a@b.example", clear=frozenset({"email"})))


def test_it_changes_an_email_by_id(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.put(
        BASE + "contacts/10",
        json={"contact": {**SYNCED["contact"], "email": "ana.silva@contoso.example"}},
    )

    contact = client.contacts.update("10", ContactChanges(email="ana.silva@contoso.example"))

    update = next(call for call in rsps.calls if call.request.method == "PUT")
    assert path(update) == "/api/3/contacts/10"
    assert body(update) == {"contact": {"email": "ana.silva@contoso.example"}}
    assert contact.email == "ana.silva@contoso.example"


def test_it_refuses_a_naive_datetime_value(client):
    with pytest.raises(ValueError, match="naive"):
        client.contacts.sync(
            ContactChanges(email="a@b.example", field_values={"17": datetime(2024, 1, 1)})
        )


def test_it_reads_lazily_page_by_page(rsps, client):
    page = {"contacts": [_contact(i) for i in range(1, 101)], "meta": {"total": "100000"}}
    rsps.get(BASE + "contacts", json=page)

    stream = client.contacts.all(with_field_values=False)
    first = next(stream)

    assert first.id == "1"
    assert len(rsps.calls) == 1  # nothing read ahead of the caller


# -- field values not side-loaded --------------------------------------------------------------
def test_it_reads_values_per_contact_when_a_page_comes_without_them(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    # The contact list does not promise include=fieldValues: this page ignored it.
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(5), _contact(6)], "meta": {"total": "2"}},
    )
    rsps.get(
        BASE + "contacts/5/fieldValues",
        json={"fieldValues": [_value(5, "14", "2024-05-31", "31"), _value(5, "18", "Gold", "32")]},
    )
    rsps.get(BASE + "contacts/6/fieldValues", json={"fieldValues": []})

    five, six = client.contacts.all()

    assert five.field_values_loaded and six.field_values_loaded
    assert five.field_value("14").value == date(2024, 5, 31)
    assert five.field_value("18").value == "Gold"
    assert six.field_values == ()  # read, and really blank
    per_contact = [call for call in rsps.calls if path(call).endswith("/fieldValues")]
    assert [path(call) for call in per_contact] == [
        "/api/3/contacts/5/fieldValues",
        "/api/3/contacts/6/fieldValues",
    ]
    assert query(per_contact[0]) == {"limit": ["100"], "offset": ["0"]}


def test_it_reads_per_contact_only_the_values_a_page_left_out(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    # Contact 6 names a value the side-load does not carry: its set is incomplete.
    rsps.get(
        BASE + "contacts",
        json={
            "contacts": [_contact(5, value_ids=["31"]), _contact(6, value_ids=["41", "42"])],
            "fieldValues": [_value(5, "12", "GUID-5", "31"), _value(6, "12", "GUID-6", "41")],
            "meta": {"total": "2"},
        },
    )
    rsps.get(
        BASE + "contacts/6/fieldValues",
        json={"fieldValues": [_value(6, "12", "GUID-6", "41"), _value(6, "18", "Gold", "42")]},
    )

    five, six = client.contacts.all()

    assert five.field_values_loaded and five.field_value("12").value == "GUID-5"
    assert six.field_values_loaded and six.field_value("18").value == "Gold"
    assert [path(c) for c in rsps.calls if path(c).endswith("/fieldValues")] == [
        "/api/3/contacts/6/fieldValues"
    ]


def test_it_pages_a_contacts_values(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(BASE + "contacts", json={"contacts": [_contact(5)], "meta": {"total": "1"}})
    first = [_value(5, "12", f"v{i}", str(1000 + i)) for i in range(100)]
    rsps.get(BASE + "contacts/5/fieldValues", json={"fieldValues": first})
    rsps.get(
        BASE + "contacts/5/fieldValues", json={"fieldValues": [_value(5, "18", "Gold", "2000")]}
    )

    (contact,) = client.contacts.all()

    assert contact.field_values_loaded
    assert contact.field_value("18").value == "Gold"
    offsets = [query(c)["offset"] for c in rsps.calls if path(c).endswith("/fieldValues")]
    assert offsets == [["0"], ["100"]]


def test_it_says_values_were_not_loaded_when_it_could_not_read_them(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(5, value_ids=["31"])], "meta": {"total": "1"}},
    )
    # Deleted between the page and the per-contact read.
    rsps.get(BASE + "contacts/5/fieldValues", status=404, json={"message": "No Result found"})
    rsps.get(BASE + "users/me", json={"user": {"id": "1"}})

    (contact,) = client.contacts.all()

    assert contact.field_values_loaded is False
    assert contact.field_values == ()


def test_it_says_values_were_not_loaded_when_not_asked_for(rsps, client):
    rsps.get(BASE + "contacts", json={"contacts": [_contact(5)], "meta": {"total": "1"}})

    (contact,) = client.contacts.all(with_field_values=False)

    assert contact.field_values_loaded is False
    assert [path(c) for c in rsps.calls] == ["/api/3/contacts"]


def test_it_reads_one_contact_without_its_side_load_per_contact(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.get(BASE + "contacts/5", json={"contact": _contact(5, value_ids=["31"])})
    rsps.get(BASE + "contacts/5/fieldValues", json={"fieldValues": [_value(5, "16", "3", "31")]})

    contact = client.contacts.get("5")

    assert contact.field_values_loaded
    assert contact.field_value("16").value == Decimal(3)


def test_it_trusts_a_writes_values_only_when_they_are_all_there(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    rsps.post(BASE + "contact/sync", json=SYNCED, status=201)
    partial = {**SYNCED, "contact": {**SYNCED["contact"], "fieldValues": ["14", "15"]}}
    rsps.post(BASE + "contact/sync", json=partial)
    without_ids = {
        **SYNCED,
        "contact": {k: v for k, v in SYNCED["contact"].items() if k != "fieldValues"},
    }
    rsps.post(BASE + "contact/sync", json=without_ids)

    answers = [client.contacts.sync(ContactChanges(email="ana@contoso.example")) for _ in "abc"]

    assert [a.contact.field_values_loaded for a in answers] == [True, False, False]
    assert all(a.contact.field_value("12").value == "D365-CONTACT-GUID" for a in answers)


# -- known contacts by id ------------------------------------------------------------------------
def test_it_rereads_known_contacts_by_id_a_hundred_a_request(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    wanted = [str(i) for i in range(1, 151)]

    def answer(request):
        import json
        from urllib.parse import parse_qs, urlsplit

        ids = parse_qs(urlsplit(request.url).query)["ids[]"]
        found = [_contact(int(i)) for i in ids if int(i) % 10]  # every tenth was deleted
        page = {"contacts": found, "fieldValues": [], "meta": {"total": str(len(found))}}
        return 200, {}, json.dumps(page)

    rsps.add_callback("GET", BASE + "contacts", callback=answer)

    contacts = client.contacts.get_many(reversed(wanted))

    assert [c.id for c in contacts] == [i for i in wanted if int(i) % 10]
    assert all(c.field_values_loaded for c in contacts)
    pages = [call for call in rsps.calls if path(call) == "/api/3/contacts"]
    assert [query(p)["ids[]"] for p in pages] == [wanted[:100], wanted[100:]]
    assert query(pages[0])["limit"] == ["100"]
    assert query(pages[0])["include"] == ["fieldValues"]


def test_it_reads_one_by_one_when_the_list_ignores_the_ids(rsps, client):
    rsps.get(BASE + "fields", json=FIELDS)
    # An answer with contacts that were not asked for: the filter was not applied.
    rsps.get(
        BASE + "contacts",
        json={"contacts": [_contact(1), _contact(2)], "fieldValues": [], "meta": {"total": "2"}},
    )
    rsps.get(BASE + "contacts/2", json={"contact": _contact(2), "fieldValues": []})
    rsps.get(BASE + "contacts/7", status=404, json={"message": "No Result found for Subscriber"})
    rsps.get(BASE + "users/me", json={"user": {"id": "1"}})

    contacts = client.contacts.get_many(["7", "2"])

    assert [c.id for c in contacts] == ["2"]
    assert {path(c) for c in rsps.calls} >= {"/api/3/contacts/2", "/api/3/contacts/7"}


def test_it_deletes_a_contact_and_takes_a_404_as_done(rsps, client):
    rsps.delete(BASE + "contacts/10", json={})
    rsps.delete(BASE + "contacts/11", status=404, json={"message": "No Result found"})
    rsps.get(BASE + "users/me", json={"user": {"id": "1"}})

    assert client.contacts.delete("10") is True
    assert client.contacts.delete("11") is False
