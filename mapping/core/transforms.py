"""Value transforms: a canonical value of the source field's type → one of the target's type.

Canonical values, what connectors decode vendor wire formats into (`None` = empty, on any type):

    TEXT, LONG_TEXT, EMAIL, PHONE, URL, IDENTIFIER, LOOKUP, CHOICE → str (CHOICE: option value)
    INTEGER → int;  DECIMAL, MONEY → decimal.Decimal;  BOOLEAN → bool
    DATE → datetime.date;  DATETIME → aware datetime.datetime (any offset; returned in UTC)
    MULTI_CHOICE → tuple[str, ...] of option values (returned sorted, without duplicates)

What each pair does is the rule in `mapping.core.compat`; a value map pairs option values
(`{source value: target value}`; a BOOLEAN side uses the values TRUE and FALSE below).

Three kinds of failure, on purpose:
- `TransformError`: this record's value cannot go across (bad e-mail, unpaired option, too long,
  out of range). Its message is for a person; the sync records it and moves on.
- `TypeError`: the value is not canonical for the source type (a connector bug).
- `ValueError`: the pair is not in the compatibility table (check `conversion()` first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import ClassVar
from urllib.parse import urlsplit

from connectors.errors import ErrorKind
from connectors.types import ChoiceOption, FieldInfo, FieldType, Vendor
from mapping.core.compat import Conversion, ConversionKind, conversion

# The option values standing for a BOOLEAN field in a value map (and in FieldInfo.options,
# where the Dynamics connector gives the org's own labels: "Allow" / "Do Not Allow").
TRUE = "true"
FALSE = "false"

T = FieldType
_STRING_TYPES = frozenset(
    {T.TEXT, T.LONG_TEXT, T.EMAIL, T.PHONE, T.URL, T.IDENTIFIER, T.LOOKUP, T.CHOICE}
)
_TEXT_TARGETS = frozenset({T.TEXT, T.LONG_TEXT, T.EMAIL, T.PHONE, T.URL})
_NUMBER_TYPES = frozenset({T.INTEGER, T.DECIMAL, T.MONEY})

# Dataverse's supported range per column type (a column may be configured narrower; Dataverse
# then refuses the record itself). https://learn.microsoft.com/power-apps/maker/data-platform/types-of-fields
# ActiveCampaign documents no range for its number fields.
_DATAVERSE_NUMBER_RANGES: dict[str, tuple[int, int]] = {
    "Integer": (-(2**31), 2**31 - 1),
    "BigInt": (-(2**63), 2**63 - 1),
    "Decimal": (-100_000_000_000, 100_000_000_000),
    "Double": (-100_000_000_000, 100_000_000_000),
    "Money": (-922_337_203_685_477, 922_337_203_685_477),
}
_DATAVERSE_DEFAULT_NUMBER_TYPE = {T.INTEGER: "Integer", T.DECIMAL: "Decimal", T.MONEY: "Money"}
# "All date columns accept values from 1753-01-01"
# (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-types-operations).
_DATAVERSE_EARLIEST_DATE = date(1753, 1, 1)


class TransformError(Exception):
    """This record's value cannot be written to the target field; `message` says why."""

    kind: ClassVar[ErrorKind] = ErrorKind.RECORD

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the key of the field the problem is about (usually the target)


def convert(
    value: object,
    *,
    source: FieldInfo,
    target: FieldInfo,
    value_map: Mapping[str, str] | None = None,
) -> object:
    """The `target` field's canonical value for `source`'s canonical `value`.

    Empty in, `None` out (`None`, `""` and `()` are all empty). `value_map` is read only by the
    conversions that pair options (`Conversion.needs_value_map`); a missing pair is a
    TransformError for the records that hit it, so check `value_map_problems` when saving.
    """
    rule = _rule(source, target)
    _check_canonical(value, source)
    if value is None or value == "" or value == ():
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        raise TransformError(f"{source.label}: {value} is not a number.", field=source.key)
    converted = _CONVERTERS[rule.kind](value, source, target, value_map or {})
    return _fit(converted, target, rule.kind)


def default_value_map(source: FieldInfo, target: FieldInfo) -> dict[str, str]:
    """A first pairing of options, for a person to review.

    Each source option goes to the target option with the same label (ignoring case), else
    the same value; yes / no go to options labelled Yes / True and No / False (or the boolean
    field's own labels). Options with no match are left out; `value_map_problems` lists them.
    Empty when the pair needs no value map.
    """
    if not _rule(source, target).needs_value_map:
        return {}
    targets = _options(target)
    pairs = {}
    for option in _options(source):
        match = _match(option, targets, source=source, target=target)
        if match is not None:
            pairs[option.value] = match.value
    return pairs


