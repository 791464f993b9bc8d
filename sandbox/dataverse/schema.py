"""Table and column definitions: the metadata the Web API, the storage and the metadata
endpoints all read.

Column lists follow §7 of README.md (standard columns of lead, contact, account,
opportunity, systemuser) plus the system columns every user-owned table carries. Types,
RequiredLevel and IsValidFor* follow entity-attribute-metadata.md (S20) and the
AttributeTypeCode reference (S21):
https://learn.microsoft.com/power-apps/developer/data-platform/entity-attribute-metadata
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace

from sandbox.seed import LEAD_SOURCES

_NAMESPACE = uuid.UUID("6f1f3c1e-3f7e-4f55-9a53-5d1b8e0c2a10")
CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9]{1,7}_[a-z0-9_]{1,40}$")


def stable_id(*parts: str) -> str:
    """A MetadataId that stays the same across restarts (real ones are stable too)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    state: int | None = None  # StatusOptionMetadata.State
    default_status: int | None = None  # StateOptionMetadata.DefaultStatus
    invariant: str | None = None  # StateOptionMetadata.InvariantName


# kind -> (AttributeType, AttributeTypeName.Value, Edm type, SQLite type, metadata @odata.type)
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "String": ("String", "StringType", "Edm.String", "TEXT", "StringAttributeMetadata"),
    "Memo": ("Memo", "MemoType", "Edm.String", "TEXT", "MemoAttributeMetadata"),
    "Integer": ("Integer", "IntegerType", "Edm.Int32", "INTEGER", "IntegerAttributeMetadata"),
    "BigInt": ("BigInt", "BigIntType", "Edm.Int64", "INTEGER", "BigIntAttributeMetadata"),
    "Decimal": ("Decimal", "DecimalType", "Edm.Decimal", "REAL", "DecimalAttributeMetadata"),
    "Double": ("Double", "DoubleType", "Edm.Double", "REAL", "DoubleAttributeMetadata"),
    "Money": ("Money", "MoneyType", "Edm.Decimal", "REAL", "MoneyAttributeMetadata"),
    "DateTime": (
        "DateTime",
        "DateTimeType",
        "Edm.DateTimeOffset",
        "TEXT",
        "DateTimeAttributeMetadata",
    ),
    "Boolean": ("Boolean", "BooleanType", "Edm.Boolean", "INTEGER", "BooleanAttributeMetadata"),
    "Picklist": ("Picklist", "PicklistType", "Edm.Int32", "INTEGER", "PicklistAttributeMetadata"),
    # Multi-select choices report AttributeType Virtual; only AttributeTypeName tells (§8).
    "MultiSelectPicklist": (
        "Virtual",
        "MultiSelectPicklistType",
        "Edm.String",
        "TEXT",
        "MultiSelectPicklistAttributeMetadata",
    ),
    "State": ("State", "StateType", "Edm.Int32", "INTEGER", "StateAttributeMetadata"),
    "Status": ("Status", "StatusType", "Edm.Int32", "INTEGER", "StatusAttributeMetadata"),
    "Lookup": ("Lookup", "LookupType", "Edm.Guid", "TEXT", "LookupAttributeMetadata"),
    "Customer": ("Customer", "CustomerType", "Edm.Guid", "TEXT", "LookupAttributeMetadata"),
    "Owner": ("Owner", "OwnerType", "Edm.Guid", "TEXT", "LookupAttributeMetadata"),
    "Uniqueidentifier": (
        "Uniqueidentifier",
        "UniqueidentifierType",
        "Edm.Guid",
        "TEXT",
        "UniqueIdentifierAttributeMetadata",
    ),
    "EntityName": ("EntityName", "EntityNameType", "Edm.String", "", "EntityNameAttributeMetadata"),
    "Virtual": ("Virtual", "VirtualType", "Edm.String", "", "AttributeMetadata"),
}
LOOKUP_KINDS = frozenset({"Lookup", "Customer", "Owner"})
CHOICE_KINDS = frozenset({"Picklist", "State", "Status"})
STRING_KINDS = frozenset({"String", "Memo", "MultiSelectPicklist"})
NUMBER_KINDS = frozenset({"Integer", "BigInt", "Decimal", "Double", "Money"})


