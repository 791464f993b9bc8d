"""Actions: QualifyLead, Merge, WinOpportunity/LoseOpportunity and the *Multiple bulk
messages."""

from __future__ import annotations

import pytest

from .conftest import unique

pytestmark = pytest.mark.integration


def test_it_qualifies_a_lead_into_account_contact_and_opportunity(dv, s):
    company = unique("Qualified Co ")
    lead = dv.create(
        "leads",
        {
            "firstname": "Quinn",
            "lastname": "Lead",
            "emailaddress1": "quinn@example.com",
            "companyname": company,
            "subject": "Big deal",
            "estimatedamount": 5000,
        },
    )
    response = s.post(
        f"{dv.api}/leads({lead})/Microsoft.Dynamics.CRM.QualifyLead",
        json={"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith(
        "$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)"
    )
    created = {item["@odata.type"]: item for item in body["value"]}
    account = created["#Microsoft.Dynamics.CRM.account"]["accountid"]
    contact = created["#Microsoft.Dynamics.CRM.contact"]["contactid"]
    opportunity = created["#Microsoft.Dynamics.CRM.opportunity"]["opportunityid"]
    assert s.get(f"{dv.api}/accounts({account})/name").json()["value"] == company
    person = s.get(
        f"{dv.api}/contacts({contact})",
        params={
            "$select": "fullname,emailaddress1,_parentcustomerid_value,_originatingleadid_value"
        },
    ).json()
    assert (
        person["fullname"],
        person["_parentcustomerid_value"],
        person["_originatingleadid_value"],
    ) == (
        "Quinn Lead",
        account,
        lead,
    )
    deal = s.get(
        f"{dv.api}/opportunities({opportunity})",
        params={"$select": "name,estimatedvalue,_customerid_value,_parentcontactid_value"},
    ).json()
    assert (
        deal["name"],
        deal["estimatedvalue"],
        deal["_customerid_value"],
        deal["_parentcontactid_value"],
    ) == (
        "Big deal",
        5000,
        account,
        contact,
    )
    state = s.get(
        f"{dv.api}/leads({lead})",
        params={"$select": "statecode,statuscode,_qualifyingopportunityid_value"},
    ).json()
    assert (state["statecode"], state["statuscode"], state["_qualifyingopportunityid_value"]) == (
        1,
        3,
        opportunity,
    )
    again = s.post(
        f"{dv.api}/leads({lead})/Microsoft.Dynamics.CRM.QualifyLead",
        json={
            "CreateAccount": False,
            "CreateContact": False,
            "CreateOpportunity": False,
            "Status": 3,
        },
    )
    assert again.status_code == 400
    assert again.json()["error"] == {"code": "0x80040519", "message": "The lead is already closed."}


def test_it_validates_qualify_lead_parameters(dv, s):
    lead = dv.create("leads", {"lastname": "Params"})
    missing = s.post(
        f"{dv.api}/leads({lead})/Microsoft.Dynamics.CRM.QualifyLead", json={"CreateAccount": True}
    )
    assert missing.status_code == 400
    wrong_status = s.post(
        f"{dv.api}/leads({lead})/Microsoft.Dynamics.CRM.QualifyLead",
        json={
            "CreateAccount": False,
            "CreateContact": True,
            "CreateOpportunity": False,
            "Status": 4,
        },
    )
    assert wrong_status.status_code == 400
    assert s.get(f"{dv.api}/leads({lead})/statecode").json()["value"] == 0
    gone = s.post(
        f"{dv.api}/leads(00000000-0000-0000-0000-00000000f00d)/Microsoft.Dynamics.CRM.QualifyLead",
        json={
            "CreateAccount": False,
            "CreateContact": True,
            "CreateOpportunity": False,
            "Status": 3,
        },
    )
    assert gone.status_code == 404


def test_it_merges_records_and_reparents_the_subordinates_children(dv, s):
    target = dv.create("accounts", {"name": "Target", "accountnumber": "T-1"})
    subordinate = dv.create("accounts", {"name": "Subordinate"})
    child = dv.create(
        "contacts",
        {"lastname": "Moved", "parentcustomerid_account@odata.bind": f"/accounts({subordinate})"},
    )
    response = s.post(
        f"{dv.api}/Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": target},
            "Subordinate": {
                "@odata.type": "Microsoft.Dynamics.CRM.account",
                "accountid": subordinate,
            },
            "UpdateContent": {
                "@odata.type": "Microsoft.Dynamics.CRM.account",
                "accountnumber": "1234",
            },
            "PerformParentingChecks": False,
        },
    )
    assert response.status_code == 204, response.text
    assert s.get(f"{dv.api}/accounts({target})/accountnumber").json()["value"] == "1234"
    sub = s.get(
        f"{dv.api}/accounts({subordinate})",
        params={"$select": "statecode,statuscode,merged,_masterid_value"},
    ).json()
    assert (sub["statecode"], sub["statuscode"], sub["merged"], sub["_masterid_value"]) == (
        1,
        2,
        True,
        target,
    )
    assert s.get(f"{dv.api}/contacts({child})/_parentcustomerid_value").json()["value"] == target
    inactive = s.post(
        f"{dv.api}/Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": target},
            "Subordinate": {
                "@odata.type": "Microsoft.Dynamics.CRM.account",
                "accountid": subordinate,
            },
            "PerformParentingChecks": False,
        },
    )
    assert inactive.json()["error"]["code"] == "0x80045304"


