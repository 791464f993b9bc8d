"""Reading data: the service document, WhoAmI, $select, $filter, $orderby, $top, $count,
$expand, annotations and the documented query errors."""

from __future__ import annotations

import re

import pytest

from .conftest import unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def people(dataverse_org):
    """Two accounts and three contacts with distinguishable values, under a unique prefix."""
    org = dataverse_org
    s = org.session()
    p = unique("Qz")
    alpha = org.create(
        "accounts",
        {"name": f"{p}Alpha", "revenue": 1000000, "numberofemployees": 50, "industrycode": 7},
        s,
    )
    beta = org.create(
        "accounts", {"name": f"{p}Beta", "revenue": 2500.5, "numberofemployees": 8}, s
    )
    ana = org.create(
        "contacts",
        {
            "firstname": "Ana",
            "lastname": f"{p}One",
            "emailaddress1": "ana.one@example.com",
            "jobtitle": "Buyer",
            "birthdate": "1999-12-31",
            "accountrolecode": 1,
            "parentcustomerid_account@odata.bind": f"/accounts({alpha})",
        },
        s,
    )
    ben = org.create(
        "contacts",
        {
            "firstname": "Ben",
            "lastname": f"{p}Two",
            "birthdate": "1990-05-01",
            "donotemail": True,
            "accountrolecode": 2,
            "parentcustomerid_account@odata.bind": f"accounts({beta})",
        },
        s,
    )
    chloe = org.create(
        "contacts",
        {
            "firstname": "chloé",
            "lastname": f"{p}O'Three",
            "jobtitle": "CTO",
            "parentcustomerid_contact@odata.bind": f"{org.api}/contacts({ana})",
        },
        s,
    )
    response = s.patch(
        f"{org.api}/accounts({alpha})",
        json={"primarycontactid@odata.bind": f"/contacts({ana})"},
        headers={"If-Match": "*"},
    )
    assert response.status_code == 204
    return {"p": p, "alpha": alpha, "beta": beta, "ana": ana, "ben": ben, "chloe": chloe}


def _contacts(s, api: str, p: str, expression: str, **params) -> set[str]:
    query = {
        "$select": "firstname",
        "$filter": f"startswith(lastname,'{p}') and ({expression})",
        **params,
    }
    response = s.get(f"{api}/contacts", params=query)
    assert response.status_code == 200, response.text
    return {row["firstname"] for row in response.json()["value"]}


def test_it_lists_the_entity_sets_in_the_service_document(dv, s):
    body = s.get(f"{dv.api}/").json()
    assert body["@odata.context"] == f"{dv.api}/$metadata"
    names = {item["name"] for item in body["value"]}
    assert {"leads", "contacts", "accounts", "opportunities", "systemusers"} <= names
    assert all(
        item["kind"] == "EntitySet" and item["url"] == item["name"] for item in body["value"]
    )


def test_it_answers_who_am_i_with_the_application_user(dv, s):
    body = s.get(f"{dv.api}/WhoAmI").json()
    assert set(body) == {"@odata.context", "BusinessUnitId", "UserId", "OrganizationId"}
    user = s.get(
        f"{dv.api}/systemusers({body['UserId']})", params={"$select": "applicationid,accessmode"}
    ).json()
    assert user["applicationid"] == dv.client_id
    assert user["accessmode"] == 4
    wrong_verb = s.post(f"{dv.api}/WhoAmI", json={})
    assert wrong_verb.status_code == 404
    assert wrong_verb.json()["error"]["message"].startswith(
        "No HTTP resource was found that matches the request URI"
    )


def test_it_returns_only_the_selected_columns_plus_key_and_etag(dv, s, people):
    response = s.get(
        f"{dv.api}/contacts({people['ana']})",
        params={"$select": "firstname,_parentcustomerid_value"},
    )
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {
        "@odata.context",
        "@odata.etag",
        "firstname",
        "_parentcustomerid_value",
        "contactid",
    }
    assert (
        body["@odata.context"]
        == f"{dv.api}/$metadata#contacts(firstname,_parentcustomerid_value)/$entity"
    )
    assert body["_parentcustomerid_value"] == people["alpha"]
    assert re.fullmatch(r'W/"\d+"', body["@odata.etag"])
    assert response.headers["ETag"] == body["@odata.etag"]


