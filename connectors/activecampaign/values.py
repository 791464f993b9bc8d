"""ActiveCampaign's value formats, read and written in one place.

- Timestamps: contacts carry ISO 8601 with the *account's* UTC offset
  ("2018-09-28T13:55:59-05:00"); some resources use "YYYY-MM-DD HH:MM:SS" without a zone,
  custom objects use UTC "…Z" with nanoseconds; empty dates come as null or MySQL zero dates.
  Everything is returned as an aware UTC datetime.
- Contact custom field values are strings: multi-value fields (listbox, checkbox) use
  "||a||b||", dates "YYYY-MM-DD", datetimes ISO with offset, numbers numeric strings
  (https://developers.activecampaign.com/reference/create-a-custom-field-value-1).
- Account custom field values: multi-value fields are JSON arrays, currency is in cents
  (https://developers.activecampaign.com/reference/create-an-account-custom-field-value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .records import FieldScalar

CONTACT_MULTI_TYPES = frozenset({"listbox", "checkbox", "multiselect"})
CONTACT_SINGLE_CHOICE_TYPES = frozenset({"dropdown", "radio"})
ACCOUNT_MULTI_TYPES = frozenset({"multiselect", "checkbox", "listbox"})

_ZERO_DATE = re.compile(r"^0000-00-00")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})$")


def parse_timestamp(value: Any, *, default_tz: tzinfo = UTC) -> datetime | None:
    """An AC timestamp as aware UTC; None for null, "" and zero dates.

    A value without a zone is read in `default_tz` (the account's offset when the caller
    knows it: AC writes local times without a zone in some resources).
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text or _ZERO_DATE.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(UTC)


def timestamp_offset(value: Any) -> tzinfo | None:
    """The UTC offset written in an AC timestamp ("…-05:00" -> UTC-05:00), None if absent."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        return UTC
    if len(text) < 19:  # a bare date: "2024-05-31-…" must not read as an offset
        return None
    match = _OFFSET.search(text[19:])
    if not match:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def parse_date(value: Any) -> date | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text or _ZERO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def split_multi(value: Any) -> tuple[str, ...]:
    """'||a||b||' (or 'a||b', or a JSON array) -> ('a', 'b')."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if item not in (None, ""))
    return tuple(part for part in str(value).split("||") if part != "")


def decode_contact_value(raw: Any, field_type: str | None, *, default_tz: tzinfo = UTC):
    """A contact custom field value typed by its field type.

    text/textarea/hidden -> str; number -> Decimal; date -> date; datetime -> aware UTC
    datetime; dropdown/radio -> str; listbox/checkbox -> tuple of option values. An empty
    value is None (an empty tuple for multi-value fields). A value that cannot be read as its
    type is None: the raw string stays on the FieldValue.
    """
    kind = (field_type or "").lower()
    text = "" if raw is None else str(raw)
    if kind in CONTACT_MULTI_TYPES:
        return split_multi(text)
    if text == "":
        return None
    if kind == "number":
        return parse_decimal(text)
    if kind == "date":
        return parse_date(text)
    if kind == "datetime":
        return parse_timestamp(text, default_tz=default_tz)
    if kind in CONTACT_SINGLE_CHOICE_TYPES:
        # One doc example shows a dropdown value wrapped like a multi value ("||x||").
        parts = split_multi(text)
        return parts[0] if len(parts) == 1 else text
    return text