@dataclass(frozen=True)
class Column:
    """One attribute (column) of a table."""

    logical: str
    kind: str  # a KINDS key
    label: str | None
    schema: str = ""
    max_length: int | None = None
    format: str | None = None  # String: Text/Email/Phone/Url/TextArea; DateTime: DateOnly/...
    behavior: str | None = None  # DateTime: UserLocal/DateOnly/TimeZoneIndependent
    required: str = "None"  # None/SystemRequired/ApplicationRequired/Recommended
    create: bool = True  # IsValidForCreate
    update: bool = True  # IsValidForUpdate
    read: bool = True  # IsValidForRead
    odata: bool = True  # IsValidODataAttribute
    stored: bool = True  # has a SQLite column
    attribute_of: str | None = None
    custom: bool = False
    options: tuple[Option, ...] = ()
    true_label: str = "Yes"
    false_label: str = "No"
    default: object = None  # value set on create when the body leaves the column out
    global_optionset: str | None = None
    targets: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    precision: int | None = None
    description: str | None = None

    @property
    def attribute_type(self) -> str:
        return KINDS[self.kind][0]

    @property
    def type_name(self) -> str:
        return KINDS[self.kind][1]

    @property
    def edm(self) -> str:
        if self.kind == "DateTime" and self.behavior == "DateOnly":
            return "Edm.Date"
        return KINDS[self.kind][2]

    @property
    def sql_type(self) -> str:
        return KINDS[self.kind][3]

    @property
    def is_lookup(self) -> bool:
        return self.kind in LOOKUP_KINDS

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS

    @property
    def is_string(self) -> bool:
        return self.kind in STRING_KINDS

    @property
    def polymorphic(self) -> bool:
        return self.is_lookup and len(self.targets) > 1

    @property
    def prop(self) -> str:
        """The Web API property name: lookups read as _<name>_value (§3.1)."""
        return f"_{self.logical}_value" if self.is_lookup else self.logical

    def option(self, value: int) -> Option | None:
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True)
class Relationship:
    """A one-to-many relationship seen from its referencing (many) side."""

    schema: str
    referencing_entity: str
    referencing_attribute: str
    referenced_entity: str
    referenced_attribute: str
    nav: str  # ReferencingEntityNavigationPropertyName (single-valued, used for bind/expand)
    collection_nav: str  # ReferencedEntityNavigationPropertyName (collection-valued)
    # Parental relationships delete the children with the parent; referential ones clear the
    # lookup ("Remove Link"). Which standard relationships cascade is an assumption [L]:
    # https://learn.microsoft.com/power-apps/developer/data-platform/configure-entity-relationship-cascading-behavior
    cascade_delete: str = "RemoveLink"

    @property
    def metadata_id(self) -> str:
        return stable_id("relationship", self.schema)


@dataclass
class Table:
    logical: str
    entity_set: str
    pk: str
    primary_name: str
    label: str
    label_plural: str
    schema: str
    object_type_code: int
    columns: dict[str, Column] = field(default_factory=dict)
    change_tracking: bool = True
    ownership: str = "UserOwned"
    is_custom: bool = False
    # Tables whose rows may be merged (Merge action) and whose webhooks may be registered.
    mergeable: bool = False
    description: str | None = None
    _properties: dict = field(default_factory=dict, repr=False)
    _properties_key: tuple = field(default=(), repr=False)

    @property
    def metadata_id(self) -> str:
        return stable_id("entity", self.logical)

    @property
    def sql_table(self) -> str:
        return f"dv_{self.logical}"

    def add(self, column: Column) -> None:
        self.columns[column.logical] = column

    def stored_columns(self) -> list[Column]:
        return [c for c in self.columns.values() if c.stored]

    def properties(self) -> dict[str, Column]:
        """Web API property name -> column, for every column exposed through OData."""
        # Columns are only ever added (or replaced while the table is built), so the cache is
        # keyed on the column count and identity of the dict's values.
        key = (len(self.columns), id(self.columns))
        if self._properties_key != key:
            self._properties = {c.prop: c for c in self.columns.values() if c.odata and c.stored}
            self._properties_key = key
        return self._properties

    def has_money(self) -> bool:
        return any(c.kind == "Money" for c in self.columns.values())