def test_it_returns_all_columns_without_select(dv, s, people):
    body = s.get(f"{dv.api}/contacts({people['ana']})").json()
    assert body["fullname"] == f"Ana {people['p']}One"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["createdon"])
    assert body["birthdate"] == "1999-12-31"
    assert body["statecode"] == 0 and body["statuscode"] == 1
    assert body["_ownerid_value"] == s.get(f"{dv.api}/WhoAmI").json()["UserId"]
    assert "parentcustomerid" not in body and "parentcustomeridname" not in body


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("firstname eq 'ana'", {"Ana"}),
        ("firstname eq 'CHLOE'", {"chloé"}),
        ("firstname ne 'Ana'", {"Ben", "chloé"}),
        ("contains(lastname,'two')", {"Ben"}),
        ("contains(lastname,'T_o')", {"Ben"}),
        ("startswith(firstname,'CH')", {"chloé"}),
        ("endswith(lastname,'Three')", {"chloé"}),
        ("jobtitle eq null", {"Ben"}),
        ("jobtitle ne null", {"Ana", "chloé"}),
        ("birthdate lt 1995-01-01", {"Ben"}),
        ("birthdate ge 1995-01-01 or birthdate eq null", {"Ana", "chloé"}),
        ("createdon gt 2000-01-01T00:00:00Z", {"Ana", "Ben", "chloé"}),
        ("createdon lt 2000-01-01T00:00:00+02:00", set()),
        ("donotemail eq true", {"Ben"}),
        ("accountrolecode eq 2 or accountrolecode eq 1", {"Ana", "Ben"}),
        ("not (accountrolecode eq 2)", {"Ana", "chloé"}),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='accountrolecode',PropertyValues=['1','2'])",
            {"Ana", "Ben"},
        ),
        ("statecode eq 0 and (firstname eq 'Ana' or firstname eq 'Ben')", {"Ana", "Ben"}),
        (
            "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=1)",
            {"Ana", "Ben", "chloé"},
        ),
    ],
)
def test_it_filters_like_dataverse(dv, s, people, expression, expected):
    assert _contacts(s, dv.api, people["p"], expression) == expected


def test_it_filters_lookups_by_guid_quoted_or_not_and_through_navigation(dv, s, people):
    p, alpha = people["p"], people["alpha"]
    assert _contacts(s, dv.api, p, f"_parentcustomerid_value eq {alpha}") == {"Ana"}
    assert _contacts(s, dv.api, p, f"_parentcustomerid_value eq '{alpha}'") == {"Ana"}
    assert _contacts(s, dv.api, p, f"_parentcustomerid_value eq {alpha.upper()}") == {"Ana"}
    assert _contacts(s, dv.api, p, f"parentcustomerid_account/name eq '{p}Alpha'") == {"Ana"}
    assert _contacts(s, dv.api, p, f"lastname eq '{p}O''Three'") == {"chloé"}


def test_it_resolves_parameter_aliases(dv, s, people):
    assert _contacts(s, dv.api, people["p"], "firstname eq @p1", **{"@p1": "'Ben'"}) == {"Ben"}


def test_it_takes_in_values_as_json_strings_with_apostrophes_inline_or_as_an_alias(dv, s, people):
    # filter-rows.md "Manage single quotes": PropertyValues is a JSON array; values holding an
    # apostrophe must be double-quoted. Single-quoted values work too.
    p = people["p"]
    values = f'["{p}O\'Three","{p}Two"]'
    inline = f"Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues={values})"
    assert _contacts(s, dv.api, p, inline) == {"chloé", "Ben"}
    aliased = "Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)"
    params = {"@p1": "'lastname'", "@p2": f'["{p}One","{p}O\'Three"]'}
    assert _contacts(s, dv.api, p, aliased, **params) == {"Ana", "chloé"}
    single = f"Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=['{p}One'])"
    assert _contacts(s, dv.api, p, single) == {"Ana"}
    refused = s.get(
        f"{dv.api}/contacts", params={"$select": "firstname", "$filter": 'lastname eq "x"'}
    )
    assert refused.status_code == 400  # a JSON string is no OData literal outside an array


def test_it_filters_numbers_money_and_collection_lambdas_on_accounts(dv, s, people):
    p = people["p"]

    def names(expression: str) -> set[str]:
        response = s.get(
            f"{dv.api}/accounts",
            params={"$select": "name", "$filter": f"startswith(name,'{p}') and ({expression})"},
        )
        assert response.status_code == 200, response.text
        return {r["name"] for r in response.json()["value"]}

    assert names("revenue gt 2000 and revenue lt 3000") == {f"{p}Beta"}
    assert names("numberofemployees ge 50") == {f"{p}Alpha"}
    assert names("contact_customer_accounts/any(c:c/firstname eq 'Ana')") == {f"{p}Alpha"}
    assert names("contact_customer_accounts/all(c:c/firstname eq 'Ben')") == {f"{p}Beta"}
    assert names(f"_primarycontactid_value eq {people['ana']}") == {f"{p}Alpha"}


