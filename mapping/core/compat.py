"""Which field type may be mapped onto which, and how a value crosses: one table.

Every rule is one entry of `_CONVERSIONS`, keyed by (source type, target type); a pair that is
not in the table cannot be mapped that way. `mapping.core.transforms` does what each entry's kind
says, and `compatibility_rows()` shows the same table to people.

Time zones: DATETIME values are UTC on both sides before they reach mapping/ (Dataverse returns
UserLocal date-times in UTC and the ActiveCampaign connector converts AC's account-offset
date-times to UTC), so DATE → DATETIME is midnight UTC and DATETIME → DATE is the UTC calendar
date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from connectors.types import FieldInfo, FieldType, Vendor
from mapping.core.directions import Direction
from mapping.core.words import gettext_noop


class ConversionKind(StrEnum):
    """How a value crosses; each kind is one function in `mapping.core.transforms`.

    Whatever the kind, the target's own checks apply afterwards: maximum length, e-mail format,
    the vendor's number range and earliest date, the target's options.
    """

    COPY = "copy"  # the same value
    VALIDATE = "validate"  # text into e-mail / phone / URL, checked to be one
    TRUNCATE = "truncate"  # long text cut to the target's maximum length (lossy)
    TO_TEXT = "to_text"  # written out as text
    NUMBER = "number"  # the same number in the target's number type
    DATE_TO_DATETIME = "date_to_datetime"  # midnight UTC
    DATETIME_TO_DATE = "datetime_to_date"  # the calendar date in UTC (lossy)
    CHOICE_MAP = "choice_map"  # option → option through the value map
    MULTI_CHOICE_MAP = "multi_choice_map"  # each option through the value map
    CHOICE_TO_MULTI_CHOICE = "choice_to_multi_choice"  # one option through the map, a 1-tuple
    BOOLEAN_TO_CHOICE = "boolean_to_choice"  # "true" / "false" through the map
    CHOICE_TO_BOOLEAN = "choice_to_boolean"  # option through the map to "true" / "false"


VALUE_MAP_KINDS = frozenset(
    {
        ConversionKind.CHOICE_MAP,
        ConversionKind.MULTI_CHOICE_MAP,
        ConversionKind.CHOICE_TO_MULTI_CHOICE,
        ConversionKind.BOOLEAN_TO_CHOICE,
        ConversionKind.CHOICE_TO_BOOLEAN,
    }
)


@dataclass(frozen=True)
class Conversion:
    """One rule of the table: how a value of one type becomes a value of another."""

    kind: ConversionKind
    note: str  # for people: what happens to the value
    lossy: bool = False  # information can be lost (cut text, dropped time of day)

    @property
    def needs_value_map(self) -> bool:
        """True when option values must be paired (`mapping.core.transforms.default_value_map`)."""
        return self.kind in VALUE_MAP_KINDS


T = FieldType
K = ConversionKind
_COPIED = gettext_noop("copied")
_TEXT_COPIED = gettext_noop("copied; longer than the target's maximum length is a record error")

_CONVERSIONS: dict[tuple[FieldType, FieldType], Conversion] = {
    # --- Same type → same type, both ways. ---
    (T.TEXT, T.TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.LONG_TEXT, T.LONG_TEXT): Conversion(K.COPY, _TEXT_COPIED),
    # E-mail is the match key and ActiveCampaign refuses invalid ones: always checked.
    (T.EMAIL, T.EMAIL): Conversion(K.COPY, gettext_noop("copied; must be a valid e-mail address")),
    # Phone and URL values the source vendor holds as such are copied unchecked.
    (T.PHONE, T.PHONE): Conversion(K.COPY, _TEXT_COPIED),
    (T.URL, T.URL): Conversion(K.COPY, _TEXT_COPIED),
    # Numbers must fit the target vendor's range (Dataverse: per column type).
    (T.INTEGER, T.INTEGER): Conversion(K.COPY, _COPIED),
    (T.DECIMAL, T.DECIMAL): Conversion(K.COPY, _COPIED),
    (T.MONEY, T.MONEY): Conversion(
        K.COPY, gettext_noop("copied (the amount; currencies are not converted)")
    ),
    # Dataverse stores no date before 1753-01-01.
    (T.DATE, T.DATE): Conversion(K.COPY, _COPIED),
    (T.DATETIME, T.DATETIME): Conversion(K.COPY, gettext_noop("copied (in UTC)")),
    (T.BOOLEAN, T.BOOLEAN): Conversion(K.COPY, _COPIED),
    # Option values differ between the two systems (AC: the option text, Dataverse: an
    # integer), so options are always paired through a value map, even when labels agree.
    (T.CHOICE, T.CHOICE): Conversion(
        K.CHOICE_MAP, gettext_noop("option paired through the value map")
    ),
    (T.MULTI_CHOICE, T.MULTI_CHOICE): Conversion(
        K.MULTI_CHOICE_MAP, gettext_noop("each option paired through the value map")
    ),
    # IDENTIFIER → IDENTIFIER and LOOKUP → LOOKUP are deliberately absent: a record id is the
    # system's own, and references are mapped only by the standard "Account" relationship,
    # which the sync engine resolves record by record (mapping.core.standard).
    #
    # --- Text ← most types, one way: any value can be written out for a person to read. ---
    # Long text into short text is cut to the target's maximum length (lossy, and said so).
    (T.LONG_TEXT, T.TEXT): Conversion(
        K.TRUNCATE, gettext_noop("cut to the target's maximum length"), True
    ),
    (T.TEXT, T.LONG_TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.INTEGER, T.TEXT): Conversion(K.TO_TEXT, gettext_noop("the number as digits, e.g. 1250")),
    (T.INTEGER, T.LONG_TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the number as digits, e.g. 1250")
    ),
    (T.DECIMAL, T.TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the number with a decimal point, e.g. 12.50")
    ),
    (T.DECIMAL, T.LONG_TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the number with a decimal point, e.g. 12.50")
    ),
    (T.MONEY, T.TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the amount without currency, e.g. 1250.00")
    ),
    (T.MONEY, T.LONG_TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the amount without currency, e.g. 1250.00")
    ),
    (T.DATE, T.TEXT): Conversion(K.TO_TEXT, gettext_noop("the date as YYYY-MM-DD")),
    (T.DATE, T.LONG_TEXT): Conversion(K.TO_TEXT, gettext_noop("the date as YYYY-MM-DD")),
    (T.DATETIME, T.TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the UTC date and time, ISO 8601 (…Z)")
    ),
    (T.DATETIME, T.LONG_TEXT): Conversion(
        K.TO_TEXT, gettext_noop("the UTC date and time, ISO 8601 (…Z)")
    ),
    # The boolean field's own labels ("Allow" / "Do Not Allow"), else "Yes" / "No".
    (T.BOOLEAN, T.TEXT): Conversion(K.TO_TEXT, gettext_noop("the yes/no label")),
    (T.BOOLEAN, T.LONG_TEXT): Conversion(K.TO_TEXT, gettext_noop("the yes/no label")),
    (T.CHOICE, T.TEXT): Conversion(K.TO_TEXT, gettext_noop("the option's label")),
    (T.CHOICE, T.LONG_TEXT): Conversion(K.TO_TEXT, gettext_noop("the option's label")),
    # Labels in the field's own option order, joined with ", ".
    (T.MULTI_CHOICE, T.TEXT): Conversion(K.TO_TEXT, 'the options\' labels joined with ", "'),
    (T.MULTI_CHOICE, T.LONG_TEXT): Conversion(K.TO_TEXT, 'the options\' labels joined with ", "'),
    (T.EMAIL, T.TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.EMAIL, T.LONG_TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.PHONE, T.TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.PHONE, T.LONG_TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.URL, T.TEXT): Conversion(K.COPY, _TEXT_COPIED),
    (T.URL, T.LONG_TEXT): Conversion(K.COPY, _TEXT_COPIED),
    # A record id can only be shown as text (e.g. the Dynamics GUID in an AC text field).
    (T.IDENTIFIER, T.TEXT): Conversion(K.COPY, gettext_noop("the record id as text")),
    (T.IDENTIFIER, T.LONG_TEXT): Conversion(K.COPY, gettext_noop("the record id as text")),
    # The reverse, text → number / date / boolean / choice, is not offered: free text rarely
    # parses, and a mapping that fails on most records is worse than none.
    #
    # --- Text ↔ e-mail / phone / URL, both ways. An invalid value is a record error. ---
    # Only single-line TEXT: long text is not a plausible source of an address.
    (T.TEXT, T.EMAIL): Conversion(K.VALIDATE, gettext_noop("checked to be an e-mail address")),
    (T.TEXT, T.PHONE): Conversion(K.VALIDATE, gettext_noop("checked to be a phone number")),
    (T.TEXT, T.URL): Conversion(K.VALIDATE, gettext_noop("checked to be a web address")),
    #
    # --- Numbers: widening only. DECIMAL / MONEY → INTEGER is not offered (it would round). ---
    (T.INTEGER, T.DECIMAL): Conversion(K.NUMBER, gettext_noop("the same number")),
    (T.INTEGER, T.MONEY): Conversion(K.NUMBER, gettext_noop("the same number as an amount")),
    (T.DECIMAL, T.MONEY): Conversion(K.NUMBER, gettext_noop("the same number as an amount")),
    (T.MONEY, T.DECIMAL): Conversion(
        K.NUMBER, gettext_noop("the amount as a number (currency dropped)")
    ),
    #
    # --- Dates, both ways; see the module docstring for the time-zone rule. ---
    (T.DATE, T.DATETIME): Conversion(
        K.DATE_TO_DATETIME, gettext_noop("midnight (00:00) UTC on that date")
    ),
    (T.DATETIME, T.DATE): Conversion(
        K.DATETIME_TO_DATE, gettext_noop("the calendar date in UTC; the time is dropped"), True
    ),
    #
    # --- Booleans ↔ single choice, through a value map pairing true / false with options. ---
    (T.BOOLEAN, T.CHOICE): Conversion(
        K.BOOLEAN_TO_CHOICE, gettext_noop("yes / no paired with an option")
    ),
    (T.CHOICE, T.BOOLEAN): Conversion(
        K.CHOICE_TO_BOOLEAN, gettext_noop("each option paired with yes / no")
    ),
    #
    # --- Single choice → multi choice: the one option, mapped, as a one-element set. ---
    # MULTI_CHOICE → CHOICE is not offered: several options cannot become one.
    (T.CHOICE, T.MULTI_CHOICE): Conversion(
        K.CHOICE_TO_MULTI_CHOICE,
        gettext_noop("the option, paired through the value map, as the only one"),
    ),
}


def conversion(source: FieldType, target: FieldType) -> Conversion | None:
    """The rule for mapping a `source`-typed value onto a `target` field; None = not offered."""
    return _CONVERSIONS.get((FieldType(source), FieldType(target)))


def pair_directions(ac: FieldInfo, dynamics: FieldInfo) -> frozenset[Direction]:
    """The directions an ActiveCampaign field and a Dynamics field can be synced in.

    PUSH needs a conversion Dynamics → AC and a writable AC field; PULL needs AC → Dynamics and
    a writable Dynamics field. BIDIRECTIONAL is in the set exactly when both are, so
    `direction in pair_directions(ac, dynamics)` answers for any Direction. Empty: not mappable.
    """
    _check_vendors(ac, dynamics)
    directions = set()
    if ac.writable and conversion(dynamics.type, ac.type) is not None:
        directions.add(Direction.PUSH)
    if dynamics.writable and conversion(ac.type, dynamics.type) is not None:
        directions.add(Direction.PULL)
    if len(directions) == 2:
        directions.add(Direction.BIDIRECTIONAL)
    return frozenset(directions)


@dataclass(frozen=True)
class CompatibleTarget:
    """A Dynamics field offered for an ActiveCampaign field, and how the pair would sync."""

    field: FieldInfo
    directions: frozenset[Direction]  # within the entity's direction; see pair_directions
    push: Conversion | None  # Dynamics → AC, when PUSH is in directions
    pull: Conversion | None  # AC → Dynamics, when PULL is in directions

    @property
    def lossy(self) -> bool:
        return any(c is not None and c.lossy for c in (self.push, self.pull))

    @property
    def needs_value_map(self) -> bool:
        return any(c is not None and c.needs_value_map for c in (self.push, self.pull))


def compatible_targets(
    ac_field: FieldInfo, dynamics_fields: Iterable[FieldInfo], direction: Direction
) -> list[CompatibleTarget]:
    """The Dynamics fields `ac_field` may be mapped onto in an entity synced in `direction`.

    Push-only and pull-only entities are offered the pairs that support that flow; a
    bidirectional entity is offered every pair that supports at least one flow, each target
    saying which (`directions`) so the page can mark one-way pairs. Order is kept.
    """
    wanted = direction.flows
    offered = []
    for dynamics_field in dynamics_fields:
        supported = pair_directions(ac_field, dynamics_field) & wanted
        if not supported:
            continue
        if supported == {Direction.PUSH, Direction.PULL}:
            supported |= {Direction.BIDIRECTIONAL}
        offered.append(
            CompatibleTarget(
                field=dynamics_field,
                directions=frozenset(supported),
                push=conversion(dynamics_field.type, ac_field.type)
                if Direction.PUSH in supported
                else None,
                pull=conversion(ac_field.type, dynamics_field.type)
                if Direction.PULL in supported
                else None,
            )
        )
    return offered


@dataclass(frozen=True)
class CompatibilityRow:
    """One line of the compatibility table as people see it."""

    source: FieldType
    target: FieldType
    note: str  # source → target
    reverse_note: str  # target → source; "" when one way
    lossy: bool

    @property
    def both_ways(self) -> bool:
        return bool(self.reverse_note)


def compatibility_rows() -> list[CompatibilityRow]:
    """The table for a page: one row per pair of types, "both ways" rows listed once."""
    order = {field_type: index for index, field_type in enumerate(FieldType)}
    rows = []
    seen: set[frozenset[FieldType]] = set()
    for (source, target), rule in sorted(
        _CONVERSIONS.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
    ):
        pair = frozenset({source, target})
        if pair in seen:
            continue
        seen.add(pair)
        reverse = _CONVERSIONS.get((target, source))
        rows.append(
            CompatibilityRow(
                source=source,
                target=target,
                note=rule.note,
                reverse_note=reverse.note if reverse else "",
                lossy=rule.lossy or bool(reverse and reverse.lossy),
            )
        )
    return rows


def _check_vendors(ac: FieldInfo, dynamics: FieldInfo) -> None:
    if ac.vendor != Vendor.ACTIVECAMPAIGN or dynamics.vendor != Vendor.DYNAMICS:
        raise ValueError(
            f"expected an ActiveCampaign field then a Dynamics field, got {ac.vendor} "
            f"{ac.key!r} and {dynamics.vendor} {dynamics.key!r}"
        )