# -- column constructors ---------------------------------------------------------------------
def _schema_name(logical: str) -> str:
    # Standard SchemaNames are PascalCase words; we can't derive the real casing of every
    # name, so title-case the underscore parts (firstname -> Firstname, address1_city ->
    # Address1_City). Only custom columns' SchemaNames are asserted anywhere (§8).
    return "_".join(part[:1].upper() + part[1:] for part in logical.split("_"))


def text(logical: str, label: str, max_length: int = 100, fmt: str = "Text", **kw) -> Column:
    return Column(logical, "String", label, max_length=max_length, format=fmt, **kw)


def memo(logical: str, label: str, max_length: int = 2000, **kw) -> Column:
    return Column(logical, "Memo", label, max_length=max_length, format="TextArea", **kw)


def integer(logical: str, label: str, minimum: int = -2147483648, maximum: int = 2147483647, **kw):
    return Column(logical, "Integer", label, minimum=minimum, maximum=maximum, format="None", **kw)


def money(logical: str, label: str, maximum: float = 922337203685477, **kw) -> Column:
    return Column(
        logical, "Money", label, minimum=-922337203685477, maximum=maximum, precision=2, **kw
    )


def double(logical: str, label: str, **kw) -> Column:
    return Column(logical, "Double", label, minimum=0, maximum=1000000000, precision=2, **kw)


def boolean(logical: str, label: str, true_label="Yes", false_label="No", default=False, **kw):
    return Column(
        logical,
        "Boolean",
        label,
        true_label=true_label,
        false_label=false_label,
        default=default,
        **kw,
    )


def picklist(logical: str, label: str, options: dict[int, str], **kw) -> Column:
    return Column(
        logical, "Picklist", label, options=tuple(Option(v, t) for v, t in options.items()), **kw
    )


def date_only(logical: str, label: str, **kw) -> Column:
    return Column(logical, "DateTime", label, format="DateOnly", behavior="DateOnly", **kw)


def datetime_(logical: str, label: str, **kw) -> Column:
    return Column(logical, "DateTime", label, format="DateAndTime", behavior="UserLocal", **kw)


def lookup(logical: str, label: str, *targets: str, kind: str = "Lookup", **kw) -> Column:
    return Column(logical, kind, label, targets=targets, **kw)


def guid(logical: str, label: str, **kw) -> Column:
    return Column(logical, "Uniqueidentifier", label, **kw)


READ_ONLY = {"create": False, "update": False}


def _system_columns(owned: bool) -> list[Column]:
    cols = [
        datetime_("createdon", "Created On", **READ_ONLY),
        datetime_("modifiedon", "Modified On", **READ_ONLY),
        lookup("createdby", "Created By", "systemuser", **READ_ONLY),
        lookup("modifiedby", "Modified By", "systemuser", **READ_ONLY),
        Column("versionnumber", "BigInt", "Version Number", **READ_ONLY),
        # Valid for create only: lets migrations keep the original creation time.
        Column(
            "overriddencreatedon",
            "DateTime",
            "Record Created On",
            format="DateOnly",
            behavior="UserLocal",
            update=False,
        ),
        integer("importsequencenumber", "Import Sequence Number", update=False),
    ]
    if owned:
        cols += [
            lookup(
                "ownerid", "Owner", "systemuser", "team", kind="Owner", required="SystemRequired"
            ),
            lookup("owninguser", "Owning User", "systemuser", **READ_ONLY),
            lookup("owningteam", "Owning Team", "team", **READ_ONLY),
            lookup("owningbusinessunit", "Owning Business Unit", "businessunit", **READ_ONLY),
        ]
    return cols


def _address_columns() -> list[Column]:
    return [
        text("address1_line1", "Address 1: Street 1", 250),
        text("address1_line2", "Address 1: Street 2", 250),
        text("address1_line3", "Address 1: Street 3", 250),
        text("address1_city", "Address 1: City", 80),
        text("address1_stateorprovince", "Address 1: State/Province", 50),
        text("address1_postalcode", "Address 1: ZIP/Postal Code", 20),
        text("address1_country", "Address 1: Country/Region", 80),
        text("address1_county", "Address 1: County", 50),
        text("address1_telephone1", "Address 1: Phone", 50, fmt="Phone"),
        memo("address1_composite", "Address 1", 1000, **READ_ONLY),
    ]


