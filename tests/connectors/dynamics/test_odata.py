from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.dynamics import odata


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (1.5, "1.5"),
        (Decimal("100000000000000.01"), "100000000000000.01"),
        ("O'Bryan", "'O''Bryan'"),
        ("it''s", "'it''''s'"),
        ("", "''"),
        (
            uuid.UUID("7eb682f1-ca75-e511-80d4-00155d2a68d1"),
            "7eb682f1-ca75-e511-80d4-00155d2a68d1",
        ),
        (dt.date(2024, 6, 30), "2024-06-30"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "2024-01-01T00:00:00Z"),
        (
            dt.datetime(2024, 1, 1, 9, 30, tzinfo=ZoneInfo("Europe/Paris")),
            "2024-01-01T08:30:00Z",
        ),
        (dt.datetime(2024, 1, 1, 0, 0, 0, 250000, tzinfo=dt.UTC), "2024-01-01T00:00:00.25Z"),
    ],
)
def test_it_writes_odata_literals(value, expected):
    assert odata.literal(value) == expected


@pytest.mark.parametrize("value", [dt.datetime(2024, 1, 1), float("nan"), object(), [1]])
def test_it_refuses_values_without_a_safe_literal(value):
    with pytest.raises((ValueError, TypeError)):
        odata.literal(value)


@pytest.mark.parametrize(
    "name", ["name) or (1 eq 1", "a b", "x'", "", "1abc", "a//b", "contains(x,'y')"]
)
def test_it_refuses_column_names_that_are_not_identifiers(name):
    with pytest.raises(ValueError):
        odata.eq(name, 1)


def test_it_accepts_lookup_properties_and_navigation_paths():
    assert str(odata.eq("_parentcustomerid_value", None)) == "_parentcustomerid_value eq null"
    assert str(odata.eq("primarycontactid/fullname", "X")) == "primarycontactid/fullname eq 'X'"


def test_it_combines_filters_with_parentheses():
    where = odata.eq("statecode", 0) & (
        odata.eq("leadsourcecode", 8) | odata.eq("lastname", "O'Neil")
    )
    assert str(where) == ("(statecode eq 0) and ((leadsourcecode eq 8) or (lastname eq 'O''Neil'))")
    assert str(~odata.is_null("emailaddress1")) == "not (emailaddress1 eq null)"


def test_it_makes_wildcards_literal_in_contains():
    where = odata.contains("fullname", "50%_off [x] O'Hara")
    assert str(where) == "contains(fullname,'50[%][_]off [[]x] O''Hara')"


def test_it_quotes_in_values_as_json_strings():
    where = odata.in_("lastname", ["OBrian", "O'Brian", 'say "hi"'])
    assert str(where) == (
        "Microsoft.Dynamics.CRM.In(PropertyName='lastname',"
        'PropertyValues=["OBrian","O\'Brian","say \\"hi\\""])'
    )
    assert str(odata.in_("statuscode", [1, 2])) == (
        'Microsoft.Dynamics.CRM.In(PropertyName=\'statuscode\',PropertyValues=["1","2"])'
    )


def test_it_percent_encodes_query_values_but_not_option_names():
    query = odata.query_string(
        [
            ("$select", "fullname,emailaddress1"),
            ("$filter", str(odata.eq("emailaddress1", "ann+tag@x.org & co#1?"))),
        ]
    )
    assert query == (
        "$select=fullname,emailaddress1"
        "&$filter=emailaddress1%20eq%20'ann%2Btag@x.org%20%26%20co%231%3F'"
    )


def test_it_reads_the_id_from_an_entity_url():
    url = (
        "https://org.crm.dynamics.com/api/data/v9.2/contacts(6ED81853-7B75-E911-A97A-000D3A34A1BD)"
    )
    assert odata.id_from_entity_url(url) == "6ed81853-7b75-e911-a97a-000d3a34a1bd"
    assert odata.id_from_entity_url("https://org/api/data/v9.2/x(key='a')") is None
    assert odata.id_from_entity_url(None) is None


def test_it_builds_record_paths_only_from_guids():
    assert odata.record_path("contacts", "6ed81853-7b75-e911-a97a-000d3a34a1bd") == (
        "contacts(6ed81853-7b75-e911-a97a-000d3a34a1bd)"
    )
    with pytest.raises(ValueError):
        odata.record_path("contacts", "1) or (x")
