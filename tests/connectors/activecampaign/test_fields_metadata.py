"""Custom fields (create, options, list relations) and the mappable-field metadata."""

from __future__ import annotations

import pytest

from connectors.errors import ConflictError
from connectors.types import ChoiceOption, FieldType, Vendor

from .conftest import BASE, body, path

CONTACT_FIELDS = {
    "fields": [
        {"id": "1", "title": "Notes", "type": "textarea", "perstag": "NOTES", "isrequired": "0"},
        {"id": "2", "title": "Budget", "type": "number", "perstag": "BUDGET", "isrequired": "1"},
        {"id": "3", "title": "Renewal", "type": "date", "perstag": "RENEWAL"},
        {"id": "4", "title": "Last call", "type": "datetime", "perstag": "LAST_CALL"},
        {"id": "5", "title": "Tier", "type": "dropdown", "perstag": "TIER"},
        {"id": "6", "title": "Channel", "type": "radio", "perstag": "CHANNEL"},
        {"id": "7", "title": "Interests", "type": "listbox", "perstag": "INTERESTS"},
        {"id": "8", "title": "Consents", "type": "checkbox", "perstag": "CONSENTS"},
        {"id": "9", "title": "D365 id", "type": "hidden", "perstag": "D365_ID"},
        {"id": "10", "title": "Nickname", "type": "text", "perstag": "NICKNAME"},
        {"id": "11", "title": "Another Test Title", "type": "", "perstag": "ANOTHER"},
    ],
    "fieldOptions": [
        {"id": "51", "field": "5", "value": "Gold", "label": "Gold tier", "orderid": "2"},
        {"id": "50", "field": "5", "value": "Silver", "label": "Silver tier", "orderid": "1"},
        {"id": "52", "field": "7", "value": "Webinar", "label": "Webinar", "orderid": 1},
    ],
    "fieldRels": [{"id": "1", "field": "5", "relid": "0"}],
    "meta": {"total": "11"},
}


def test_it_lists_contact_fields_in_the_normalized_vocabulary(rsps, client):
    rsps.get(BASE + "fields", json=CONTACT_FIELDS)

    fields = {info.key: info for info in client.fields("contact")}

    assert fields["email"].type == FieldType.EMAIL and fields["email"].required
    assert fields["firstName"].type == FieldType.TEXT
    assert fields["lastName"].type == FieldType.TEXT
    assert fields["phone"].type == FieldType.PHONE
    assert fields["jobTitle"].vendor_type == "accountContact.jobTitle"
    assert fields["account"].type == FieldType.LOOKUP
    expected = {
        "1": FieldType.LONG_TEXT,
        "2": FieldType.DECIMAL,
        "3": FieldType.DATE,
        "4": FieldType.DATETIME,
        "5": FieldType.CHOICE,
        "6": FieldType.CHOICE,
        "7": FieldType.MULTI_CHOICE,
        "8": FieldType.MULTI_CHOICE,
        "9": FieldType.TEXT,
        "10": FieldType.TEXT,
        "11": FieldType.TEXT,
    }
    assert {key: fields[key].type for key in expected} == expected
    assert fields["5"].options == (
        ChoiceOption("Silver", "Silver tier"),
        ChoiceOption("Gold", "Gold tier"),
    )
    assert fields["7"].options == (ChoiceOption("Webinar", "Webinar"),)
    assert fields["5"].alias == "TIER"
    assert fields["2"].required is True
    assert all(
        info.vendor == Vendor.ACTIVECAMPAIGN and info.entity == "contact"
        for info in fields.values()
    )
    assert fields["5"].custom and not fields["email"].custom


def test_it_pages_through_field_definitions(rsps, client):
    first = {**CONTACT_FIELDS, "meta": {"total": "12"}}
    rsps.get(BASE + "fields", json=first)
    rsps.get(
        BASE + "fields",
        json={"fields": [{"id": "12", "title": "Late", "type": "text"}], "meta": {"total": "12"}},
    )

    fields = client.custom_fields.for_contacts()

    assert [f.id for f in fields][-1] == "12"
    assert [c.request.url.split("?")[1] for c in rsps.calls] == [
        "limit=100&offset=0",
        "limit=100&offset=11",
    ]


