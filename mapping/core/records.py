"""One record through the data configuration: canonical values per pair, and what to write.

A record comes from one side as the connectors type it (Dataverse `Row`, ActiveCampaign
`Contact` / `Account`). `dynamics_values` / `ac_values` read its canonical values
(`mapping.core.transforms`) per field pair; a pair whose value was not loaded (AC field values
missing from a page, a column not selected) is absent from the result, never None: an absent
value must not clear anything on the other side.

`record_changes` is the one-way decision for a record that has no counterpart yet (a create)
or for single-record pushes: the values to write on the other side, or a typed `Skip`.
Two-way decisions between linked records are `mapping.core.merge`.

Values are stored between runs (the base both sides agreed on) with `encode_value` /
`decode_value`, and compared with `same_value`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from connectors.types import FieldInfo, FieldType
from mapping.core.criteria import criteria_match
from mapping.core.directions import Direction
from mapping.core.snapshot import EntityConfig, FieldPair
from mapping.core.transforms import TransformError, convert

T = FieldType
_TEXT = frozenset({T.TEXT, T.LONG_TEXT, T.EMAIL, T.PHONE, T.URL, T.IDENTIFIER})
# ActiveCampaign contact attributes (the rest of a contact's "fields" are custom field ids).
AC_CONTACT_ATTRIBUTES = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
}
AC_ACCOUNT_ATTRIBUTES = {"name": "name", "accountUrl": "url"}


class SkipReason(StrEnum):
    ENTITY_OFF = "entity_off"  # the entity is switched off
    DIRECTION = "direction"  # the entity does not sync this way
    CRITERIA = "criteria"  # the record does not meet the selection criteria
    NO_EMAIL = "no_email"  # a person without an e-mail cannot be matched
    INCOMPATIBLE_VALUE = "incompatible_value"  # a value cannot go across (see detail)
    NOTHING_TO_WRITE = "nothing_to_write"  # no field flows this way (field directions)


SKIP_TEXT = {
    SkipReason.ENTITY_OFF: "the entity is switched off",
    SkipReason.DIRECTION: "the entity does not sync in this direction",
    SkipReason.CRITERIA: "the record does not meet the selection criteria",
    SkipReason.NO_EMAIL: "the record has no e-mail address to match on",
    SkipReason.INCOMPATIBLE_VALUE: "a value cannot be written to the other side",
    SkipReason.NOTHING_TO_WRITE: "no mapped field syncs in this direction",
}


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    detail: str = ""

    def __str__(self) -> str:
        text = SKIP_TEXT[self.reason]
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class RecordChanges:
    """What to write on the other side, keyed by the target's field keys.

    `values` are canonical values of the target fields (None never appears: a blank is left
    out unless the pair says `clear_when_blank`, then its key is in `clears`).
    """

    values: Mapping[str, object] = field(default_factory=dict)
    clears: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.values) or bool(self.clears)


# -- canonical values of a record ---------------------------------------------------------------


def dynamics_value(row, info: FieldInfo) -> object:
    """The canonical value of one Dataverse column of a `Row` (it must be in the row)."""
    key = info.key
    kind = info.type
    if kind in _TEXT:
        return _blank_to_none(row.text(key))
    if kind is T.INTEGER:
        return row.integer(key)
    if kind in (T.DECIMAL, T.MONEY):
        return row.decimal(key)
    if kind is T.DATE:
        return row.date(key)
    if kind is T.DATETIME:
        return row.datetime(key)
    if kind is T.BOOLEAN:
        return row.boolean(key)
    if kind is T.CHOICE:
        value = row.choice(key)
        return None if value is None else str(value)
    if kind is T.MULTI_CHOICE:
        values = row.choices(key)
        return tuple(sorted({str(value) for value in values})) or None
    if kind is T.LOOKUP:
        lookup = row.lookup(key)
        return None if lookup is None else lookup.id
    raise TypeError(f"no canonical reading of a {kind} column ({key})")


def dynamics_values(row, pairs: tuple[FieldPair, ...]) -> dict[str, object]:
    """pair key -> canonical Dynamics value, for the pairs whose column the row holds."""
    return {
        pair.key: dynamics_value(row, pair.dynamics) for pair in pairs if pair.dynamics.key in row
    }


def dynamics_criteria_values(row, entity: EntityConfig) -> dict[str, object]:
    """Dynamics field key -> canonical value, for every criteria field (None when not read)."""
    return {
        info.key: dynamics_value(row, info) if info.key in row else None
        for info in entity.criteria_fields
    }


def ac_value(record, info: FieldInfo) -> tuple[bool, object]:
    """(loaded, canonical value) of one ActiveCampaign field of a `Contact` or `Account`."""
    attributes = AC_ACCOUNT_ATTRIBUTES if info.entity == "account" else AC_CONTACT_ATTRIBUTES
    if info.key in attributes:
        return True, _blank_to_none(getattr(record, attributes[info.key], None))
    if not info.custom:
        return False, None  # job title, account: not on the contact record
    if not getattr(record, "field_values_loaded", True):
        return False, None
    for item in getattr(record, "field_values", ()):
        if str(item.field_id) == info.key:
            return True, _ac_canonical(item.value, info)
    return True, None


def ac_values(record, pairs: tuple[FieldPair, ...]) -> dict[str, object]:
    """pair key -> canonical ActiveCampaign value, for the pairs whose value was loaded."""
    values = {}
    for pair in pairs:
        loaded, value = ac_value(record, pair.ac)
        if loaded:
            values[pair.key] = value
    return values


def _ac_canonical(value: object, info: FieldInfo) -> object:
    """AC's typed value as the canonical value of the field's type (None if unreadable)."""
    if value is None or value == "" or value == ():
        return None
    kind = info.type
    try:
        if kind in _TEXT or kind is T.CHOICE:
            return str(value)
        if kind in (T.DECIMAL, T.MONEY):
            return value if isinstance(value, Decimal) else Decimal(str(value))
        if kind is T.INTEGER:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
            return int(number) if number == number.to_integral_value() else None
        if kind is T.DATE:
            if isinstance(value, datetime):
                return value.astimezone(UTC).date()
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        if kind is T.DATETIME:
            return value.astimezone(UTC) if isinstance(value, datetime) else None
        if kind is T.MULTI_CHOICE:
            items = value if isinstance(value, tuple) else (str(value),)
            return tuple(sorted({str(item) for item in items if str(item)})) or None
        if kind is T.BOOLEAN:
            return value if isinstance(value, bool) else None
    except (InvalidOperation, ValueError, TypeError):
        return None
    return None


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


# -- conversion ---------------------------------------------------------------------------------


def convert_pair(pair: FieldPair, value: object, flow: Direction) -> object:
    """A canonical value of one side as the other side's canonical value (TransformError)."""
    if flow is Direction.PUSH:
        return convert(value, source=pair.dynamics, target=pair.ac, value_map=pair.push_map)
    return convert(value, source=pair.ac, target=pair.dynamics, value_map=pair.pull_map)


