"""Reads: request shapes, paging, typed rows, the user picker, e-mail lookups and check()."""

from __future__ import annotations

import datetime as dt
import re
import socket
from decimal import Decimal

import pytest
import requests
import responses
from urllib3.exceptions import NameResolutionError

from connectors.dynamics import LookupValue, OrgInfo, WhoAmI
from connectors.dynamics import odata as q
from connectors.errors import ConfigReason, ConfigurationError, FatalError

from .conftest import API, dataverse_calls, odata_error

CONTACT_LOOKUPS = API + (
    "EntityDefinitions(LogicalName='contact')/Attributes/"
    "Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets"
)
ANNOTATIONS = 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'
ID1 = "1d6b1b1e-9a7c-ee11-8179-000d3a1c0001"
ID2 = "1d6b1b1e-9a7c-ee11-8179-000d3a1c0002"
ID3 = "1d6b1b1e-9a7c-ee11-8179-000d3a1c0003"
ACCOUNT_ID = "7eb682f1-ca75-e511-80d4-00155d2a68d1"
# A next link as Dataverse writes it: absolute, with a doubly-encoded paging cookie.
NEXT_LINK = API + (
    "contacts?$select=firstname,emailaddress1,_parentcustomerid_value,contactid,modifiedon"
    "&$orderby=modifiedon%20asc,contactid%20asc"
    "&$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d"
    "%25221%2522%253e%253ccontactid%2520last%253d%2522%257b1D6B%257d%2522%2520%252f%253e"
    "%253c%252fcookie%253e%22%20istracking=%22False%22%20/%3E"
)


def contact_lookups(mocked):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "EntityDefinitions(LogicalName='contact')/Attributes/")),
        json={
            "value": [
                {"LogicalName": "parentcustomerid", "Targets": ["account", "contact"]},
                {"LogicalName": "ownerid", "Targets": ["systemuser", "team"]},
                {"LogicalName": "createdby", "Targets": ["systemuser"]},
            ]
        },
    )


def contact_row(contact_id: str, modified: str, **values) -> dict:
    return {"@odata.etag": 'W/"4711"', "contactid": contact_id, "modifiedon": modified, **values}


def test_it_sends_the_odata_headers_and_the_bearer_token(client, mocked):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        json={
            "@odata.context": API + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
            "BusinessUnitId": "b0000000-0000-0000-0000-000000000001",
            "UserId": "a0000000-0000-0000-0000-000000000001",
            "OrganizationId": "c0000000-0000-0000-0000-000000000001",
        },
    )

    me = client.who_am_i()

    assert me == WhoAmI(
        user_id="a0000000-0000-0000-0000-000000000001",
        business_unit_id="b0000000-0000-0000-0000-000000000001",
        organization_id="c0000000-0000-0000-0000-000000000001",
    )
    (call,) = dataverse_calls(mocked)
    headers = call.request.headers
    assert call.request.method == "GET"
    assert call.request.url == API + "WhoAmI"
    assert headers["Authorization"] == "Bearer token-1"
    assert headers["Accept"] == "application/json"
    assert headers["OData-MaxVersion"] == "4.0"
    assert headers["OData-Version"] == "4.0"
    assert headers["If-None-Match"] == "null"
    assert headers["User-Agent"].startswith("syncadmin/")
    assert call.request.req_kwargs["timeout"] == (5.0, 60.0)


def test_it_pages_with_select_orderby_and_maxpagesize_and_follows_next_links_untouched(
    client, mocked
):
    contact_lookups(mocked)
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "contacts?") + ".*"),
        json={
            "value": [
                contact_row(
                    ID1,
                    "2024-03-02T10:15:00Z",
                    firstname="Ana",
                    emailaddress1="ana@example.com",
                    _parentcustomerid_value=ACCOUNT_ID,
                    **{
                        "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": (
                            "account"
                        ),
                        "_parentcustomerid_value@OData.Community.Display.V1.FormattedValue": (
                            "Fabrikam"
                        ),
                    },
                )
            ],
            "@odata.nextLink": NEXT_LINK,
        },
    )
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "contacts?") + ".*"),
        json={
            "value": [
                contact_row(
                    ID2,
                    "2024-03-02T10:16:00Z",
                    firstname="Lee",
                    emailaddress1=None,
                    _parentcustomerid_value=None,
                )
            ]
        },
    )

    rows = list(
        client.rows("contact", ["firstname", "emailaddress1", "parentcustomerid"], page_size=1)
    )

    calls = dataverse_calls(mocked)
    assert [c.request.url for c in calls] == [
        CONTACT_LOOKUPS,
        API + "contacts?$select=firstname,emailaddress1,_parentcustomerid_value,contactid,"
        "modifiedon&$orderby=modifiedon%20asc,contactid%20asc",
        NEXT_LINK,
    ]
    for call in calls[1:]:
        assert call.request.headers["Prefer"] == f"odata.maxpagesize=1,{ANNOTATIONS}"
        assert call.request.headers["If-None-Match"] == "null"
    assert [r.id for r in rows] == [ID1, ID2]
    first, second = rows
    assert first.table == "contact"
    assert first.etag == 'W/"4711"'
    assert first.modified_on == dt.datetime(2024, 3, 2, 10, 15, tzinfo=dt.UTC)
    assert first.text("firstname") == "Ana"
    assert first.lookup("parentcustomerid") == LookupValue("account", ACCOUNT_ID)
    assert "_parentcustomerid_value" not in first.values
    assert not any("@" in key for key in first.values)
    assert second.lookup("parentcustomerid") is None
    assert second.text("emailaddress1") is None