@pytest.mark.parametrize(
    ("target_parent", "sub_parent", "code"),
    [(None, "p1", "0x80045317"), ("p1", "p2", "0x80045316")],
)
def test_it_performs_parenting_checks_when_asked(dv, s, target_parent, sub_parent, code):
    parents = {
        "p1": dv.create("accounts", {"name": "P1"}),
        "p2": dv.create("accounts", {"name": "P2"}),
    }

    def contact(parent):
        body = {"lastname": "Merge"}
        if parent:
            body["parentcustomerid_account@odata.bind"] = f"/accounts({parents[parent]})"
        return dv.create("contacts", body)

    target, sub = contact(target_parent), contact(sub_parent)
    payload = {
        "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": target},
        "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": sub},
        "PerformParentingChecks": True,
    }
    response = s.post(f"{dv.api}/Merge", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert (
        s.post(f"{dv.api}/Merge", json={**payload, "PerformParentingChecks": False}).status_code
        == 204
    )


def test_it_refuses_to_merge_a_record_into_itself(dv, s):
    account = dv.create("accounts", {"name": "Self"})
    ref = {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account}
    response = s.post(
        f"{dv.api}/Merge", json={"Target": ref, "Subordinate": ref, "PerformParentingChecks": False}
    )
    assert response.json()["error"]["code"] == "0x80045305"


def test_it_wins_and_loses_opportunities(dv, s):
    won = dv.create("opportunities", {"name": "Win me", "estimatedvalue": 1200})
    lost = dv.create("opportunities", {"name": "Lose me"})
    response = s.post(
        f"{dv.api}/WinOpportunity",
        json={
            "Status": 3,
            "OpportunityClose": {
                "subject": "Won",
                "opportunityid@odata.bind": f"/opportunities({won})",
            },
        },
    )
    assert response.status_code == 204, response.text
    body = s.get(
        f"{dv.api}/opportunities({won})",
        params={"$select": "statecode,statuscode,actualvalue,actualclosedate"},
    ).json()
    assert (body["statecode"], body["statuscode"], body["actualvalue"]) == (1, 3, 1200)
    assert body["actualclosedate"]
    wrong = s.post(
        f"{dv.api}/LoseOpportunity",
        json={
            "Status": 3,
            "OpportunityClose": {
                "subject": "Lost",
                "opportunityid@odata.bind": f"/opportunities({lost})",
            },
        },
    )
    assert wrong.status_code == 400
    ok = s.post(
        f"{dv.api}/LoseOpportunity",
        json={
            "Status": 5,
            "OpportunityClose": {
                "subject": "Lost",
                "opportunityid@odata.bind": f"/opportunities({lost})",
            },
        },
    )
    assert ok.status_code == 204
    assert s.get(f"{dv.api}/opportunities({lost})/statecode").json()["value"] == 2


def test_it_creates_and_updates_many_records_all_or_nothing(dv, s):
    prefix = unique("Multi")
    created = s.post(
        f"{dv.api}/contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                {"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": f"{prefix}1"},
                {"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": f"{prefix}2"},
            ]
        },
    )
    assert created.status_code == 200, created.text
    ids = created.json()["Ids"]
    assert len(ids) == 2
    updated = s.post(
        f"{dv.api}/contacts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.contact",
                    "contactid": ids[0],
                    "jobtitle": "A",
                },
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.contact",
                    "contactid": ids[1],
                    "jobtitle": "B",
                },
            ]
        },
    )
    assert updated.status_code == 204
    assert s.get(f"{dv.api}/contacts({ids[1]})/jobtitle").json()["value"] == "B"
    failing = s.post(
        f"{dv.api}/contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"lastname": f"{prefix}3"}, {"lastname": "z" * 80}]},
    )
    assert failing.status_code == 400
    names = s.get(
        f"{dv.api}/contacts",
        params={"$select": "lastname", "$filter": f"startswith(lastname,'{prefix}')"},
    ).json()
    assert sorted(r["lastname"] for r in names["value"]) == [f"{prefix}1", f"{prefix}2"]


def test_it_counts_records_with_retrieve_total_record_count(dv, s):
    response = s.get(f"{dv.api}/RetrieveTotalRecordCount(EntityNames=['contact','lead'])")
    assert response.status_code == 200, response.text
    counts = response.json()["EntityRecordCountCollection"]
    assert counts["Keys"] == ["contact", "lead"]
    assert counts["Values"][0] == dv.app.store.count(dv.app.table("contact"))