INDUSTRIES = {
    1: "Accounting",
    2: "Agriculture and Non-petrol Natural Resource Extraction",
    3: "Broadcasting Printing and Publishing",
    4: "Brokers",
    5: "Building Supply Retail",
    6: "Business Services",
    7: "Consulting",
    8: "Consumer Services",
    9: "Design, Direction and Creative Management",
    10: "Distributors, Dispatchers and Processors",
    11: "Doctor's Offices and Clinics",
    12: "Durable Manufacturing",
    13: "Eating and Drinking Places",
    14: "Entertainment Retail",
    15: "Equipment Rental and Leasing",
    16: "Financial",
    17: "Food and Tobacco Processing",
    18: "Inbound Capital Intensive Processing",
    19: "Inbound Repair and Services",
    20: "Insurance",
    21: "Legal Services",
    22: "Non-Durable Merchandise Retail",
    23: "Outbound Consumer Service",
    24: "Petrochemical Extraction and Distribution",
    25: "Service Retail",
    26: "SIG Affiliations",
    27: "Social Services",
    28: "Special Outbound Trade Contractors",
    29: "Specialty Realty",
    30: "Transportation",
    31: "Utility Creation and Distribution",
    32: "Vehicle Retail",
    33: "Wholesale",
}
# The lead source option set is the one the demo data is drawn from (sandbox/seed.py).


def _state(options: list[tuple[int, str, int, str]]) -> Column:
    return Column(
        "statecode",
        "State",
        "Status",
        required="SystemRequired",
        create=True,
        options=tuple(Option(v, t, default_status=d, invariant=inv) for v, t, d, inv in options),
        default=options[0][0],
    )


def _status(options: list[tuple[int, str, int]]) -> Column:
    return Column(
        "statuscode",
        "Status",
        "Status Reason",
        options=tuple(Option(v, t, state=s) for v, t, s in options),
        default=options[0][0],
    )


def _person_columns() -> list[Column]:
    return [
        text("firstname", "First Name", 50, required="Recommended"),
        text("middlename", "Middle Name", 50),
        text("lastname", "Last Name", 50, required="ApplicationRequired"),
        text("fullname", "Full Name", 160, **READ_ONLY),
        text("emailaddress1", "Email", 100, fmt="Email"),
        text("emailaddress2", "Email Address 2", 100, fmt="Email"),
        text("emailaddress3", "Email Address 3", 100, fmt="Email"),
        text("telephone1", "Business Phone", 50, fmt="Phone"),
        text("telephone2", "Home Phone", 50, fmt="Phone"),
        text("telephone3", "Telephone 3", 50, fmt="Phone"),
        text("jobtitle", "Job Title", 100),
        text("websiteurl", "Website", 200, fmt="Url"),
        memo("description", "Description", 2000),
        boolean("donotemail", "Do not allow Emails", "Do Not Allow", "Allow"),
        boolean("donotbulkemail", "Do not allow Bulk Emails", "Do Not Allow", "Allow"),
        boolean("donotphone", "Do not allow Phone Calls", "Do Not Allow", "Allow"),
        boolean("donotpostalmail", "Do not allow Mails", "Do Not Allow", "Allow"),
    ]


def _merge_columns(logical: str) -> list[Column]:
    return [
        boolean("merged", "Merged", "Yes", "No", **READ_ONLY),
        lookup("masterid", "Master ID", logical, **READ_ONLY),
    ]