def test_it_adds_a_safe_filter(client, mocked):
    contact_lookups(mocked)
    mocked.add(responses.GET, re.compile(re.escape(API + "contacts?") + ".*"), json={"value": []})
    where = q.eq("statecode", 0) & q.contains("lastname", "O'Neil+1")

    assert list(client.rows("contact", ["lastname"], where=where)) == []

    assert dataverse_calls(mocked)[-1].request.url == (
        API + "contacts?$select=lastname,contactid,modifiedon"
        "&$filter=(statecode%20eq%200)%20and%20(contains(lastname,'O''Neil%2B1'))"
        "&$orderby=modifiedon%20asc,contactid%20asc"
    )
    # No lookup among the columns: no annotations asked for.
    assert dataverse_calls(mocked)[-1].request.headers["Prefer"] == "odata.maxpagesize=5000"


def test_it_reads_only_the_key_without_any_metadata_call(client, mocked):
    mocked.add(responses.GET, re.compile(re.escape(API + "leads?") + ".*"), json={"value": []})
    list(client.rows("lead", ["leadid"], page_size=9000))
    (call,) = dataverse_calls(mocked)
    assert call.request.url == (
        API + "leads?$select=leadid,modifiedon&$orderby=modifiedon%20asc,leadid%20asc"
    )
    assert call.request.headers["Prefer"] == "odata.maxpagesize=5000"


def test_it_stops_after_the_page_bound(client, mocked):
    for page in range(3):
        mocked.add(
            responses.GET,
            re.compile(re.escape(API + "leads?") + ".*"),
            json={
                "value": [{"leadid": ID1, "modifiedon": "2024-01-01T00:00:00Z"}],
                "@odata.nextLink": API + f"leads?$skiptoken=page{page}",
            },
        )
    with pytest.raises(FatalError):
        list(client.rows("lead", ["leadid"], max_pages=2))
    assert len(dataverse_calls(mocked)) == 2


def test_it_stops_when_the_server_repeats_a_next_link(client, mocked):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "leads?") + ".*"),
        json={"value": [], "@odata.nextLink": API + "leads?$skiptoken=same"},
    )
    with pytest.raises(FatalError):
        list(client.rows("lead", ["leadid"]))
    assert len(dataverse_calls(mocked)) == 2


def test_it_reads_typed_values(client, mocked):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "EntityDefinitions(LogicalName='opportunity')") + ".*"),
        json={"value": [{"LogicalName": "parentcontactid", "Targets": ["contact"]}]},
    )
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "opportunities?") + ".*"),
        json={
            "value": [
                {
                    "opportunityid": ID3,
                    "modifiedon": "2024-05-01T08:00:00Z",
                    "estimatedvalue": 1234.5,
                    "closeprobability": 40,
                    "estimatedclosedate": "2024-06-30",
                    "salesstage": 2,
                    "isrevenuesystemcalculated": False,
                    "new_regions": "100000000,100000002",
                    "_parentcontactid_value": ID1,
                }
            ]
        },
    )
    (row,) = client.rows(
        "opportunity",
        [
            "estimatedvalue",
            "closeprobability",
            "estimatedclosedate",
            "salesstage",
            "isrevenuesystemcalculated",
            "new_regions",
            "parentcontactid",
        ],
    )
    assert row.decimal("estimatedvalue") == Decimal("1234.5")
    assert row.integer("closeprobability") == 40
    assert row.date("estimatedclosedate") == dt.date(2024, 6, 30)
    assert row.choice("salesstage") == 2
    assert row.boolean("isrevenuesystemcalculated") is False
    assert row.choices("new_regions") == (100000000, 100000002)
    # A single-target lookup: the table is known without an annotation.
    assert row.lookup("parentcontactid") == LookupValue("contact", ID1)
    with pytest.raises(TypeError):
        row.boolean("closeprobability")


def test_it_searches_system_users_for_the_picker(client, mocked):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "systemusers?") + ".*"),
        json={
            "value": [
                {
                    "systemuserid": ID1,
                    "fullname": "Ann O'Hara",
                    "internalemailaddress": "ann@contoso.com",
                    "domainname": "ann@contoso.com",
                    "isdisabled": False,
                    "accessmode": 0,
                    "azureactivedirectoryobjectid": ID2,
                }
            ]
        },
    )

    users = client.system_users("o'ha", limit=5)

    assert dataverse_calls(mocked)[-1].request.url == (
        API + "systemusers?$select=systemuserid,fullname,internalemailaddress,domainname,"
        "isdisabled,accessmode,azureactivedirectoryobjectid"
        "&$filter=(isdisabled%20eq%20false)%20and%20(accessmode%20eq%200)%20and%20"
        "(applicationid%20eq%20null)%20and%20((contains(fullname,'o''ha'))%20or%20"
        "(contains(internalemailaddress,'o''ha')))"
        "&$orderby=fullname%20asc&$top=5"
    )
    assert "Prefer" not in dataverse_calls(mocked)[-1].request.headers
    assert users[0].full_name == "Ann O'Hara"
    assert users[0].email == "ann@contoso.com"
    assert users[0].azure_ad_object_id == ID2
    assert users[0].disabled is False