def record_changes(
    values: Mapping[str, object],
    entity: EntityConfig,
    flow: Direction,
    *,
    criteria_values: Mapping[str, object] | None = None,
) -> RecordChanges | Skip:
    """What one record's values (pair key -> canonical, from `dynamics_values` for PUSH or
    `ac_values` for PULL) write on the other side, or why nothing is written.

    PUSH evaluates the criteria on `criteria_values` (the Dynamics record's, by field key).
    PULL evaluates them on the Dynamics record as it would be after the write: the converted
    values laid over `criteria_values` (the existing record's, or none for a create).
    Keys of the result are the target fields' keys (AC: "email", a custom field id…; Dynamics:
    a column's logical name). Any value that cannot go across skips the whole record, so that
    a record is never half written.
    """
    if not entity.enabled:
        return Skip(SkipReason.ENTITY_OFF)
    if flow not in entity.direction.flows:
        return Skip(SkipReason.DIRECTION)
    email_pair = entity.email_pair
    if email_pair is not None and values.get(email_pair.key) is None:
        return Skip(SkipReason.NO_EMAIL)
    if flow is Direction.PUSH and not criteria_match(entity.criteria, dict(criteria_values or {})):
        return Skip(SkipReason.CRITERIA)
    written: dict[str, object] = {}
    clears: set[str] = set()
    problems = []
    for pair in entity.value_pairs:
        if flow not in pair.direction.flows or pair.key not in values:
            continue
        target = pair.ac if flow is Direction.PUSH else pair.dynamics
        try:
            converted = convert_pair(pair, values[pair.key], flow)
        except TransformError as error:
            problems.append(error.message)
            continue
        if converted is None:
            if pair.clear_when_blank:
                clears.add(target.key)
            continue
        written[target.key] = converted
    if problems:
        return Skip(SkipReason.INCOMPATIBLE_VALUE, "; ".join(problems))
    if flow is Direction.PULL and entity.criteria:
        after = {**dict(criteria_values or {}), **written}
        for key in clears:
            after[key] = None
        for info in entity.criteria_fields:
            after.setdefault(info.key, None)
        if not criteria_match(entity.criteria, after):
            return Skip(SkipReason.CRITERIA)
    if not written and not clears:
        return Skip(SkipReason.NOTHING_TO_WRITE)
    return RecordChanges(values=written, clears=frozenset(clears))