def encode_contact_value(value: Any) -> str:
    """A Python value as AC stores a contact custom field value (always a string).

    Sequences become '||a||b||' (multi-value fields); dates 'YYYY-MM-DD'; datetimes ISO 8601
    with their offset (an aware datetime is required: a naive one is ambiguous); numbers plain
    decimal strings; booleans '1'/'0'.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return decimal_text(value)
    if isinstance(value, Iterable):
        items = [encode_contact_value(item) for item in value]
        items = [item for item in items if item != ""]
        return "||" + "||".join(items) + "||" if items else ""
    return str(value)


def decode_account_value(raw: Any, field_type: str | None):
    """An account custom field value typed by its field type (currency: major units)."""
    kind = (field_type or "").lower()
    if kind in ACCOUNT_MULTI_TYPES:
        return split_multi(raw)
    if raw is None or raw == "":
        return None
    if kind == "currency":
        cents = parse_decimal(raw)
        return None if cents is None else cents / 100
    if kind == "number":
        return parse_decimal(raw)
    if kind == "date":
        return parse_date(raw)
    if kind == "datetime":
        return parse_timestamp(raw)
    if kind in CONTACT_SINGLE_CHOICE_TYPES:
        parts = split_multi(raw)
        return parts[0] if len(parts) == 1 else str(raw)
    return str(raw)


def encode_account_value(value: Any, field_type: str | None) -> str | list[str]:
    """A Python value as AC takes an account custom field value.

    Multi-value fields take a JSON array (the examples of accountCustomFieldData; the schema
    says string, see the contract test's deviations); currency takes cents as a numeric string
    (10050 = 100.50, "this needs to be in cents" in the reference); the rest as for contacts.
    """
    kind = (field_type or "").lower()
    if kind in ACCOUNT_MULTI_TYPES:
        if value is None:
            return []
        if isinstance(value, str):
            return list(split_multi(value)) if "||" in value else [value]
        return [encode_contact_value(item) for item in value if item not in (None, "")]
    if kind == "currency" and value not in (None, ""):
        amount = parse_decimal(value)
        if amount is None:
            raise ValueError(f"not an amount: {value!r}")
        return str(int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return encode_contact_value(value)


def encode_record_value(value: Any, field_type: str | None):
    """A Python value for a custom-object record field (JSON typed, not always a string).

    The docs only show numbers (sent as JSON numbers); currency is sent in cents like deals
    and accounts and date-times as UTC ISO 8601 — both unconfirmed (to verify on a live
    account): https://developers.activecampaign.com/reference/create-or-update-record
    """
    kind = (field_type or "").lower()
    if value is None:
        return None
    if kind in ("multiselect", "listbox", "checkbox"):
        items = split_multi(value) if isinstance(value, str) else value
        return [encode_contact_value(item) for item in items]
    if kind == "currency":
        amount = parse_decimal(value)
        if amount is None:
            raise ValueError(f"not an amount: {value!r}")
        return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if kind in ("number", "decimal"):
        amount = parse_decimal(value)
        if amount is None:
            raise ValueError(f"not a number: {value!r}")
        return int(amount) if amount == amount.to_integral_value() else float(amount)
    if kind in ("datetime", "date-time") and isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "date" and isinstance(value, datetime):
        return value.date().isoformat()
    return encode_contact_value(value)


def decode_record_value(raw: Any, field_type: str | None = None) -> FieldScalar:
    """A custom-object record value, typed by its schema field when the type is known: the
    inverse of encode_record_value (currency back from cents to major units, dates and
    date-times as date/datetime). Without a type: numbers as Decimal, lists as tuples."""
    kind = (field_type or "").lower()
    if raw is None:
        return None
    if isinstance(raw, list):
        return tuple(str(item) for item in raw)
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if kind == "currency":
        cents = parse_decimal(raw)
        return None if cents is None else cents / 100
    if kind in ("number", "decimal"):
        return parse_decimal(raw)
    if kind == "date":
        return parse_date(raw)
    if kind in ("datetime", "date-time"):
        return parse_timestamp(raw)
    if isinstance(raw, int | float):
        return Decimal(str(raw))
    return str(raw)


def iso_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous: give an aware one")
    return value.isoformat(timespec="seconds")


def api_timestamp(value: datetime) -> str:
    """A datetime for a query parameter (`filters[updated_after]`, `after`): ISO, UTC."""
    if value.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous: give an aware one")
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def decimal_text(value: int | float | Decimal) -> str:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def as_id(value: Any) -> str | None:
    """AC ids flip between strings and ints: compare them as strings."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def as_int(value: Any, default: int = 0) -> int:
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return int(Decimal(str(value).strip()))
        except (InvalidOperation, ValueError):
            return default


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("1", "true", "yes")