def test_it_orders_by_several_columns_and_limits_with_top(dv, s, people):
    query = {"$select": "firstname", "$filter": f"startswith(lastname,'{people['p']}')"}
    desc = s.get(
        f"{dv.api}/contacts", params={**query, "$orderby": "firstname desc,lastname asc"}
    ).json()
    assert [r["firstname"] for r in desc["value"]] == ["chloé", "Ben", "Ana"]
    top = s.get(
        f"{dv.api}/contacts", params={**query, "$orderby": "birthdate asc", "$top": "2"}
    ).json()
    assert [r["firstname"] for r in top["value"]] == [
        "chloé",
        "Ben",
    ]  # nulls first, like SQL Server
    assert "@odata.nextLink" not in top


def test_it_counts_matching_rows(dv, s, people):
    body = s.get(
        f"{dv.api}/contacts",
        params={
            "$select": "firstname",
            "$filter": f"startswith(lastname,'{people['p']}')",
            "$count": "true",
            "$top": "1",
        },
    ).json()
    assert body["@odata.count"] == 3
    assert len(body["value"]) == 1
    plain = s.get(
        f"{dv.api}/contacts/$count", params={"$filter": f"startswith(lastname,'{people['p']}')"}
    )
    assert plain.text == "3"


def test_it_expands_single_valued_navigation_properties(dv, s, people):
    body = s.get(
        f"{dv.api}/contacts",
        params={
            "$select": "firstname",
            "$filter": f"startswith(lastname,'{people['p']}')",
            "$orderby": "firstname",
            "$expand": "parentcustomerid_account($select=name;"
            "$expand=primarycontactid($select=fullname)),"
            "parentcustomerid_contact($select=firstname)",
        },
    ).json()
    ana, ben, chloe = body["value"]
    assert body["@odata.context"].endswith(
        "#contacts(firstname,parentcustomerid_account(name,primarycontactid(fullname)),parentcustomerid_contact(firstname))"
    )
    assert ana["parentcustomerid_account"]["name"] == f"{people['p']}Alpha"
    assert ana["parentcustomerid_account"]["accountid"] == people["alpha"]
    assert (
        ana["parentcustomerid_account"]["primarycontactid"]["fullname"] == f"Ana {people['p']}One"
    )
    assert ana["parentcustomerid_contact"] is None
    assert set(ben["parentcustomerid_account"]) == {
        "@odata.etag",
        "name",
        "accountid",
        "primarycontactid",
    }
    assert chloe["parentcustomerid_account"] is None
    assert chloe["parentcustomerid_contact"]["firstname"] == "Ana"


def test_it_expands_collection_valued_navigation_properties(dv, s, people):
    body = s.get(
        f"{dv.api}/accounts({people['alpha']})",
        params={
            "$select": "name",
            "$expand": "contact_customer_accounts($select=firstname;$filter=firstname eq 'Ana')",
        },
    ).json()
    assert [c["firstname"] for c in body["contact_customer_accounts"]] == ["Ana"]
    related = s.get(
        f"{dv.api}/accounts({people['beta']})/contact_customer_accounts",
        params={"$select": "firstname"},
    )
    assert [c["firstname"] for c in related.json()["value"]] == ["Ben"]