def lead_table() -> Table:
    t = Table("lead", "leads", "leadid", "fullname", "Lead", "Leads", "Lead", 4, mergeable=True)
    cols = [
        guid("leadid", "Lead", create=True, update=False, required="SystemRequired"),
        *_person_columns(),
        text("mobilephone", "Mobile Phone", 20, fmt="Phone"),
        text("subject", "Topic", 300, required="ApplicationRequired"),
        text("companyname", "Company Name", 100, required="Recommended"),
        *_address_columns(),
        picklist("leadsourcecode", "Lead Source", LEAD_SOURCES),
        picklist("leadqualitycode", "Rating", {1: "Hot", 2: "Warm", 3: "Cold"}, default=2),
        picklist("industrycode", "Industry", INDUSTRIES),
        integer("numberofemployees", "No. of Employees", 0, 1000000),
        money("revenue", "Annual Revenue"),
        money("estimatedamount", "Est. Value"),
        money("budgetamount", "Budget Amount"),
        double("estimatedvalue", "Est. Value (deprecated)"),
        date_only("estimatedclosedate", "Est. Close Date"),
        _state(
            [
                (0, "Open", 1, "Open"),
                (1, "Qualified", 3, "Qualified"),
                (2, "Disqualified", 4, "Disqualified"),
            ]
        ),
        _status(
            [
                (1, "New", 0),
                (2, "Contacted", 0),
                (3, "Qualified", 1),
                (4, "Lost", 2),
                (5, "Cannot Contact", 2),
                (6, "No Longer Interested", 2),
                (7, "Canceled", 2),
            ]
        ),
        lookup("customerid", "Customer", "account", "contact", kind="Customer"),
        lookup("parentaccountid", "Parent Account for lead", "account"),
        lookup("parentcontactid", "Parent Contact for lead", "contact"),
        lookup("qualifyingopportunityid", "Qualifying Opportunity", "opportunity"),
        lookup("transactioncurrencyid", "Currency", "transactioncurrency"),
        *_merge_columns("lead"),
        *_system_columns(owned=True),
    ]
    # statecode isn't valid for create on lead (S34): the QualifyLead action or a PATCH sets it.
    for c in cols:
        if c.logical == "statecode":
            c = replace(c, create=False)
        t.add(c)
    return t


def contact_table() -> Table:
    t = Table(
        "contact",
        "contacts",
        "contactid",
        "fullname",
        "Contact",
        "Contacts",
        "Contact",
        2,
        mergeable=True,
    )
    cols = [
        guid("contactid", "Contact", create=True, update=False, required="SystemRequired"),
        *_person_columns(),
        text("mobilephone", "Mobile Phone", 50, fmt="Phone"),
        text("department", "Department", 100),
        lookup("parentcustomerid", "Company Name", "account", "contact", kind="Customer"),
        *_address_columns(),
        picklist(
            "address1_addresstypecode",
            "Address 1: Address Type",
            {1: "Bill To", 2: "Ship To", 3: "Primary", 4: "Other"},
        ),
        date_only("birthdate", "Birthday"),
        date_only("anniversary", "Anniversary"),
        picklist("gendercode", "Gender", {1: "Male", 2: "Female"}),
        picklist("leadsourcecode", "Lead Source", {1: "Default Value"}, default=1),
        picklist("accountrolecode", "Role", {1: "Decision Maker", 2: "Employee", 3: "Influencer"}),
        picklist(
            "preferredcontactmethodcode",
            "Preferred Method of Contact",
            {1: "Any", 2: "Email", 3: "Phone", 4: "Fax", 5: "Mail"},
            default=1,
        ),
        _state([(0, "Active", 1, "Active"), (1, "Inactive", 2, "Inactive")]),
        _status([(1, "Active", 0), (2, "Inactive", 1)]),
        lookup("originatingleadid", "Originating Lead", "lead"),
        lookup("transactioncurrencyid", "Currency", "transactioncurrency"),
        *_merge_columns("contact"),
        *_system_columns(owned=True),
    ]
    for c in cols:
        t.add(c)
    return t


