"""Custom objects (§5): schemas, field deletion, record upserts and their rules."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

OPPORTUNITY = {
    "slug": "d365-opportunity",
    "labels": {"singular": "Opportunity", "plural": "Opportunities"},
    "description": "Mirrored from Dynamics 365",
    "fields": [
        {
            "id": "name",
            "labels": {"singular": "Topic", "plural": "Topics"},
            "type": "text",
            "required": True,
        },
        {
            "id": "est-revenue",
            "labels": {"singular": "Est. revenue", "plural": "Est. revenue"},
            "type": "currency",
            "defaultCurrency": "EUR",
        },
        {
            "id": "probability",
            "labels": {"singular": "Probability", "plural": "Probabilities"},
            "type": "number",
            "scale": 0,
        },
        {
            "id": "stage",
            "labels": {"singular": "Stage", "plural": "Stages"},
            "type": "dropdown",
            "options": [
                {"value": "Qualify"},
                {"value": "Develop"},
                {"value": "Propose"},
                {"value": "Close"},
            ],
        },
        {
            "id": "close-date",
            "labels": {"singular": "Est. close", "plural": "Est. close"},
            "type": "date",
        },
    ],
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


@pytest.fixture
def schema(ac) -> dict:
    response = ac.api.post("/customObjects/schemas", {"schema": OPPORTUNITY})
    assert response.status_code == 201, response.text
    return response.json()["schema"]


@pytest.fixture
def contact_id(ac) -> int:
    return int(
        ac.api.post("/contacts", {"contact": {"email": "opp@example.com"}}).json()["contact"]["id"]
    )


def upsert(ac, schema, record, **kw):
    return ac.api.post(f"/customObjects/records/{schema['id']}", {"record": record}, **kw)


def test_it_creates_a_private_schema_with_ids_for_options(schema):
    assert schema["visibility"] == "private"
    assert schema["slug"] == "d365-opportunity"
    assert len(schema["id"]) == 36
    stage = next(f for f in schema["fields"] if f["id"] == "stage")
    assert [o["value"] for o in stage["options"]] == ["Qualify", "Develop", "Propose", "Close"]
    assert all(o["id"] for o in stage["options"])
    assert schema["relationships"][0]["namespace"] == "contacts"
    assert schema["createdTimestamp"].endswith("Z")


def test_it_refuses_a_second_schema_with_the_same_slug(ac, schema):
    response = ac.api.post("/customObjects/schemas", {"schema": OPPORTUNITY})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["detail"] == "Schema slug must be unique"
    assert error["source"] == {"type": "pointer", "value": "/data/attributes/schema/slug"}


def test_it_refuses_fields_without_labels(ac):
    body = {**OPPORTUNITY, "fields": [{"id": "x", "type": "text"}]}
    response = ac.api.post("/customObjects/schemas", {"schema": body})
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == "Schema fields must provide labels"


def test_it_lists_and_reads_schemas(ac, schema):
    listed = ac.api.get("/customObjects/schemas").json()
    assert [s["id"] for s in listed["schemas"]] == [schema["id"]]
    assert listed["meta"]["total"] == 1  # an int for custom objects (§1.2)
    assert (
        ac.api.get(f"/customObjects/schemas/{schema['id']}").json()["schema"]["slug"]
        == "d365-opportunity"
    )
    missing = ac.api.get("/customObjects/schemas/nope")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found"}


def test_it_adds_fields_and_options_with_put_and_never_removes_them(ac, schema):
    update = {
        "schema": {
            "appId": "123456",
            "fields": [
                {
                    "id": "stage",
                    "labels": {"singular": "Stage", "plural": "Stages"},
                    "type": "dropdown",
                    "options": [{"value": "Won"}],
                },
                {
                    "id": "owner",
                    "labels": {"singular": "Owner", "plural": "Owners"},
                    "description": "Sales owner in Dynamics",
                    "isRequired": False,
                    "origin": "d365",
                    "type": "text",
                },
            ],
        }
    }
    response = ac.api.put(f"/customObjects/schemas/{schema['id']}", update)
    assert response.status_code == 200
    fields = {f["id"]: f for f in response.json()["schema"]["fields"]}
    assert set(fields) == {"name", "est-revenue", "probability", "stage", "close-date", "owner"}
    assert [o["value"] for o in fields["stage"]["options"]] == [
        "Qualify",
        "Develop",
        "Propose",
        "Close",
        "Won",
    ]
    assert fields["owner"]["origin"] == "d365"


def test_it_refuses_to_change_a_field_type(ac, schema):
    update = {
        "schema": {
            "fields": [{"id": "name", "labels": {"singular": "N", "plural": "N"}, "type": "number"}]
        }
    }
    response = ac.api.put(f"/customObjects/schemas/{schema['id']}", update, check=False)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["type"] == "pointer"


def test_it_only_validates_when_asked_to(ac, schema):
    owner = {
        "id": "owner",
        "labels": {"singular": "O", "plural": "O"},
        "description": "d",
        "origin": "d365",
        "isRequired": False,
        "type": "text",
    }
    update = {"schema": {"appId": "1", "fields": [owner]}}
    dry = ac.api.put(
        f"/customObjects/schemas/{schema['id']}", update, headers={"validateOnly": "true"}
    )
    assert dry.status_code == 200
    assert "owner" in {f["id"] for f in dry.json()["schema"]["fields"]}
    stored = ac.api.get(f"/customObjects/schemas/{schema['id']}").json()["schema"]
    assert "owner" not in {f["id"] for f in stored["fields"]}


def test_it_marks_a_deleted_field_and_keeps_its_id_taken(ac, schema):
    response = ac.api.delete(f"/customObjects/schemas/{schema['id']}/fields/close-date")
    assert response.status_code == 202
    assert "close-date" not in {f["id"] for f in response.json()["schema"]["fields"]}
    hidden = ac.api.get(f"/customObjects/schemas/{schema['id']}").json()["schema"]
    assert "close-date" not in {f["id"] for f in hidden["fields"]}
    shown = ac.api.get(
        f"/customObjects/schemas/{schema['id']}", params={"showFields": "all"}
    ).json()["schema"]
    deleted = next(f for f in shown["fields"] if f["id"] == "close-date")
    assert deleted["status"] == "marked_for_deletion"
    reuse = {
        "schema": {
            "fields": [
                {"id": "close-date", "labels": {"singular": "P", "plural": "P"}, "type": "text"}
            ]
        }
    }
    assert (
        ac.api.put(f"/customObjects/schemas/{schema['id']}", reuse, check=False).status_code == 422
    )
    again = ac.api.delete(f"/customObjects/schemas/{schema['id']}/fields/close-date")
    assert again.status_code == 404


def test_it_hides_a_deleted_fields_data_on_records(ac, schema, contact_id):
    fields = [{"id": "name", "value": "A"}, {"id": "close-date", "value": "2025-01-31"}]
    upsert(ac, schema, {"externalId": "o-1", "fields": fields})
    ac.api.delete(f"/customObjects/schemas/{schema['id']}/fields/close-date")
    record = ac.api.get(f"/customObjects/records/{schema['id']}/external/o-1", check=False).json()[
        "record"
    ]
    assert [f["id"] for f in record["fields"]] == ["name"]
    refused = upsert(
        ac, schema, {"externalId": "o-1", "fields": [{"id": "close-date", "value": "2025-02-01"}]}
    )
    assert refused.status_code == 422


def test_it_creates_a_record_and_answers_relationship_ids_as_strings(ac, schema, contact_id):
    response = upsert(
        ac,
        schema,
        {
            "externalId": "opp-1",
            "fields": [
                {"id": "name", "value": "Renewal 2025"},
                {"id": "est-revenue", "value": 1250000},
                {"id": "stage", "value": "Develop"},
                {"id": "close-date", "value": "2025-03-31"},
            ],
            "relationships": {"primary-contact": [contact_id]},
        },
    )
    assert response.status_code == 201
    record = response.json()["record"]
    assert record["externalId"] == "opp-1"
    assert record["schemaId"] == schema["id"]
    assert record["relationships"] == {"primary-contact": [str(contact_id)]}
    values = {f["id"]: f["value"] for f in record["fields"]}
    assert values == {
        "name": "Renewal 2025",
        "est-revenue": 1250000,
        "stage": "Develop",
        "close-date": "2025-03-31",
    }
    assert (
        ac.api.get(f"/customObjects/records/{schema['id']}/{record['id']}").json()["record"]
        == record
    )


def test_it_updates_the_record_with_the_same_external_id(ac, schema, contact_id):
    first = upsert(
        ac, schema, {"externalId": "opp-1", "fields": [{"id": "name", "value": "A"}]}
    ).json()["record"]
    second = upsert(
        ac, schema, {"externalId": "opp-1", "fields": [{"id": "stage", "value": "Close"}]}
    ).json()["record"]
    assert second["id"] == first["id"]
    assert {f["id"]: f["value"] for f in second["fields"]} == {"name": "A", "stage": "Close"}
    assert ac.api.get(f"/customObjects/records/{schema['id']}").json()["meta"]["total"] == 1


def test_it_applies_the_documented_id_and_external_id_rules(ac, schema):
    first = upsert(
        ac, schema, {"externalId": "ext-1", "fields": [{"id": "name", "value": "A"}]}
    ).json()["record"]
    # id matches, externalId omitted: the existing record is updated.
    by_id = upsert(
        ac, schema, {"id": first["id"], "fields": [{"id": "name", "value": "B"}]}
    ).json()["record"]
    assert by_id["id"] == first["id"]
    assert by_id["externalId"] == "ext-1"
    # id matches but externalId differs: a new record.
    other = upsert(
        ac,
        schema,
        {"id": first["id"], "externalId": "ext-2", "fields": [{"id": "name", "value": "C"}]},
    )
    assert other.json()["record"]["id"] != first["id"]
    # An id that matches nothing is ignored: a new record with its own id.
    unknown = upsert(
        ac, schema, {"id": "made-up", "fields": [{"id": "name", "value": "D"}]}
    ).json()["record"]
    assert unknown["id"] not in (first["id"], "made-up")
    assert ac.api.get(f"/customObjects/records/{schema['id']}").json()["meta"]["total"] == 3


def test_it_refuses_a_value_the_schema_does_not_define(ac, schema):
    response = upsert(
        ac,
        schema,
        {
            "externalId": "x",
            "fields": [{"id": "name", "value": "A"}, {"id": "stage", "value": "Lost"}],
        },
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["detail"] == "stage cannot accept a value that is not defined in the schema."
    assert error["source"] == {"type": "pointer", "value": "/data/attributes/stage"}


def test_it_refuses_a_record_without_its_required_fields(ac, schema):
    response = upsert(
        ac, schema, {"externalId": "x", "fields": [{"id": "stage", "value": "Close"}]}
    )
    assert response.status_code == 422


def test_it_refuses_fields_sent_as_a_map_and_unknown_relationships(ac, schema, contact_id):
    as_map = ac.api.post(
        f"/customObjects/records/{schema['id']}",
        {"record": {"externalId": "x", "fields": {"name": "A"}}},
        check=False,
    )
    assert as_map.status_code == 422
    missing_contact = upsert(
        ac,
        schema,
        {
            "externalId": "x",
            "fields": [{"id": "name", "value": "A"}],
            "relationships": {"primary-contact": [999]},
        },
    )
    assert missing_contact.status_code == 422
    two = upsert(
        ac,
        schema,
        {
            "externalId": "x",
            "fields": [{"id": "name", "value": "A"}],
            "relationships": {"primary-contact": [contact_id, contact_id]},
        },
    )
    assert two.status_code == 422  # hasMany is false


def test_it_lists_records_by_related_contact_and_by_field(ac, schema, contact_id):
    other = int(
        ac.api.post("/contacts", {"contact": {"email": "b@example.com"}}).json()["contact"]["id"]
    )
    for n, (person, stage) in enumerate(
        [(contact_id, "Close"), (other, "Qualify"), (contact_id, "Qualify")]
    ):
        upsert(
            ac,
            schema,
            {
                "externalId": f"o-{n}",
                "fields": [{"id": "name", "value": f"Opp {n}"}, {"id": "stage", "value": stage}],
                "relationships": {"primary-contact": [person]},
            },
        )
    mine = ac.api.get(
        f"/customObjects/records/{schema['id']}",
        params={"filters[relationships.primary-contact][eq]": contact_id},
    ).json()
    assert sorted(r["externalId"] for r in mine["records"]) == ["o-0", "o-2"]
    assert mine["meta"]["total"] == 2
    qualify = ac.api.get(
        f"/customObjects/records/{schema['id']}", params={"filters[fields.stage][eq]": "Qualify"}
    ).json()
    assert sorted(r["externalId"] for r in qualify["records"]) == ["o-1", "o-2"]
    paged = ac.api.get(
        f"/customObjects/records/{schema['id']}", params={"limit": 2, "offset": 2}
    ).json()
    assert paged["meta"] == {"total": 3, "count": 1, "limit": 2, "offset": 2}


def test_it_reads_and_deletes_records_by_external_id(ac, schema):
    record = upsert(
        ac, schema, {"externalId": "ext-9", "fields": [{"id": "name", "value": "A"}]}
    ).json()["record"]
    got = ac.api.get(f"/customObjects/records/{schema['id']}/external/ext-9", check=False)
    assert got.json()["record"]["id"] == record["id"]
    deleted = ac.api.delete(f"/customObjects/records/{schema['id']}/external/ext-9")
    assert deleted.status_code == 202
    assert ac.api.get(f"/customObjects/records/{schema['id']}/{record['id']}").status_code == 404
    assert ac.api.delete(f"/customObjects/records/{schema['id']}/external/ext-9").status_code == 404


def test_it_has_no_put_or_patch_on_records(ac, schema):
    record = upsert(
        ac, schema, {"externalId": "ext-1", "fields": [{"id": "name", "value": "A"}]}
    ).json()["record"]
    for method in ("PUT", "PATCH"):
        response = ac.api(
            method,
            f"/customObjects/records/{schema['id']}/{record['id']}",
            json_body={"record": {}},
        )
        assert response.status_code == 405, method
        assert (
            ac.api(
                method, f"/customObjects/records/{schema['id']}", json_body={"record": {}}
            ).status_code
            == 405
        )


def test_it_deletes_a_schema_with_its_records(ac, schema):
    upsert(ac, schema, {"externalId": "ext-1", "fields": [{"id": "name", "value": "A"}]})
    response = ac.api.delete(f"/customObjects/schemas/{schema['id']}")
    assert response.status_code == 200
    assert ac.api.get(f"/customObjects/schemas/{schema['id']}").status_code == 404
    assert ac.api.get(f"/customObjects/records/{schema['id']}").status_code == 404
    assert ac.app.db.execute_one("SELECT COUNT(*) FROM co_records")[0] == 0


def test_it_can_simulate_the_eventually_consistent_list(ac, schema):
    ac.app.record_list_lag = 60.0
    created = upsert(ac, schema, {"externalId": "late", "fields": [{"id": "name", "value": "A"}]})
    assert created.status_code == 201
    assert ac.api.get(f"/customObjects/records/{schema['id']}").json()["records"] == []
    assert (
        ac.api.get(f"/customObjects/records/{schema['id']}/external/late", check=False).status_code
        == 200
    )
