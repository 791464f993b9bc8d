"""Record selection "records matching criteria" (S-3.4): field + operator + value rows, ANDed.

A criterion holds a canonical value (see `mapping.core.transforms`) parsed from what a person typed,
and is evaluated on canonical record values:
- text comparisons ignore case, like Dataverse's;
- an empty value (None, "", ()) matches "is empty", the negative operators ("not equals",
  "does not contain", "is not") and nothing else — "Lead source is not Web" includes leads
  without a source. (A Dataverse `ne` filter leaves nulls out: a sync that pushes criteria into
  a query must add `or <column> eq null` to agree with this.)

To store a criterion, keep `field_key`, `operator` and `criterion_raw_value(criterion)`, and
parse them again with `criterion_parse` against the current field metadata when loading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from connectors.types import FieldInfo, FieldType
from mapping.core.words import gettext_noop


class CriterionError(ValueError):
    """A criterion row a person entered is not valid; `message` says what to fix.

    `message` is English; a page says it in the person's language with
    `gettext(error.template) % error.params` (the template is marked with gettext_noop).
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(self.message)


class Arity(StrEnum):
    """How many values an operator takes."""

    NONE = "none"
    ONE = "one"
    LIST = "list"


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    GREATER_THAN = "greater_than"
    AT_LEAST = "at_least"
    LESS_THAN = "less_than"
    AT_MOST = "at_most"
    IS = "is"
    IS_NOT = "is_not"
    IN = "in"
    CONTAINS_ANY = "contains_any"
    IS_YES = "is_yes"
    IS_NO = "is_no"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"

    @property
    def label(self) -> str:
        return _OPERATOR_INFO[self][0]

    @property
    def arity(self) -> Arity:
        return _OPERATOR_INFO[self][1]


_O = Operator
_OPERATOR_INFO: dict[Operator, tuple[str, Arity]] = {
    _O.EQUALS: (gettext_noop("equals"), Arity.ONE),
    _O.NOT_EQUALS: (gettext_noop("not equals"), Arity.ONE),
    _O.CONTAINS: (gettext_noop("contains"), Arity.ONE),
    _O.NOT_CONTAINS: (gettext_noop("does not contain"), Arity.ONE),
    _O.STARTS_WITH: (gettext_noop("starts with"), Arity.ONE),
    _O.ENDS_WITH: (gettext_noop("ends with"), Arity.ONE),
    _O.GREATER_THAN: (gettext_noop("greater than"), Arity.ONE),
    _O.AT_LEAST: (gettext_noop("at least"), Arity.ONE),
    _O.LESS_THAN: (gettext_noop("less than"), Arity.ONE),
    _O.AT_MOST: (gettext_noop("at most"), Arity.ONE),
    _O.IS: (gettext_noop("is"), Arity.ONE),
    _O.IS_NOT: (gettext_noop("is not"), Arity.ONE),
    _O.IN: (gettext_noop("is one of"), Arity.LIST),
    _O.CONTAINS_ANY: (gettext_noop("contains any of"), Arity.LIST),
    _O.IS_YES: (gettext_noop("is yes"), Arity.NONE),
    _O.IS_NO: (gettext_noop("is no"), Arity.NONE),
    _O.IS_EMPTY: (gettext_noop("is empty"), Arity.NONE),
    _O.IS_NOT_EMPTY: (gettext_noop("is not empty"), Arity.NONE),
}

T = FieldType
_TEXT_OPERATORS = (
    _O.EQUALS,
    _O.NOT_EQUALS,
    _O.CONTAINS,
    _O.NOT_CONTAINS,
    _O.STARTS_WITH,
    _O.ENDS_WITH,
    _O.IS_EMPTY,
    _O.IS_NOT_EMPTY,
)
_ORDERED_OPERATORS = (
    _O.EQUALS,
    _O.NOT_EQUALS,
    _O.GREATER_THAN,
    _O.AT_LEAST,
    _O.LESS_THAN,
    _O.AT_MOST,
    _O.IS_EMPTY,
    _O.IS_NOT_EMPTY,
)
# IDENTIFIER is absent: a record id is always set and means nothing to a person.
_OPERATORS_BY_TYPE: dict[FieldType, tuple[Operator, ...]] = {
    T.TEXT: _TEXT_OPERATORS,
    T.LONG_TEXT: _TEXT_OPERATORS,
    T.EMAIL: _TEXT_OPERATORS,
    T.PHONE: _TEXT_OPERATORS,
    T.URL: _TEXT_OPERATORS,
    T.INTEGER: _ORDERED_OPERATORS,
    T.DECIMAL: _ORDERED_OPERATORS,
    T.MONEY: _ORDERED_OPERATORS,
    T.DATE: _ORDERED_OPERATORS,
    T.DATETIME: _ORDERED_OPERATORS,
    T.CHOICE: (_O.IS, _O.IS_NOT, _O.IN, _O.IS_EMPTY, _O.IS_NOT_EMPTY),
    T.MULTI_CHOICE: (_O.CONTAINS_ANY, _O.IS_EMPTY, _O.IS_NOT_EMPTY),
    T.BOOLEAN: (_O.IS_YES, _O.IS_NO),
    T.LOOKUP: (_O.IS_EMPTY, _O.IS_NOT_EMPTY),
}