def test_it_lists_account_fields_in_the_normalized_vocabulary(rsps, client):
    rsps.get(
        BASE + "accountCustomFieldMeta",
        json={
            "accountCustomFieldMeta": [
                {"id": "1", "fieldLabel": "Size", "fieldType": "text", "personalization": "SIZE"},
                {"id": "2", "fieldLabel": "Revenue", "fieldType": "currency"},
                {
                    "id": "3",
                    "fieldLabel": "Regions",
                    "fieldType": "multiselect",
                    "fieldOptions": ["North", "South"],
                },
                {"id": "4", "fieldLabel": "Kind", "fieldType": "dropdown", "fieldOptions": ["A"]},
                {"id": "5", "fieldLabel": "Employees", "fieldType": "number", "isRequired": 1},
                {"id": "6", "fieldLabel": "About", "fieldType": "textarea"},
                {"id": "7", "fieldLabel": "Founded", "fieldType": "date"},
            ],
            "meta": {"total": "7"},
        },
    )

    fields = {info.key: info for info in client.fields("account")}

    assert fields["name"].required and fields["accountUrl"].type == FieldType.URL
    assert fields["1"].type == FieldType.TEXT and fields["1"].alias == "SIZE"
    assert fields["2"].type == FieldType.MONEY
    assert fields["3"].type == FieldType.MULTI_CHOICE
    assert [o.value for o in fields["3"].options] == ["North", "South"]
    assert fields["4"].type == FieldType.CHOICE
    assert fields["5"].type == FieldType.DECIMAL and fields["5"].required
    assert fields["6"].type == FieldType.LONG_TEXT
    assert fields["7"].type == FieldType.DATE
    assert all(info.entity == "account" for info in fields.values())


def test_it_creates_a_choice_field_with_options_on_all_lists(rsps, client):
    rsps.post(
        BASE + "fields",
        status=201,
        json={"field": {"id": "62", "title": "Stage", "type": "dropdown", "perstag": "STAGE"}},
    )
    rsps.post(
        BASE + "fieldOption/bulk",
        status=201,
        json={
            "fieldOptions": [
                {"id": "1", "field": "62", "value": "Open", "label": "Open", "orderid": 1},
                {"id": "2", "field": "62", "value": "Won", "label": "Won!", "orderid": 2},
            ]
        },
    )
    rsps.post(
        BASE + "fieldRels", status=201, json={"fieldRel": {"id": "19", "field": 62, "relid": 0}}
    )

    field = client.custom_fields.create(
        title="Stage",
        type="dropdown",
        perstag="STAGE",
        options=["Open", ChoiceOption("Won", "Won!")],
    )

    create, options, relation = rsps.calls
    assert body(create) == {"field": {"title": "Stage", "type": "dropdown", "perstag": "STAGE"}}
    assert body(options) == {
        "fieldOptions": [
            {"field": 62, "label": "Open", "value": "Open", "orderid": 1, "isdefault": False},
            {"field": 62, "label": "Won!", "value": "Won", "orderid": 2, "isdefault": False},
        ]
    }
    assert body(relation) == {"fieldRel": {"field": 62, "relid": 0}}
    assert field.id == "62"
    assert field.options == (ChoiceOption("Open", "Open"), ChoiceOption("Won", "Won!"))
    assert field.list_ids == ("0",)


def test_it_appends_only_missing_options_to_an_existing_field(rsps, client):
    # Found against the sandbox: options added later were numbered from orderid 1 again and
    # listed before the field's own; a value the field had would have been added twice.
    rsps.get(
        BASE + "fields/62",
        json={
            "fieldOptions": [
                {"id": "1", "field": "62", "value": "Open", "label": "Open", "orderid": 1},
                {"id": "2", "field": "62", "value": "Won", "label": "Won!", "orderid": "2"},
            ],
            "fieldRels": [],
            "field": {"id": "62", "title": "Stage", "type": "dropdown"},
        },
    )
    rsps.post(
        BASE + "fieldOption/bulk",
        status=201,
        json={"fieldOptions": [{"id": "3", "field": "62", "value": "Lost", "orderid": 3}]},
    )

    added = client.custom_fields.options_add("62", ["Won", "Lost"])

    assert body(rsps.calls[1]) == {
        "fieldOptions": [
            {"field": 62, "label": "Lost", "value": "Lost", "orderid": 3, "isdefault": False}
        ]
    }
    assert added == (ChoiceOption("Lost", "Lost"),)


def test_it_sends_nothing_when_a_field_has_every_option(rsps, client):
    rsps.get(
        BASE + "fields/62",
        json={"fieldOptions": [{"field": "62", "value": "Open", "orderid": 1}], "field": {}},
    )

    assert client.custom_fields.options_add("62", ["Open"]) == ()
    assert len(rsps.calls) == 1


def test_it_creates_a_text_field_without_options(rsps, client):
    rsps.post(
        BASE + "fields",
        status=201,
        # The doc example answers with a `fields` list: ours is found by its title.
        json={
            "fields": [
                {"id": "2", "title": "Other"},
                {"id": "63", "title": "D365 id", "type": "text"},
            ]
        },
    )
    rsps.post(BASE + "fieldRels", status=201, json={"fieldRel": {"id": "20"}})

    field = client.custom_fields.create(title="D365 id", type="text", options=["ignored"])

    assert field.id == "63"
    assert [path(call) for call in rsps.calls] == ["/api/3/fields", "/api/3/fieldRels"]


def test_it_reports_a_duplicate_title(rsps, client):
    rsps.post(
        BASE + "fields",
        status=422,
        json={
            "errors": [
                {
                    "title": "There is already a field with this title",
                    "detail": "There is already a field named 'Stage' -- choose another name",
                    "code": "duplicate",
                }
            ]
        },
    )

    with pytest.raises(ConflictError, match="already a field"):
        client.custom_fields.create(title="Stage", type="text")
