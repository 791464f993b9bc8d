"""Opportunity custom fields (S-3.7 to S-3.10): Dynamics fields → AC custom-object fields.

Opportunities sync one way, Dynamics → ActiveCampaign, as records of a custom object on the
contact. Each mapped opportunity field becomes a field of that object's schema, with a type the
admin picks from `ac_object_field_types_for`; the compatibility table in `mapping.core.compat`
decides which types a field may become, so a value always converts with
`mapping.core.transforms.convert`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from connectors.types import FieldInfo, FieldType, Vendor
from mapping.core.compat import conversion
from mapping.core.words import gettext_noop

OPPORTUNITY_MAX_FIELDS = 20  # S-3.9
OBJECT_FIELD_ID_PREFIX = "d365-"

# The custom-object field types
# (https://developers.activecampaign.com/reference/create-a-schema) and the normalized type each
# holds, in the order they are offered after the field's own type. "number" holds whole numbers
# (the schema sends scale 0); "decimal" and "currency" hold fractions.
# The date-time token is not shown in any schema example: the filtering doc lists "date-time",
# every other AC field API says "datetime". We use "datetime", like the rest of the v3 API;
# verify on a live account (https://developers.activecampaign.com/reference/custom-object-schemas).
AC_OBJECT_FIELD_TYPES: dict[str, FieldType] = {
    "number": FieldType.INTEGER,
    "decimal": FieldType.DECIMAL,
    "currency": FieldType.MONEY,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "dropdown": FieldType.CHOICE,
    "multiselect": FieldType.MULTI_CHOICE,
    "text": FieldType.TEXT,
    "textarea": FieldType.LONG_TEXT,
}
# The same tokens marked for the catalogue: the page shows one with {% translate ac_type %}.
AC_OBJECT_FIELD_TYPE_WORDS = (
    gettext_noop("number"),
    gettext_noop("decimal"),
    gettext_noop("currency"),
    gettext_noop("date"),
    gettext_noop("datetime"),
    gettext_noop("dropdown"),
    gettext_noop("multiselect"),
    gettext_noop("text"),
    gettext_noop("textarea"),
)
_ORDER = {ac_type: index for index, ac_type in enumerate(AC_OBJECT_FIELD_TYPES)}


def ac_object_field_types_for(dynamics_field: FieldInfo) -> list[str]:
    """The AC custom-object field types a Dynamics opportunity field may become, default first.

    The default holds the same kind of value (money → "currency", date → "date"); a yes/no
    field defaults to a "dropdown" of two options, since custom objects have no boolean type.
    Empty: the field cannot be mapped (lookups; the contact link is the record's relationship).
    """
    offered = [
        ac_type
        for ac_type, held in AC_OBJECT_FIELD_TYPES.items()
        if conversion(dynamics_field.type, held) is not None
    ]
    other_type = {
        ac_type: AC_OBJECT_FIELD_TYPES[ac_type] != dynamics_field.type for ac_type in offered
    }
    return sorted(offered, key=lambda ac_type: (other_type[ac_type], _ORDER[ac_type]))


def object_field_id(dynamics_key: str) -> str:
    """The stable id of the AC schema field for a Dynamics column: "d365-estimatedvalue".

    Lowercase letters, digits and dashes, like AC's own examples ("est-revenue"). Dataverse
    logical names are lowercase letters, digits and underscores, so "new_score" → "d365-new-score"
    cannot collide with another column.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", dynamics_key.strip().lower()).strip("-")
    if not slug:
        raise ValueError(f"{dynamics_key!r} has no letters or digits to make a field id from")
    return f"{OBJECT_FIELD_ID_PREFIX}{slug}"


def deal_field_refusal(ac_field: FieldInfo) -> str | None:
    """Why an ActiveCampaign field cannot receive an opportunity field; None when it can.

    Targets are always fields of the opportunity custom object; ActiveCampaign's deal fields
    (standard or custom) are refused, as in the vendor's own app (S-3.9).
    """
    if ac_field.vendor != Vendor.ACTIVECAMPAIGN:
        return f"{ac_field.label} is not an ActiveCampaign field."
    if ac_field.entity == "deal":
        return (
            f"{ac_field.label} is an ActiveCampaign deal field; opportunity fields go to the "
            f"opportunity custom object, never to deals."
        )
    if ac_field.entity != "opportunity":
        return (
            f"{ac_field.label} belongs to ActiveCampaign {ac_field.entity}s; opportunity fields "
            f"go to the opportunity custom object."
        )
    return None


def opportunity_fields_problems(fields: Sequence[FieldInfo]) -> list[str]:
    """What is wrong with a selection of Dynamics opportunity fields to map, in words."""
    problems = []
    if len(fields) > OPPORTUNITY_MAX_FIELDS:
        problems.append(
            f"At most {OPPORTUNITY_MAX_FIELDS} opportunity fields can be mapped; "
            f"{len(fields)} are selected."
        )
    seen: set[str] = set()
    for field in fields:
        if field.vendor != Vendor.DYNAMICS or field.entity != "opportunity":
            problems.append(f"{field.label} is not a Dynamics 365 opportunity field.")
        elif not ac_object_field_types_for(field):
            problems.append(f"{field.label} cannot be mapped (a {field.vendor_type} field).")
        field_id = object_field_id(field.key)
        if field_id in seen:
            problems.append(f"{field.label} is selected twice.")
        seen.add(field_id)
    return problems