def test_it_finds_contacts_by_email_with_top_and_no_page_size(client, mocked):
    contact_lookups(mocked)
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "contacts?") + ".*"),
        json={"value": [contact_row(ID1, "2024-01-01T00:00:00Z", emailaddress1="o'neil+x@a.io")]},
    )

    (row,) = client.find_contacts_by_email("o'neil+x@a.io", ["emailaddress1"])

    call = dataverse_calls(mocked)[-1]
    assert call.request.url == (
        API + "contacts?$select=emailaddress1,contactid,modifiedon"
        "&$filter=emailaddress1%20eq%20'o''neil%2Bx@a.io'"
        "&$orderby=modifiedon%20desc,contactid%20asc&$top=10"
    )
    assert "Prefer" not in call.request.headers
    assert row.id == ID1


def _who_am_i(mocked):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        json={"BusinessUnitId": ID3, "UserId": ID1, "OrganizationId": ID2},
    )


def test_it_checks_the_connection_with_whoami_and_one_row_per_table(client, mocked):
    _who_am_i(mocked)
    for entity_set in ("leads", "contacts"):
        mocked.add(
            responses.GET, re.compile(re.escape(API + entity_set) + r"\?.*"), json={"value": []}
        )

    info = client.check(["lead", "contact"])

    assert info == OrgInfo(
        org_url="https://contoso.crm.dynamics.com",
        organization_id=ID2,
        user_id=ID1,
        business_unit_id=ID3,
        readable_tables=("lead", "contact"),
    )
    assert [c.request.url for c in dataverse_calls(mocked)] == [
        API + "WhoAmI",
        API + "leads?$select=leadid&$top=1",
        API + "contacts?$select=contactid&$top=1",
    ]


def test_it_reports_an_org_host_that_refuses_connections_as_unreachable_in_a_check(client, mocked):
    refused = requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    mocked.add(responses.GET, API + "WhoAmI", body=refused)

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason is ConfigReason.UNREACHABLE
    assert "contoso.crm.dynamics.com" in caught.value.message
    assert len(dataverse_calls(mocked)) == 3  # retried first: it may have been a blip


def test_it_names_the_table_and_privilege_a_check_misses(client, mocked):
    _who_am_i(mocked)
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "leads") + r"\?.*"),
        status=403,
        json=odata_error(
            "0x80040220",
            "Principal user (Id=a0000000, type=8, roleCount=1) is missing prvReadLead privilege",
        ),
    )
    with pytest.raises(ConfigurationError) as caught:
        client.check(["lead"])
    assert caught.value.reason is ConfigReason.FORBIDDEN
    assert caught.value.message.startswith("reading lead: missing privilege prvReadLead")
    assert caught.value.code == "0x80040220"


def test_it_reports_no_application_user(client, mocked):
    mocked.add(
        responses.GET,
        API + "WhoAmI",
        status=403,
        json=odata_error("0x80072560", "The user is not a member of the organization."),
    )
    with pytest.raises(ConfigurationError) as caught:
        client.check()
    assert caught.value.reason is ConfigReason.NO_APPLICATION_USER


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [
        (
            200,
            {"body": "<html><title>Contoso intranet</title></html>", "content_type": "text/html"},
        ),
        (302, {"headers": {"Location": "https://login.microsoftonline.com/x"}}),
        (404, {"body": "<html>Not found</html>", "content_type": "text/html"}),
    ],
)
def test_it_says_when_the_url_is_not_the_dataverse_api(client, mocked, status, kwargs):
    mocked.add(responses.GET, API + "WhoAmI", status=status, **kwargs)
    with pytest.raises(ConfigurationError) as caught:
        client.check()
    assert caught.value.reason is ConfigReason.NOT_AN_API


def test_it_reports_an_unknown_entity_set_as_configuration(client, mocked):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "leads?") + ".*"),
        status=404,
        json=odata_error("0x8006088a", "Resource not found for the segment 'leads'."),
    )
    with pytest.raises(ConfigurationError):
        list(client.rows("lead", ["leadid"]))


def test_it_reports_an_unknown_org_host_as_unreachable(client, mocked):
    failure = requests.exceptions.ConnectionError(
        NameResolutionError("contoso.crm.dynamics.com", None, socket.gaierror(-2, "unknown"))
    )
    mocked.add(responses.GET, API + "WhoAmI", body=failure)
    with pytest.raises(ConfigurationError) as caught:
        client.check()
    assert caught.value.reason is ConfigReason.UNREACHABLE
    assert len(dataverse_calls(mocked)) == 1  # not retried: a name that does not resolve