# -- writing a canonical value ------------------------------------------------------------------


def dynamics_write_value(info: FieldInfo, value: object) -> object:
    """A canonical value as `connectors.dynamics.RecordWrite` takes it for this column."""
    if value is None:
        return None
    if info.type is T.CHOICE:
        return int(value)
    if info.type is T.MULTI_CHOICE:
        return tuple(sorted(int(item) for item in value))
    return value


# -- storing and comparing values ----------------------------------------------------------------


def same_value(left: object, right: object) -> bool:
    """Equal as canonical values: blanks are equal, multi-choices as sets."""
    left, right = _normal(left), _normal(right)
    if (
        isinstance(left, Decimal)
        and isinstance(right, Decimal | int)
        and not isinstance(right, bool)
    ):
        return left == right
    if isinstance(right, Decimal) and isinstance(left, int) and not isinstance(left, bool):
        return left == right
    return left == right


def _normal(value: object) -> object:
    if value is None or value == "" or value == ():
        return None
    if isinstance(value, tuple):
        return tuple(sorted(value))
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def encode_value(value: object) -> object:
    """A canonical value as JSON (for the base stored on a link); `decode_value` reverses it."""
    value = _normal(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} {value!r}")


def decode_value(value: object, kind: FieldType) -> object:
    """The canonical value of a field of type `kind` from `encode_value`'s JSON."""
    if value is None:
        return None
    if kind in (T.DECIMAL, T.MONEY):
        return Decimal(str(value))
    if kind is T.INTEGER:
        return int(value)
    if kind is T.DATE:
        return date.fromisoformat(str(value))
    if kind is T.DATETIME:
        return datetime.fromisoformat(str(value)).astimezone(UTC)
    if kind is T.MULTI_CHOICE:
        return tuple(str(item) for item in value)
    if kind is T.BOOLEAN:
        return bool(value)
    return str(value)


def encode_values(values: Mapping[str, object]) -> dict[str, object]:
    return {key: encode_value(value) for key, value in values.items()}


def fingerprint(values: Mapping[str, object]) -> str:
    """A short digest of canonical values: equal values, equal fingerprints."""
    return fingerprint_encoded(encode_values(values))


def fingerprint_encoded(encoded: Mapping[str, object]) -> str:
    """`fingerprint` of values already through `encode_values` (no second encoding)."""
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]
