"""Safe OData building blocks: `$filter` expressions, literals and query strings.

Every value that reaches a URL goes through `literal()`; every column name through `column()`.
Nothing here concatenates caller text into a query without escaping it, so selection criteria
typed by an admin cannot change the shape of a query.

Facts (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows):
- a single quote inside a string literal is escaped by doubling it (`'O''Bryan'`);
- special characters must be URL-encoded (`+` as `%2B`, `&` as `%26`, …);
- `%`, `_` and `[` are SQL wildcards in contains/startswith/endswith; a literal one is written
  in brackets (`[%]`), see .../data-platform/wildcard-characters.md;
- `Microsoft.Dynamics.CRM.In` takes its values as a JSON-style array of double-quoted strings.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from urllib.parse import quote

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Characters left as they are in a query value. Everything else is percent-encoded, spaces as
# %20 (never "+", which the server could read back as a plus sign).
_SAFE_IN_VALUE = "(),'/:*@"


def column(name: str) -> str:
    """A property name (or a navigation path `a/b`), refused unless it is a plain identifier."""
    if not isinstance(name, str) or not _COLUMN.match(name):
        raise ValueError(f"not a Dataverse column name: {name!r}")
    return name


def is_guid(value: object) -> bool:
    return isinstance(value, uuid.UUID) or (isinstance(value, str) and bool(_GUID.match(value)))


def guid(value: str | uuid.UUID) -> uuid.UUID:
    """A GUID for `$filter` (written unquoted) or a record URL; refuses anything else."""
    if isinstance(value, uuid.UUID):
        return value
    if not is_guid(value):
        raise ValueError(f"not a GUID: {value!r}")
    return uuid.UUID(value)


def format_datetime(value: dt.datetime) -> str:
    """UTC ISO 8601 with a Z, as Dataverse expects DateTimeOffset literals and values."""
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive datetime would be read as UTC by the server, silently shifting local times.
        raise ValueError("datetime values must be timezone-aware")
    utc = value.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def literal(value: object) -> str:
    """The OData 4.0 literal for a Python value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("NaN and infinity have no OData literal here")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinity have no OData literal here")
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        # Edm.Guid literals are unquoted in OData 4.0; Dataverse docs also show a quoted form
        # for lookups (`_x_value eq '<guid>'`) — both are accepted by the service per
        # https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows
        return str(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()  # Edm.Date, unquoted (DateOnly columns)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for {type(value).__name__}")


def _like_text(value: str) -> str:
    """A string for contains/startswith/endswith: wildcards made literal, quotes doubled."""
    if not isinstance(value, str):
        raise TypeError("contains/startswith/endswith take a string")
    escaped = value.replace("[", "[[]").replace("%", "[%]").replace("_", "[_]")
    return "'" + escaped.replace("'", "''") + "'"


class Filter:
    """An immutable `$filter` expression; combine with `&`, `|` and `~`."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __and__(self, other: Filter) -> Filter:
        return all_of(self, other)

    def __or__(self, other: Filter) -> Filter:
        return any_of(self, other)

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Filter({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _compare(op: str, name: str, value: object) -> Filter:
    return Filter(f"{column(name)} {op} {literal(value)}")


def eq(name: str, value: object) -> Filter:
    return _compare("eq", name, value)


def ne(name: str, value: object) -> Filter:
    return _compare("ne", name, value)


def gt(name: str, value: object) -> Filter:
    return _compare("gt", name, value)


def ge(name: str, value: object) -> Filter:
    return _compare("ge", name, value)


def lt(name: str, value: object) -> Filter:
    return _compare("lt", name, value)


def le(name: str, value: object) -> Filter:
    return _compare("le", name, value)


def is_null(name: str) -> Filter:
    return Filter(f"{column(name)} eq null")


def is_not_null(name: str) -> Filter:
    return Filter(f"{column(name)} ne null")


def contains(name: str, text: str) -> Filter:
    return Filter(f"contains({column(name)},{_like_text(text)})")


def startswith(name: str, text: str) -> Filter:
    return Filter(f"startswith({column(name)},{_like_text(text)})")


def endswith(name: str, text: str) -> Filter:
    return Filter(f"endswith({column(name)},{_like_text(text)})")


def in_(name: str, values: Iterable[object]) -> Filter:
    """Microsoft.Dynamics.CRM.In: the column equals one of the values (sent as strings)."""
    items = [v if isinstance(v, str) else literal(v) for v in values]
    if not items:
        raise ValueError("in_ needs at least one value")
    array = ",".join(json.dumps(item) for item in items)
    return Filter(
        f"Microsoft.Dynamics.CRM.In(PropertyName='{column(name)}',PropertyValues=[{array}])"
    )


def all_of(*filters: Filter) -> Filter:
    parts = [f for f in filters if f is not None]
    if not parts:
        raise ValueError("all_of needs at least one filter")
    if len(parts) == 1:
        return parts[0]
    return Filter(" and ".join(f"({f.text})" for f in parts))


def any_of(*filters: Filter) -> Filter:
    parts = [f for f in filters if f is not None]
    if not parts:
        raise ValueError("any_of needs at least one filter")
    if len(parts) == 1:
        return parts[0]
    return Filter(" or ".join(f"({f.text})" for f in parts))


def record_path(entity_set: str, record_id: str | uuid.UUID) -> str:
    """`contacts(<guid>)`: the single-record URL segment (unquoted GUID)."""
    return f"{column(entity_set)}({guid(record_id)})"


def query_string(options: Sequence[tuple[str, str]]) -> str:
    """`$select=a,b&$filter=...`: option names as they are, values percent-encoded.

    Built by hand rather than by requests' `params`, which would write spaces as `+` and the
    `$` of the option names as `%24`.
    """
    return "&".join(f"{name}={quote(value, safe=_SAFE_IN_VALUE)}" for name, value in options)


_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


def id_from_entity_url(url: str | None) -> str | None:
    """The GUID of `…/contacts(<guid>)` (an OData-EntityId / Location header), or None."""
    if not url:
        return None
    match = _ENTITY_ID.search(url)
    return match.group(1).lower() if match else None
