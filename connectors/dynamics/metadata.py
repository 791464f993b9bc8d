"""Table definitions and columns, normalized into `connectors.types.FieldInfo`.

One table's metadata is read with one `$batch` of GETs (see `metadata_queries`): the entity
definition, its attributes, the type-specific casts (choices, yes/no, string length and format,
date behaviour, lookup targets) and the many-to-one relationships that name the navigation
properties used to bind lookups. Metadata queries have no paging: each answer is complete.
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api)

The columns offered for mapping follow the filter suggested in the reference: readable, exposed
as Web API properties (IsValidODataAttribute), not a shadow column of another one (AttributeOf),
and not an internal type (Virtual other than multi-select choices, EntityName, PartyList,
CalendarRules, ManagedProperty, Image, File).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from connectors.types import ChoiceOption, FieldInfo, FieldType, Vendor

from .odata import column
from .records import STANDARD_TABLES, TableInfo, TableSchema

ENTITY_SELECT = (
    "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,"
    "ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled"
)
ATTRIBUTE_SELECT = (
    "LogicalName,SchemaName,DisplayName,AttributeType,AttributeTypeName,IsCustomAttribute,"
    "IsValidForCreate,IsValidForUpdate,IsValidForRead,IsValidODataAttribute,AttributeOf,"
    "RequiredLevel"
)
_CAST = "Microsoft.Dynamics.CRM."

# key -> (path below EntityDefinitions(LogicalName='x'), query). Picklists carry local options
# in OptionSet and global ones in GlobalOptionSet; read whichever is not null.
_QUERIES: tuple[tuple[str, str, str], ...] = (
    ("entity", "", f"$select={ENTITY_SELECT}"),
    ("attributes", "/Attributes", f"$select={ATTRIBUTE_SELECT}"),
    (
        "picklist",
        f"/Attributes/{_CAST}PicklistAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)",
    ),
    (
        "multiselect",
        f"/Attributes/{_CAST}MultiSelectPicklistAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)",
    ),
    (
        "state",
        f"/Attributes/{_CAST}StateAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet($select=Options)",
    ),
    (
        "status",
        f"/Attributes/{_CAST}StatusAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet($select=Options)",
    ),
    (
        "boolean",
        f"/Attributes/{_CAST}BooleanAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet($select=TrueOption,FalseOption)",
    ),
    (
        "string",
        f"/Attributes/{_CAST}StringAttributeMetadata",
        "$select=LogicalName,MaxLength,FormatName",
    ),
    ("memo", f"/Attributes/{_CAST}MemoAttributeMetadata", "$select=LogicalName,MaxLength"),
    (
        "datetime",
        f"/Attributes/{_CAST}DateTimeAttributeMetadata",
        "$select=LogicalName,Format,DateTimeBehavior",
    ),
    ("lookup", f"/Attributes/{_CAST}LookupAttributeMetadata", "$select=LogicalName,Targets"),
    (
        "relationships",
        "/ManyToOneRelationships",
        "$select=ReferencingAttribute,ReferencedEntity,ReferencingEntityNavigationPropertyName",
    ),
)
QUERY_KEYS = tuple(key for key, _, _ in _QUERIES)
_CAST_KEYS = (
    "picklist",
    "multiselect",
    "state",
    "status",
    "boolean",
    "string",
    "memo",
    "datetime",
    "lookup",
)

HIDDEN_TYPE_NAMES = frozenset(
    {
        "VirtualType",
        "EntityNameType",
        "PartyListType",
        "CalendarRulesType",
        "ManagedPropertyType",
        "ImageType",
        "FileType",
    }
)
_LOOKUP_TYPES = frozenset({"Lookup", "Customer", "Owner"})
_REQUIRED_LEVELS = frozenset({"SystemRequired", "ApplicationRequired"})
_STRING_FORMATS = {
    "Email": FieldType.EMAIL,
    "Phone": FieldType.PHONE,
    "Url": FieldType.URL,
    "TextArea": FieldType.LONG_TEXT,
}
_SIMPLE_TYPES = {
    "Memo": FieldType.LONG_TEXT,
    "Integer": FieldType.INTEGER,
    "BigInt": FieldType.INTEGER,
    "Decimal": FieldType.DECIMAL,
    "Double": FieldType.DECIMAL,
    "Money": FieldType.MONEY,
    "Boolean": FieldType.BOOLEAN,
    "Picklist": FieldType.CHOICE,
    "State": FieldType.CHOICE,
    "Status": FieldType.CHOICE,
    "Uniqueidentifier": FieldType.IDENTIFIER,
    "Lookup": FieldType.LOOKUP,
    "Customer": FieldType.LOOKUP,
    "Owner": FieldType.LOOKUP,
}


def metadata_queries(logical_name: str) -> list[tuple[str, str]]:
    """(key, relative URL) of every GET that describes one table."""
    base = f"EntityDefinitions(LogicalName='{column(logical_name)}')"
    return [(key, f"{base}{path}?{query}") for key, path, query in _QUERIES]


def _label(label: object) -> str | None:
    """`Label.UserLocalizedLabel.Label`, else the first localized label."""
    if not isinstance(label, dict):
        return None
    user = label.get("UserLocalizedLabel")
    if isinstance(user, dict) and user.get("Label"):
        return str(user["Label"])
    for localized in label.get("LocalizedLabels") or ():
        if isinstance(localized, dict) and localized.get("Label"):
            return str(localized["Label"])
    return None


def _value(obj: object) -> object:
    """`{"Value": x}` (a managed/complex property) -> x."""
    return obj.get("Value") if isinstance(obj, dict) else obj


def _options(option_set: object) -> tuple[ChoiceOption, ...]:
    if not isinstance(option_set, dict):
        return ()
    result = []
    for option in option_set.get("Options") or ():
        value = option.get("Value")
        if value is None:
            continue
        result.append(
            ChoiceOption(value=str(value), label=_label(option.get("Label")) or str(value))
        )
    return tuple(result)


def _boolean_options(option_set: object) -> tuple[ChoiceOption, ...]:
    # The API reads and writes yes/no columns as JSON true/false; the labels are the org's own
    # ("Allow" / "Do Not Allow" for donotemail, …).
    if not isinstance(option_set, dict):
        return ()
    options = []
    for key, value in (("TrueOption", "true"), ("FalseOption", "false")):
        option = option_set.get(key)
        if isinstance(option, dict):
            options.append(ChoiceOption(value=value, label=_label(option.get("Label")) or value))
    return tuple(options)


def _by_name(items: Sequence[dict]) -> dict[str, dict]:
    return {item["LogicalName"]: item for item in items if item.get("LogicalName")}


def table_info(entity: Mapping) -> TableInfo:
    return TableInfo(
        logical_name=entity["LogicalName"],
        entity_set=entity["EntitySetName"],
        primary_id=entity["PrimaryIdAttribute"],
        primary_name=entity.get("PrimaryNameAttribute") or "",
        change_tracking=bool(entity.get("ChangeTrackingEnabled")),
    )


def is_mappable(attribute: Mapping) -> bool:
    type_name = _value(attribute.get("AttributeTypeName"))
    if not attribute.get("IsValidForRead"):
        return False
    # IsValidODataAttribute is populated by the Web API only; treat "absent" as exposed.
    if attribute.get("IsValidODataAttribute") is False:
        return False
    if attribute.get("AttributeOf"):
        return False  # a shadow column (`*name`, `*yominame`) of another one
    if type_name == "MultiSelectPicklistType":
        return True
    if type_name in HIDDEN_TYPE_NAMES:
        return False
    return attribute.get("AttributeType") not in {
        "Virtual",
        "EntityName",
        "PartyList",
        "CalendarRules",
        "ManagedProperty",
    }


def build_schema(answers: Mapping[str, Mapping], target_sets: Mapping[str, str]) -> TableSchema:
    """Normalize the answers of `metadata_queries` (key -> JSON body) into a TableSchema."""
    info = table_info(answers["entity"])
    attributes = list(answers["attributes"].get("value") or ())
    casts = {key: _by_name(answers[key].get("value") or ()) for key in _CAST_KEYS}
    lookups = {name: tuple(item.get("Targets") or ()) for name, item in casts["lookup"].items()}
    bind_names: dict[tuple[str, str], str] = {}
    for relationship in answers["relationships"].get("value") or ():
        attribute = relationship.get("ReferencingAttribute")
        target = relationship.get("ReferencedEntity")
        navigation = relationship.get("ReferencingEntityNavigationPropertyName")
        if attribute and target and navigation:
            bind_names[(attribute, target)] = navigation

    fields = []
    for attribute in attributes:
        if not is_mappable(attribute):
            continue
        fields.append(_field(info, attribute, casts, lookups))

    sets = {name: t.entity_set for name, t in STANDARD_TABLES.items()}
    sets.update(target_sets)
    sets[info.logical_name] = info.entity_set
    return TableSchema(
        table=info,
        fields=tuple(fields),
        lookups=MappingProxyType(lookups),
        bind_names=MappingProxyType(bind_names),
        target_sets=MappingProxyType(sets),
    )


def _field(info: TableInfo, attribute: Mapping, casts: Mapping, lookups: Mapping) -> FieldInfo:
    name = attribute["LogicalName"]
    vendor_type = str(attribute.get("AttributeType") or "")
    type_name = _value(attribute.get("AttributeTypeName"))
    options: tuple[ChoiceOption, ...] = ()
    max_length = None
    targets: tuple[str, ...] = ()

    if type_name == "MultiSelectPicklistType":
        field_type = FieldType.MULTI_CHOICE
        vendor_type = "MultiSelectPicklist"
        cast = casts["multiselect"].get(name, {})
        options = _options(cast.get("OptionSet")) or _options(cast.get("GlobalOptionSet"))
    elif vendor_type == "String":
        cast = casts["string"].get(name, {})
        max_length = cast.get("MaxLength")
        field_type = _STRING_FORMATS.get(str(_value(cast.get("FormatName")) or ""), FieldType.TEXT)
    elif vendor_type == "DateTime":
        cast = casts["datetime"].get(name, {})
        date_only = (
            _value(cast.get("DateTimeBehavior")) == "DateOnly" or cast.get("Format") == "DateOnly"
        )
        field_type = FieldType.DATE if date_only else FieldType.DATETIME
    else:
        field_type = _SIMPLE_TYPES.get(vendor_type, FieldType.TEXT)
        if vendor_type == "Memo":
            max_length = casts["memo"].get(name, {}).get("MaxLength")
        elif vendor_type in ("Picklist", "State", "Status"):
            cast = casts[vendor_type.lower()].get(name, {})
            options = _options(cast.get("OptionSet")) or _options(cast.get("GlobalOptionSet"))
        elif vendor_type == "Boolean":
            options = _boolean_options(casts["boolean"].get(name, {}).get("OptionSet"))
        elif vendor_type in _LOOKUP_TYPES:
            targets = lookups.get(name, ())

    required_level = _value(attribute.get("RequiredLevel"))
    return FieldInfo(
        vendor=Vendor.DYNAMICS,
        entity=info.logical_name,
        key=name,
        label=_label(attribute.get("DisplayName")) or name,
        type=field_type,
        vendor_type=vendor_type,
        options=options,
        required=required_level in _REQUIRED_LEVELS,
        writable=bool(attribute.get("IsValidForCreate") or attribute.get("IsValidForUpdate")),
        custom=bool(attribute.get("IsCustomAttribute")),
        max_length=max_length if isinstance(max_length, int) else None,
        lookup_targets=tuple(targets),
        alias=str(attribute.get("SchemaName") or ""),
    )
