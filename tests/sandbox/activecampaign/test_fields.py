"""Custom contact fields (§3): definitions, options, relations and values."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def create_field(ac, title, kind, **extra):
    response = ac.api.post("/fields", {"field": {"title": title, "type": kind, **extra}})
    assert response.status_code == 201, response.text
    return response.json()["field"]


def contact(ac, email="c@example.com") -> str:
    return ac.api.post("/contacts", {"contact": {"email": email}}).json()["contact"]["id"]


@pytest.mark.parametrize(
    "kind",
    [
        "text",
        "textarea",
        "date",
        "datetime",
        "dropdown",
        "listbox",
        "radio",
        "checkbox",
        "hidden",
        "number",
    ],
)
def test_it_creates_fields_of_every_documented_type(ac, kind):
    field = create_field(ac, f"A {kind} field", kind)
    assert field["type"] == kind
    assert field["perstag"] == f"A_{kind.upper()}_FIELD"
    assert ac.api.get(f"/fields/{field['id']}").json()["field"]["title"] == f"A {kind} field"


def test_it_refuses_an_unknown_type_and_missing_attributes(ac):
    assert ac.api.post("/fields", {"field": {"title": "X", "type": "currency"}}).status_code == 422
    missing = ac.api.post("/fields", {"field": {"type": "text"}})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "field_missing"


def test_it_refuses_a_duplicate_field_title(ac):
    create_field(ac, "Lead source", "dropdown")
    response = ac.api.post("/fields", {"field": {"title": "lead SOURCE", "type": "text"}})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["code"] == "duplicate"
    assert error["title"] == "There is already a field with this title"


def test_it_adds_options_in_bulk_and_side_loads_them(ac):
    field = create_field(ac, "Interests", "listbox")
    created = ac.api.post(
        "/fieldOption/bulk",
        {
            "fieldOptions": [
                {"field": field["id"], "label": "Webinars", "value": "Webinars", "orderid": 1},
                {"field": field["id"], "label": "News", "value": "Newsletter", "orderid": 2},
            ]
        },
    )
    assert created.status_code == 201
    assert [o["value"] for o in created.json()["fieldOptions"]] == ["Webinars", "Newsletter"]
    options = ac.api.get(f"/fields/{field['id']}/options").json()["fieldOptions"]
    assert [o["label"] for o in options] == ["Webinars", "News"]
    listed = ac.api.get("/fields").json()
    assert {o["id"] for o in listed["fieldOptions"]} == {o["id"] for o in options}
    assert listed["fields"][0]["options"] == [o["id"] for o in options]
    assert listed["meta"]["total"] == "1"


def test_it_answers_bulk_option_errors_as_a_single_string(ac):
    response = ac.api.post("/fieldOption/bulk", {"fieldOptions": "nope"}, check=False)
    assert response.status_code == 422
    assert isinstance(response.json()["errors"], str)
    unknown = ac.api.post("/fieldOption/bulk", {"fieldOptions": [{"field": "999", "value": "x"}]})
    assert unknown.status_code == 422
    assert isinstance(unknown.json()["errors"], str)


def test_it_relates_fields_to_lists(ac):
    field = create_field(ac, "Region", "text")
    rel = ac.api.post("/fieldRels", {"fieldRel": {"field": int(field["id"]), "relid": 0}})
    assert rel.status_code == 201
    rel_id = rel.json()["fieldRel"]["id"]
    assert ac.api.get(f"/fields/{field['id']}").json()["field"]["relations"] == [rel_id]
    assert ac.api.get("/fieldRels").json()["fieldRels"][0]["relid"] == "0"
    assert ac.api.delete(f"/fieldRels/{rel_id}").json() == {}
    assert ac.api.delete(f"/fieldRels/{rel_id}").status_code == 404


def test_it_updates_and_deletes_a_field_and_its_values(ac):
    field = create_field(ac, "Old", "text")
    contact_id = contact(ac)
    ac.api.post(
        "/fieldValues", {"fieldValue": {"contact": contact_id, "field": field["id"], "value": "v"}}
    )
    renamed = ac.api.put(f"/fields/{field['id']}", {"field": {"title": "New"}})
    assert renamed.json()["field"]["title"] == "New"
    assert ac.api.delete(f"/fields/{field['id']}").json() == {}
    assert ac.api.get(f"/fields/{field['id']}").status_code == 404
    assert ac.api.get(f"/contacts/{contact_id}/fieldValues").json()["fieldValues"] == []
    gone = ac.api.delete(f"/fields/{field['id']}")
    assert gone.json() == {"message": f"No Result found for Field with id {field['id']}"}


def test_it_creates_and_updates_field_values(ac):
    field = create_field(ac, "Colour", "dropdown")
    contact_id = contact(ac)
    created = ac.api.post(
        "/fieldValues",
        {"fieldValue": {"contact": contact_id, "field": field["id"], "value": "Blue"}},
    )
    assert created.status_code == 200  # as the SPEC documents it
    body = created.json()
    assert body["contacts"][0]["id"] == contact_id
    value = body["fieldValue"]
    assert value["contact"] == int(contact_id)  # numbers here, per the SPEC example
    # A second POST for the same contact/field updates the same value.
    again = ac.api.post(
        "/fieldValues",
        {"fieldValue": {"contact": contact_id, "field": field["id"], "value": "Red"}},
    ).json()["fieldValue"]
    assert again["id"] == value["id"]
    put = ac.api.put(
        f"/fieldValues/{value['id']}",
        {"fieldValue": {"contact": contact_id, "field": field["id"], "value": "Green"}},
    )
    assert put.json()["fieldValue"]["value"] == "Green"
    read = ac.api.get(f"/fieldValues/{value['id']}").json()["fieldValue"]
    assert (read["value"], read["contact"], read["field"]) == ("Green", contact_id, field["id"])
    assert (
        ac.api.get(f"/contacts/{contact_id}/fieldValues").json()["fieldValues"][0]["value"]
        == "Green"
    )


def test_it_keeps_multi_values_in_the_double_pipe_form(ac):
    field = create_field(ac, "Interests", "checkbox")
    contact_id = contact(ac)
    ac.api.post(
        "/contact/sync",
        {
            "contact": {
                "email": "c@example.com",
                "fieldValues": [{"field": field["id"], "value": "||A||B||"}],
            }
        },
    )
    values = ac.api.get(f"/contacts/{contact_id}/fieldValues").json()["fieldValues"]
    assert values[0]["value"] == "||A||B||"


def test_it_filters_field_values_and_deletes_them(ac):
    field = create_field(ac, "Tier", "text")
    ids = [contact(ac, f"{n}@example.com") for n in range(3)]
    for contact_id, tier in zip(ids, ["gold", "silver", "gold"], strict=True):
        ac.api.post(
            "/fieldValues",
            {"fieldValue": {"contact": contact_id, "field": field["id"], "value": tier}},
        )
    gold = ac.api.get(
        "/fieldValues", params={"filters[fieldid]": field["id"], "filters[val]": "gold"}
    ).json()
    assert gold["meta"]["total"] == "2"
    value_id = gold["fieldValues"][0]["id"]
    assert ac.api.delete(f"/fieldValues/{value_id}").json() == {}
    missing = ac.api.get(f"/fieldValues/{value_id}")
    # retrieve-a-custom-field-value documents a 403 for a missing value.
    assert missing.status_code == 403
    assert missing.json() == {"message": f"No Result found for FieldValue with id {value_id}"}


def test_it_refuses_values_for_missing_contacts_or_fields(ac):
    field = create_field(ac, "Tier", "text")
    contact_id = contact(ac)
    no_contact = ac.api.post(
        "/fieldValues", {"fieldValue": {"contact": 999, "field": field["id"], "value": "x"}}
    )
    assert no_contact.status_code == 404
    no_field = ac.api.post(
        "/fieldValues", {"fieldValue": {"contact": contact_id, "field": 999, "value": "x"}}
    )
    assert no_field.status_code == 404
    no_value = ac.api.post(
        "/fieldValues", {"fieldValue": {"contact": contact_id, "field": field["id"]}}
    )
    assert no_value.status_code == 422


def test_it_fills_missing_required_fields_with_defaults_when_asked(ac):
    plan = create_field(ac, "Plan", "text", defval="free", isrequired=1)
    other = create_field(ac, "Colour", "text")
    contact_id = contact(ac)
    ac.api.post(
        "/fieldValues",
        {
            "fieldValue": {"contact": contact_id, "field": other["id"], "value": "red"},
            "useDefaults": True,
        },
    )
    values = ac.api.get(f"/contacts/{contact_id}/fieldValues").json()["fieldValues"]
    assert {(v["field"], v["value"]) for v in values} == {
        (other["id"], "red"),
        (plan["id"], "free"),
    }