def account_table() -> Table:
    t = Table(
        "account",
        "accounts",
        "accountid",
        "name",
        "Account",
        "Accounts",
        "Account",
        1,
        mergeable=True,
    )
    cols = [
        guid("accountid", "Account", create=True, update=False, required="SystemRequired"),
        text("name", "Account Name", 160, required="ApplicationRequired"),
        text("accountnumber", "Account Number", 20),
        text("emailaddress1", "Email", 100, fmt="Email"),
        text("emailaddress2", "Email Address 2", 100, fmt="Email"),
        text("emailaddress3", "Email Address 3", 100, fmt="Email"),
        text("telephone1", "Main Phone", 50, fmt="Phone"),
        text("telephone2", "Other Phone", 50, fmt="Phone"),
        text("telephone3", "Telephone 3", 50, fmt="Phone"),
        text("websiteurl", "Website", 200, fmt="Url"),
        memo("description", "Description", 2000),
        integer("numberofemployees", "Number of Employees", 0, 1000000000),
        money("revenue", "Annual Revenue", maximum=100000000000000),
        picklist("industrycode", "Industry", INDUSTRIES),
        picklist("accountcategorycode", "Category", {1: "Preferred Customer", 2: "Standard"}),
        *_address_columns(),
        lookup("primarycontactid", "Primary Contact", "contact"),
        lookup("parentaccountid", "Parent Account", "account"),
        _state([(0, "Active", 1, "Active"), (1, "Inactive", 2, "Inactive")]),
        _status([(1, "Active", 0), (2, "Inactive", 1)]),
        lookup("originatingleadid", "Originating Lead", "lead"),
        lookup("transactioncurrencyid", "Currency", "transactioncurrency"),
        boolean("donotemail", "Do not allow Emails", "Do Not Allow", "Allow"),
        boolean("donotbulkemail", "Do not allow Bulk Emails", "Do Not Allow", "Allow"),
        boolean("donotphone", "Do not allow Phone Calls", "Do Not Allow", "Allow"),
        *_merge_columns("account"),
        *_system_columns(owned=True),
    ]
    for c in cols:
        t.add(c)
    return t


def opportunity_table() -> Table:
    t = Table(
        "opportunity",
        "opportunities",
        "opportunityid",
        "name",
        "Opportunity",
        "Opportunities",
        "Opportunity",
        3,
    )
    cols = [
        guid("opportunityid", "Opportunity", create=True, update=False, required="SystemRequired"),
        text("name", "Topic", 300, required="ApplicationRequired"),
        money("estimatedvalue", "Est. Revenue"),
        boolean("isrevenuesystemcalculated", "Revenue", "System Calculated", "User Provided"),
        date_only("estimatedclosedate", "Est. Close Date"),
        money("actualvalue", "Actual Revenue"),
        date_only("actualclosedate", "Actual Close Date"),
        integer("closeprobability", "Probability", 0, 100),
        text("stepname", "Pipeline Phase", 200),
        picklist(
            "salesstage", "Sales Stage", {0: "Qualify", 1: "Develop", 2: "Propose", 3: "Close"}
        ),
        picklist("opportunityratingcode", "Rating", {1: "Hot", 2: "Warm", 3: "Cold"}, default=2),
        picklist(
            "purchasetimeframe",
            "Purchase Timeframe",
            {0: "Immediate", 1: "This Quarter", 2: "Next Quarter", 3: "This Year", 4: "Unknown"},
        ),
        money("budgetamount", "Budget Amount"),
        memo("description", "Description", 2000),
        _state([(0, "Open", 1, "Open"), (1, "Won", 3, "Won"), (2, "Lost", 4, "Lost")]),
        _status(
            [
                (1, "In Progress", 0),
                (2, "On Hold", 0),
                (3, "Won", 1),
                (4, "Canceled", 2),
                (5, "Out-Sold", 2),
            ]
        ),
        lookup(
            "customerid",
            "Potential Customer",
            "account",
            "contact",
            kind="Customer",
            required="ApplicationRequired",
        ),
        lookup("parentaccountid", "Account", "account"),
        lookup("parentcontactid", "Contact", "contact"),
        lookup("originatingleadid", "Originating Lead", "lead"),
        lookup(
            "transactioncurrencyid",
            "Currency",
            "transactioncurrency",
            required="ApplicationRequired",
        ),
        *_system_columns(owned=True),
    ]
    for c in cols:
        if c.logical == "statecode":
            c = replace(c, create=False)
        t.add(c)
    return t