def value_map_problems(
    value_map: Mapping[str, str], source: FieldInfo, target: FieldInfo
) -> list[str]:
    """What is wrong with a value map, in words; empty when it is complete and valid.

    Lists values that are not options of their field (on either side) and source options left
    without a pair. A pair that needs no value map has no problems.
    """
    if not _rule(source, target).needs_value_map:
        return []
    source_options = _options(source)
    source_values = {option.value for option in source_options}
    target_values = {option.value for option in _options(target)}
    problems = []
    for key, mapped in value_map.items():
        if key not in source_values:
            problems.append(f"{_quote(key)} is not an option of {source.label}.")
        if mapped not in target_values:
            problems.append(f"{_quote(mapped)} is not an option of {target.label}.")
    for option in source_options:
        if option.value not in value_map:
            problems.append(
                f"{source.label} option {_quote(option.label)} is not paired with an option "
                f"of {target.label}."
            )
    return problems


# --- conversions, one per ConversionKind ---


def _same(value: object, source: FieldInfo, target: FieldInfo, value_map: Mapping) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _to_text(value: object, source: FieldInfo, target: FieldInfo, value_map: Mapping) -> str:
    if isinstance(value, bool):
        return _label_of(TRUE if value else FALSE, source)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        labels = {item: _label_of(item, source) for item in value}  # unknown option: an error
        # In the order the field shows its options, not the order of the (sorted) values.
        return ", ".join(label for item, label in _in_option_order(labels, source))
    if source.type is FieldType.CHOICE:
        return _label_of(value, source)
    return str(value)


def _number(value: object, source: FieldInfo, target: FieldInfo, value_map: Mapping) -> Decimal:
    return Decimal(value) if isinstance(value, int) else value


def _date_to_datetime(
    value: date, source: FieldInfo, target: FieldInfo, value_map: Mapping
) -> datetime:
    return datetime.combine(value, time(0), tzinfo=UTC)


def _datetime_to_date(
    value: datetime, source: FieldInfo, target: FieldInfo, value_map: Mapping
) -> date:
    return value.astimezone(UTC).date()


def _choice_map(value: str, source: FieldInfo, target: FieldInfo, value_map: Mapping) -> str:
    return _paired(value, source, target, value_map)


def _multi_choice_map(
    value: tuple[str, ...], source: FieldInfo, target: FieldInfo, value_map: Mapping
) -> tuple[str, ...]:
    return tuple(sorted({_paired(item, source, target, value_map) for item in value}))


def _choice_to_multi_choice(
    value: str, source: FieldInfo, target: FieldInfo, value_map: Mapping
) -> tuple[str, ...]:
    return (_paired(value, source, target, value_map),)


def _boolean_to_choice(
    value: bool, source: FieldInfo, target: FieldInfo, value_map: Mapping
) -> str:
    return _paired(TRUE if value else FALSE, source, target, value_map)


def _choice_to_boolean(
    value: str, source: FieldInfo, target: FieldInfo, value_map: Mapping
) -> bool:
    paired = _paired(value, source, target, value_map)
    if paired not in (TRUE, FALSE):
        raise TransformError(
            f"{target.label}: the value map pairs {source.label} option "
            f"{_quote(_label_or_value(value, source))} with {_quote(paired)}, not with yes or no.",
            field=target.key,
        )
    return paired == TRUE


_Converter = Callable[[object, FieldInfo, FieldInfo, Mapping], object]
_CONVERTERS: dict[ConversionKind, _Converter] = {
    ConversionKind.COPY: _same,
    ConversionKind.VALIDATE: _same,  # _fit validates
    ConversionKind.TRUNCATE: _same,  # _fit cuts
    ConversionKind.TO_TEXT: _to_text,
    ConversionKind.NUMBER: _number,
    ConversionKind.DATE_TO_DATETIME: _date_to_datetime,
    ConversionKind.DATETIME_TO_DATE: _datetime_to_date,
    ConversionKind.CHOICE_MAP: _choice_map,
    ConversionKind.MULTI_CHOICE_MAP: _multi_choice_map,
    ConversionKind.CHOICE_TO_MULTI_CHOICE: _choice_to_multi_choice,
    ConversionKind.BOOLEAN_TO_CHOICE: _boolean_to_choice,
    ConversionKind.CHOICE_TO_BOOLEAN: _choice_to_boolean,
}


