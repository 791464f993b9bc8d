"""$batch over real HTTP: CRLF multipart bodies, change sets with Content-ID references,
continue-on-error, the LF-only error, and the response format (S17, S30)."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import unique

pytestmark = pytest.mark.integration


def request_part(
    method: str, url: str, body: dict | None = None, content_id: str | None = None
) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1"]
    if body is not None:
        lines += ["Content-Type: application/json; type=entry", "", json.dumps(body)]
    else:
        lines += ["", ""]
    return "\r\n".join(lines)


def batch_body(boundary: str, items: list) -> str:
    """items: request parts (str) or lists of parts (a change set)."""
    out = []
    for item in items:
        out.append(f"--{boundary}")
        if isinstance(item, list):
            cs = f"changeset_{unique()}"
            out.append(f'Content-Type: multipart/mixed; boundary="{cs}"')
            out.append("")
            for part in item:
                out.append(f"--{cs}")
                out.append(part)
            out.append(f"--{cs}--")
        else:
            out.append(item)
    out.append(f"--{boundary}--")
    out.append("")
    return "\r\n".join(out)


def send(s, api: str, body: str, boundary: str, prefer: str | None = None):
    headers = {"Content-Type": f'multipart/mixed; boundary="{boundary}"'}
    if prefer:
        headers["Prefer"] = prefer
    return s.post(f"{api}/$batch", data=body.encode(), headers=headers)


def parse_response(response) -> list[dict]:
    """Split a batch response into parts: status, headers, JSON body, nested change sets."""
    boundary = re.search(r"boundary=([^;]+)", response.headers["Content-Type"]).group(1)
    return _parse(response.text, boundary)


def _parse(text: str, boundary: str) -> list[dict]:
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    parts = []
    for chunk in text.split(f"--{boundary}")[1:]:
        if chunk.startswith("--"):
            break
        head, _, rest = chunk.strip("\r\n").partition("\r\n\r\n")
        if "multipart/mixed" in head:
            inner = re.search(r"boundary=(\S+)", head).group(1)
            parts.append({"changeset": _parse(rest, inner), "boundary": inner})
            continue
        status_line, _, after = rest.partition("\r\n")
        headers_text, _, body = after.partition("\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in headers_text.split("\r\n") if ": " in line)
        content_id = re.search(r"Content-ID: (\S+)", head)
        parts.append(
            {
                "status": int(status_line.split()[1]),
                "status_line": status_line,
                "headers": headers,
                "body": json.loads(body) if body.strip() else None,
                "content_id": content_id.group(1) if content_id else None,
            }
        )
    return parts


def test_it_runs_a_change_set_with_references_and_a_get_after_it(dv, s):
    boundary = f"batch_{unique()}"
    name = unique("Batch")
    body = batch_body(
        boundary,
        [
            [
                request_part("POST", "/api/data/v9.2/accounts", {"name": name}, "1"),
                request_part(
                    "POST",
                    f"{dv.api}/contacts",
                    {"lastname": name, "parentcustomerid_account@odata.bind": "$1"},
                    "2",
                ),
                request_part("PATCH", "$1", {"primarycontactid@odata.bind": "$2"}, "3"),
            ],
            request_part(
                "GET",
                f"/api/data/v9.2/accounts?$select=name&$filter=name eq '{name}'"
                "&$expand=primarycontactid($select=lastname)",
            ),
        ],
    )
    response = send(s, dv.api, body, boundary)
    assert response.status_code == 200, response.text
    assert re.fullmatch(
        r"multipart/mixed; boundary=batchresponse_[0-9a-f-]{36}", response.headers["Content-Type"]
    )
    changeset, query = parse_response(response)
    assert changeset["boundary"].startswith("changesetresponse_")
    created = changeset["changeset"]
    assert [p["status_line"] for p in created] == ["HTTP/1.1 204 No Content"] * 3
    assert [p["content_id"] for p in created] == ["1", "2", "3"]
    assert created[0]["headers"]["OData-EntityId"].startswith(f"{dv.api}/accounts(")
    assert created[0]["headers"]["Location"] == created[0]["headers"]["OData-EntityId"]
    assert query["status"] == 200
    [account] = query["body"]["value"]
    assert account["primarycontactid"]["lastname"] == name


def test_it_rolls_back_a_failed_change_set_and_stops_without_continue_on_error(dv, s):
    boundary = f"batch_{unique()}"
    name = unique("Rollback")
    before = request_part("POST", "/api/data/v9.2/accounts", {"name": f"{name}-before"})
    body = batch_body(
        boundary,
        [
            before,
            [
                request_part("POST", "/api/data/v9.2/accounts", {"name": f"{name}-in-set"}, "1"),
                request_part("POST", "/api/data/v9.2/contacts", {"lastname": "x" * 60}, "2"),
            ],
            request_part("POST", "/api/data/v9.2/accounts", {"name": f"{name}-after"}),
        ],
    )
    response = send(s, dv.api, body, boundary)
    assert response.status_code == 400
    [failure] = parse_response(response)
    assert failure["status"] == 400
    assert failure["body"]["error"]["code"] == "0x80044331"
    names = {
        r["name"]
        for r in s.get(
            f"{dv.api}/accounts",
            params={"$filter": f"startswith(name,'{name}')", "$select": "name"},
        ).json()["value"]
    }
    assert names == {f"{name}-before"}  # the set rolled back; nothing ran after the failure


def test_it_answers_every_part_with_continue_on_error(dv, s):
    boundary = f"batch_{unique()}"
    name = unique("Continue")
    body = batch_body(
        boundary,
        [
            request_part("POST", "/api/data/v9.2/contacts", {"lastname": "y" * 60}),
            request_part("POST", "/api/data/v9.2/contacts", {"lastname": name}),
            request_part("GET", "/api/data/v9.2/Nope"),
        ],
    )
    response = send(s, dv.api, body, boundary, prefer="odata.continue-on-error")
    assert response.status_code == 200
    statuses = [p["status"] for p in parse_response(response)]
    assert statuses == [400, 204, 404]


def test_it_refuses_lf_only_bodies_as_unreadable_unless_padded(dv, s):
    boundary = f"batch_{unique()}"
    crlf = batch_body(
        boundary, [request_part("POST", "/api/data/v9.2/accounts", {"name": unique("Lf")})]
    )
    lf_only = crlf.replace("\r\n", "\n")
    response = send(s, dv.api, lf_only, boundary)
    assert response.status_code == 400
    [part] = parse_response(response)
    assert part["body"]["error"]["code"] == "0x80048d19"
    assert "Stream was not readable" in part["body"]["error"]["message"]
    assert "Entity :'accounts'" in part["body"]["error"]["message"]
    padded = send(s, dv.api, lf_only + "\n\n", boundary)  # the documented workaround (S30)
    assert padded.status_code == 200, padded.text


def test_it_refuses_gets_inside_change_sets_and_unknown_references(dv, s):
    boundary = f"batch_{unique()}"
    body = batch_body(
        boundary, [[request_part("GET", "/api/data/v9.2/accounts?$top=1", None, "1")]]
    )
    response = send(s, dv.api, body, boundary)
    assert response.status_code == 400
    body = batch_body(
        boundary,
        [
            [
                request_part(
                    "POST",
                    "/api/data/v9.2/contacts",
                    {"lastname": "R", "parentcustomerid_account@odata.bind": "$1"},
                    "2",
                )
            ]
        ],
    )
    [failure] = parse_response(send(s, dv.api, body, boundary))
    assert (
        failure["body"]["error"]["message"]
        == "Content-ID Reference: '$1' does not exist in the batch context."
    )


def test_it_limits_a_batch_to_1000_requests(dv, s):
    boundary = f"batch_{unique()}"
    part = request_part("GET", "/api/data/v9.2/WhoAmI")
    response = send(s, dv.api, batch_body(boundary, [part] * 1001), boundary)
    assert response.status_code == 400
    assert "1000" in response.json()["error"]["message"]
    ok = send(s, dv.api, batch_body(boundary, [part] * 3), boundary)
    assert [p["status"] for p in parse_response(ok)] == [200, 200, 200]


def test_it_needs_a_multipart_content_type(dv, s):
    response = s.post(f"{dv.api}/$batch", data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
