"""ActiveCampaign's error answers, classified once into connectors.errors.

AC's error bodies are not uniform (https://developers.activecampaign.com/reference/errors and
the examples of each operation); every shape is read here:

1. validation: {"errors": [{"title", "detail", "code", "source": {"pointer": "/data/…"}}]}
2. status style: {"errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]}
3. message style: {"message": "No Result found for Subscriber with id 1"}
4. custom objects: {"errors": [{"title", "detail", "source": {"type": "pointer", "value": "…"}}]}
5. plain strings: {"errors": ["Field name is required"]}
6. one string: {"errors": "Bulk operation failed…"}
7. bulk import: {"success": 0, "message": "…", "failureReasons": [{"contact": 3, "failureReason"}]}
   (or a list of strings, e.g. the import's own per-minute rate limit)

Status rules (the client adds the 403 rule, which needs more than one response; see
api.Api.send):

- 429 -> RateLimitedError (Retry-After); 5xx -> RetryableError (a 503 is what AC answered
  instead of a 429 in older reports: retried like any 5xx, bounded by the RetryPolicy);
- 401 -> ConfigurationError(UNAUTHORIZED); 403 -> ConfigurationError(FORBIDDEN);
  402 -> ConfigurationError(PAYMENT);
- a body that is not JSON (an HTML page: the URL is not the API) -> ConfigurationError(NOT_AN_API);
- 404 -> NotFoundError; 409/412 and 422 duplicates -> ConflictError (field from the pointer);
- any other 4xx -> RecordError with AC's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests

from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConflictError,
    ConnectorError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    RetryableError,
)

VENDOR = "activecampaign"

# Bulk import has its own cap (100 multi-contact requests a minute) and reports hitting it as a
# 400 without Retry-After; a minute is the cap's own period.
BULK_IMPORT_RATE_LIMIT_WAIT = 60.0

_DUPLICATE_WORDS = re.compile(r"already exists|must be unique|duplicate", re.IGNORECASE)
_RATE_LIMIT_WORDS = re.compile(r"rate limit|requests? per minute|imports may be requested", re.I)
_MAX_MESSAGE = 500


@dataclass(frozen=True)
class ErrorDetail:
    message: str
    code: str | None = None
    field: str | None = None


class BulkImportRejected(RecordError):
    """A bulk import request refused before queueing (400 with `failureReasons`)."""

    def __init__(
        self,
        message: str,
        *,
        failures: tuple[tuple[int | None, str], ...] = (),
        **kwargs,
    ) -> None:
        super().__init__(message, **kwargs)
        # (index of the contact in the request, or None when AC names no contact, reason)
        self.failures = failures


def classify(response: requests.Response) -> ConnectorError:
    """Map one failed ActiveCampaign response (status >= 400) to one ConnectorError."""
    status = response.status_code
    body = response_json(response)
    detail = error_detail(body) if body is not None else None
    message = detail.message if detail and detail.message else _status_text(response)
    common: dict[str, Any] = {
        "vendor": VENDOR,
        "status": status,
        "code": detail.code if detail else None,
        "field": detail.field if detail else None,
    }

    if status == 429:
        return RateLimitedError(message, **common)
    if status >= 500:
        return RetryableError(message, **common)
    if status == 401:
        return ConfigurationError(message, reason=ConfigReason.UNAUTHORIZED, **common)
    if status == 403:
        return ConfigurationError(message, reason=ConfigReason.FORBIDDEN, **common)
    if status == 402:
        return ConfigurationError(message, reason=ConfigReason.PAYMENT, **common)
    if body is None and response.content.strip():
        return not_an_api(response)
    if isinstance(body, dict) and "failureReasons" in body:
        return _bulk_import_error(body, message, common)
    if status == 404:
        return NotFoundError(message, **common)
    if status in (409, 412) or (status == 422 and _is_duplicate(detail)):
        return ConflictError(message, **common)
    return RecordError(message, **common)


def not_an_api(response: requests.Response) -> ConfigurationError:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip() or "no type"
    return ConfigurationError(
        f"HTTP {response.status_code} with a {content_type} answer instead of JSON",
        vendor=VENDOR,
        status=response.status_code,
        reason=ConfigReason.NOT_AN_API,
    )


def response_json(response: requests.Response) -> Any:
    """The JSON body; {} when empty; None when the body is not JSON (an HTML page)."""
    if not response.content or not response.content.strip():
        return {}
    try:
        return response.json()
    except ValueError:
        return None


def error_detail(body: Any) -> ErrorDetail:
    """The vendor's message, code and field from any of the documented error shapes."""
    if not isinstance(body, dict):
        return ErrorDetail(_clip(str(body)) if body not in (None, "", {}) else "")
    errors = body.get("errors")
    if isinstance(errors, str):  # shape 6
        return ErrorDetail(_clip(errors))
    if isinstance(errors, list) and errors:
        messages: list[str] = []
        code = field = None
        for item in errors:
            if isinstance(item, str):  # shape 5
                messages.append(item)
                continue
            if not isinstance(item, dict):
                continue
            title = str(item.get("title") or "").strip()
            detail = str(item.get("detail") or "").strip()
            # Shape 2 puts the useful words in `detail` ("Contact not found" under "Not Found");
            # shapes 1 and 4 put them in `title` and leave `detail` empty or repeat it.
            if title and detail and detail != title:
                messages.append(f"{title}: {detail}")
            else:
                messages.append(title or detail)
            if code is None and item.get("code"):
                code = str(item["code"])
            if field is None:
                field = _pointer_field(item.get("source"))
        return ErrorDetail(_clip("; ".join(m for m in messages if m)), code, field)
    if body.get("message"):  # shapes 3 and 7
        return ErrorDetail(_clip(str(body["message"])))
    if body.get("error"):
        return ErrorDetail(_clip(str(body["error"])))
    return ErrorDetail("")


def _pointer_field(source: Any) -> str | None:
    """'/data/attributes/email' -> 'email' (shape 1: `pointer`; shape 4: `value`)."""
    if not isinstance(source, dict):
        return None
    pointer = source.get("pointer")
    if pointer is None and source.get("type") == "pointer":
        pointer = source.get("value")
    if not pointer:
        return None
    text = str(pointer)
    for prefix in ("/data/attributes/", "/data/"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.strip("/").replace("/", ".") or None


def _is_duplicate(detail: ErrorDetail | None) -> bool:
    if detail is None:
        return False
    if detail.code == "duplicate":
        return True
    # Custom objects report a taken slug without a code ("Schema slug must be unique").
    return bool(_DUPLICATE_WORDS.search(detail.message))


def _bulk_import_error(body: dict, message: str, common: dict) -> ConnectorError:
    failures: list[tuple[int | None, str]] = []
    for reason in body.get("failureReasons") or []:
        if isinstance(reason, dict):
            index = reason.get("contact")
            try:
                position = int(index) if index is not None else None
            except (TypeError, ValueError):
                position = None
            failures.append((position, str(reason.get("failureReason") or "").strip()))
        else:
            failures.append((None, str(reason).strip()))
    text = message
    unbound = [reason for position, reason in failures if position is None and reason]
    if unbound:
        text = _clip(f"{message} ({'; '.join(unbound)})")
    if _RATE_LIMIT_WORDS.search(text) and not any(p is not None for p, _ in failures):
        # The import's own per-minute cap, not the account's 5/s: a RetryableError (not a
        # RateLimitedError), so that the account's throttle is not paused for everyone.
        return RetryableError(text, retry_after=BULK_IMPORT_RATE_LIMIT_WAIT, **common)
    return BulkImportRejected(text, failures=tuple(failures), **common)


def _status_text(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
