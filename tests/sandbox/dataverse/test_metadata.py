"""Metadata queries (§8, S19): entity definitions, attributes with casts and option sets,
relationships, custom columns, and the CSDL document."""

from __future__ import annotations

import pytest
import requests

from .conftest import unique

pytestmark = pytest.mark.integration


def test_it_describes_a_table(dv, s):
    response = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='lead')",
        params={
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,"
            "ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled"
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["@odata.context"].endswith(
        "$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled)/$entity"
    )
    assert {
        k: body[k]
        for k in ("LogicalName", "EntitySetName", "PrimaryIdAttribute", "PrimaryNameAttribute")
    } == {
        "LogicalName": "lead",
        "EntitySetName": "leads",
        "PrimaryIdAttribute": "leadid",
        "PrimaryNameAttribute": "fullname",
    }
    assert body["ChangeTrackingEnabled"] is True and body["IsOptimisticConcurrencyEnabled"] is True
    assert body["MetadataId"]  # always returned


def test_it_filters_entity_definitions_like_the_python_sdk_does(dv, s):
    body = s.get(
        f"{dv.api}/EntityDefinitions",
        params={
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute",
            "$filter": "LogicalName eq 'opportunity'",
        },
    ).json()
    assert [(v["EntitySetName"], v["PrimaryIdAttribute"]) for v in body["value"]] == [
        ("opportunities", "opportunityid")
    ]
    tracked = s.get(
        f"{dv.api}/EntityDefinitions",
        params={"$select": "LogicalName", "$filter": "ChangeTrackingEnabled eq true"},
    ).json()
    assert {"lead", "contact", "account", "opportunity"} <= {
        v["LogicalName"] for v in tracked["value"]
    }


def test_it_lists_attributes_with_the_mapping_ui_properties(dv, s):
    select = (
        "LogicalName,SchemaName,DisplayName,AttributeType,AttributeTypeName,IsCustomAttribute,"
        "IsValidForCreate,IsValidForUpdate,IsValidForRead,IsValidODataAttribute,AttributeOf,"
        "RequiredLevel"
    )
    body = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='lead')/Attributes", params={"$select": select}
    ).json()
    attrs = {a["LogicalName"]: a for a in body["value"]}
    lastname = attrs["lastname"]
    assert lastname["AttributeType"] == "String"
    assert lastname["AttributeTypeName"] == {"Value": "StringType"}
    assert lastname["DisplayName"]["UserLocalizedLabel"]["Label"] == "Last Name"
    assert lastname["RequiredLevel"]["Value"] == "ApplicationRequired"
    assert lastname["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata"
    assert (
        attrs["fullname"]["IsValidForCreate"] is False
        and attrs["fullname"]["IsValidForUpdate"] is False
    )
    assert attrs["statecode"]["IsValidForCreate"] is False  # not valid for create on lead (S34)
    assert attrs["parentaccountidname"]["AttributeOf"] == "parentaccountid"
    assert attrs["parentaccountidname"]["IsValidODataAttribute"] is False
    assert attrs["leadsourcecodename"]["AttributeType"] == "Virtual"
    assert attrs["customerid"]["AttributeType"] == "Customer"
    assert "MaxLength" not in lastname


def test_it_filters_attributes_by_enum_literals_and_flags(dv, s):
    url = f"{dv.api}/EntityDefinitions(LogicalName='contact')/Attributes"
    picklists = s.get(
        url,
        params={
            "$select": "LogicalName",
            "$filter": "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'",
        },
    ).json()
    names = {a["LogicalName"] for a in picklists["value"]}
    assert {"accountrolecode", "preferredcontactmethodcode", "gendercode"} <= names
    assert "statecode" not in names
    required = s.get(
        url,
        params={
            "$select": "LogicalName",
            "$filter": "RequiredLevel/Value eq "
            "Microsoft.Dynamics.CRM.AttributeRequiredLevel'ApplicationRequired'",
        },
    ).json()
    assert "lastname" in {a["LogicalName"] for a in required["value"]}
    bad = s.get(url, params={"$select": "MaxLength"})
    assert bad.status_code == 400


def test_it_casts_to_picklist_metadata_and_expands_option_sets(dv, s):
    body = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={
            "$select": "LogicalName",
            "$expand": "OptionSet($select=Options),GlobalOptionSet($select=Options)",
        },
    ).json()
    attrs = {a["LogicalName"]: a for a in body["value"]}
    source = attrs["leadsourcecode"]
    assert source["GlobalOptionSet"] is None
    options = {
        o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"]
        for o in source["OptionSet"]["Options"]
    }
    assert options[8] == "Web" and options[10] == "Other"
    assert set(source["OptionSet"]) == {"Options", "MetadataId"}


