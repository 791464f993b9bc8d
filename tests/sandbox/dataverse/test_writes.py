"""Writing data: create, update, upsert, delete, conditional operations, binds, read-only
columns, validation and duplicate detection."""

from __future__ import annotations

import pytest

from .conftest import unique

pytestmark = pytest.mark.integration


def _error(response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]["message"]


def test_it_creates_with_204_and_an_entity_id_header(dv, s):
    response = s.post(f"{dv.api}/contacts", json={"firstname": "Ana", "lastname": "Diaz"})
    assert response.status_code == 204
    assert response.content == b""
    entity_id = response.headers["OData-EntityId"]
    assert entity_id.startswith(f"{dv.api}/contacts(")
    record = s.get(entity_id, params={"$select": "fullname"}).json()
    assert record["fullname"] == "Ana Diaz"


def test_it_returns_the_record_with_201_on_return_representation(dv, s):
    response = s.post(
        f"{dv.api}/contacts?$select=contactid,fullname",
        json={"firstname": "Ben", "lastname": "Okafor"},
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201
    assert "OData-EntityId" not in response.headers
    body = response.json()
    assert body["fullname"] == "Ben Okafor"
    assert set(body) == {"@odata.context", "@odata.etag", "contactid", "fullname"}
    assert response.headers["Preference-Applied"] == "return=representation"


def test_it_honours_a_client_supplied_primary_key(dv, s):
    wanted = "7eb682f1-ca75-e511-80d4-00155d2a68d1"
    response = s.post(f"{dv.api}/accounts", json={"accountid": wanted, "name": "Fabrikam"})
    assert response.headers["OData-EntityId"].endswith(f"accounts({wanted})")
    again = s.post(f"{dv.api}/accounts", json={"accountid": wanted, "name": "Fabrikam"})
    assert again.status_code == 412


def test_it_ignores_read_only_columns_and_composes_full_names(dv, s):
    contact = dv.create(
        "contacts",
        {
            "firstname": "Ines",
            "lastname": "Rossi",
            "fullname": "Someone Else",
            "createdon": "2001-01-01T00:00:00Z",
        },
    )
    body = s.get(f"{dv.api}/contacts({contact})", params={"$select": "fullname,createdon"}).json()
    assert body["fullname"] == "Ines Rossi"
    assert not body["createdon"].startswith("2001")
    s.patch(
        f"{dv.api}/contacts({contact})", json={"lastname": "Bianchi"}, headers={"If-Match": "*"}
    )
    assert s.get(f"{dv.api}/contacts({contact})/fullname").json()["value"] == "Ines Bianchi"


def test_it_ignores_statecode_on_create_for_leads_and_opportunities(dv, s):
    lead = dv.create("leads", {"lastname": "Kim", "subject": "Pilot", "statecode": 1})
    assert (
        s.get(f"{dv.api}/leads({lead})", params={"$select": "statecode,statuscode"}).json()[
            "statecode"
        ]
        == 0
    )
    account = dv.create("accounts", {"name": "Litware", "statecode": 1})
    body = s.get(f"{dv.api}/accounts({account})", params={"$select": "statecode,statuscode"}).json()
    assert (body["statecode"], body["statuscode"]) == (1, 2)


def test_it_updates_only_with_if_match_star_and_upserts_without(dv, s):
    missing = "00000000-0000-0000-0000-00000000abcd"
    response = s.patch(
        f"{dv.api}/contacts({missing})", json={"lastname": "Nobody"}, headers={"If-Match": "*"}
    )
    message = _error(response, 404, "")
    assert message == f"contact With Id = {missing} Does Not Exist"
    created = s.patch(f"{dv.api}/contacts({missing})", json={"lastname": "Upserted"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"].endswith(f"contacts({missing})")
    assert s.get(f"{dv.api}/contacts({missing})/lastname").json()["value"] == "Upserted"
    refused = s.patch(
        f"{dv.api}/contacts({missing})", json={"lastname": "Again"}, headers={"If-None-Match": "*"}
    )
    assert _error(refused, 412, "") == "A record with matching key values already exists."
    updated = s.patch(
        f"{dv.api}/contacts({missing})?$select=lastname",
        json={"lastname": "Changed"},
        headers={"Prefer": "return=representation"},
    )
    assert updated.status_code == 200
    assert updated.json()["lastname"] == "Changed"
    new_id = "00000000-0000-0000-0000-00000000abce"
    fresh = s.patch(
        f"{dv.api}/contacts({new_id})?$select=contactid",
        json={"lastname": "Fresh"},
        headers={"Prefer": "return=representation"},
    )
    assert fresh.status_code == 201


def test_it_changes_the_etag_on_every_write_and_refuses_stale_ones(dv, s):
    contact = dv.create("contacts", {"lastname": "Etag"})
    first = s.get(f"{dv.api}/contacts({contact})", params={"$select": "lastname"}).json()[
        "@odata.etag"
    ]
    assert (
        s.patch(
            f"{dv.api}/contacts({contact})", json={"lastname": "Etag"}, headers={"If-Match": first}
        ).status_code
        == 204
    )
    second = s.get(f"{dv.api}/contacts({contact})", params={"$select": "lastname"}).json()[
        "@odata.etag"
    ]
    assert second != first  # even an unchanged value counts as an update (S11)
    stale = s.patch(
        f"{dv.api}/contacts({contact})", json={"lastname": "X"}, headers={"If-Match": first}
    )
    assert (
        _error(stale, 412, "")
        == "The version of the existing record doesn't match the RowVersion property provided."
    )
    assert _error(s.delete(f"{dv.api}/contacts({contact})", headers={"If-Match": first}), 412, "")
    unchanged = s.get(
        f"{dv.api}/contacts({contact})",
        params={"$select": "lastname"},
        headers={"If-None-Match": second},
    )
    assert unchanged.status_code == 304
    assert (
        s.delete(f"{dv.api}/contacts({contact})", headers={"If-Match": second}).status_code == 204
    )


def test_it_deletes_with_204_and_answers_404_for_missing_rows(dv, s):
    contact = dv.create("contacts", {"lastname": "Gone"})
    assert s.delete(f"{dv.api}/contacts({contact})").status_code == 204
    assert _error(s.delete(f"{dv.api}/contacts({contact})"), 404, "0x80040217")
    assert s.get(f"{dv.api}/contacts({contact})").status_code == 404


def test_it_binds_every_lookup_the_product_uses(dv, s):
    user = s.get(f"{dv.api}/WhoAmI").json()["UserId"]
    account = dv.create("accounts", {"name": "Bind Co"})
    parent = dv.create("accounts", {"name": "Bind Holding"})
    contact = dv.create(
        "contacts",
        {
            "lastname": "Bound",
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
            "ownerid@odata.bind": f"/systemusers({user})",
        },
    )
    s.patch(
        f"{dv.api}/accounts({account})",
        json={
            "primarycontactid@odata.bind": f"/contacts({contact})",
            "parentaccountid@odata.bind": f"/accounts({parent})",
        },
        headers={"If-Match": "*"},
    )
    lead = dv.create(
        "leads",
        {
            "lastname": "Lead",
            "customerid_contact@odata.bind": f"/contacts({contact})",
            "parentaccountid@odata.bind": f"/accounts({account})",
            "parentcontactid@odata.bind": f"/contacts({contact})",
        },
    )
    opportunity = dv.create(
        "opportunities",
        {
            "name": "Deal",
            "customerid_account@odata.bind": f"/accounts({account})",
            "parentcontactid@odata.bind": f"/contacts({contact})",
        },
    )
    assert (
        s.get(
            f"{dv.api}/contacts({contact})",
            params={"$select": "_parentcustomerid_value,_ownerid_value"},
        ).json()["_parentcustomerid_value"]
        == account
    )
    acc = s.get(
        f"{dv.api}/accounts({account})",
        params={"$select": "_primarycontactid_value,_parentaccountid_value"},
    ).json()
    assert (acc["_primarycontactid_value"], acc["_parentaccountid_value"]) == (contact, parent)
    ld = s.get(
        f"{dv.api}/leads({lead})",
        params={"$select": "_customerid_value,_parentaccountid_value,_parentcontactid_value"},
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'},
    ).json()
    assert ld["_customerid_value"] == contact
    assert ld["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "contact"
    opp = s.get(
        f"{dv.api}/opportunities({opportunity})",
        params={"$select": "_customerid_value,_transactioncurrencyid_value"},
    ).json()
    assert opp["_customerid_value"] == account
    assert opp["_transactioncurrencyid_value"] is not None
    cleared = s.patch(
        f"{dv.api}/contacts({contact})",
        json={"parentcustomerid_account@odata.bind": None},
        headers={"If-Match": "*"},
    )
    assert cleared.status_code == 204
    assert s.get(f"{dv.api}/contacts({contact})/_parentcustomerid_value").status_code == 204


def test_it_refuses_a_bind_on_the_column_name_of_a_customer_lookup(dv, s):
    account = dv.create("accounts", {"name": "Wrong Bind"})
    message = _error(
        s.post(
            f"{dv.api}/contacts",
            json={"lastname": "X", "parentcustomerid@odata.bind": f"accounts({account})"},
        ),
        400,
        "0x80048d19",
    )
    assert (
        "An undeclared property 'parentcustomerid' which only has property annotations in the "
        "payload" in message
    )


def test_it_refuses_undeclared_properties_and_lookup_values_in_bodies(dv, s):
    message = _error(s.post(f"{dv.api}/accounts", json={"Name": "Account name"}), 400, "0x0")
    assert "Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'" in message
    message = _error(
        s.post(
            f"{dv.api}/contacts",
            json={
                "lastname": "X",
                "_parentcustomerid_value": "00000000-0000-0000-0000-000000000001",
            },
        ),
        400,
    )
    assert "Use Navigation properties" in message


def test_it_refuses_a_contact_with_both_a_parent_account_and_a_parent_contact(dv, s):
    account = dv.create("accounts", {"name": "Both"})
    other = dv.create("contacts", {"lastname": "Other"})
    response = s.post(
        f"{dv.api}/contacts",
        json={
            "lastname": "Both",
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
            "parentcustomerid_contact@odata.bind": f"/contacts({other})",
        },
    )
    assert (
        _error(response, 400, "0x80040508")
        == "You can either specify a contacts parent contact or its account, but not both."
    )


def test_it_answers_binds_to_missing_rows_with_404(dv, s):
    response = s.post(
        f"{dv.api}/contacts",
        json={
            "lastname": "X",
            "parentcustomerid_account@odata.bind": (
                "/accounts(00000000-0000-0000-0000-0000000000aa)"
            ),
        },
    )
    assert (
        _error(response, 404, "0x80040217")
        == "account With Id = 00000000-0000-0000-0000-0000000000aa Does Not Exist"
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"lastname": "x" * 51}, 400, "0x80044331"),
        ({"lastname": "X", "accountrolecode": 99}, 400, "0x8004431a"),
        ({"lastname": "X", "birthdate": "not a date"}, 400, "0x80048d19"),
        ({"lastname": "X", "donotemail": "yes"}, 400, "0x80048d19"),
        ({"lastname": "X", "birthdate": "1700-01-01"}, 400, "0x80044331"),
    ],
)
def test_it_validates_values_against_column_metadata(dv, s, body, status, code):
    _error(s.post(f"{dv.api}/contacts", json=body), status, code)


def test_it_detects_duplicate_emails_only_when_asked(dv, s):
    email = f"{unique()}@example.com"
    dv.create("contacts", {"lastname": "First", "emailaddress1": email})
    assert (
        s.post(
            f"{dv.api}/contacts", json={"lastname": "Second", "emailaddress1": email.upper()}
        ).status_code
        == 204
    )
    response = s.post(
        f"{dv.api}/contacts",
        json={"lastname": "Third", "emailaddress1": email},
        headers={"MSCRM.SuppressDuplicateDetection": "false"},
    )
    message = _error(response, 500, "0x80040333")
    assert (
        message == "A record was not created or updated because a duplicate of the current record "
        "already exists."
    )


def test_it_refuses_to_win_an_opportunity_through_a_patch(dv, s):
    opportunity = dv.create("opportunities", {"name": "Won?"})
    message = _error(
        s.patch(
            f"{dv.api}/opportunities({opportunity})",
            json={"statecode": 1},
            headers={"If-Match": "*"},
        ),
        400,
        "0x80100005",
    )
    assert "use the WinOpportunity message instead" in message
    hold = s.patch(
        f"{dv.api}/opportunities({opportunity})", json={"statuscode": 2}, headers={"If-Match": "*"}
    )
    assert hold.status_code == 204


def test_it_sets_state_and_default_status_together(dv, s):
    contact = dv.create("contacts", {"lastname": "Stateful"})
    s.patch(f"{dv.api}/contacts({contact})", json={"statecode": 1}, headers={"If-Match": "*"})
    body = s.get(f"{dv.api}/contacts({contact})", params={"$select": "statecode,statuscode"}).json()
    assert (body["statecode"], body["statuscode"]) == (1, 2)
    mismatch = s.patch(
        f"{dv.api}/contacts({contact})",
        json={"statecode": 0, "statuscode": 2},
        headers={"If-Match": "*"},
    )
    assert mismatch.status_code == 400


def test_it_writes_single_properties_and_references(dv, s):
    contact = dv.create("contacts", {"lastname": "Props"})
    assert s.put(f"{dv.api}/contacts({contact})/jobtitle", json={"value": "CTO"}).status_code == 204
    assert s.get(f"{dv.api}/contacts({contact})/jobtitle").json()["value"] == "CTO"
    assert s.delete(f"{dv.api}/contacts({contact})/jobtitle").status_code == 204
    assert s.get(f"{dv.api}/contacts({contact})/jobtitle").status_code == 204
    account = dv.create("accounts", {"name": "Refs"})
    ref = s.put(
        f"{dv.api}/accounts({account})/primarycontactid/$ref",
        json={"@odata.id": f"{dv.api}/contacts({contact})"},
    )
    assert ref.status_code == 204
    assert (
        s.get(f"{dv.api}/accounts({account})/primarycontactid/$ref").json()["@odata.id"]
        == f"{dv.api}/contacts({contact})"
    )
    assert s.delete(f"{dv.api}/accounts({account})/primarycontactid/$ref").status_code == 204
    child = dv.create("contacts", {"lastname": "Child"})
    added = s.post(
        f"{dv.api}/accounts({account})/contact_customer_accounts/$ref",
        json={"@odata.id": f"{dv.api}/contacts({child})"},
    )
    assert added.status_code == 204
    assert s.get(f"{dv.api}/contacts({child})/_parentcustomerid_value").json()["value"] == account
    removed = s.delete(
        f"{dv.api}/accounts({account})/contact_customer_accounts/$ref",
        params={"$id": f"{dv.api}/contacts({child})"},
    )
    assert removed.status_code == 204
    assert s.get(f"{dv.api}/contacts({child})/_parentcustomerid_value").status_code == 204


def test_it_creates_related_rows_in_one_deep_insert(dv, s):
    response = s.post(
        f"{dv.api}/accounts",
        json={
            "name": "Deep",
            "primarycontactid": {"firstname": "Pri", "lastname": "Mary"},
            "contact_customer_accounts": [{"lastname": "Kid1"}, {"lastname": "Kid2"}],
        },
    )
    account = response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    body = s.get(
        f"{dv.api}/accounts({account})",
        params={
            "$select": "name",
            "$expand": "primarycontactid($select=fullname),"
            "contact_customer_accounts($select=lastname)",
        },
    ).json()
    assert body["primarycontactid"]["fullname"] == "Pri Mary"
    assert sorted(c["lastname"] for c in body["contact_customer_accounts"]) == ["Kid1", "Kid2"]


def test_it_cascades_parental_deletes_and_removes_referential_links(dv, s):
    account = dv.create("accounts", {"name": "Cascade"})
    contact = dv.create(
        "contacts",
        {"lastname": "Child", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    lead = dv.create(
        "leads", {"lastname": "Linked", "parentaccountid@odata.bind": f"/accounts({account})"}
    )
    assert s.delete(f"{dv.api}/accounts({account})").status_code == 204
    assert s.get(f"{dv.api}/contacts({contact})").status_code == 404
    assert s.get(f"{dv.api}/leads({lead})/_parentaccountid_value").status_code == 204


def test_it_updates_modifiedon_and_modifiedby_on_every_write(dv, s):
    contact = dv.create("contacts", {"lastname": "Clock"})
    before = s.get(
        f"{dv.api}/contacts({contact})", params={"$select": "modifiedon,versionnumber"}
    ).json()
    s.patch(f"{dv.api}/contacts({contact})", json={"jobtitle": "Tick"}, headers={"If-Match": "*"})
    after = s.get(
        f"{dv.api}/contacts({contact})",
        params={"$select": "modifiedon,versionnumber,_modifiedby_value"},
    ).json()
    assert after["versionnumber"] > before["versionnumber"]
    assert after["modifiedon"] >= before["modifiedon"]
    assert after["_modifiedby_value"] == s.get(f"{dv.api}/WhoAmI").json()["UserId"]


def test_it_keeps_key_columns_of_the_body_out_of_updates(dv, s):
    contact = dv.create("contacts", {"lastname": "Keyed"})
    other = "00000000-0000-0000-0000-00000000beef"
    s.patch(
        f"{dv.api}/contacts({contact})",
        json={"contactid": other, "lastname": "Still"},
        headers={"If-Match": "*"},
    )
    assert s.get(f"{dv.api}/contacts({contact})/lastname").json()["value"] == "Still"
    assert s.get(f"{dv.api}/contacts({other})").status_code == 404


def test_it_reads_writes_and_filters_multi_select_choices(dv, s):
    name = f"new_{unique('interests')}"
    dv.app.attribute_add(
        "contact",
        logical_name=name,
        type="MultiSelectPicklist",
        display_name="Interests",
        options={1: "Email", 2: "Events", 3: "Webinars"},
    )
    fan = dv.create("contacts", {"lastname": "Fan", name: "1,3"})
    dv.create("contacts", {"lastname": "Other", name: "2"})
    body = s.get(
        f"{dv.api}/contacts({fan})",
        params={"$select": name},
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert body[name] == "1,3"
    assert body[f"{name}@OData.Community.Display.V1.FormattedValue"] == "Email; Webinars"
    found = s.get(
        f"{dv.api}/contacts",
        params={
            "$select": "lastname",
            "$filter": f"Microsoft.Dynamics.CRM.ContainValues(PropertyName='{name}',"
            "PropertyValues=['3'])",
        },
    ).json()
    assert [r["lastname"] for r in found["value"]] == ["Fan"]
    assert s.post(f"{dv.api}/contacts", json={"lastname": "Bad", name: "1,9"}).status_code == 400
    attribute = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='{name}')",
        params={"$select": "AttributeType,AttributeTypeName"},
    ).json()
    assert (attribute["AttributeType"], attribute["AttributeTypeName"]["Value"]) == (
        "Virtual",
        "MultiSelectPicklistType",
    )
