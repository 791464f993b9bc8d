"""The typed vocabulary both vendors' metadata is normalized into.

mapping/ decides compatibility on these types only, never on a vendor's own type names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .i18n import gettext_noop


class Vendor(StrEnum):
    ACTIVECAMPAIGN = "activecampaign"
    DYNAMICS = "dynamics"


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"  # single choice: AC dropdown/radio, Dataverse Picklist/State/Status
    MULTI_CHOICE = "multi_choice"  # AC listbox/checkbox/multiselect, Dataverse MultiSelectPicklist
    LOOKUP = "lookup"  # a reference to another record (Dataverse Lookup/Customer/Owner)
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    IDENTIFIER = "identifier"  # a record id (Dataverse Uniqueidentifier)


# The types as the pages show them, marked for the catalogue: a template translates a type with
# {% translate field.type %} (the value is the English word).
FIELD_TYPE_WORDS = (
    gettext_noop("text"),
    gettext_noop("long_text"),
    gettext_noop("integer"),
    gettext_noop("decimal"),
    gettext_noop("money"),
    gettext_noop("date"),
    gettext_noop("datetime"),
    gettext_noop("boolean"),
    gettext_noop("choice"),
    gettext_noop("multi_choice"),
    gettext_noop("lookup"),
    gettext_noop("email"),
    gettext_noop("phone"),
    gettext_noop("url"),
    gettext_noop("identifier"),
)


@dataclass(frozen=True)
class ChoiceOption:
    value: str  # what the API reads and writes (AC: the option value; Dataverse: the integer)
    label: str  # what a person sees


@dataclass(frozen=True)
class FieldInfo:
    """One mappable field of one entity on one side."""

    vendor: Vendor
    entity: str  # "contact", "lead", "account", "opportunity"
    # The API name: AC field id ("12") or standard key ("firstName"); Dataverse logical name.
    key: str
    label: str
    type: FieldType
    vendor_type: str  # the vendor's own type ("dropdown", "Picklist", …), for display and debugging
    options: tuple[ChoiceOption, ...] = ()
    required: bool = False
    writable: bool = True
    custom: bool = False
    max_length: int | None = None
    lookup_targets: tuple[str, ...] = ()  # Dataverse lookups: the tables it may point at
    # AC personalization tag ("JOB_TITLE") or Dataverse SchemaName: stable names for display.
    alias: str = ""


def field_info_to_dict(info: FieldInfo) -> dict:
    """A JSON-ready dict (for caches and exported configuration)."""
    return {
        "vendor": info.vendor.value,
        "entity": info.entity,
        "key": info.key,
        "label": info.label,
        "type": info.type.value,
        "vendor_type": info.vendor_type,
        "options": [[option.value, option.label] for option in info.options],
        "required": info.required,
        "writable": info.writable,
        "custom": info.custom,
        "max_length": info.max_length,
        "lookup_targets": list(info.lookup_targets),
        "alias": info.alias,
    }


def field_info_from_dict(data: dict) -> FieldInfo:
    """The inverse of field_info_to_dict; raises KeyError/ValueError on a malformed dict."""
    return FieldInfo(
        vendor=Vendor(data["vendor"]),
        entity=str(data["entity"]),
        key=str(data["key"]),
        label=str(data.get("label") or data["key"]),
        type=FieldType(data["type"]),
        vendor_type=str(data.get("vendor_type", "")),
        options=tuple(
            ChoiceOption(str(value), str(label)) for value, label in data.get("options") or ()
        ),
        required=bool(data.get("required", False)),
        writable=bool(data.get("writable", True)),
        custom=bool(data.get("custom", False)),
        max_length=data.get("max_length"),
        lookup_targets=tuple(data.get("lookup_targets") or ()),
        alias=str(data.get("alias", "")),
    )
