"""Accounts (§4): accounts with inline custom fields, field meta and data, account contacts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def meta(ac, label, kind, **extra) -> dict:
    response = ac.api.post(
        "/accountCustomFieldMeta",
        {"accountCustomFieldMetum": {"fieldLabel": label, "fieldType": kind, **extra}},
    )
    assert response.status_code == 200, response.text
    return response.json()["accountCustomFieldMetum"]


def account(ac, name="Contoso Ltd", **extra) -> dict:
    response = ac.api.post("/accounts", {"account": {"name": name, **extra}})
    assert response.status_code == 201, response.text
    return response.json()["account"]


def contact(ac, email) -> int:
    return int(ac.api.post("/contacts", {"contact": {"email": email}}).json()["contact"]["id"])


def test_it_creates_an_account_with_inline_custom_fields(ac):
    size = meta(ac, "Size", "dropdown", fieldOptions=["1-10", "11-500", "501 - 1000"])
    revenue = meta(ac, "Revenue", "currency", fieldDefaultCurrency="EUR")
    markets = meta(ac, "Markets", "multiselect", fieldOptions=["EU", "US", "APAC"])
    created = account(
        ac,
        accountUrl="https://www.contoso.example",
        fields=[
            {"customFieldId": int(size["id"]), "fieldValue": "501 - 1000"},
            {"customFieldId": int(revenue["id"]), "fieldValue": 1234500, "fieldCurrency": "GBP"},
            {"customFieldId": int(markets["id"]), "fieldValue": ["EU", "US"]},
        ],
    )
    assert created["accountUrl"] == "https://www.contoso.example"
    fields = {f["customFieldId"]: f for f in created["fields"]}
    assert fields[int(size["id"])]["fieldValue"] == "501 - 1000"
    assert fields[int(revenue["id"])]["fieldValue"] == 1234500
    assert fields[int(revenue["id"])]["fieldCurrency"] == "GBP"
    assert fields[int(markets["id"])]["fieldValue"] == ["EU", "US"]
    assert all(f["accountId"] == created["id"] for f in created["fields"])
    data = ac.api.get(
        "/accountCustomFieldData", params={"filters[customerAccountId]": created["id"]}
    ).json()["accountCustomFieldData"]
    assert len(data) == 3


def test_it_refuses_a_duplicate_or_missing_account_name(ac):
    account(ac, "Fabrikam")
    duplicate = ac.api.post("/accounts", {"account": {"name": "fabrikam"}})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["code"] == "duplicate"
    missing = ac.api.post("/accounts", {"account": {"accountUrl": "x"}})
    assert missing.json()["errors"][0]["code"] == "field_missing"


def test_it_refuses_an_unknown_custom_field(ac):
    response = ac.api.post(
        "/accounts",
        {"account": {"name": "X", "fields": [{"customFieldId": 99, "fieldValue": "v"}]}},
    )
    assert response.status_code == 422


def test_it_searches_updates_and_deletes_accounts(ac):
    first = account(ac, "Northwind Traders")
    account(ac, "Tailspin Toys")
    found = ac.api.get("/accounts", params={"search": "north"}).json()
    assert [a["name"] for a in found["accounts"]] == ["Northwind Traders"]
    assert found["meta"]["total"] == "1"
    updated = ac.api.put(f"/accounts/{first['id']}", {"account": {"name": "Northwind Ltd"}})
    assert updated.status_code == 200
    assert ac.api.get(f"/accounts/{first['id']}").json()["account"]["name"] == "Northwind Ltd"
    clash = ac.api.put(f"/accounts/{first['id']}", {"account": {"name": "Tailspin Toys"}})
    assert clash.status_code == 422
    assert ac.api.delete(f"/accounts/{first['id']}").json() == {}
    assert ac.api.get(f"/accounts/{first['id']}").status_code == 404


def test_it_counts_contacts_only_when_asked(ac):
    created = account(ac)
    ac.api.post(
        "/accountContacts",
        {
            "accountContact": {
                "contact": contact(ac, "a@example.com"),
                "account": int(created["id"]),
            }
        },
    )
    plain = ac.api.get("/accounts").json()["accounts"][0]
    assert plain["contactCount"] == "0"
    counted = ac.api.get("/accounts", params={"count_deals": "true"}).json()["accounts"][0]
    assert counted["contactCount"] == "1"


def test_it_bulk_deletes_accounts(ac):
    ids = [account(ac, f"Co {n}")["id"] for n in range(3)]
    response = ac.api.delete(f"/accounts/bulk_delete?ids[]={ids[0]}&ids[]={ids[1]}")
    assert response.json() == {"meta": {"success": True}}
    assert [a["id"] for a in ac.api.get("/accounts").json()["accounts"]] == [ids[2]]


def test_it_manages_account_field_meta(ac):
    created = meta(ac, "Tier", "text", fieldDefault="Bronze")
    assert created["fieldType"] == "text"
    listed = ac.api.get("/accountCustomFieldMeta").json()["accountCustomFieldMeta"]
    assert [m["id"] for m in listed] == [created["id"]]
    updated = ac.api.put(
        f"/accountCustomFieldMeta/{created['id']}",
        {"accountCustomFieldMetum": {"fieldLabel": "Level"}},
    ).json()["accountCustomFieldMetum"]
    assert updated["fieldLabel"] == "Level"
    deleted = ac.api.delete(f"/accountCustomFieldMeta/{created['id']}")
    assert deleted.json() == {"message": "AccountCustomFieldMeta deleted."}
    missing = ac.api.get(f"/accountCustomFieldMeta/{created['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"status": 404, "title": "Not Found"}]}


def test_it_requires_a_type_and_options_for_choice_meta(ac):
    no_type = ac.api.post(
        "/accountCustomFieldMeta", {"accountCustomFieldMetum": {"fieldLabel": "X"}}
    )
    assert no_type.status_code == 422
    no_options = ac.api.post(
        "/accountCustomFieldMeta",
        {"accountCustomFieldMetum": {"fieldLabel": "X", "fieldType": "dropdown"}},
    )
    assert no_options.status_code == 422


def test_it_writes_account_field_data_with_either_account_key(ac):
    tier = meta(ac, "Tier", "text")
    created = account(ac)
    first = ac.api.post(
        "/accountCustomFieldData",
        {
            "accountCustomFieldDatum": {
                "customerAccountId": int(created["id"]),
                "customFieldId": int(tier["id"]),
                "fieldValue": "Gold",
            }
        },
    )
    assert first.status_code == 200
    datum = first.json()["accountCustomFieldDatum"]
    assert datum["fieldValue"] == "Gold"
    # §4.2: clients also send `accountId`; it names the same account.
    second = ac.api.post(
        "/accountCustomFieldData",
        {
            "accountCustomFieldDatum": {
                "accountId": created["id"],
                "customFieldId": tier["id"],
                "fieldValue": "Silver",
            }
        },
        check=False,
    ).json()["accountCustomFieldDatum"]
    assert second["id"] == datum["id"]
    updated = ac.api.put(
        f"/accountCustomFieldData/{datum['id']}",
        {"accountCustomFieldDatum": {"fieldValue": "Platinum"}},
    ).json()["accountCustomFieldDatum"]
    assert updated["fieldValue"] == "Platinum"
    bulk = ac.api.session.patch(
        f"{ac.url}/api/3/accountCustomFieldData/bulkUpdate",
        json=[{"id": datum["id"], "fieldValue": "Diamond"}],
    )
    assert bulk.status_code == 200
    assert (
        ac.api.get(f"/accountCustomFieldData/{datum['id']}").json()["accountCustomFieldDatum"][
            "fieldValue"
        ]
        == "Diamond"
    )
    assert ac.api.delete(f"/accountCustomFieldData/{datum['id']}").json() == {
        "message": "AccountCustomFieldData deleted."
    }


def test_it_bulk_creates_account_field_data(ac):
    tier = meta(ac, "Tier", "text")
    ids = [account(ac, f"Co {n}")["id"] for n in range(2)]
    response = ac.api.session.post(
        f"{ac.url}/api/3/accountCustomFieldData/bulkCreate",
        json=[{"accountId": i, "customFieldId": tier["id"], "fieldValue": f"v{i}"} for i in ids],
    )
    assert response.json() == {"message": "the bulk insert was successful"}
    assert ac.api.get("/accountCustomFieldData").json()["meta"]["total"] == "2"


def test_it_links_a_contact_to_one_account_only(ac):
    first, second = account(ac, "A Co"), account(ac, "B Co")
    person = contact(ac, "p@example.com")
    linked = ac.api.post(
        "/accountContacts",
        {"accountContact": {"contact": person, "account": int(first["id"]), "jobTitle": "CFO"}},
    )
    assert linked.status_code == 201
    link = linked.json()["accountContact"]
    assert link["jobTitle"] == "CFO"
    refused = ac.api.post(
        "/accountContacts", {"accountContact": {"contact": person, "account": int(second["id"])}}
    )
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["code"] == "field_invalid"
    assert error["source"]["pointer"] == "/data/attributes/account,contact"
    # Moving the contact is a PUT of the existing link.
    moved = ac.api.put(
        f"/accountContacts/{link['id']}",
        {"accountContact": {"account": int(second["id"]), "jobTitle": "CEO"}},
    ).json()["accountContact"]
    assert (moved["account"], moved["jobTitle"]) == (second["id"], "CEO")
    contact_row = ac.api.get(f"/contacts/{person}").json()["contact"]
    assert contact_row["orgname"] == "B Co"


def test_it_filters_and_deletes_account_contacts(ac):
    company = account(ac)
    people = [contact(ac, f"{n}@example.com") for n in range(3)]
    for person in people:
        ac.api.post(
            "/accountContacts",
            {"accountContact": {"contact": person, "account": int(company["id"])}},
        )
    by_account = ac.api.get("/accountContacts", params={"filters[account]": company["id"]}).json()
    assert by_account["meta"]["total"] == "3"
    by_contact = ac.api.get("/accountContacts", params={"filters[contact]": people[1]}).json()
    assert [link["contact"] for link in by_contact["accountContacts"]] == [str(people[1])]
    link_id = by_contact["accountContacts"][0]["id"]
    assert (
        ac.api.get(f"/contacts/{people[1]}/accountContacts").json()["accountContacts"][0]["id"]
        == link_id
    )
    assert ac.api.delete(f"/accountContacts/{link_id}").json() == {}
    missing = ac.api.get(f"/accountContacts/{link_id}")
    assert missing.json() == {
        "message": f"No Result found for CustomerAccountSubscriber with id {link_id}"
    }


def test_it_refuses_a_link_without_account_or_to_missing_records(ac):
    person = contact(ac, "x@example.com")
    missing = ac.api.post("/accountContacts", {"accountContact": {"contact": person}})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "field_missing"
    nowhere = ac.api.post(
        "/accountContacts", {"accountContact": {"contact": person, "account": 999}}
    )
    assert nowhere.status_code == 422