# --- the target's own checks ---


def _fit(value: object, target: FieldInfo, kind: ConversionKind) -> object:
    if target.type in _TEXT_TARGETS:
        return _fit_text(value, target, kind)
    if target.type in _NUMBER_TYPES:
        _check_range(value, target)
    elif target.type in (T.DATE, T.DATETIME):
        _check_earliest(value, target)
    elif target.type is T.CHOICE:
        _check_option(value, target)
    elif target.type is T.MULTI_CHOICE:
        for item in value:
            _check_option(item, target)
        if not value:
            return None
    return value


def _fit_text(value: str, target: FieldInfo, kind: ConversionKind) -> str | None:
    # Text becoming an address is checked, and so is every e-mail target (the match key, and
    # ActiveCampaign refuses bad ones). A phone or URL copied from a phone or URL field is not:
    # refusing what the other vendor accepted would fail standard mappings on messy real data.
    if kind is ConversionKind.VALIDATE or target.type is T.EMAIL:
        value = value.strip()
        if not value:
            return None
        problem = _VALIDATORS[target.type](value)
        if problem:
            raise TransformError(f"{target.label}: {_quote(value)} {problem}.", field=target.key)
    limit = target.max_length
    if limit is not None and len(value) > limit:
        if kind is ConversionKind.TRUNCATE:
            return value[:limit]
        raise TransformError(
            f"{target.label}: the value is {len(value)} characters long; at most {limit} fit.",
            field=target.key,
        )
    return value


def _check_range(value: int | Decimal, target: FieldInfo) -> None:
    if target.vendor != Vendor.DYNAMICS:
        return
    column_type = target.vendor_type
    if column_type not in _DATAVERSE_NUMBER_RANGES:
        column_type = _DATAVERSE_DEFAULT_NUMBER_TYPE[target.type]
    low, high = _DATAVERSE_NUMBER_RANGES[column_type]
    if not low <= value <= high:
        raise TransformError(
            f"{target.label}: {value} is out of range; Dynamics 365 accepts {low:,} to {high:,}.",
            field=target.key,
        )


def _check_earliest(value: date, target: FieldInfo) -> None:
    if target.vendor != Vendor.DYNAMICS:
        return
    day = value.date() if isinstance(value, datetime) else value
    if day < _DATAVERSE_EARLIEST_DATE:
        raise TransformError(
            f"{target.label}: {day.isoformat()} is too early; Dynamics 365 stores dates from "
            f"{_DATAVERSE_EARLIEST_DATE.isoformat()} on.",
            field=target.key,
        )


def _check_option(value: str, target: FieldInfo) -> None:
    if value not in {option.value for option in target.options}:
        raise TransformError(
            f"{target.label}: {_quote(value)} is not one of its options (edit the value map, or "
            f"refresh the field list if the option was just added).",
            field=target.key,
        )


# Loose on purpose: these catch what the vendors would refuse or a person would call garbage,
# not every oddity RFC 5322 or E.164 allows.
_DOMAIN = r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[A-Za-z0-9-]+)"
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" + _DOMAIN
)
_PHONE = re.compile(r"\+?[\d\s().\-/]+")
_PHONE_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension)\s*\d{1,10}$", re.IGNORECASE)
_HOST = re.compile(_DOMAIN + r"|localhost|\d{1,3}(?:\.\d{1,3}){3}")


def _email_problem(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value) or len(value.split("@")[0]) > 64:
        return "is not a valid e-mail address"
    return ""


def _phone_problem(value: str) -> str:
    number = _PHONE_EXTENSION.sub("", value)
    digits = sum(character.isdigit() for character in number)
    if not _PHONE.fullmatch(number) or not 3 <= digits <= 20:
        return "is not a valid phone number"
    return ""


def _url_problem(value: str) -> str:
    if any(character.isspace() for character in value):
        return "is not a valid web address"
    # A bare "www.contoso.com" is common in both systems; only http(s) is allowed otherwise.
    parts = urlsplit(value if "://" in value else f"http://{value}")
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return "is not a valid web address"
    if "@" in parts.netloc:  # user:password@host, or "mailto:ana@contoso.com" read as one
        return "is not a valid web address"
    if parts.scheme.lower() not in ("http", "https") or not _HOST.fullmatch(host):
        return "is not a valid web address"
    return ""