def systemuser_table() -> Table:
    t = Table(
        "systemuser",
        "systemusers",
        "systemuserid",
        "fullname",
        "User",
        "Users",
        "SystemUser",
        8,
        change_tracking=True,
        ownership="BusinessOwned",
    )
    cols = [
        guid("systemuserid", "User", create=True, update=False, required="SystemRequired"),
        text("firstname", "First Name", 64),
        text("lastname", "Last Name", 64, required="ApplicationRequired"),
        text("fullname", "Full Name", 200, **READ_ONLY),
        text("internalemailaddress", "Primary Email", 100, fmt="Email"),
        text("domainname", "User Name", 1024, required="SystemRequired"),
        text("title", "Title", 128),
        text("jobtitle", "Job Title", 100),
        text("mobilephone", "Mobile Phone", 64, fmt="Phone"),
        boolean("isdisabled", "Status", "Disabled", "Enabled", create=False),
        picklist(
            "accessmode",
            "Access Mode",
            {
                0: "Read-Write",
                1: "Administrative",
                2: "Read",
                3: "Support User",
                4: "Non-interactive",
                5: "Delegated Admin",
            },
            default=0,
        ),
        guid("applicationid", "Application ID"),
        guid("azureactivedirectoryobjectid", "Azure AD Object ID", update=False),
        lookup("businessunitid", "Business Unit", "businessunit", required="SystemRequired"),
        lookup("parentsystemuserid", "Manager", "systemuser"),
        *_system_columns(owned=False),
    ]
    for c in cols:
        t.add(c)
    return t


def businessunit_table() -> Table:
    t = Table(
        "businessunit",
        "businessunits",
        "businessunitid",
        "name",
        "Business Unit",
        "Business Units",
        "BusinessUnit",
        10,
        change_tracking=False,
        ownership="BusinessOwned",
    )
    for c in [
        guid("businessunitid", "Business Unit", create=True, update=False),
        text("name", "Name", 160, required="SystemRequired"),
        lookup("parentbusinessunitid", "Parent Business", "businessunit"),
        *_system_columns(owned=False),
    ]:
        t.add(c)
    return t


def team_table() -> Table:
    t = Table(
        "team",
        "teams",
        "teamid",
        "name",
        "Team",
        "Teams",
        "Team",
        9,
        change_tracking=False,
        ownership="BusinessOwned",
    )
    for c in [
        guid("teamid", "Team", create=True, update=False),
        text("name", "Team Name", 160, required="SystemRequired"),
        lookup("businessunitid", "Business Unit", "businessunit", required="SystemRequired"),
        picklist("teamtype", "Team Type", {0: "Owner", 1: "Access"}, default=0),
        *_system_columns(owned=False),
    ]:
        t.add(c)
    return t


def transactioncurrency_table() -> Table:
    t = Table(
        "transactioncurrency",
        "transactioncurrencies",
        "transactioncurrencyid",
        "currencyname",
        "Currency",
        "Currencies",
        "TransactionCurrency",
        9105,
        change_tracking=False,
        ownership="OrganizationOwned",
    )
    for c in [
        guid("transactioncurrencyid", "Transaction Currency", create=True, update=False),
        text("currencyname", "Currency Name", 100, required="SystemRequired"),
        text("isocurrencycode", "Currency Code", 5, required="SystemRequired"),
        text("currencysymbol", "Currency Symbol", 10, required="SystemRequired"),
        Column(
            "exchangerate",
            "Decimal",
            "Exchange Rate",
            precision=10,
            minimum=0.0000000001,
            maximum=100000000000,
            required="SystemRequired",
            default=1.0,
        ),
        integer("currencyprecision", "Currency Precision", 0, 4, default=2),
        *_system_columns(owned=False),
    ]:
        t.add(c)
    return t


def organization_table() -> Table:
    t = Table(
        "organization",
        "organizations",
        "organizationid",
        "name",
        "Organization",
        "Organizations",
        "Organization",
        1019,
        change_tracking=False,
        ownership="OrganizationOwned",
    )
    for c in [
        guid("organizationid", "Organization", create=False, update=False),
        text("name", "Organization Name", 160, required="SystemRequired"),
        # How long change-tracking tokens stay valid (S9; "7 days default").
        integer(
            "expirechangetrackingindays",
            "Days to Expire Change Tracking Deleted Records",
            0,
            365,
            default=7,
        ),
        lookup("basecurrencyid", "Currency", "transactioncurrency", update=False),
        *_system_columns(owned=False),
    ]:
        t.add(c)
    return t


SYNCED_TABLES = ("lead", "contact", "account", "opportunity")


def standard_tables() -> dict[str, Table]:
    tables = [
        lead_table(),
        contact_table(),
        account_table(),
        opportunity_table(),
        systemuser_table(),
        businessunit_table(),
        team_table(),
        transactioncurrency_table(),
        organization_table(),
    ]
    result = {t.logical: t for t in tables}
    for t in tables:
        _finish(t)
    return result


