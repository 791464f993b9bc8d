"""How ActiveCampaign writes things down: timestamps, error bodies, paging and filters.

Everything here follows §1 of the Sources table in README.md (next to this file): DOC
pagination, rate-limits and errors, and the SPEC examples' envelopes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterable

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

MAX_LIMIT = 100  # §1.3: limit defaults to 20, at most 100
DEFAULT_LIMIT = 20


class ApiError(Exception):
    """Raised by a handler to answer with `response` (an error in one of AC's shapes)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


# -- error bodies (§1.6) --------------------------------------------------------------------
def message_error(status: int, text: str) -> Response:
    """Shape 3, `{"message": ...}`: most 403s and 404s."""
    return json_response({"message": text}, status)


def not_found(entity: str, ident: object) -> Response:
    """The 404 AC answers for a missing id, named after its internal model (Subscriber, Tag…)."""
    return message_error(404, f"No Result found for {entity} with id {ident}")


def invalid(
    title: str, *, code: str, pointer: str | None = None, detail: str = "", status: int = 422
) -> Response:
    """Shape 1, the common validation error (duplicate, field_missing, field_invalid)."""
    error: dict = {"title": title, "detail": detail, "code": code}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return json_response({"errors": [error]}, status)


def status_error(
    status: int, title: str, *, detail: str | None = None, pointer: str | None = None
) -> Response:
    """Shape 2, `{"errors": [{"status", "title", "detail"}]}` (contactTags, account field meta)."""
    error: dict = {"status": status, "title": title}
    if detail is not None:
        error["detail"] = detail
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return json_response({"errors": [error]}, status)


def object_invalid(field: str, detail: str, *, value_path: str | None = None) -> Response:
    """Shape 4, custom objects: `source` is `{"type": "pointer", "value": ...}`."""
    return json_response(
        {
            "errors": [
                {
                    "title": f'Invalid value for field "{field}"',
                    "detail": detail,
                    "source": {
                        "type": "pointer",
                        "value": value_path or "/data/attributes/" + field.replace(".", "/"),
                    },
                }
            ]
        },
        422,
    )


def read_json(request: Request) -> dict:
    """The JSON object in the body, or an ApiError 400.

    AC reads the body whatever the Content-Type says (clients differ), so this does too.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ApiError(message_error(400, f"Request body is not valid JSON: {exc}")) from exc
    if not isinstance(payload, dict):
        raise ApiError(message_error(400, "Request body must be a JSON object"))
    return payload


def wrapped(request: Request, key: str, *, required: bool = True) -> dict:
    """The object under the singular resource key (§1.2), e.g. {"contact": {...}}."""
    payload = read_json(request)
    inner = payload.get(key)
    if inner is None and not required:
        return {}
    if not isinstance(inner, dict):
        raise ApiError(
            invalid(
                f'The request body must hold a "{key}" object',
                code="field_missing",
                pointer=f"/data/attributes/{key}",
            )
        )
    return inner


# -- ids and scalars --------------------------------------------------------------------------
def as_id(value: object) -> int | None:
    """An id sent as int or numeric string (clients do both, §1.2); None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def text(value: object) -> str:
    """A value as AC stores a scalar: strings as given, numbers as their decimal text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def s(value: object) -> str | None:
    """An integer column as the JSON string AC answers with (`"id": "113"`)."""
    return None if value is None else str(value)


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_valid(email: str) -> bool:
    return bool(EMAIL_RE.match(email))


# -- time ---------------------------------------------------------------------------------------
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


class AccountTime:
    """Formats epoch seconds the way AC does for an account in a given UTC offset (§2.3)."""

    def __init__(self, offset: str = "-05:00") -> None:
        match = _OFFSET_RE.match(offset)
        if not match:
            raise ValueError(f"utc_offset must look like -05:00, not {offset!r}")
        sign = -1 if match.group(1) == "-" else 1
        self.offset = f"{match.group(1)}{match.group(2)}:{match.group(3)}"
        self.seconds = sign * (int(match.group(2)) * 3600 + int(match.group(3)) * 60)
        self.tz = dt.timezone(dt.timedelta(seconds=self.seconds))

    def iso(self, ts: float | None) -> str | None:
        """`2018-09-28T13:55:59-05:00`: cdate/udate and most v3 timestamps."""
        if ts is None:
            return None
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts) + self.seconds)) + (
            self.offset
        )

    def local_plain(self, ts: float | None) -> str | None:
        """`2018-09-28 13:55:59` in the account's zone (created_timestamp, updated_timestamp)."""
        if ts is None:
            return None
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ts) + self.seconds))

    @staticmethod
    def utc_plain(ts: float | None) -> str | None:
        """`2018-09-28 18:55:59` in UTC, no zone: created_utc_timestamp and account field meta.

        The doc example of update-a-contact-new shows the same wall time as cdate for
        created_utc_timestamp; the field's name says UTC, and no source settles it (§2.3). We
        follow the name.
        """
        if ts is None:
            return None
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ts)))

    @staticmethod
    def utc_z(ts: float | None) -> str | None:
        """`2021-04-16T15:08:25.783751329Z`: custom-object timestamps (§5.1), nanoseconds."""
        if ts is None:
            return None
        whole = int(ts)
        nanos = round((ts - whole) * 1_000_000_000)
        if nanos >= 1_000_000_000:
            whole, nanos = whole + 1, 0
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"

    def parse(self, value: str) -> float | None:
        """A filter value (date or datetime, §2.5) as epoch seconds; None if unreadable.

        A date means the start of that day and a datetime without a zone is read in the
        account's zone: AC documents these filters as `date` without saying more (§2.5
        "Unknowns"), and the account's zone is the one its own timestamps are written in.
        """
        value = value.strip()
        if not value:
            return None
        candidate = value.replace(" ", "T", 1) if len(value) > 10 else value
        if candidate.endswith("Z"):
            candidate = candidate[:-1] + "+00:00"
        try:
            if len(candidate) == 10:
                parsed = dt.datetime.fromisoformat(candidate + "T00:00:00")
            else:
                parsed = dt.datetime.fromisoformat(candidate)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.tz)
        return parsed.timestamp()


