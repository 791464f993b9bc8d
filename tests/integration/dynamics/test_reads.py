"""Reads against the sandbox: paging, filters from the safe builder, and table metadata.

Rows are arranged through the sandbox's Web API with a plain HTTP client (not the connector),
so that a mistake in the connector cannot arrange its own success.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest

from connectors.dynamics import LookupValue
from connectors.dynamics import odata as q
from connectors.types import FieldType

pytestmark = pytest.mark.integration


def _marker() -> str:
    return f"it{uuid.uuid4().hex[:8]}"


def test_it_reads_every_row_over_several_pages_resending_maxpagesize(org, client):
    marker = _marker()
    made = {org.create("contacts", {"lastname": f"{marker}-{i:02d}"}) for i in range(23)}
    for i in range(4):  # rows the filter must leave out
        org.create("contacts", {"lastname": f"other-{i}"})

    rows = list(
        client.rows("contact", ["lastname"], where=q.startswith("lastname", marker), page_size=5)
    )

    assert {row.id for row in rows} == made
    assert len(rows) == len(made)  # no row twice
    order = [(row.modified_on, row.id) for row in rows]
    assert order == sorted(order)
    pages = org.prefer_headers("contacts")
    assert len(pages) == math.ceil(23 / 5)
    assert all("odata.maxpagesize=5" in prefer for prefer in pages)


def test_it_filters_quotes_and_wildcard_characters_literally(org, client):
    marker = _marker()
    names = {
        "quote": f"{marker} O'Brien",
        "ampersand": f"{marker} Smith & Sons + Co #1",
        "percent": f"{marker} 50% off",
        "percent_lookalike": f"{marker} 50x off",
        "underscore": f"{marker} a_b",
        "underscore_lookalike": f"{marker} axb",
        "bracket": f"{marker} [draft]",
    }
    ids = {key: org.create("contacts", {"lastname": name}) for key, name in names.items()}

    def found(where) -> set[str]:
        return {row.id for row in client.rows("contact", ["lastname"], where=where)}

    assert found(q.eq("lastname", names["quote"])) == {ids["quote"]}
    assert found(q.eq("lastname", names["ampersand"])) == {ids["ampersand"]}
    assert found(q.contains("lastname", "50%")) == {ids["percent"]}
    assert found(q.endswith("lastname", "a_b")) == {ids["underscore"]}
    assert found(q.contains("lastname", "[draft]")) == {ids["bracket"]}
    # Dataverse compares strings case-insensitively.
    assert found(q.eq("lastname", names["quote"].upper())) == {ids["quote"]}
    everything = q.startswith("lastname", marker)
    assert found(everything & ~q.contains("lastname", "off")) == {
        ids[k] for k in ("quote", "ampersand", "underscore", "underscore_lookalike", "bracket")
    }


def test_it_filters_dates_date_times_and_guids(org, client):
    marker = _marker()
    org.app.attribute_add(
        "contact", logical_name="new_lastsynced", type="DateTime", display_name="Last synced"
    )
    account = org.create("accounts", {"name": f"{marker} Fabrikam"})
    other_account = org.create("accounts", {"name": f"{marker} Contoso"})
    early = org.create(
        "contacts",
        {
            "lastname": f"{marker} early",
            "birthdate": "1979-12-31",
            "new_lastsynced": "2024-01-01T08:00:00Z",
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
        },
    )
    late = org.create(
        "contacts",
        {
            "lastname": f"{marker} late",
            "birthdate": "1980-01-01",
            "new_lastsynced": "2024-01-01T10:30:00Z",
            "parentcustomerid_account@odata.bind": f"/accounts({other_account})",
        },
    )
    mine = q.startswith("lastname", marker)

    def found(where) -> set[str]:
        return {row.id for row in client.rows("contact", ["lastname"], where=mine & where)}

    assert found(q.lt("birthdate", dt.date(1980, 1, 1))) == {early}
    assert found(q.ge("birthdate", dt.date(1980, 1, 1))) == {late}
    # 09:00 in Paris is 08:00 UTC: the builder sends UTC.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert found(q.gt("new_lastsynced", dt.datetime(2024, 1, 1, 9, 0, tzinfo=paris))) == {late}
    assert found(q.le("new_lastsynced", dt.datetime(2024, 1, 1, 9, 0, tzinfo=paris))) == {early}
    assert found(q.eq("_parentcustomerid_value", uuid.UUID(account))) == {early}
    assert found(q.ne("_parentcustomerid_value", uuid.UUID(account))) == {late}
    assert found(q.in_("lastname", [f"{marker} late", "nobody"])) == {late}

    (row,) = client.rows(
        "contact",
        ["lastname", "parentcustomerid"],
        where=mine & q.eq("_parentcustomerid_value", uuid.UUID(account)),
    )
    assert row.lookup("parentcustomerid") == LookupValue("account", account)


def test_it_finds_rows_by_email_case_insensitively(org, client):
    lead = org.create("leads", {"lastname": "Mail", "emailaddress1": "Ana.Diaz+tag@Example.com"})
    org.create("leads", {"lastname": "Other", "emailaddress1": "ana.diaz@example.com"})

    found = client.find_leads_by_email("ana.diaz+tag@example.com", ["lastname"])

    assert [row.id for row in found] == [lead]


def _field(fields, key):
    return next(f for f in fields if f.key == key)


@pytest.mark.parametrize(
    ("table", "picklist", "first_option"),
    [
        ("lead", "leadsourcecode", ("1", "Advertisement")),
        ("contact", "accountrolecode", ("1", "Decision Maker")),
        ("account", "industrycode", ("1", "Accounting")),
        ("opportunity", "salesstage", ("0", "Qualify")),
    ],
)
def test_it_describes_the_columns_of_each_synced_table(client, table, picklist, first_option):
    fields = client.fields(table)

    keys = {f.key for f in fields}
    choice = _field(fields, picklist)
    assert choice.type is FieldType.CHOICE
    assert (choice.options[0].value, choice.options[0].label) == first_option
    assert not any(f.key.endswith("yominame") for f in fields)  # shadow columns hidden
    assert "modifiedon" in keys
    assert _field(fields, "statecode").options  # state labels come from StateAttributeMetadata


def test_it_describes_standard_types_lookups_and_required_levels(client):
    contact = client.fields("contact")
    lead = client.fields("lead")
    opportunity = client.fields("opportunity")

    assert _field(contact, "emailaddress1").type is FieldType.EMAIL
    assert _field(contact, "telephone1").type is FieldType.PHONE
    assert _field(contact, "birthdate").type is FieldType.DATE
    assert _field(contact, "parentcustomerid").lookup_targets == ("account", "contact")
    assert not _field(contact, "fullname").writable
    assert _field(lead, "lastname").required  # ApplicationRequired
    assert _field(lead, "estimatedclosedate").type is FieldType.DATE
    assert _field(opportunity, "estimatedvalue").type is FieldType.MONEY
    donotemail = _field(contact, "donotemail")
    assert donotemail.type is FieldType.BOOLEAN
    assert {o.value for o in donotemail.options} == {"true", "false"}


def test_it_describes_custom_columns_with_their_options(org, client):
    org.app.attribute_add(
        "lead",
        logical_name="new_acscore",
        type="Integer",
        display_name="AC Score",
        min_value=0,
        max_value=100,
    )
    org.app.attribute_add(
        "lead",
        logical_name="new_tier",
        type="Picklist",
        display_name="Tier",
        options={1: "Gold", 2: "Silver"},
        global_optionset="new_tierset",
    )
    org.app.attribute_add(
        "contact",
        logical_name="new_interests",
        type="MultiSelectPicklist",
        display_name="Interests",
        options={100000000: "Email", 100000001: "Events"},
    )

    lead = client.fields("lead")
    contact = client.fields("contact")

    score = _field(lead, "new_acscore")
    assert (score.type, score.custom, score.label) == (FieldType.INTEGER, True, "AC Score")
    tier = _field(lead, "new_tier")
    assert tier.type is FieldType.CHOICE and tier.custom
    assert [(o.value, o.label) for o in tier.options] == [("1", "Gold"), ("2", "Silver")]
    interests = _field(contact, "new_interests")
    assert interests.type is FieldType.MULTI_CHOICE
    assert [o.label for o in interests.options] == ["Email", "Events"]
    assert not _field(lead, "leadsourcecode").custom
