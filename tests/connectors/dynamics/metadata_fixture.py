"""The contact table's metadata as the Web API answers the queries of `metadata_queries`.

Shapes follow Microsoft's query-metadata-web-api.md examples: labels are
`{"LocalizedLabels": [...], "UserLocalizedLabel": {...}}`, managed properties `{"Value": ...}`,
enum properties plain strings. Trimmed to the columns the tests look at.
"""

from __future__ import annotations

CONTEXT = "https://contoso.crm.dynamics.com/api/data/v9.2/$metadata"


def label(text: str | None) -> dict:
    if text is None:
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    localized = {"Label": text, "LanguageCode": 1033, "IsManaged": True}
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def attribute(
    name: str,
    attribute_type: str,
    *,
    type_name: str | None = None,
    display: str | None = "",
    schema: str | None = None,
    create: bool = True,
    update: bool = True,
    read: bool = True,
    odata: bool | None = True,
    attribute_of: str | None = None,
    required: str = "None",
    custom: bool = False,
) -> dict:
    return {
        "@odata.type": "#Microsoft.Dynamics.CRM.AttributeMetadata",
        "LogicalName": name,
        "SchemaName": schema or name.capitalize(),
        "DisplayName": label(name.title() if display == "" else display),
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": type_name or f"{attribute_type}Type"},
        "IsCustomAttribute": custom,
        "IsValidForCreate": create,
        "IsValidForUpdate": update,
        "IsValidForRead": read,
        "IsValidODataAttribute": odata,
        "AttributeOf": attribute_of,
        "RequiredLevel": {
            "Value": required,
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "MetadataId": "00000000-0000-0000-0000-00000000" + f"{abs(hash(name)) % 10000:04d}",
    }


def option(value: int, text: str) -> dict:
    return {"Value": value, "Label": label(text)}


ENTITY = {
    "@odata.context": f"{CONTEXT}#EntityDefinitions(LogicalName,EntitySetName)/$entity",
    "LogicalName": "contact",
    "EntitySetName": "contacts",
    "PrimaryIdAttribute": "contactid",
    "PrimaryNameAttribute": "fullname",
    "ChangeTrackingEnabled": True,
    "IsOptimisticConcurrencyEnabled": True,
    "MetadataId": "608861bc-50a4-4c5f-a02c-21fe1943e2cf",
}

ATTRIBUTES = [
    attribute("contactid", "Uniqueidentifier", display="Contact", create=True, update=False),
    attribute("firstname", "String", display="First Name", required="Recommended"),
    attribute("lastname", "String", display="Last Name", required="ApplicationRequired"),
    attribute("fullname", "String", display="Full Name", create=False, update=False),
    attribute("emailaddress1", "String", display="Email"),
    attribute("telephone1", "String", display="Business Phone"),
    attribute("websiteurl", "String", display="Website"),
    attribute("description", "Memo", display="Description"),
    attribute("leadsourcecode", "Picklist", display="Lead Source"),
    attribute(
        "new_interests",
        "Virtual",
        type_name="MultiSelectPicklistType",
        custom=True,
        display="Interests",
        schema="new_Interests",
    ),
    attribute("statecode", "State", display="Status", create=False),
    attribute("statuscode", "Status", display="Status Reason"),
    attribute("donotemail", "Boolean", display="Do not allow Emails"),
    attribute("birthdate", "DateTime", display="Birthday"),
    attribute("modifiedon", "DateTime", display="Modified On", create=False, update=False),
    attribute("numberofchildren", "Integer", display="No. of Children"),
    attribute("creditlimit", "Money", display="Credit Limit"),
    attribute("parentcustomerid", "Customer", display="Company Name"),
    attribute(
        "parentcustomeridname",
        "String",
        display=None,
        attribute_of="parentcustomerid",
        create=False,
        update=False,
    ),
    attribute("ownerid", "Owner", display="Owner", required="SystemRequired"),
    attribute("new_regionid", "Lookup", display="Region", custom=True, schema="new_RegionId"),
    attribute("entityimage", "Virtual", type_name="ImageType", display="Entity Image"),
    attribute("customertypecode_party", "PartyList", display="Party"),
    attribute("yomifullname", "String", display="Yomi Full Name", odata=False),
    attribute("importsequencenumber", "Integer", display="Import Sequence", read=False),
]

PICKLISTS = [
    {
        "LogicalName": "leadsourcecode",
        "OptionSet": {"Options": [option(1, "Advertisement"), option(8, "Web")]},
        "GlobalOptionSet": None,
    }
]
MULTISELECTS = [
    {
        "LogicalName": "new_interests",
        "OptionSet": None,
        "GlobalOptionSet": {"Options": [option(100000000, "Golf"), option(100000001, "Sailing")]},
    }
]
STATES = [
    {
        "LogicalName": "statecode",
        "OptionSet": {"Options": [option(0, "Active"), option(1, "Inactive")]},
    }
]
STATUSES = [
    {
        "LogicalName": "statuscode",
        "OptionSet": {"Options": [option(1, "Active"), option(2, "Inactive")]},
    }
]
BOOLEANS = [
    {
        "LogicalName": "donotemail",
        "OptionSet": {
            "TrueOption": option(1, "Do Not Allow"),
            "FalseOption": option(0, "Allow"),
        },
    }
]
STRINGS = [
    {"LogicalName": "firstname", "MaxLength": 50, "FormatName": {"Value": "Text"}},
    {"LogicalName": "lastname", "MaxLength": 50, "FormatName": {"Value": "Text"}},
    {"LogicalName": "fullname", "MaxLength": 160, "FormatName": {"Value": "Text"}},
    {"LogicalName": "emailaddress1", "MaxLength": 100, "FormatName": {"Value": "Email"}},
    {"LogicalName": "telephone1", "MaxLength": 50, "FormatName": {"Value": "Phone"}},
    {"LogicalName": "websiteurl", "MaxLength": 200, "FormatName": {"Value": "Url"}},
    {"LogicalName": "parentcustomeridname", "MaxLength": 100, "FormatName": {"Value": "Text"}},
    {"LogicalName": "yomifullname", "MaxLength": 450, "FormatName": {"Value": "PhoneticGuide"}},
]
MEMOS = [{"LogicalName": "description", "MaxLength": 2000}]
DATETIMES = [
    {"LogicalName": "birthdate", "Format": "DateOnly", "DateTimeBehavior": {"Value": "DateOnly"}},
    {
        "LogicalName": "modifiedon",
        "Format": "DateAndTime",
        "DateTimeBehavior": {"Value": "UserLocal"},
    },
]
LOOKUPS = [
    {"LogicalName": "parentcustomerid", "Targets": ["account", "contact"]},
    {"LogicalName": "ownerid", "Targets": ["systemuser", "team"]},
    {"LogicalName": "new_regionid", "Targets": ["new_region"]},
    {"LogicalName": "createdby", "Targets": ["systemuser"]},
]
RELATIONSHIPS = [
    {
        "ReferencingAttribute": "parentcustomerid",
        "ReferencedEntity": "account",
        "ReferencingEntityNavigationPropertyName": "parentcustomerid_account",
    },
    {
        "ReferencingAttribute": "parentcustomerid",
        "ReferencedEntity": "contact",
        "ReferencingEntityNavigationPropertyName": "parentcustomerid_contact",
    },
    {
        "ReferencingAttribute": "ownerid",
        "ReferencedEntity": "systemuser",
        "ReferencingEntityNavigationPropertyName": "ownerid",
    },
    {
        "ReferencingAttribute": "new_regionid",
        "ReferencedEntity": "new_region",
        "ReferencingEntityNavigationPropertyName": "new_RegionId",
    },
]


def collection(items: list) -> dict:
    return {"@odata.context": f"{CONTEXT}#EntityDefinitions('contact')/Attributes", "value": items}


def contact_answers() -> list[dict]:
    """The answers, in the order of metadata_queries('contact')."""
    return [
        ENTITY,
        collection(ATTRIBUTES),
        collection(PICKLISTS),
        collection(MULTISELECTS),
        collection(STATES),
        collection(STATUSES),
        collection(BOOLEANS),
        collection(STRINGS),
        collection(MEMOS),
        collection(DATETIMES),
        collection(LOOKUPS),
        collection(RELATIONSHIPS),
    ]