def operators_for(field: FieldInfo) -> list[Operator]:
    """The operators offered for a field, in the order a picker shows them; [] = not filterable."""
    return list(_OPERATORS_BY_TYPE.get(field.type, ()))


# Canonical for the field's type; a tuple of option values for list operators; None when the
# operator takes no value.
CriterionValue = str | int | Decimal | date | datetime | tuple[str, ...] | None


@dataclass(frozen=True)
class Criterion:
    field_key: str
    operator: Operator
    value: CriterionValue = None


def criterion_parse(field: FieldInfo, operator: str, raw_value: str | list[str]) -> Criterion:
    """Check one row a person entered and turn its value into the field's canonical type.

    Dates are YYYY-MM-DD; date-times ISO 8601, with an offset or taken as UTC, stored in UTC;
    numbers plain ("1250", "-3", "12.50"); choices by option value or label (the value is
    kept). List operators take a list (a lone string is one item, never split on commas);
    operators without a value ignore `raw_value`. Raises CriterionError.
    """
    try:
        op = Operator(operator)
    except ValueError:
        raise CriterionError(
            gettext_noop("“%(operator)s” is not a known operator."), operator=operator
        ) from None
    if op not in operators_for(field):
        raise CriterionError(
            gettext_noop("“%(operator)s” cannot be used with %(field)s."),
            operator=op.label,
            field=field.label,
        )
    if op.arity is Arity.NONE:
        return Criterion(field.key, op)
    raws = [raw_value] if isinstance(raw_value, str) else list(raw_value)
    raws = [raw.strip() for raw in raws if raw.strip()]
    if op.arity is Arity.ONE:
        if len(raws) != 1:
            raise CriterionError(gettext_noop("Enter one value for %(field)s."), field=field.label)
        return Criterion(field.key, op, _parse_value(field, raws[0]))
    if not raws:
        raise CriterionError(
            gettext_noop("Pick at least one option of %(field)s."), field=field.label
        )
    return Criterion(field.key, op, tuple(sorted({_option_value(field, raw) for raw in raws})))


def criterion_raw_value(criterion: Criterion) -> str | list[str]:
    """The value as `criterion_parse` reads it back: for storage and for pre-filled forms."""
    value = criterion.value
    if value is None:
        return ""
    if isinstance(value, tuple):
        return list(value)
    return _text(value)


def criteria_match(criteria: Iterable[Criterion], values: Mapping[str, object]) -> bool:
    """True when the record's canonical `values` meet every criterion (no criteria: True).

    `values` must hold every criterion's field, None when empty: a missing key raises KeyError
    rather than quietly selecting records on a field nobody fetched.
    """
    criteria = list(criteria)
    for criterion in criteria:  # every key, not only up to the first miss
        if criterion.field_key not in values:
            raise KeyError(f"the record has no value for criterion field {criterion.field_key!r}")
    return all(_matches(criterion, values[criterion.field_key]) for criterion in criteria)


def criterion_describe(criterion: Criterion, field: FieldInfo) -> str:
    """The row in words, e.g. "Lead source is Web", "First name contains “an”"."""
    if criterion.field_key != field.key:
        raise ValueError(f"criterion is on {criterion.field_key!r}, not on {field.key!r}")
    op = criterion.operator
    if op.arity is Arity.NONE:
        return f"{field.label} {op.label}"
    value = criterion.value
    if isinstance(value, tuple):
        shown = ", ".join(_option_label(field, item) for item in value)
    elif field.type is FieldType.CHOICE:
        shown = _option_label(field, value)
    elif isinstance(value, str):
        shown = f"“{value}”"
    elif isinstance(value, datetime):
        shown = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    else:
        shown = _text(value)
    return f"{field.label} {op.label} {shown}"


# --- parsing ---

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_TEXT_TYPES = frozenset({T.TEXT, T.LONG_TEXT, T.EMAIL, T.PHONE, T.URL})


def _parse_value(field: FieldInfo, raw: str) -> CriterionValue:
    kind = field.type
    if kind in _TEXT_TYPES:
        return raw
    if kind is T.INTEGER:
        if not _INTEGER.fullmatch(raw):
            raise CriterionError(
                gettext_noop("%(field)s: enter a whole number, like 250."), field=field.label
            )
        return int(raw)
    if kind in (T.DECIMAL, T.MONEY):
        if not _DECIMAL.fullmatch(raw):
            raise CriterionError(
                gettext_noop("%(field)s: enter a number, like 1250.50."), field=field.label
            )
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise CriterionError(
                gettext_noop("%(field)s: enter a number, like 1250.50."), field=field.label
            ) from None
    if kind is T.DATE:
        return _parse_date(field, raw)
    if kind is T.DATETIME:
        return _parse_datetime(field, raw)
    if kind is T.CHOICE:
        return _option_value(field, raw)
    raise CriterionError(
        gettext_noop("%(field)s takes no value."), field=field.label
    )  # pragma: no cover - by operators


