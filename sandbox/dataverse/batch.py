"""$batch: multipart/mixed requests with change sets (S17, §6 of README.md).

- CRLF line endings; LF-only bodies fail with 400 0x80048d19 "Stream was not readable" unless
  they end with two extra line feeds (the workaround S30 documents).
- At most 1000 requests; run in order; GET not allowed inside a change set; a change set is
  atomic and its parts may reference earlier parts' URIs as $<Content-ID>.
- Without Prefer: odata.continue-on-error the batch stops at the first failure and answers with
  that part's status and only that part; with it the batch answers 200 and every part's status.
- Response: multipart/mixed; boundary=batchresponse_<guid>, change sets nested as
  changesetresponse_<guid>, embedded "HTTP/1.1 <code> <reason>" status lines.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import Headers, MultiDict

from .api import JSON_TYPE, Answer, Call, WebApi, error_answer
from .errors import DataverseError, bad_request, payload_error

MAX_REQUESTS = 1000


@dataclass
class Part:
    method: str
    url: str
    headers: Headers
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    parts: list[Part] = field(default_factory=list)


class _ChangeSetFailed(Exception):
    def __init__(self, answer: Answer, content_id: str | None) -> None:
        super().__init__("change set failed")
        self.answer = answer
        self.content_id = content_id


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary\s*=\s*"?([^";]+)"?', content_type or "", re.I)
    return match.group(1).strip() if match else None


def _split(body: bytes, boundary: str, newline: bytes) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(newline):
            chunk = chunk[len(newline) :]
        if chunk.endswith(newline):
            chunk = chunk[: -len(newline)]
        parts.append(chunk)
    return parts


def _headers_and_body(chunk: bytes, newline: bytes) -> tuple[Headers, bytes]:
    head, sep, rest = chunk.partition(newline + newline)
    if not sep:
        head, rest = chunk, b""
    headers = Headers()
    for line in head.decode("utf-8", "replace").split(newline.decode()):
        if ":" in line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    return headers, rest


class Batch:
    def __init__(self, app) -> None:
        self.app = app

    @property
    def api(self) -> WebApi:
        return self.app.api

    # -- parsing -----------------------------------------------------------------------------
    def parse(self, body: bytes, boundary: str, newline: bytes) -> list[Part | ChangeSet]:
        items: list[Part | ChangeSet] = []
        for chunk in _split(body, boundary, newline):
            headers, rest = _headers_and_body(chunk, newline)
            content_type = headers.get("Content-Type", "")
            if content_type.lower().startswith("multipart/mixed"):
                inner = _boundary(content_type)
                if not inner:
                    raise bad_request("A change set part needs a boundary.")
                changeset = ChangeSet()
                for inner_chunk in _split(rest, inner, newline):
                    inner_headers, inner_rest = _headers_and_body(inner_chunk, newline)
                    part = self._request(inner_rest, newline)
                    part.content_id = inner_headers.get("Content-ID")
                    changeset.parts.append(part)
                items.append(changeset)
            else:
                part = self._request(rest, newline)
                part.content_id = headers.get("Content-ID")
                items.append(part)
        return items

    @staticmethod
    def _request(raw: bytes, newline: bytes) -> Part:
        line, _, rest = raw.partition(newline)
        match = re.match(
            r"^(GET|POST|PATCH|PUT|DELETE)\s+(.+?)(?:\s+HTTP/\d\.\d)?\s*$",
            line.decode("utf-8", "replace"),
        )
        if not match:
            raise bad_request("The batch contains a part without a valid HTTP request line.")
        headers, body = _headers_and_body(rest, newline)
        if rest.startswith(newline):
            headers, body = Headers(), rest[len(newline) :]
        body = body.rstrip(b"\r\n") if body.strip() else b""
        return Part(match.group(1), match.group(2), headers, body)

    # -- running -----------------------------------------------------------------------------
    def execute(self, call: Call) -> Answer:
        boundary = _boundary(call.headers.get("Content-Type", ""))
        if not boundary or not (
            call.headers.get("Content-Type", "").lower().startswith("multipart/mixed")
        ):
            raise bad_request(
                "A $batch request needs Content-Type: multipart/mixed with a boundary."
            )
        body = call.body
        delimiter = b"--" + boundary.encode()
        newline = b"\r\n"
        if b"\r\n" + delimiter not in body and b"\n" + delimiter in body:
            # LF-only: Dataverse fails to read it (S30) unless two extra line feeds end the body.
            if body.endswith(delimiter + b"--\n\n\n") or body.endswith(b"\n\n\n"):
                newline = b"\n"
            else:
                first = re.search(
                    rb"(?:GET|POST|PATCH|PUT|DELETE)\s+\S*?(?:/api/data/v[\d.]+/)?([A-Za-z_]\w*)",
                    body,
                )
                entity_set = first.group(1).decode() if first else ""
                error = payload_error(
                    entity_set, "System.ArgumentException: Stream was not readable."
                )
                return self._respond([self._part(error_answer(error), None)], 400)
        items = self.parse(body, boundary, newline)
        total = sum(len(i.parts) if isinstance(i, ChangeSet) else 1 for i in items)
        if total > MAX_REQUESTS:
            raise bad_request(
                f"The batch contains {total} requests; a batch can contain up to "
                f"{MAX_REQUESTS} requests."
            )
        continue_on_error = call.prefs.has("odata.continue-on-error")
        rendered: list[bytes] = []
        for item in items:
            if isinstance(item, ChangeSet):
                ok, text, failure = self._run_changeset(call, item)
            else:
                answer = self._run(call, item, None)
                ok, text, failure = answer.status < 400, self._part(answer, None), answer
            if not ok and not continue_on_error:
                return self._respond([text], failure.status)
            rendered.append(text)
        return self._respond(rendered, 200)

    def _run_changeset(self, call: Call, changeset: ChangeSet) -> tuple[bool, bytes, Answer | None]:
        content_ids: dict[str, str] = {}
        parts: list[bytes] = []
        try:
            with self.app.store.atomic():
                for part in changeset.parts:
                    if part.method == "GET":
                        raise _ChangeSetFailed(
                            error_answer(
                                bad_request("GET requests are not allowed inside a change set.")
                            ),
                            part.content_id,
                        )
                    answer = self._run(call, part, content_ids)
                    if answer.status >= 400:
                        raise _ChangeSetFailed(answer, part.content_id)
                    if part.content_id:
                        entity_id = answer.headers.get("OData-EntityId")
                        if entity_id:
                            content_ids[f"${part.content_id}"] = entity_id
                    parts.append(self._part(answer, part.content_id))
        except _ChangeSetFailed as failed:
            # A failed change set answers with the failing request only (OData 4.0 §11.7.4).
            return False, self._part(failed.answer, failed.content_id), failed.answer
        boundary = f"changesetresponse_{uuid.uuid4()}"
        inner = b"".join(b"--" + boundary.encode() + b"\r\n" + p for p in parts)
        inner += b"--" + boundary.encode() + b"--\r\n"
        text = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode() + inner
        return True, text, None

    def _run(self, call: Call, part: Part, content_ids: dict[str, str] | None) -> Answer:
        url = part.url
        if content_ids is not None and url.startswith("$"):
            ref, _, tail = url.partition("/")
            if ref not in content_ids:
                return error_answer(
                    bad_request(
                        f"Content-ID Reference: '{ref}' does not exist in the batch context."
                    )
                )
            url = content_ids[ref] + ("/" + tail if tail else "")
        split = urlsplit(url)
        path = split.path
        match = re.search(r"/api/data/v\d+\.\d+/?(.*)$", path)
        if match:
            path = match.group(1)
        elif path.startswith("/"):
            return error_answer(bad_request(f"The request URI '{url}' is not valid in this batch."))
        if path.startswith("$batch"):
            return error_answer(bad_request("A batch can't contain another batch."))
        headers = Headers(part.headers)
        inner = Call(
            method=part.method,
            path=path,
            args=MultiDict(parse_qsl(split.query, keep_blank_values=True)),
            query_string=split.query,
            headers=headers,
            body=part.body,
            base=call.base,
            caller=call.caller,
            content_ids=content_ids if content_ids is not None else {},
        )
        try:
            return self.api.handle(inner)
        except DataverseError as error:
            return error_answer(error)

    # -- rendering ---------------------------------------------------------------------------
    @staticmethod
    def _part(answer: Answer, content_id: str | None) -> bytes:
        lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
        if content_id:
            lines.append(f"Content-ID: {content_id}")
        lines.append("")
        reason = HTTPStatus(answer.status).phrase
        lines.append(f"HTTP/1.1 {answer.status} {reason}")
        if answer.status >= 400:
            lines.append(f"REQ_ID: {uuid.uuid4()}")
        body = b""
        if answer.payload is not None:
            lines.append("Content-Type: application/json; odata.metadata=minimal")
            body = json.dumps(answer.payload, separators=(",", ":"), ensure_ascii=False).encode()
        elif answer.text is not None:
            lines.append(f"Content-Type: {answer.content_type or 'text/plain'}")
            body = answer.text.encode()
        lines.append("OData-Version: 4.0")
        for name, value in answer.headers.items():
            lines.append(f"{name}: {value}")
        lines.append("")
        return "\r\n".join(lines).encode() + b"\r\n" + body + b"\r\n"

    @staticmethod
    def _respond(parts: list[bytes], status: int) -> Answer:
        boundary = f"batchresponse_{uuid.uuid4()}"
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + p for p in parts)
        body += b"--" + boundary.encode() + b"--\r\n"
        return Answer(
            status,
            text=body.decode("utf-8"),
            content_type=f"multipart/mixed; boundary={boundary}",
        )


__all__ = ["JSON_TYPE", "Batch"]
