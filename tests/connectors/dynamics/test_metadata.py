from __future__ import annotations

import json

import pytest

from connectors.errors import ConfigurationError
from connectors.types import ChoiceOption, FieldType, Vendor

from .conftest import API, add_batch, dataverse_calls, odata_error
from .metadata_fixture import contact_answers


@pytest.fixture
def contact_schema_answer(mocked):
    add_batch(
        mocked,
        [(200, {"Content-Type": "application/json"}, json.dumps(a)) for a in contact_answers()],
    )


def test_it_reads_a_tables_metadata_in_one_batch_of_gets(client, mocked, contact_schema_answer):
    client.schema("contact")
    client.fields("contact")  # cached: no second request

    calls = dataverse_calls(mocked)
    assert len(calls) == 1
    request = calls[0].request
    assert request.method == "POST"
    assert request.url == API + "$batch"
    assert request.headers["Authorization"] == "Bearer token-1"
    assert request.headers["Content-Type"].startswith('multipart/mixed; boundary="batch_')
    lines = [line for line in request.body.decode().split("\r\n") if line.startswith("GET ")]
    base = "GET /api/data/v9.2/EntityDefinitions(LogicalName='contact')"
    attrs = f"{base}/Attributes/Microsoft.Dynamics.CRM."
    assert lines == [
        f"{base}?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,"
        "ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled HTTP/1.1",
        f"{base}/Attributes?$select=LogicalName,SchemaName,DisplayName,AttributeType,"
        "AttributeTypeName,IsCustomAttribute,IsValidForCreate,IsValidForUpdate,IsValidForRead,"
        "IsValidODataAttribute,AttributeOf,RequiredLevel HTTP/1.1",
        f"{attrs}PicklistAttributeMetadata?$select=LogicalName"
        "&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options) HTTP/1.1",
        f"{attrs}MultiSelectPicklistAttributeMetadata?$select=LogicalName"
        "&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options) HTTP/1.1",
        f"{attrs}StateAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)"
        " HTTP/1.1",
        f"{attrs}StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)"
        " HTTP/1.1",
        f"{attrs}BooleanAttributeMetadata?$select=LogicalName"
        "&$expand=OptionSet($select=TrueOption,FalseOption) HTTP/1.1",
        f"{attrs}StringAttributeMetadata?$select=LogicalName,MaxLength,FormatName HTTP/1.1",
        f"{attrs}MemoAttributeMetadata?$select=LogicalName,MaxLength HTTP/1.1",
        f"{attrs}DateTimeAttributeMetadata?$select=LogicalName,Format,DateTimeBehavior HTTP/1.1",
        f"{attrs}LookupAttributeMetadata?$select=LogicalName,Targets HTTP/1.1",
        f"{base}/ManyToOneRelationships?$select=ReferencingAttribute,ReferencedEntity,"
        "ReferencingEntityNavigationPropertyName HTTP/1.1",
    ]


def test_it_normalizes_columns_into_field_infos(client, contact_schema_answer):
    fields = {f.key: f for f in client.fields("contact")}

    # The mapping-UI filter: shadow columns, internal types, non-OData and unreadable go.
    assert set(fields) == {
        "contactid",
        "firstname",
        "lastname",
        "fullname",
        "emailaddress1",
        "telephone1",
        "websiteurl",
        "description",
        "leadsourcecode",
        "new_interests",
        "statecode",
        "statuscode",
        "donotemail",
        "birthdate",
        "modifiedon",
        "numberofchildren",
        "creditlimit",
        "parentcustomerid",
        "ownerid",
        "new_regionid",
    }
    assert {f.vendor for f in fields.values()} == {Vendor.DYNAMICS}
    assert {f.entity for f in fields.values()} == {"contact"}
    types = {key: f.type for key, f in fields.items()}
    assert types == {
        "contactid": FieldType.IDENTIFIER,
        "firstname": FieldType.TEXT,
        "lastname": FieldType.TEXT,
        "fullname": FieldType.TEXT,
        "emailaddress1": FieldType.EMAIL,
        "telephone1": FieldType.PHONE,
        "websiteurl": FieldType.URL,
        "description": FieldType.LONG_TEXT,
        "leadsourcecode": FieldType.CHOICE,
        "new_interests": FieldType.MULTI_CHOICE,
        "statecode": FieldType.CHOICE,
        "statuscode": FieldType.CHOICE,
        "donotemail": FieldType.BOOLEAN,
        "birthdate": FieldType.DATE,
        "modifiedon": FieldType.DATETIME,
        "numberofchildren": FieldType.INTEGER,
        "creditlimit": FieldType.MONEY,
        "parentcustomerid": FieldType.LOOKUP,
        "ownerid": FieldType.LOOKUP,
        "new_regionid": FieldType.LOOKUP,
    }

    email = fields["emailaddress1"]
    assert (email.label, email.max_length, email.vendor_type, email.alias) == (
        "Email",
        100,
        "String",
        "Emailaddress1",
    )
    assert fields["description"].max_length == 2000
    assert fields["lastname"].required is True
    assert fields["ownerid"].required is True
    assert fields["firstname"].required is False  # Recommended is not required
    assert fields["fullname"].writable is False
    assert fields["statecode"].writable is True  # valid for update
    assert fields["modifiedon"].writable is False
    assert fields["leadsourcecode"].options == (
        ChoiceOption("1", "Advertisement"),
        ChoiceOption("8", "Web"),
    )
    assert fields["new_interests"].options == (
        ChoiceOption("100000000", "Golf"),
        ChoiceOption("100000001", "Sailing"),
    )
    assert fields["new_interests"].vendor_type == "MultiSelectPicklist"
    assert fields["new_interests"].custom is True
    assert fields["new_interests"].alias == "new_Interests"
    assert fields["statuscode"].options[0] == ChoiceOption("1", "Active")
    assert fields["donotemail"].options == (
        ChoiceOption("true", "Do Not Allow"),
        ChoiceOption("false", "Allow"),
    )
    assert fields["parentcustomerid"].lookup_targets == ("account", "contact")
    assert fields["new_regionid"].lookup_targets == ("new_region",)


def test_it_keeps_bind_names_with_their_exact_case(client, contact_schema_answer):
    schema = client.schema("contact")
    assert schema.table.entity_set == "contacts"
    assert schema.table.change_tracking is True
    assert schema.bind_names[("parentcustomerid", "account")] == "parentcustomerid_account"
    assert schema.bind_names[("parentcustomerid", "contact")] == "parentcustomerid_contact"
    assert schema.bind_names[("new_regionid", "new_region")] == "new_RegionId"
    assert schema.lookups["createdby"] == ("systemuser",)  # hidden lookups are known too


def test_it_reports_a_table_missing_from_the_environment_as_configuration(client, mocked):
    answers = [(200, {}, json.dumps(a)) for a in contact_answers()]
    answers[2] = (
        404,
        {"Content-Type": "application/json"},
        json.dumps(odata_error("0x80060888", "Could not find entity 'nope'")),
    )
    add_batch(mocked, answers)
    with pytest.raises(ConfigurationError) as caught:
        client.schema("contact")
    assert "Could not find entity 'nope'" in caught.value.message
    assert caught.value.status == 404


def test_it_says_not_an_api_when_batch_answers_html(client, mocked):
    mocked.add("POST", API + "$batch", body="<html>portal</html>", content_type="text/html")
    with pytest.raises(ConfigurationError) as caught:
        client.schema("contact")
    assert caught.value.reason == "not_an_api"
