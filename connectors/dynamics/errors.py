"""Dataverse answers turned into the one error taxonomy (connectors.errors).

`classify(response)` is what VendorHttp calls for every failed response; `classify_status` does
the same for one operation inside a `$batch` answer. The Web API error body is
`{"error": {"code": "0x80040217", "message": "..."}}`; the code is a hex HRESULT that is often
empty or "0x0", so the HTTP status decides first and the code refines it
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import requests

from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConflictError,
    ConnectorError,
    FatalError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    RetryableError,
)

VENDOR = "dynamics"

# Service protection (429): requests, execution time, concurrency — all per user per server.
SERVICE_PROTECTION_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})
OBJECT_DOES_NOT_EXIST = "0x80040217"
PRIVILEGE_DENIED = "0x80040220"
PRINCIPAL_PRIVILEGE_DENIED = "0x80040231"
ACCESS_DENIED = "0x80048405"
USER_NOT_IN_ORGANIZATION = "0x80072560"  # a valid token for an identity without a user here
APPLICATION_RESTRICTED = "0x80095ffc"  # an admin blocked this app id from the Dataverse API
DUPLICATE_RECORD = "0x80040237"
DUPLICATE_RECORD_ENTITY_KEY = "0x80060892"
DUPLICATES_FOUND = "0x80040333"  # duplicate detection rule hit (the docs' example is a 500)
UNKNOWN_SEGMENT = "0x8006088a"  # "Resource not found for the segment 'X'": no such entity set
EXPIRED_VERSION_STAMP = "0x80044352"  # change tracking token too old: do a full sync

_DUPLICATE_CODES = frozenset({DUPLICATE_RECORD, DUPLICATE_RECORD_ENTITY_KEY, DUPLICATES_FOUND})
_PRIVILEGE_CODES = frozenset({PRIVILEGE_DENIED, PRINCIPAL_PRIVILEGE_DENIED, ACCESS_DENIED})
_PRIVILEGE = re.compile(r"\b(prv[A-Za-z0-9_]+)")
_FIELD_PATTERNS = (
    re.compile(r"'([A-Za-z0-9_]+)' attribute"),
    re.compile(r"attribute '([A-Za-z0-9_]+)'"),
    re.compile(r"property named '([A-Za-z0-9_]+)'"),
    re.compile(r"undeclared property '([A-Za-z0-9_]+)'"),
)


class ChangeTokenExpiredError(FatalError):
    """A delta link can no longer be used ("Version stamp … has expired. Please perform a full
    sync."). The client falls back by itself; it reaches a caller only if that also fails."""


def is_change_token_expired(code: str | None, message: str) -> bool:
    text = message.lower()
    return code == EXPIRED_VERSION_STAMP or ("version stamp" in text and "expired" in text)


def odata_error(text: str) -> tuple[str, str] | None:
    """(code, message) of an OData error body, or None if the body is not one."""
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    error = payload["error"]
    code = str(error.get("code") or "").strip().lower()
    message = str(error.get("message") or "").strip()
    return code, message


def _field_of(message: str) -> str | None:
    for pattern in _FIELD_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: VendorHttp reads that form itself


def classify_status(status: int, headers: Mapping[str, str], text: str) -> ConnectorError:
    """Classify one Dataverse answer (a response, or one operation of a $batch answer)."""
    parsed = odata_error(text)
    code, message = parsed if parsed else ("", "")
    code_or_none = code if code and code != "0x0" else None
    kwargs = {"vendor": VENDOR, "status": status, "code": code_or_none}

    if status == 429 or code in SERVICE_PROTECTION_CODES:
        return RateLimitedError(
            message or "service protection limit reached",
            retry_after=_retry_after(headers),
            **kwargs,
        )
    if parsed and is_change_token_expired(code_or_none, message):
        return ChangeTokenExpiredError(message, **kwargs)
    if code in _DUPLICATE_CODES:
        # Duplicate detection answers 500 in Microsoft's own example; it is still this record.
        return ConflictError(message, **kwargs)
    if status >= 500:
        if status == 501:
            return FatalError(message or "not implemented", **kwargs)
        return RetryableError(message or f"server error {status}", **kwargs)
    if status == 401:
        # Dataverse sends 401 with an empty body and a WWW-Authenticate challenge. VendorHttp
        # has already fetched a fresh token and tried again once before this reaches anyone.
        return ConfigurationError(
            message or "the access token was refused",
            reason=ConfigReason.UNAUTHORIZED,
            **kwargs,
        )
    if not parsed and text.strip():
        # A 4xx that is not an OData error: a web page, a proxy, a login redirect target.
        return ConfigurationError(
            f"HTTP {status} without an OData error body",
            reason=ConfigReason.NOT_AN_API,
            **kwargs,
        )
    if status == 403:
        return _forbidden(code, message, kwargs)
    if not parsed:
        # An empty 4xx: Dataverse always explains a refusal, so this is not its API.
        return ConfigurationError(
            f"HTTP {status} without an OData error body",
            reason=ConfigReason.NOT_AN_API,
            **kwargs,
        )
    if status == 404:
        if code == UNKNOWN_SEGMENT or message.startswith("Resource not found for the segment"):
            # The table (entity set) does not exist in this environment: a setting to fix,
            # not a missing record.
            return ConfigurationError(message, reason=ConfigReason.OTHER, **kwargs)
        if message.startswith("No HTTP resource was found"):
            return FatalError(message, **kwargs)
        return NotFoundError(message, **kwargs)
    if status in (409, 412):
        # 412: a stale If-Match etag, an If-None-Match create on an existing row, or a
        # duplicate association; these have empty codes, the status says it.
        return ConflictError(message, **kwargs)
    if status == 405:
        return FatalError(message, **kwargs)
    return RecordError(message or f"HTTP {status}", field=_field_of(message), **kwargs)


def _forbidden(code: str, message: str, kwargs: dict) -> ConfigurationError:
    text = message.lower()
    if (
        code == USER_NOT_IN_ORGANIZATION
        or "not a member of the organization" in text
        or (not code and not message)
    ):
        # Entra issued the token, but this environment has no (enabled) application user for
        # the client id: an empty 403 is what an unknown identity gets
        # (microsoft/PowerPlatform-DataverseServiceClient#5).
        return ConfigurationError(
            message or "the environment has no application user for this client id",
            reason=ConfigReason.NO_APPLICATION_USER,
            **kwargs,
        )
    privilege = _PRIVILEGE.search(message)
    if privilege and code in _PRIVILEGE_CODES | {""}:
        return ConfigurationError(
            f"missing privilege {privilege.group(1)}: {message}",
            reason=ConfigReason.FORBIDDEN,
            **kwargs,
        )
    return ConfigurationError(message, reason=ConfigReason.FORBIDDEN, **kwargs)


def classify(response: requests.Response) -> ConnectorError:
    """VendorHttp's classifier for every failed Dataverse response."""
    content_type = response.headers.get("Content-Type", "")
    if content_type.lower().startswith("multipart/mixed"):
        # A $batch that stopped at a failing operation answers with that operation's status
        # and a multipart body holding its error: classify the inner failure.
        from .batch import BatchFormatError, parse_batch_response

        try:
            parts = parse_batch_response(content_type, response.content)
        except BatchFormatError:
            parts = []
        for part in parts:
            if part.status >= 400:
                return classify_status(part.status, part.headers, part.text)
    return classify_status(response.status_code, response.headers, response.text)