def _finish(table: Table) -> None:
    """Fill SchemaNames and add the shadow columns the platform keeps next to lookups and
    choices (…name, …yominame, …type; AttributeOf set, not exposed through OData)."""
    for column in list(table.columns.values()):
        if column.attribute_of:
            continue
        schema = column.schema or _schema_name(column.logical)
        table.columns[column.logical] = replace(column, schema=schema)
        for shadow in shadow_columns(column):
            table.columns.setdefault(shadow.logical, shadow)
    table._properties_key = ()


def shadow_columns(column: Column) -> list[Column]:
    flags = {"create": False, "update": False, "odata": False, "stored": False}
    base = column.logical
    shadows: list[Column] = []
    if column.is_lookup:
        shadows.append(
            Column(
                f"{base}name",
                "String",
                None,
                max_length=100,
                attribute_of=base,
                custom=column.custom,
                **flags,
            )
        )
        if column.kind in ("Customer", "Owner"):
            shadows.append(
                Column(
                    f"{base}yominame",
                    "String",
                    None,
                    max_length=100,
                    attribute_of=base,
                    custom=column.custom,
                    **flags,
                )
            )
        if column.polymorphic:
            shadows.append(
                Column(
                    f"{base}type",
                    "EntityName",
                    None,
                    attribute_of=base,
                    custom=column.custom,
                    **flags,
                )
            )
    elif column.kind in ("Picklist", "Boolean", "State", "Status", "MultiSelectPicklist"):
        shadows.append(
            Column(f"{base}name", "Virtual", None, attribute_of=base, custom=column.custom, **flags)
        )
    return [replace(s, schema=_schema_name(s.logical)) for s in shadows]


def relationships(tables: dict[str, Table]) -> list[Relationship]:
    """One-to-many relationships for every lookup, with the navigation property names the Web
    API uses (§5.2: customer lookups get one navigation property per target)."""
    rels: list[Relationship] = []
    known = {
        ("contact", "parentcustomerid", "account"): ("contact_customer_accounts", "Cascade"),
        ("contact", "parentcustomerid", "contact"): ("contact_customer_contacts", "Cascade"),
        ("opportunity", "customerid", "account"): ("opportunity_customer_accounts", "Cascade"),
        ("opportunity", "customerid", "contact"): ("opportunity_customer_contacts", "Cascade"),
        ("lead", "customerid", "account"): ("lead_customer_accounts", "RemoveLink"),
        ("lead", "customerid", "contact"): ("lead_customer_contacts", "RemoveLink"),
        ("lead", "parentaccountid", "account"): ("lead_parent_account", "RemoveLink"),
        ("lead", "parentcontactid", "contact"): ("lead_parent_contact", "RemoveLink"),
        ("opportunity", "parentaccountid", "account"): ("opportunity_parent_account", "RemoveLink"),
        ("opportunity", "parentcontactid", "contact"): ("opportunity_parent_contact", "RemoveLink"),
        ("account", "primarycontactid", "contact"): ("account_primary_contact", "RemoveLink"),
        ("account", "parentaccountid", "account"): ("account_parent_account", "RemoveLink"),
    }
    for table in tables.values():
        for column in table.columns.values():
            if not column.is_lookup or not column.stored:
                continue
            for target in column.targets:
                if target not in tables:
                    continue
                nav = f"{column.logical}_{target}" if column.polymorphic else column.logical
                if column.kind == "Owner":
                    # The owner lookup binds through the one `ownerid` navigation property to
                    # either /systemusers(...) or /teams(...) (§5.2, §11).
                    nav = column.logical
                schema, cascade = known.get(
                    (table.logical, column.logical, target),
                    (f"{table.logical}_{column.logical}_{target}", "RemoveLink"),
                )
                if column.kind == "Owner":
                    schema = f"{target}_{table.entity_set}_owner"
                rels.append(
                    Relationship(
                        schema=schema,
                        referencing_entity=table.logical,
                        referencing_attribute=column.logical,
                        referenced_entity=target,
                        referenced_attribute=tables[target].pk,
                        nav=nav,
                        collection_nav=schema,
                        cascade_delete=cascade,
                    )
                )
    return rels
