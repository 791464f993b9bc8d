"""Seeding from sandbox.seed, the runner's contract, and state that survives a restart."""

from __future__ import annotations

import pytest
import requests

from sandbox import seed as demo
from sandbox.dataverse.app import DataverseSandbox
from sandbox.store import Database

pytestmark = pytest.mark.integration


def _rows(app, sql, params=()):
    return [dict(r) for r in app.store.query(sql, params)]


def test_it_seeds_the_shared_demo_people_with_their_links():
    app = DataverseSandbox(Database(":memory:"))
    assert app.is_empty()
    counts = app.seed(400)
    assert not app.is_empty()
    people = demo.people(400)
    in_dynamics = [p for p in people if p.in_dynamics]
    contacts = {r["emailaddress1"]: r for r in _rows(app, "SELECT * FROM dv_contact")}
    leads = {r["emailaddress1"]: r for r in _rows(app, "SELECT * FROM dv_lead")}
    assert (
        counts["contacts"]
        == len(contacts)
        == sum(p.dynamics_kind == "contact" for p in in_dynamics)
    )
    assert counts["leads"] == len(leads) == sum(p.dynamics_kind == "lead" for p in in_dynamics)
    assert not ({p.email for p in people if not p.in_dynamics} & (contacts.keys() | leads.keys()))
    accounts = {r["accountid"]: r for r in _rows(app, "SELECT * FROM dv_account")}
    for person in in_dynamics:
        if person.dynamics_kind == "contact":
            row = contacts[person.email]
            assert (row["firstname"], row["lastname"], row["fullname"]) == (
                person.first_name,
                person.last_name,
                f"{person.first_name} {person.last_name}",
            )
            assert row["parentcustomerid__type"] == "account"
            assert accounts[row["parentcustomerid"]]["name"] == person.company.name
        else:
            row = leads[person.email]
            assert row["companyname"] == person.company.name
            assert row["jobtitle"] == person.job_title
            assert row["leadsourcecode"] == person.lead_source
            assert row["subject"]
    opportunities = _rows(app, "SELECT * FROM dv_opportunity")
    assert len(opportunities) == counts["opportunities"] == len(demo.opportunities(people))
    contact_ids = {r["contactid"] for r in contacts.values()}
    for opp in opportunities:
        assert opp["parentcontactid"] in contact_ids
        assert (opp["customerid"], opp["customerid__type"]) == (opp["parentcontactid"], "contact")
        assert opp["salesstage"] in (0, 1, 2, 3) and opp["estimatedvalue"] > 0
        assert 0 <= opp["closeprobability"] <= 100 and len(opp["estimatedclosedate"]) == 10
    users = _rows(
        app,
        "SELECT * FROM dv_systemuser "
        "WHERE applicationid IS NULL AND accessmode = 0 AND isdisabled = 0",
    )
    assert len(users) >= 3
    versions = [
        r["version"] for r in _rows(app, "SELECT version FROM dv_changelog ORDER BY version")
    ]
    assert len(versions) == len(set(versions))


def test_it_keeps_registrations_columns_and_flags_across_a_restart(tmp_path):
    path = tmp_path / "dataverse.sqlite3"
    first = DataverseSandbox(Database(path))
    registration = first.app_registration_ensure()
    first.attribute_add("contact", logical_name="new_acid", type="String", max_length=40)
    first.change_tracking_set("lead", False)
    first.seed(50)
    token = first.identity._issue(
        "http://127.0.0.1:1", first.identity.default_app(), "http://127.0.0.1:1"
    )
    first.db.close()

    second = DataverseSandbox(Database(path))
    assert second.app_registration_ensure() == registration
    assert "new_acid" in second.table("contact").properties()
    assert second.table("lead").change_tracking is False
    assert second.identity.verify(token["access_token"]).client_id == registration[1]
    assert not second.is_empty()


def test_it_seeds_through_the_control_route(dv):
    before = dv.app.store.count(dv.app.table("lead"))
    response = requests.post(
        f"{dv.url}/_sandbox/dataverse/seed",
        json={"count": 20},
        headers=dv.app.control_headers,
        timeout=30,
    )
    assert response.status_code == 200
    assert dv.app.store.count(dv.app.table("lead")) == before + response.json()["leads"]