_VALIDATORS: dict[FieldType, Callable[[str], str]] = {
    T.EMAIL: _email_problem,
    T.PHONE: _phone_problem,
    T.URL: _url_problem,
}


# --- helpers ---


def _rule(source: FieldInfo, target: FieldInfo) -> Conversion:
    rule = conversion(source.type, target.type)
    if rule is None:
        raise ValueError(
            f"{source.type} → {target.type} is not in the compatibility table "
            f"({source.key!r} → {target.key!r})"
        )
    return rule


def _is_str_tuple(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(item, str) for item in value)


_CANONICAL: dict[FieldType, Callable[[object], bool]] = {
    **{kind: (lambda value: isinstance(value, str)) for kind in _STRING_TYPES},
    T.INTEGER: lambda value: isinstance(value, int) and not isinstance(value, bool),
    T.DECIMAL: lambda value: isinstance(value, Decimal),
    T.MONEY: lambda value: isinstance(value, Decimal),
    T.DATE: lambda value: isinstance(value, date) and not isinstance(value, datetime),
    T.DATETIME: lambda value: isinstance(value, datetime) and value.utcoffset() is not None,
    T.BOOLEAN: lambda value: isinstance(value, bool),
    T.MULTI_CHOICE: _is_str_tuple,
}


def _check_canonical(value: object, field: FieldInfo) -> None:
    if value is not None and not _CANONICAL[field.type](value):
        raise TypeError(
            f"{type(value).__name__} {value!r} is not a canonical {field.type} value "
            f"(field {field.key!r})"
        )


def _options(field: FieldInfo) -> tuple[ChoiceOption, ...]:
    """A field's options for a value map; a BOOLEAN field has exactly TRUE and FALSE."""
    if field.type is FieldType.BOOLEAN:
        return (
            ChoiceOption(TRUE, _label_of(TRUE, field)),
            ChoiceOption(FALSE, _label_of(FALSE, field)),
        )
    return field.options


_BOOLEAN_WORDS = {TRUE: ("yes", "true"), FALSE: ("no", "false")}


def _match(
    option: ChoiceOption,
    candidates: tuple[ChoiceOption, ...],
    *,
    source: FieldInfo,
    target: FieldInfo,
) -> ChoiceOption | None:
    label = _folded(option.label)
    for candidate in candidates:
        if _folded(candidate.label) == label:
            return candidate
    for candidate in candidates:
        if candidate.value == option.value:
            return candidate
    if source.type is FieldType.BOOLEAN:
        for candidate in candidates:
            if _folded(candidate.label) in _BOOLEAN_WORDS[option.value]:
                return candidate
    if target.type is FieldType.BOOLEAN:
        for flag, words in _BOOLEAN_WORDS.items():
            if label in words:
                return next(c for c in candidates if c.value == flag)
    return None


def _paired(value: str, source: FieldInfo, target: FieldInfo, value_map: Mapping) -> str:
    paired = value_map.get(value)
    if paired is None:
        raise TransformError(
            f"{target.label}: {source.label} option {_quote(_label_or_value(value, source))} is "
            f"not paired with an option of {target.label} (edit the value map).",
            field=target.key,
        )
    return paired


def _label_of(value: str, field: FieldInfo) -> str:
    for option in field.options:
        if option.value == value:
            return option.label
    if field.type is FieldType.BOOLEAN:
        return "Yes" if value == TRUE else "No"
    raise TransformError(
        f"{field.label}: {_quote(value)} is not one of its options (refresh the field list if "
        f"the option was just added).",
        field=field.key,
    )


def _in_option_order(labels: dict[str, str], field: FieldInfo) -> list[tuple[str, str]]:
    order = {option.value: index for index, option in enumerate(field.options)}
    return sorted(labels.items(), key=lambda item: order[item[0]])


def _label_or_value(value: str, field: FieldInfo) -> str:
    if field.type is FieldType.BOOLEAN:
        return _label_of(value, field)
    return next((option.label for option in field.options if option.value == value), value)


def _datetime_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _folded(text: str) -> str:
    return text.strip().casefold()


def _quote(value: object) -> str:
    text = str(value)
    return f"“{text[:57]}…”" if len(text) > 60 else f"“{text}”"
