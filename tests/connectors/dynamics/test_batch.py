from __future__ import annotations

import pytest

from connectors.dynamics.batch import (
    BatchFormatError,
    BatchOperation,
    build_batch,
    content_type,
    parse_batch_response,
)


def test_it_builds_the_multipart_body_with_crlf_byte_for_byte():
    body = build_batch(
        [
            BatchOperation(
                "PATCH",
                "/api/data/v9.2/contacts(6ed81853-7b75-e911-a97a-000d3a34a1bd)",
                {"If-None-Match": "*"},
                '{"lastname":"Diaz"}',
            ),
            BatchOperation("DELETE", "/api/data/v9.2/leads(00000000-0000-0000-0000-000000000001)"),
            BatchOperation("GET", "/api/data/v9.2/WhoAmI"),
        ],
        "batch_AAA123",
    )
    assert body == (
        b"--batch_AAA123\r\n"
        b"Content-Type: application/http\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"\r\n"
        b"PATCH /api/data/v9.2/contacts(6ed81853-7b75-e911-a97a-000d3a34a1bd) HTTP/1.1\r\n"
        b"If-None-Match: *\r\n"
        b"Content-Type: application/json; type=entry\r\n"
        b"\r\n"
        b'{"lastname":"Diaz"}\r\n'
        b"--batch_AAA123\r\n"
        b"Content-Type: application/http\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"\r\n"
        b"DELETE /api/data/v9.2/leads(00000000-0000-0000-0000-000000000001) HTTP/1.1\r\n"
        b"\r\n"
        b"\r\n"
        b"--batch_AAA123\r\n"
        b"Content-Type: application/http\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"\r\n"
        b"GET /api/data/v9.2/WhoAmI HTTP/1.1\r\n"
        b"\r\n"
        b"\r\n"
        b"--batch_AAA123--\r\n"
    )
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert content_type("batch_AAA123") == 'multipart/mixed; boundary="batch_AAA123"'


def test_it_refuses_more_than_1000_operations():
    operation = BatchOperation("GET", "/api/data/v9.2/WhoAmI")
    with pytest.raises(ValueError):
        build_batch([operation] * 1001, "batch_x")
    with pytest.raises(ValueError):
        build_batch([], "batch_x")


# Microsoft's documented answer shape: a change set nested in the batch, then a plain part.
NESTED = (
    "--batchresponse_f27ef42d\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_64cc3fff\r\n"
    "\r\n"
    "--changesetresponse_64cc3fff\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n"
    "\r\n"
    "HTTP/1.1 204 No Content\r\n"
    "OData-Version: 4.0\r\n"
    "Location: https://org/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)\r\n"
    "OData-EntityId: https://org/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)\r\n"
    "\r\n"
    "\r\n"
    "--changesetresponse_64cc3fff\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 2\r\n"
    "\r\n"
    "HTTP/1.1 400 Bad Request\r\n"
    "REQ_ID: 5ecd1cb3\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "\r\n"
    '{"error":{"code":"0x80044331","message":"too long"}}\r\n'
    "--changesetresponse_64cc3fff--\r\n"
    "--batchresponse_f27ef42d\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; odata.metadata=minimal; odata.streaming=true\r\n"
    "OData-Version: 4.0\r\n"
    "\r\n"
    '{\r\n  "value": [{"subject": "Task 1 in batch"}]\r\n}\r\n'
    "--batchresponse_f27ef42d--\r\n"
)


def test_it_parses_nested_change_set_answers_in_order():
    parts = parse_batch_response(
        "multipart/mixed; boundary=batchresponse_f27ef42d", NESTED.encode()
    )
    assert [p.status for p in parts] == [204, 400, 200]
    assert [p.content_id for p in parts] == ["1", "2", None]
    assert (
        parts[0].headers["odata-entityid"].endswith("tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)")
    )
    assert parts[0].text == ""
    assert parts[1].text == '{"error":{"code":"0x80044331","message":"too long"}}'
    assert parts[1].reason == "Bad Request"
    assert parts[2].text == '{\r\n  "value": [{"subject": "Task 1 in batch"}]\r\n}'


def test_it_parses_lf_only_answers_and_quoted_boundaries():
    parts = parse_batch_response(
        'multipart/mixed; boundary="b1"',
        NESTED.replace("\r\n", "\n").replace("batchresponse_f27ef42d", "b1"),
    )
    assert [p.status for p in parts] == [204, 400, 200]


def test_it_refuses_an_answer_that_is_not_multipart():
    with pytest.raises(BatchFormatError):
        parse_batch_response("text/html", b"<html></html>")
    with pytest.raises(BatchFormatError):
        parse_batch_response("multipart/mixed; boundary=abc", b"<html></html>")