def test_it_casts_to_state_status_boolean_string_and_lookup_metadata(dv, s):
    base = f"{dv.api}/EntityDefinitions(LogicalName='opportunity')/Attributes"
    status = s.get(
        f"{base}/Microsoft.Dynamics.CRM.StatusAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet"},
    ).json()
    options = status["value"][0]["OptionSet"]["Options"]
    assert {(o["Value"], o["State"]) for o in options} >= {(3, 1), (5, 2)}
    state = s.get(
        f"{base}(LogicalName='statecode')/Microsoft.Dynamics.CRM.StateAttributeMetadata/OptionSet"
    ).json()
    assert [(o["Value"], o["DefaultStatus"], o["InvariantName"]) for o in state["Options"]][1] == (
        1,
        3,
        "Won",
    )
    flag = s.get(
        f"{base}/Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet"},
    ).json()
    revenue = next(a for a in flag["value"] if a["LogicalName"] == "isrevenuesystemcalculated")
    assert (
        revenue["OptionSet"]["TrueOption"]["Label"]["UserLocalizedLabel"]["Label"]
        == "System Calculated"
    )
    strings = s.get(
        f"{base}/Microsoft.Dynamics.CRM.StringAttributeMetadata",
        params={"$select": "LogicalName,MaxLength,FormatName"},
    ).json()
    name = next(a for a in strings["value"] if a["LogicalName"] == "name")
    assert (name["MaxLength"], name["FormatName"]) == (300, {"Value": "Text"})
    lookups = s.get(
        f"{base}/Microsoft.Dynamics.CRM.LookupAttributeMetadata",
        params={"$select": "LogicalName,Targets"},
    ).json()
    targets = {a["LogicalName"]: a["Targets"] for a in lookups["value"]}
    assert targets["customerid"] == ["account", "contact"]
    assert targets["parentcontactid"] == ["contact"]


def test_it_lists_many_to_one_relationships_with_navigation_names(dv, s):
    body = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='contact')/ManyToOneRelationships",
        params={
            "$select": "ReferencingAttribute,ReferencedEntity,"
            "ReferencingEntityNavigationPropertyName"
        },
    ).json()
    rows = {
        (r["ReferencingAttribute"], r["ReferencedEntity"]): r[
            "ReferencingEntityNavigationPropertyName"
        ]
        for r in body["value"]
    }
    assert rows[("parentcustomerid", "account")] == "parentcustomerid_account"
    assert rows[("parentcustomerid", "contact")] == "parentcustomerid_contact"
    assert rows[("ownerid", "systemuser")] == "ownerid"


def test_it_adds_custom_columns_that_the_api_reads_writes_and_describes(dv, s):
    name = f"new_{unique('score')}"
    column = dv.app.attribute_add(
        "contact",
        logical_name=name,
        type="Integer",
        display_name="AC Score",
        min_value=0,
        max_value=100,
    )
    assert column.custom
    contact = dv.create("contacts", {"lastname": "Scored", name: 42})
    assert s.get(f"{dv.api}/contacts({contact})", params={"$select": name}).json()[name] == 42
    assert s.post(f"{dv.api}/contacts", json={"lastname": "X", name: 101}).status_code == 400
    custom = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='contact')/Attributes",
        params={
            "$select": "LogicalName,IsCustomAttribute,DisplayName",
            "$filter": "IsCustomAttribute eq true",
        },
    ).json()
    found = {a["LogicalName"]: a for a in custom["value"]}
    assert found[name]["DisplayName"]["UserLocalizedLabel"]["Label"] == "AC Score"


