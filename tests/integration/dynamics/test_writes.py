"""Writes against the sandbox: `$batch`es of creates, updates, upserts and deletes, lookups
bound through the right navigation properties, per-operation failures, and batch splitting.

What was written is checked from inside the sandbox (its store) and read back through the
connector, so that both directions of every value are exercised.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.dynamics import LookupValue, Outcome, RecordWrite
from connectors.dynamics import odata as q
from connectors.errors import ConflictError, NotFoundError, RecordError

pytestmark = pytest.mark.integration


def _batches(org) -> list:
    return [e for e in org.api_log() if e.method == "POST" and e.path.endswith("/$batch")]


def test_it_round_trips_creates_updates_upserts_and_deletes_with_lookups(org, client):
    account = RecordWrite.create(
        "account", {"name": "Fabrikam", "revenue": Decimal("1234567.89"), "industrycode": 7}
    )
    contact = RecordWrite.create(
        "contact",
        {
            "firstname": "Ana",
            "lastname": "Díaz",
            "birthdate": dt.date(1990, 5, 17),
            "donotemail": True,
            "parentcustomerid": LookupValue("account", account.id),
        },
    )
    lead = RecordWrite.create(
        "lead",
        {
            "lastname": "Lead",
            "subject": "Pilot",
            "customerid": LookupValue("contact", contact.id),
            "parentaccountid": LookupValue("account", account.id),
            "estimatedclosedate": dt.date(2025, 3, 31),
        },
    )
    opportunity = RecordWrite.create(
        "opportunity",
        {
            "name": "Pilot deal",
            "customerid": LookupValue("account", account.id),
            "parentcontactid": LookupValue("contact", contact.id),
            "estimatedvalue": Decimal("5000.00"),
        },
    )
    primary = RecordWrite.update(
        "account", account.id, {"primarycontactid": LookupValue("contact", contact.id)}
    )
    results = list(client.write([account, contact, lead, opportunity, primary]))

    assert [r.outcome for r in results] == [Outcome.CREATED] * 4 + [Outcome.UPDATED]
    assert [r.id for r in results[:4]] == [account.id, contact.id, lead.id, opportunity.id]
    assert len(_batches(org)) == 1

    (stored_contact,) = org.stored("contact", "contactid = ?", (contact.id,))
    assert stored_contact["parentcustomerid"] == account.id
    assert stored_contact["parentcustomerid__type"] == "account"
    (read,) = client.rows(
        "contact",
        ["firstname", "lastname", "birthdate", "donotemail", "parentcustomerid"],
        where=q.eq("contactid", uuid.UUID(contact.id)),
    )
    assert read.text("lastname") == "Díaz"
    assert read.date("birthdate") == dt.date(1990, 5, 17)
    assert read.boolean("donotemail") is True
    assert read.lookup("parentcustomerid") == LookupValue("account", account.id)
    (read_account,) = client.rows(
        "account",
        ["name", "revenue", "primarycontactid"],
        where=q.eq("accountid", uuid.UUID(account.id)),
    )
    assert read_account.decimal("revenue") == Decimal("1234567.89")
    assert read_account.lookup("primarycontactid") == LookupValue("contact", contact.id)
    (read_lead,) = client.rows(
        "lead",
        ["customerid", "parentaccountid", "estimatedclosedate"],
        where=q.eq("leadid", uuid.UUID(lead.id)),
    )
    assert read_lead.lookup("customerid") == LookupValue("contact", contact.id)
    assert read_lead.lookup("parentaccountid") == LookupValue("account", account.id)
    assert read_lead.date("estimatedclosedate") == dt.date(2025, 3, 31)

    # Second round: switch a customer lookup to the other table, clear one, upsert both ways,
    # delete.
    other = RecordWrite.create("contact", {"lastname": "Parent"})
    new_id = str(uuid.uuid4())
    results = list(
        client.write(
            [
                other,
                RecordWrite.update(
                    "contact", contact.id, {"parentcustomerid": LookupValue("contact", other.id)}
                ),
                RecordWrite.update("lead", lead.id, {"parentaccountid": None}),
                RecordWrite.upsert("account", account.id, {"name": "Fabrikam Ltd"}),
                RecordWrite.upsert("account", new_id, {"name": "Upserted"}),
                RecordWrite.delete("opportunity", opportunity.id),
            ]
        )
    )

    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.outcome for r in results[3:]] == [
        Outcome.UPSERTED,
        Outcome.UPSERTED,
        Outcome.DELETED,
    ]
    (stored_contact,) = org.stored("contact", "contactid = ?", (contact.id,))
    assert (stored_contact["parentcustomerid"], stored_contact["parentcustomerid__type"]) == (
        other.id,
        "contact",
    )
    (stored_lead,) = org.stored("lead", "leadid = ?", (lead.id,))
    assert stored_lead["parentaccountid"] is None
    names = {row["accountid"]: row["name"] for row in org.stored("account")}
    assert names == {account.id: "Fabrikam Ltd", new_id: "Upserted"}
    assert org.stored("opportunity") == []


def test_it_maps_each_failure_of_a_continued_batch_to_its_own_write(org, client):
    missing = str(uuid.uuid4())
    existing = org.create("contacts", {"lastname": "Exists"})
    writes = [
        RecordWrite.create("contact", {"lastname": "First"}, ref="first"),
        RecordWrite.update("contact", missing, {"lastname": "Nobody"}, ref="update-missing"),
        RecordWrite.create("contact", {"lastname": "x" * 51}, ref="too-long"),
        RecordWrite.create(
            "contact",
            {"lastname": "Orphan", "parentcustomerid": LookupValue("account", missing)},
            ref="bad-lookup",
        ),
        RecordWrite.create("contact", {"lastname": "Again"}, id=existing, ref="duplicate-id"),
        RecordWrite.delete("contact", missing, ref="delete-missing"),
        RecordWrite.create("contact", {"lastname": "Last"}, ref="last"),
    ]

    results = {r.ref: r for r in client.write(writes)}

    assert len(_batches(org)) == 1  # one batch, continued past each failure
    assert results["first"].outcome is Outcome.CREATED
    assert results["last"].outcome is Outcome.CREATED
    assert isinstance(results["update-missing"].error, NotFoundError)
    assert results["update-missing"].status == 404
    too_long = results["too-long"]
    assert too_long.outcome is Outcome.FAILED and too_long.status == 400
    assert isinstance(too_long.error, RecordError) and too_long.error.field == "lastname"
    assert results["bad-lookup"].outcome is Outcome.FAILED
    assert isinstance(results["bad-lookup"].error, RecordError)
    # The id exists already: If-None-Match: * answered 412, read as "made by an earlier try".
    assert results["duplicate-id"].outcome is Outcome.ALREADY_EXISTS
    assert results["delete-missing"].outcome is Outcome.ALREADY_DELETED
    stored = sorted(row["lastname"] for row in org.stored("contact"))
    assert stored == ["Exists", "First", "Last"]


def test_it_reports_a_stale_etag_as_a_conflict(org, client):
    contact = org.create("contacts", {"lastname": "Versioned"})
    (row,) = client.rows("contact", ["lastname"], where=q.eq("contactid", uuid.UUID(contact)))
    org.update("contacts", contact, {"lastname": "Changed meanwhile"})

    (result,) = client.write(
        [RecordWrite.update("contact", contact, {"lastname": "Mine"}, etag=row.etag)]
    )

    assert result.outcome is Outcome.FAILED and result.status == 412
    assert isinstance(result.error, ConflictError)
    (stored,) = org.stored("contact")
    assert stored["lastname"] == "Changed meanwhile"


def test_it_splits_more_than_a_thousand_operations_into_batches(org, client):
    writes = [RecordWrite.create("lead", {"lastname": f"Bulk {i:04d}"}) for i in range(1050)]

    results = list(client.write(writes, batch_size=1000))

    assert len(results) == 1050
    assert all(r.outcome is Outcome.CREATED for r in results)
    assert [r.id for r in results] == [w.id for w in writes]  # in order
    assert len(_batches(org)) == 2  # 1000 (the documented maximum) + 50
    assert len(org.stored("lead")) == 1050

    list(client.write(writes[:250]))  # the default size: 100 per batch; all exist already
    assert len(_batches(org)) == 2 + 3
    assert len(org.stored("lead")) == 1050


def test_it_binds_custom_lookups_and_writes_choices_and_times(org, client):
    org.app.attribute_add(
        "contact",
        logical_name="new_referrerid",
        schema_name="new_ReferrerId",
        type="Lookup",
        display_name="Referrer",
        targets=["account"],
    )
    org.app.attribute_add(
        "contact",
        logical_name="new_interests",
        type="MultiSelectPicklist",
        display_name="Interests",
        options={100000000: "Email", 100000001: "Events", 100000002: "Webinars"},
    )
    org.app.attribute_add(
        "contact", logical_name="new_lastsynced", type="DateTime", display_name="Last synced"
    )
    account = org.create("accounts", {"name": "Referrer Inc"})
    paris = dt.timezone(dt.timedelta(hours=2))
    write = RecordWrite.create(
        "contact",
        {
            "lastname": "Referred",
            "new_referrerid": LookupValue("account", account),
            "new_interests": (100000000, 100000002),
            "new_lastsynced": dt.datetime(2024, 6, 1, 14, 30, tzinfo=paris),
            "accountrolecode": 2,
        },
    )

    (result,) = client.write([write])

    assert result.outcome is Outcome.CREATED, result.error
    (row,) = client.rows(
        "contact",
        ["new_referrerid", "new_interests", "new_lastsynced", "accountrolecode"],
        where=q.eq("contactid", uuid.UUID(write.id)),
    )
    assert row.lookup("new_referrerid") == LookupValue("account", account)
    assert row.choices("new_interests") == (100000000, 100000002)
    assert row.datetime("new_lastsynced") == dt.datetime(2024, 6, 1, 12, 30, tzinfo=dt.UTC)
    assert row.choice("accountrolecode") == 2

    (cleared,) = client.write(
        [RecordWrite.update("contact", write.id, {"new_referrerid": None, "new_interests": ()})]
    )
    assert cleared.ok, cleared.error
    (row,) = client.rows(
        "contact",
        ["new_referrerid", "new_interests"],
        where=q.eq("contactid", uuid.UUID(write.id)),
    )
    assert row.get("new_referrerid") is None and row.choices("new_interests") == ()


def test_it_lists_people_for_the_user_picker_without_application_users(org, client):
    org.app.seed(3)  # adds a few interactive users

    users = client.system_users()
    found = client.system_users(search=users[0].full_name.split()[0])

    assert users and all(not u.disabled and u.access_mode == 0 for u in users)
    app_users = {
        row["systemuserid"] for row in org.stored("systemuser", "applicationid IS NOT NULL")
    }
    assert app_users and not app_users & {u.id for u in users}
    assert [u.full_name for u in users] == sorted(u.full_name for u in users)
    assert users[0] in found