def test_it_annotates_formatted_values_and_lookups_when_asked(dv, s, people):
    response = s.get(
        f"{dv.api}/contacts({people['ben']})",
        params={
            "$select": "accountrolecode,donotemail,birthdate,_parentcustomerid_value,_ownerid_value"
        },
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    body = response.json()
    formatted = "@OData.Community.Display.V1.FormattedValue"
    assert body[f"accountrolecode{formatted}"] == "Employee"
    assert body[f"donotemail{formatted}"] == "Do Not Allow"
    assert body[f"birthdate{formatted}"] == "5/1/1990"
    assert body[f"_parentcustomerid_value{formatted}"] == f"{people['p']}Beta"
    assert body["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    assert (
        body["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"]
        == "parentcustomerid_account"
    )
    assert body["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "systemuser"
    assert response.headers["Preference-Applied"] == 'odata.include-annotations="*"'
    only_lookups = s.get(
        f"{dv.api}/accounts({people['alpha']})",
        params={"$select": "revenue,_primarycontactid_value"},
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'},
    ).json()
    assert (
        only_lookups["_primarycontactid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]
        == "contact"
    )
    assert f"revenue{formatted}" not in only_lookups
    money = s.get(
        f"{dv.api}/accounts({people['alpha']})",
        params={"$select": "revenue"},
        headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.*"'},
    ).json()
    assert money[f"revenue{formatted}"] == "$1,000,000.00"
    assert money["revenue"] == 1000000


def test_it_reads_one_property_and_its_raw_value(dv, s, people):
    body = s.get(f"{dv.api}/contacts({people['ana']})/firstname").json()
    assert body["value"] == "Ana"
    assert s.get(f"{dv.api}/contacts({people['ana']})/firstname/$value").text == "Ana"
    assert s.get(f"{dv.api}/contacts({people['ben']})/jobtitle").status_code == 204
    nav = s.get(
        f"{dv.api}/contacts({people['ana']})/parentcustomerid_account", params={"$select": "name"}
    )
    assert nav.json()["name"] == f"{people['p']}Alpha"


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "message"),
    [
        ("Account", {}, 404, "0x8006088a", "Resource not found for the segment 'Account'."),
        (
            "accounts",
            {"$select": "Name"},
            400,
            "0x0",
            "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.",
        ),
        (
            "contacts",
            {"$filter": "Name eq 'x'"},
            400,
            "0x0",
            "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.contact'.",
        ),
        (
            "contacts",
            {"$orderby": "nope"},
            400,
            "0x0",
            "Could not find a property named 'nope' on type 'Microsoft.Dynamics.CRM.contact'.",
        ),
        (
            "contacts",
            {"$expand": "nope"},
            400,
            "0x0",
            "Could not find a property named 'nope' on type 'Microsoft.Dynamics.CRM.contact'.",
        ),
        ("contacts", {"$skip": "10"}, 400, "0x0", "The query parameter $skip is not supported"),
        (
            "contacts",
            {"$filter": "firstname eq 1"},
            400,
            "0x0",
            "A binary operator with incompatible types was detected. Found operand types "
            "'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.",
        ),
        (
            "contacts",
            {"$filter": "firstname eq"},
            400,
            "0x0",
            "Syntax error at position 12 in 'firstname eq'.",
        ),
        (
            "contacts(00000000-0000-0000-0000-0000000000ff)",
            {},
            404,
            "0x80040217",
            "contact With Id = 00000000-0000-0000-0000-0000000000ff Does Not Exist",
        ),
    ],
)
def test_it_answers_query_mistakes_with_documented_errors(
    dv, s, path, params, status, code, message
):
    response = s.get(f"{dv.api}/{path}", params=params)
    assert response.status_code == status, response.text
    assert response.json() == {"error": {"code": code, "message": message}}


def test_it_refuses_unknown_functions_and_bad_keys(dv, s):
    response = s.get(f"{dv.api}/contacts", params={"$filter": "tolower(firstname) eq 'x'"})
    assert response.status_code == 400
    assert "unknown function with name 'tolower'" in response.json()["error"]["message"]
    assert s.get(f"{dv.api}/contacts(not-a-guid)").status_code == 400


def test_it_expands_the_owner_as_a_principal(dv, s, people):
    body = s.get(
        f"{dv.api}/contacts({people['ana']})", params={"$select": "lastname", "$expand": "ownerid"}
    ).json()
    owner = body["ownerid"]
    assert owner["@odata.type"] == "#Microsoft.Dynamics.CRM.systemuser"
    assert owner["ownerid"] == s.get(f"{dv.api}/WhoAmI").json()["UserId"]
    refused = s.get(
        f"{dv.api}/contacts({people['ana']})", params={"$expand": "ownerid($select=fullname)"}
    )
    assert refused.json()["error"]["message"] == (
        "Could not find a property named 'fullname' on type 'Microsoft.Dynamics.CRM.principal'."
    )


def test_it_says_plainly_which_query_features_the_sandbox_lacks(dv, s):
    for params in ({"$apply": "aggregate(revenue with sum as total)"}, {"fetchXml": "<fetch/>"}):
        response = s.get(f"{dv.api}/accounts", params=params)
        assert response.status_code == 501
        assert "sandbox" in response.json()["error"]["message"]


def test_it_answers_the_user_picker_query_of_the_reference(dv, s):
    response = s.get(
        f"{dv.api}/systemusers",
        params={
            "$select": "systemuserid,fullname,internalemailaddress,domainname,isdisabled,"
            "accessmode",
            "$filter": "isdisabled eq false and accessmode eq 0 and "
            "(contains(fullname,'a') or contains(internalemailaddress,'a'))",
            "$orderby": "fullname",
            "$top": "25",
        },
    )
    assert response.status_code == 200, response.text
    users = response.json()["value"]
    assert users
    assert all(u["isdisabled"] is False and u["accessmode"] == 0 for u in users)
    assert [u["fullname"].casefold() for u in users] == sorted(
        u["fullname"].casefold() for u in users
    )
    assert not any(u["fullname"] == "SYSTEM" or u["fullname"].startswith("# ") for u in users)


def test_it_matches_a_bracketed_bracket_as_a_literal_bracket_without_warnings():
    import warnings

    from sandbox.dataverse.odata import _like_regex

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Python warns about `[[]` as a "possible nested set"
        pattern = _like_regex("%[[]draft]%")
    assert pattern.fullmatch("see [draft] here")
    assert not pattern.fullmatch("see draft] here")