def _parse_date(field: FieldInfo, raw: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise CriterionError(
        gettext_noop("%(field)s: enter a date as YYYY-MM-DD, like 2024-05-31."), field=field.label
    )


def _parse_datetime(field: FieldInfo, raw: str) -> datetime:
    # Python 3.11's fromisoformat reads "Z" and most ISO 8601; require the date part in full
    # so that "5/31/2024" or "31.05.2024" are refused instead of misread.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].+)?", raw):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    raise CriterionError(
        gettext_noop(
            "%(field)s: enter a date and time in ISO 8601, like 2024-05-31T14:30 (UTC) or "
            "2024-05-31T14:30+02:00."
        ),
        field=field.label,
    )


def _option_value(field: FieldInfo, raw: str) -> str:
    for option in field.options:
        if option.value == raw:
            return option.value
    folded = raw.casefold()
    for option in field.options:
        if option.label.strip().casefold() == folded:
            return option.value
    raise CriterionError(
        gettext_noop("%(field)s: “%(value)s” is not one of its options."),
        field=field.label,
        value=raw,
    )


def _option_label(field: FieldInfo, value: str) -> str:
    return next((option.label for option in field.options if option.value == value), value)


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- evaluation ---


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == ()


def _folded(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a text criterion met a {type(value).__name__} value {value!r}")
    return value.casefold()


def _equal(value: object, wanted: object) -> bool:
    if isinstance(wanted, str):
        return _folded(value) == wanted.casefold()
    _check_comparable(value, wanted)
    return value == wanted


def _check_comparable(value: object, wanted: object) -> None:
    # date and datetime, or a number and a date, compare unequal (or raise) without a word;
    # a mistyped record value is a connector bug worth a clear error.
    number = (int, Decimal)
    numbers = (
        isinstance(value, number) and not isinstance(value, bool) and isinstance(wanted, number)
    )
    datetimes = isinstance(value, datetime) and isinstance(wanted, datetime)
    dates = type(value) is date and type(wanted) is date
    same = numbers or datetimes or dates
    if not same:
        raise TypeError(f"cannot compare {type(value).__name__} {value!r} with {wanted!r}")


def _option(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a choice criterion met a {type(value).__name__} value {value!r}")
    return value


def _options(value: object) -> tuple[str, ...]:
    if not isinstance(value, tuple):
        raise TypeError(f"a multi-choice criterion met a {type(value).__name__} value {value!r}")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"a yes/no criterion met a {type(value).__name__} value {value!r}")
    return value


def _ordered(compare: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    def test(value: object, wanted: object) -> bool:
        _check_comparable(value, wanted)
        return compare(value, wanted)

    return test


_Test = Callable[[object, object], bool]
# Each test sees a non-empty record value; _EMPTY_MATCHES says what an empty one gives.
_TESTS: dict[Operator, _Test] = {
    _O.EQUALS: _equal,
    _O.NOT_EQUALS: lambda value, wanted: not _equal(value, wanted),
    _O.CONTAINS: lambda value, wanted: wanted.casefold() in _folded(value),
    _O.NOT_CONTAINS: lambda value, wanted: wanted.casefold() not in _folded(value),
    _O.STARTS_WITH: lambda value, wanted: _folded(value).startswith(wanted.casefold()),
    _O.ENDS_WITH: lambda value, wanted: _folded(value).endswith(wanted.casefold()),
    _O.GREATER_THAN: _ordered(lambda value, wanted: value > wanted),
    _O.AT_LEAST: _ordered(lambda value, wanted: value >= wanted),
    _O.LESS_THAN: _ordered(lambda value, wanted: value < wanted),
    _O.AT_MOST: _ordered(lambda value, wanted: value <= wanted),
    _O.IS: lambda value, wanted: _option(value) == wanted,
    _O.IS_NOT: lambda value, wanted: _option(value) != wanted,
    _O.IN: lambda value, wanted: _option(value) in wanted,
    _O.CONTAINS_ANY: lambda value, wanted: bool(set(_options(value)) & set(wanted)),
    _O.IS_YES: lambda value, wanted: _flag(value) is True,
    _O.IS_NO: lambda value, wanted: _flag(value) is False,
    _O.IS_EMPTY: lambda value, wanted: False,
    _O.IS_NOT_EMPTY: lambda value, wanted: True,
}
_EMPTY_MATCHES = frozenset({_O.NOT_EQUALS, _O.NOT_CONTAINS, _O.IS_NOT, _O.IS_EMPTY})


def _matches(criterion: Criterion, value: object) -> bool:
    if _is_empty(value):
        return criterion.operator in _EMPTY_MATCHES
    return _TESTS[criterion.operator](value, criterion.value)
