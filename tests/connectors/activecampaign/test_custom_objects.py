"""Custom objects: schemas created or extended (never shrunk), records upserted by externalId."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from connectors.activecampaign import CustomObjectField, CustomObjectSchemaSpec, parse
from connectors.errors import ConflictError

from .conftest import BASE, body, path, query

SPEC = CustomObjectSchemaSpec(
    slug="d365-opportunity",
    label="Opportunity",
    plural_label="Opportunities",
    description="Mirrored from Dynamics 365",
    fields=(
        CustomObjectField("name", "Topic", "text", plural_label="Topics", required=True),
        CustomObjectField("stage", "Stage", "dropdown", options=("Qualify", "Develop", "Close")),
        CustomObjectField("est-revenue", "Est. revenue", "currency", default_currency="EUR"),
    ),
)
EXISTING = {
    "id": "6449c3f3-b68d-46d1-850b-c8aea998ce1b",
    "slug": "d365-opportunity",
    "visibility": "private",
    "labels": {"singular": "Opportunity", "plural": "Opportunities"},
    "description": "Mirrored from Dynamics 365",
    "createdTimestamp": "2021-04-16T15:08:25.783751329Z",
    "updatedTimestamp": "2021-04-16T15:08:25.783751329Z",
    "fields": [
        {
            "id": "name",
            "labels": {"singular": "Topic", "plural": "Topics"},
            "type": "text",
            "required": True,
        },
        {
            "id": "stage",
            "labels": {"singular": "Stage", "plural": "Stages"},
            "type": "dropdown",
            "required": False,
            "options": [{"id": "o-1", "value": "Qualify"}, {"id": "o-2", "value": "Develop"}],
        },
        {
            # Mapped once, toggled off since: it stays in the schema.
            "id": "probability",
            "labels": {"singular": "Probability", "plural": "Probabilities"},
            "type": "number",
            "scale": 0,
        },
        {
            "id": "old-notes",
            "labels": {"singular": "Notes", "plural": "Notes"},
            "type": "textarea",
            "status": "marked_for_deletion",
        },
    ],
    "icons": {"default": "https://example.invalid/icon.png"},
    "relationships": [
        {
            "id": "primary-contact",
            "labels": {"singular": "Contact", "plural": "Contacts"},
            "description": "Opportunity contact",
            "namespace": "contacts",
            "hasMany": False,
        }
    ],
}


def _schemas(*items) -> dict:
    return {"schemas": list(items), "meta": {"total": len(items), "count": len(items)}}


def test_it_creates_a_missing_schema_with_a_contact_relationship(rsps, client):
    rsps.get(BASE + "customObjects/schemas", json=_schemas())
    created = {**EXISTING, "fields": EXISTING["fields"][:2]}
    rsps.post(BASE + "customObjects/schemas", status=201, json={"schema": created})

    schema = client.custom_objects.ensure_schema(SPEC)

    assert query(rsps.calls[0])["showFields"] == ["all"]
    assert body(rsps.calls[1]) == {
        "schema": {
            "slug": "d365-opportunity",
            "labels": {"singular": "Opportunity", "plural": "Opportunities"},
            "description": "Mirrored from Dynamics 365",
            "fields": [
                {
                    "id": "name",
                    "labels": {"singular": "Topic", "plural": "Topics"},
                    "type": "text",
                    "isRequired": True,
                },
                {
                    "id": "stage",
                    "labels": {"singular": "Stage", "plural": "Stage"},
                    "type": "dropdown",
                    "isRequired": False,
                    "options": [{"value": "Qualify"}, {"value": "Develop"}, {"value": "Close"}],
                },
                {
                    "id": "est-revenue",
                    "labels": {"singular": "Est. revenue", "plural": "Est. revenue"},
                    "type": "currency",
                    "isRequired": False,
                    "defaultCurrency": "EUR",
                },
            ],
            "relationships": [
                {
                    "id": "primary-contact",
                    "labels": {"singular": "Contact", "plural": "Contacts"},
                    "description": "The contact this record belongs to",
                    "namespace": "contacts",
                    "hasMany": False,
                }
            ],
        }
    }
    assert schema.id == EXISTING["id"]


def test_it_extends_a_schema_and_never_deletes(rsps, client):
    rsps.get(BASE + "customObjects/schemas", json=_schemas(EXISTING))
    rsps.put(BASE + f"customObjects/schemas/{EXISTING['id']}", json={"schema": EXISTING})

    client.custom_objects.ensure_schema(SPEC)

    methods = [call.request.method for call in rsps.calls]
    assert methods == ["GET", "PUT"]
    assert "DELETE" not in methods
    sent = body(rsps.calls[1])["schema"]
    assert [field["id"] for field in sent["fields"]] == [
        "name",
        "stage",
        "probability",  # not in the spec any more: kept
        "est-revenue",  # new
    ]
    stage = sent["fields"][1]
    assert stage["options"] == [
        {"id": "o-1", "value": "Qualify"},
        {"id": "o-2", "value": "Develop"},
        {"value": "Close"},
    ]
    assert sent["fields"][2] == {
        "id": "probability",
        "labels": {"singular": "Probability", "plural": "Probabilities"},
        "type": "number",
        "scale": 0,
    }
    assert sent["relationships"] == EXISTING["relationships"]
    assert sent["slug"] == "d365-opportunity"


def test_it_writes_nothing_when_the_schema_has_everything(rsps, client):
    complete = copy.deepcopy(EXISTING)
    complete["fields"][1]["options"].append({"id": "o-3", "value": "Close"})
    complete["fields"].append(
        {"id": "est-revenue", "labels": {"singular": "Est. revenue"}, "type": "currency"}
    )
    rsps.get(BASE + "customObjects/schemas", json=_schemas(complete))

    schema = client.custom_objects.ensure_schema(SPEC)

    assert [call.request.method for call in rsps.calls] == ["GET"]
    assert schema.field("old-notes") is None  # deleted fields are not offered
    assert [f.id for f in schema.active_fields] == ["name", "stage", "probability", "est-revenue"]


def test_it_refuses_to_reuse_the_id_of_a_deleted_field(rsps, client):
    rsps.get(BASE + "customObjects/schemas", json=_schemas(EXISTING))
    spec = CustomObjectSchemaSpec(
        slug=SPEC.slug,
        label=SPEC.label,
        plural_label=SPEC.plural_label,
        fields=(CustomObjectField("old-notes", "Notes", "textarea"),),
    )

    with pytest.raises(ConflictError) as caught:
        client.custom_objects.ensure_schema(spec)

    assert caught.value.field == "old-notes"
    assert [call.request.method for call in rsps.calls] == ["GET"]


def test_it_extends_a_schema_created_meanwhile(rsps, client):
    rsps.get(BASE + "customObjects/schemas", json=_schemas())
    rsps.post(
        BASE + "customObjects/schemas",
        status=422,
        json={
            "errors": [
                {
                    "title": 'Invalid value for field "schema.slug"',
                    "detail": "Schema slug must be unique",
                    "source": {"type": "pointer", "value": "/data/attributes/schema/slug"},
                }
            ]
        },
    )
    rsps.get(BASE + "customObjects/schemas", json=_schemas(EXISTING))
    rsps.put(BASE + f"customObjects/schemas/{EXISTING['id']}", json={"schema": EXISTING})

    client.custom_objects.ensure_schema(SPEC)

    assert [call.request.method for call in rsps.calls] == ["GET", "POST", "GET", "PUT"]


def _schema():
    rich = copy.deepcopy(EXISTING)
    rich["fields"] += [
        {"id": "est-revenue", "labels": {"singular": "Revenue"}, "type": "currency"},
        {"id": "close-date", "labels": {"singular": "Close"}, "type": "date"},
        {"id": "features", "labels": {"singular": "Features"}, "type": "multiselect"},
    ]
    return parse.custom_object_schema(rich)


RECORD = {
    "id": "1fba439a-208e-48e6-bd23-f6c97c3e0519",
    "externalId": "opp-6f1c2a9e",
    "schemaId": EXISTING["id"],
    "fields": [{"id": "name", "value": "Renewal 2025"}, {"id": "probability", "value": 40}],
    "relationships": {"primary-contact": ["10"]},
    "createdTimestamp": "2021-04-16T16:12:22.222685095Z",
    "updatedTimestamp": "2021-04-16T16:13:12.022671090Z",
}


def test_it_upserts_a_record_by_external_id(rsps, client):
    rsps.post(BASE + f"customObjects/records/{EXISTING['id']}", status=201, json={"record": RECORD})

    record = client.custom_objects.upsert(
        _schema(),
        external_id="opp-6f1c2a9e",
        values={
            "name": "Renewal 2025",
            "stage": "Develop",
            "probability": Decimal("40"),
            "est-revenue": Decimal("12500.00"),
            "close-date": date(2025, 3, 31),
            "features": ["A", "B"],
            "old-notes": None,  # None is not sent
        },
        contact_id="10",
    )

    assert body(rsps.calls[0]) == {
        "record": {
            "externalId": "opp-6f1c2a9e",
            "fields": [
                {"id": "name", "value": "Renewal 2025"},
                {"id": "stage", "value": "Develop"},
                {"id": "probability", "value": 40},
                {"id": "est-revenue", "value": 1250000},
                {"id": "close-date", "value": "2025-03-31"},
                {"id": "features", "value": ["A", "B"]},
            ],
            "relationships": {"primary-contact": [10]},
        }
    }
    assert "id" not in body(rsps.calls[0])["record"]  # an id could fork the record
    assert record.external_id == "opp-6f1c2a9e"
    assert record.contact_ids == ("10",)
    assert record.value("probability") == Decimal(40)


def test_it_retries_an_upsert_that_may_not_have_arrived(rsps, client):
    url = BASE + f"customObjects/records/{EXISTING['id']}"
    rsps.post(url, status=502, body="Bad gateway")
    rsps.post(url, status=201, json={"record": RECORD})

    record = client.custom_objects.upsert(
        _schema(), external_id="opp-6f1c2a9e", values={"name": "x"}, contact_id="10"
    )

    assert record.id == RECORD["id"]
    assert len(rsps.calls) == 2


def test_it_refuses_a_value_for_a_field_the_schema_lacks(client):
    with pytest.raises(ValueError, match="no field"):
        client.custom_objects.upsert(_schema(), external_id="x", values={"nope": 1})


def test_it_reads_record_values_back_in_the_units_it_wrote_them(rsps, client):
    # Found against the sandbox: currency went out in cents (encode_record_value) and came
    # back as the cents, dates as strings. Values are now typed by the schema's fields.
    stored = {
        **RECORD,
        "fields": [
            {"id": "est-revenue", "value": 1250050},
            {"id": "close-date", "value": "2025-03-31"},
            {"id": "probability", "value": 40},
            {"id": "features", "value": ["A", "B"]},
            {"id": "name", "value": "Renewal 2025"},
        ],
    }
    schema_id = EXISTING["id"]
    rsps.get(BASE + f"customObjects/records/{schema_id}/external/opp-1", json={"record": stored})
    rich = _schema()
    rsps.get(
        BASE + f"customObjects/schemas/{schema_id}",
        json={"schema": {**EXISTING, "fields": [_raw_field(f) for f in rich.fields]}},
    )

    given_schema = client.custom_objects.record(rich, "opp-1")
    given_id = client.custom_objects.record(schema_id, "opp-1")  # reads the schema once

    for record in (given_schema, given_id):
        assert record.value("est-revenue") == Decimal("12500.50")
        assert record.value("close-date") == date(2025, 3, 31)
        assert record.value("probability") == Decimal(40)
        assert record.value("features") == ("A", "B")
        assert record.value("name") == "Renewal 2025"
    schema_reads = [c for c in rsps.calls if "/customObjects/schemas/" in path(c)]
    assert len(schema_reads) == 1


def _raw_field(field) -> dict:
    return {
        "id": field.id,
        "labels": {"singular": field.label, "plural": field.plural_label or field.label},
        "type": field.type,
    }


def test_it_finds_a_record_by_external_id(rsps, client):
    rsps.get(
        BASE + f"customObjects/records/{EXISTING['id']}/external/opp%2F1",
        status=404,
        json={"message": "Not Found"},
    )

    assert client.custom_objects.record(EXISTING["id"], "opp/1") is None
    assert path(rsps.calls[0]).endswith("/external/opp%2F1")


def test_it_lists_schemas_with_deleted_fields_marked(rsps, client):
    rsps.get(BASE + "customObjects/schemas", json=_schemas(EXISTING))
    rsps.get(BASE + f"customObjects/schemas/{EXISTING['id']}", json={"schema": EXISTING})

    (listed,) = client.custom_objects.schemas()
    single = client.custom_objects.schema(EXISTING["id"])

    assert listed == single
    assert [f.id for f in listed.fields if f.deleted] == ["old-notes"]
    assert listed.relationships[0].namespace == "contacts"
    assert query(rsps.calls[1])["showFields"] == ["all"]


def test_it_deletes_a_record_by_external_id(rsps, client):
    url = BASE + f"customObjects/records/{EXISTING['id']}/external/"
    rsps.delete(url + "opp-1", status=202, body="")
    rsps.delete(url + "opp%2F2", status=404, json={"message": "Record not found"})

    assert client.custom_objects.delete(EXISTING["id"], "opp-1") is True
    assert client.custom_objects.delete(_schema(), "opp/2") is False  # quoted, never a path