# -- paging and ordering (§1.3, §1.4) --------------------------------------------------------
def page(request: Request, *, default: int = DEFAULT_LIMIT) -> tuple[int, int]:
    """(limit, offset); a limit above 100 is served as 100, like AC does."""
    limit = as_id(request.args.get("limit"))
    offset = as_id(request.args.get("offset"))
    if limit is None or limit <= 0:
        limit = default
    return min(limit, MAX_LIMIT), offset or 0


_ORDER_RE = re.compile(r"^orders\[([^\]]+)\]$")


def orders(request: Request, allowed: dict[str, str]) -> list[str]:
    """`orders[field]=ASC|DESC` params in the order given (earlier ones take precedence).

    `allowed` maps the API's field names to SQL expressions; unknown fields are ignored.
    """
    clauses = []
    for key, value in request.args.items(multi=True):
        match = _ORDER_RE.match(key)
        if not match or match.group(1) not in allowed:
            continue
        direction = "DESC" if value.strip().upper() == "DESC" else "ASC"
        clauses.append(f"{allowed[match.group(1)]} {direction}")
    return clauses


def id_list(request: Request, name: str = "ids") -> list[int]:
    """`ids[]=1&ids[]=2` (documented), also `ids=1,2` which some clients send."""
    values: Iterable[str] = request.args.getlist(f"{name}[]") + request.args.getlist(name)
    result = []
    for value in values:
        for part in value.split(","):
            ident = as_id(part)
            if ident is not None:
                result.append(ident)
    return result


def escape_like(value: str) -> str:
    """`value` for a SQL LIKE pattern (ESCAPE '\\'): its wildcards match themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def placeholders(values: list) -> str:
    return ",".join("?" * len(values))
