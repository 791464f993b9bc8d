"""The `$batch` wire format: build a multipart/mixed request, parse its multipart answer.

Facts (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api):
- `POST …/$batch`, `Content-Type: multipart/mixed; boundary="batch_<id>"`; at most 1000
  operations; operations run in order and the answers come back in the same order;
- each part: `--batch_<id>`, `Content-Type: application/http`,
  `Content-Transfer-Encoding: binary`, a blank line, then a raw HTTP request whose JSON body is
  `Content-Type: application/json; type=entry`; the body ends with `--batch_<id>--`;
- line endings must be CRLF (an LF-only body fails with 400 "Stream was not readable");
- the answer is `multipart/mixed; boundary=batchresponse_<guid>`; each part holds an
  `HTTP/1.1 <status> <reason>` line, headers (OData-EntityId, Location, …) and an optional JSON
  body; change-set answers are nested in a `multipart/mixed; boundary=changesetresponse_…` part.

Operations are sent outside change sets: each one stands alone, and with
`Prefer: odata.continue-on-error` a failure does not stop the others.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from requests.structures import CaseInsensitiveDict

MAX_OPERATIONS = 1000
CRLF = "\r\n"


class BatchFormatError(ValueError):
    """The answer is not the multipart document a $batch answers with."""


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a $batch. `url` is the path the service sees (`/api/data/v9.2/…`)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None  # JSON text, already serialized


@dataclass(frozen=True)
class PartResponse:
    status: int
    reason: str
    headers: CaseInsensitiveDict
    text: str
    content_id: str | None = None


def new_boundary() -> str:
    return f"batch_{uuid.uuid4()}"


def build_batch(operations: Sequence[BatchOperation], boundary: str) -> bytes:
    """The request body, CRLF throughout; body-less operations keep the required blank lines."""
    if not operations:
        raise ValueError("a $batch needs at least one operation")
    if len(operations) > MAX_OPERATIONS:
        raise ValueError(f"a $batch holds at most {MAX_OPERATIONS} operations")
    lines: list[str] = []
    for operation in operations:
        lines.append(f"--{boundary}")
        lines.append("Content-Type: application/http")
        lines.append("Content-Transfer-Encoding: binary")
        lines.append("")
        lines.append(f"{operation.method} {operation.url} HTTP/1.1")
        headers = dict(operation.headers)
        if operation.body is not None:
            headers.setdefault("Content-Type", "application/json; type=entry")
        for name, value in headers.items():
            lines.append(f"{name}: {value}")
        lines.append("")
        lines.append(operation.body or "")
    lines.append(f"--{boundary}--")
    lines.append("")
    return CRLF.join(lines).encode("utf-8")


def content_type(boundary: str) -> str:
    return f'multipart/mixed; boundary="{boundary}"'


_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_STATUS_LINE = re.compile(r"^HTTP/\d(?:\.\d)?\s+(\d{3})(?:\s+(.*))?$")
_BLANK_LINE = re.compile(r"\r?\n\r?\n")


def _boundary_of(content_type_value: str) -> str:
    match = _BOUNDARY.search(content_type_value or "")
    if not match:
        raise BatchFormatError(f"no boundary in {content_type_value!r}")
    return match.group(1) or match.group(2)


def _split_head(block: str) -> tuple[CaseInsensitiveDict, str]:
    """Header lines, then a blank line, then the rest."""
    match = _BLANK_LINE.search(block)
    if match is None:
        head, rest = block, ""
    else:
        head, rest = block[: match.start()], block[match.end() :]
    headers: CaseInsensitiveDict = CaseInsensitiveDict()
    for line in head.splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip()] = value.strip()
    return headers, rest


def _parts(text: str, boundary: str) -> list[str]:
    delimiter = f"--{boundary}"
    pieces = text.split(delimiter)
    if len(pieces) < 2:
        raise BatchFormatError("the boundary does not occur in the body")
    parts = []
    for piece in pieces[1:]:
        if piece.startswith("--"):
            break  # the closing delimiter
        # The CRLF after the delimiter line starts the part; the one before the next
        # delimiter belongs to that delimiter (RFC 2046).
        parts.append(re.sub(r"^[ \t]*\r?\n", "", piece, count=1))
    return parts


def _strip_delimiter_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def parse_batch_response(content_type_value: str, body: bytes | str) -> list[PartResponse]:
    """Every operation's answer, in order, change-set answers flattened in place."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    boundary = _boundary_of(content_type_value)
    responses: list[PartResponse] = []
    for part in _parts(text, boundary):
        part_headers, rest = _split_head(part)
        part_type = part_headers.get("Content-Type", "")
        if part_type.lower().startswith("multipart/mixed"):
            responses.extend(parse_batch_response(part_type, rest))
            continue
        rest = rest.lstrip("\r\n")
        status_line, _, after = rest.partition("\n")
        match = _STATUS_LINE.match(status_line.strip())
        if match is None:
            raise BatchFormatError(f"no HTTP status line in a part: {status_line[:80]!r}")
        headers, payload = _split_head(after)
        responses.append(
            PartResponse(
                status=int(match.group(1)),
                reason=(match.group(2) or "").strip(),
                headers=headers,
                text=_strip_delimiter_newline(payload).strip(),
                content_id=part_headers.get("Content-ID"),
            )
        )
    return responses
