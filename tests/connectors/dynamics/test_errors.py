from __future__ import annotations

import json

import pytest
import requests

from connectors.dynamics.errors import ChangeTokenExpiredError, classify, classify_status
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConflictError,
    ErrorKind,
    FatalError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    RetryableError,
)

from .conftest import batch_response


def _error(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


def _response(status: int, body: str | bytes, content_type="application/json", headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else body
    response.headers["Content-Type"] = content_type
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "code", "message", "error_class", "reason"),
    [
        (
            429,
            "0x80072322",
            "Number of requests exceeded the limit of 6000",
            RateLimitedError,
            None,
        ),
        (429, "0x80072321", "Combined execution time of incoming requests", RateLimitedError, None),
        (429, "0x80072326", "Number of concurrent requests exceeded", RateLimitedError, None),
        (500, "0x80040216", "An unexpected error occurred.", RetryableError, None),
        (502, "", "", RetryableError, None),
        (503, "", "Service Unavailable", RetryableError, None),
        (504, "", "", RetryableError, None),
        (501, "", "Not implemented", FatalError, None),
        (401, "", "", ConfigurationError, ConfigReason.UNAUTHORIZED),
        (
            403,
            "0x80040220",
            "Principal user (Id=9f..., type=8, roleCount=0) is missing prvReadLead privilege "
            "(Id=...) on OTC=4 for entity 'lead'.",
            ConfigurationError,
            ConfigReason.FORBIDDEN,
        ),
        (
            403,
            "0x80072560",
            "The user is not a member of the organization.",
            ConfigurationError,
            ConfigReason.NO_APPLICATION_USER,
        ),
        (
            403,
            "0x80095ffc",
            "Access to Dataverse API is restricted for this application Id",
            ConfigurationError,
            ConfigReason.FORBIDDEN,
        ),
        (
            404,
            "0x80040217",
            "contact With Id = 1d6b1b1e-0000-0000-0000-000000000001 Does Not Exist",
            NotFoundError,
            None,
        ),
        (404, "", "contact With Id = 1 Does Not Exist", NotFoundError, None),
        (
            404,
            "0x8006088a",
            "Resource not found for the segment 'Account'.",
            ConfigurationError,
            ConfigReason.OTHER,
        ),
        (404, "0x0", "No HTTP resource was found that matches the request URI", FatalError, None),
        (
            412,
            "",
            "The version of the existing record doesn't match the RowVersion property provided.",
            ConflictError,
            None,
        ),
        (412, "", "A record with matching key values already exists.", ConflictError, None),
        (412, "0x80040237", "Cannot insert duplicate key.", ConflictError, None),
        (
            500,
            "0x80040333",
            "A record was not created or updated because a duplicate of the current record "
            "already exists.",
            ConflictError,
            None,
        ),
        (
            400,
            "0x80060892",
            "A record that has the attribute values already exists",
            ConflictError,
            None,
        ),
        (400, "0x80040265", "Plug-in says: the account number is invalid", RecordError, None),
        (
            400,
            "0x80044331",
            "A validation error occurred. The length of the 'subject' attribute of the 'task' "
            "entity exceeded the maximum allowed length of '200'.",
            RecordError,
            None,
        ),
        (
            405,
            "0x0",
            "The requested resource does not support http method 'POST'.",
            FatalError,
            None,
        ),
    ],
)
def test_it_classifies_dataverse_errors(status, code, message, error_class, reason):
    error = classify(_response(status, _error(code, message)))
    assert type(error) is error_class
    assert error.vendor == "dynamics"
    assert error.status == status
    assert error.code == (code or None if code != "0x0" else None)
    if message:
        assert message in error.message
    if reason is not None:
        assert error.reason is reason


def test_it_keeps_retry_after_and_the_hex_code_on_429():
    error = classify(
        _response(
            429, _error("0x80072322", "Number of requests exceeded"), headers={"Retry-After": "17"}
        )
    )
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 17
    assert error.code == "0x80072322"
    assert error.kind is ErrorKind.RETRYABLE


def test_it_names_the_missing_privilege():
    error = classify(
        _response(
            403,
            _error("0x80040220", "Principal user is missing prvWriteContact privilege on OTC=2"),
        )
    )
    assert error.message.startswith("missing privilege prvWriteContact")


def test_it_takes_an_empty_403_for_a_missing_application_user():
    error = classify(_response(403, b"", content_type=""))
    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.NO_APPLICATION_USER


@pytest.mark.parametrize("status", [200, 400, 403, 404])
def test_it_takes_an_html_page_for_not_the_api(status):
    error = classify_status(
        status, {"Content-Type": "text/html"}, "<html><body>Welcome</body></html>"
    )
    assert isinstance(error, ConfigurationError)
    assert error.reason is ConfigReason.NOT_AN_API


def test_it_keeps_a_proxy_5xx_page_retryable():
    error = classify(_response(502, "<html>Bad gateway</html>", content_type="text/html"))
    assert isinstance(error, RetryableError)


def test_it_recognises_an_expired_change_tracking_token():
    message = "Version stamp associated with the client has expired. Please perform a full sync."
    for status, code in ((400, "0x80044352"), (500, ""), (400, "")):
        error = classify(_response(status, _error(code, message)))
        assert isinstance(error, ChangeTokenExpiredError), (status, code)


def test_it_reads_the_field_from_a_validation_message():
    error = classify(
        _response(
            400,
            _error(
                "0x80048d19",
                "An undeclared property 'parentcustomerid' which only has property annotations "
                "in the payload but no property value was found in the payload.",
            ),
        )
    )
    assert isinstance(error, RecordError)
    assert error.field == "parentcustomerid"


def test_it_classifies_the_failed_operation_of_a_stopped_batch():
    content_type, body = batch_response(
        [(400, {"Content-Type": "application/json"}, _error("0x80044331", "too long"))]
    )
    error = classify(_response(400, body, content_type=content_type))
    assert isinstance(error, RecordError)
    assert error.code == "0x80044331"
    assert error.message == "too long"