def test_it_adds_custom_choice_columns_through_the_control_route_with_a_global_option_set(dv, s):
    name = f"new_{unique('tier')}"
    response = requests.post(
        f"{dv.url}/_sandbox/dataverse/tables/lead/columns",
        json={
            "logical_name": name,
            "type": "Picklist",
            "display_name": "Tier",
            "options": {"1": "Gold", "2": "Silver"},
            "global_optionset": f"{name}_set",
        },
        headers=dv.app.control_headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    lead = dv.create("leads", {"lastname": "Tiered", name: 2})
    formatted = s.get(
        f"{dv.api}/leads({lead})",
        params={"$select": name},
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert formatted[f"{name}@OData.Community.Display.V1.FormattedValue"] == "Silver"
    body = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='lead')/Attributes(LogicalName='{name}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={
            "$select": "LogicalName",
            "$expand": "OptionSet($select=Options),GlobalOptionSet($select=Options)",
        },
    ).json()
    assert body["OptionSet"] is None
    assert [o["Value"] for o in body["GlobalOptionSet"]["Options"]] == [1, 2]


def test_it_creates_a_column_through_the_metadata_api(dv, s):
    schema = f"new_{unique('Region')}"
    label = {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {
                "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
                "Label": "Region",
                "LanguageCode": 1033,
            }
        ],
    }
    response = s.post(
        f"{dv.api}/EntityDefinitions(LogicalName='account')/Attributes",
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "SchemaName": schema,
            "DisplayName": label,
            "RequiredLevel": {"Value": "None"},
            "MaxLength": 40,
            "FormatName": {"Value": "Text"},
        },
    )
    assert response.status_code == 204, response.text
    assert "/Attributes(" in response.headers["OData-EntityId"]
    account = dv.create("accounts", {"name": "Regional", schema.lower(): "EMEA"})
    assert s.get(f"{dv.api}/accounts({account})/{schema.lower()}").json()["value"] == "EMEA"
    attribute = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='account')/Attributes(LogicalName='{schema.lower()}')"
    ).json()
    assert attribute["SchemaName"] == schema and attribute["MaxLength"] == 40


def test_it_serves_a_csdl_document_with_change_tracking_annotations(dv, s):
    response = s.get(f"{dv.api}/$metadata", params={"annotations": "true"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    text = response.text
    assert '<EntitySet Name="contacts" EntityType="mscrm.contact">' in text
    assert 'Term="Org.OData.Capabilities.V1.ChangeTracking"' in text
    assert '<NavigationProperty Name="parentcustomerid_account" Type="mscrm.account"/>' in text


def test_it_lists_global_option_sets_and_relationship_definitions(dv, s):
    name = f"new_{unique('band')}"
    dv.app.attribute_add(
        "account",
        logical_name=name,
        type="Picklist",
        options={1: "A", 2: "B"},
        global_optionset=f"{name}_global",
    )
    found = s.get(f"{dv.api}/GlobalOptionSetDefinitions(Name='{name}_global')").json()
    assert [o["Value"] for o in found["Options"]] == [1, 2]
    assert found["IsGlobal"] is True
    rel = s.get(f"{dv.api}/RelationshipDefinitions(SchemaName='contact_customer_accounts')").json()
    assert (rel["ReferencingEntity"], rel["ReferencedEntity"]) == ("contact", "account")
    assert rel["CascadeConfiguration"]["Delete"] == "Cascade"
