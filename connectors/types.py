"""The typed vocabulary both vendors' metadata is normalized into.

mapping/ decides compatibility on these types only, never on a vendor's own type names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
