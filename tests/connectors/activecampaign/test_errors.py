"""classify() on every error shape and status, the 403 rule, wrong URLs, secrets."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from connectors.activecampaign import BulkImportRejected, ContactChanges, classify
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    RetryableError,
    user_message,
)
from connectors.http import RetryPolicy

from .conftest import API_KEY, BASE, path


def _response(status: int, payload=None, *, text: str | None = None, headers=None):
    response = requests.Response()
    response.status_code = status
    response.reason = "Reason"
    if text is not None:
        response._content = text.encode()
        response.headers["Content-Type"] = "text/html; charset=utf-8"
    else:
        response._content = json.dumps(payload).encode() if payload is not None else b""
        response.headers["Content-Type"] = "application/json"
    response.headers.update(headers or {})
    return response


SHAPES = [
    pytest.param(
        422,
        {
            "errors": [
                {
                    "title": "Email address already exists in the system",
                    "detail": "",
                    "code": "duplicate",
                    "source": {"pointer": "/data/attributes/email"},
                }
            ]
        },
        ConflictError,
        "Email address already exists in the system",
        "duplicate",
        "email",
        id="1-validation-duplicate",
    ),
    pytest.param(
        422,
        {
            "errors": [
                {
                    "title": "The account name was not provided.",
                    "detail": "",
                    "code": "field_missing",
                    "source": {"pointer": "/data/attributes/name"},
                }
            ]
        },
        RecordError,
        "The account name was not provided.",
        "field_missing",
        "name",
        id="1-validation-missing",
    ),
    pytest.param(
        404,
        {"errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]},
        NotFoundError,
        "Not Found: Contact not found",
        None,
        None,
        id="2-status-style",
    ),
    pytest.param(
        404,
        {"message": "No Result found for Subscriber with id 1"},
        NotFoundError,
        "No Result found for Subscriber with id 1",
        None,
        None,
        id="3-message-style",
    ),
    pytest.param(
        422,
        {
            "errors": [
                {
                    "title": 'Invalid value for field "stage"',
                    "detail": "stage cannot accept a value that is not defined in the schema.",
                    "source": {"type": "pointer", "value": "/data/attributes/stage"},
                }
            ]
        },
        RecordError,
        'Invalid value for field "stage": stage cannot accept a value',
        None,
        "stage",
        id="4-custom-objects-pointer",
    ),
    pytest.param(
        422,
        {
            "errors": [
                {
                    "title": 'Invalid value for field "schema.slug"',
                    "detail": "Schema slug must be unique",
                    "source": {"type": "pointer", "value": "/data/attributes/schema/slug"},
                }
            ]
        },
        ConflictError,
        "Schema slug must be unique",
        None,
        "schema.slug",
        id="4-custom-objects-slug-taken",
    ),
    pytest.param(
        400,
        {"errors": ["Field name is required", "Field type is required"]},
        RecordError,
        "Field name is required; Field type is required",
        None,
        None,
        id="5-string-list",
    ),
    pytest.param(
        422,
        {"errors": "Bulk operation failed. Request must contain an array of fieldOption objects."},
        RecordError,
        "Bulk operation failed.",
        None,
        None,
        id="6-single-string",
    ),
    pytest.param(
        400,
        {
            "success": 0,
            "message": "JSON payload did not pass validation.",
            "failureReasons": [{"contact": 2, "failureReason": "Field email incorrect format"}],
        },
        BulkImportRejected,
        "JSON payload did not pass validation.",
        None,
        None,
        id="7-bulk-import",
    ),
]


@pytest.mark.parametrize(("status", "payload", "kind", "message", "code", "field"), SHAPES)
def test_it_reads_every_error_shape(status, payload, kind, message, code, field):
    error = classify(_response(status, payload))

    assert type(error) is kind
    assert message in error.message
    assert error.code == code
    assert error.field == field
    assert error.status == status
    assert error.vendor == "activecampaign"


def test_it_maps_bulk_import_failure_reasons_to_positions():
    payload = {
        "success": 0,
        "message": "JSON payload did not pass validation.",
        "failureReasons": [
            {"contact": 0, "failureReason": "Field email incorrect format"},
            {"contact": 3, "failureReason": "Field phone incorrect format"},
        ],
    }

    error = classify(_response(400, payload))

    assert error.failures == (
        (0, "Field email incorrect format"),
        (3, "Field phone incorrect format"),
    )


def test_it_retries_the_bulk_import_minute_cap_without_pausing_the_account():
    payload = {
        "success": 0,
        "message": "Rate limit exceeded.",
        "failureReasons": ["Up to 100 imports may be requested per minute."],
    }

    error = classify(_response(400, payload))

    assert isinstance(error, RetryableError)
    assert not isinstance(error, RateLimitedError)  # would pause the whole account's throttle
    assert error.retry_after == 60.0


STATUSES = [
    (429, RateLimitedError, None),
    (500, RetryableError, None),
    (502, RetryableError, None),
    (503, RetryableError, None),
    (401, ConfigurationError, ConfigReason.UNAUTHORIZED),
    (403, ConfigurationError, ConfigReason.FORBIDDEN),
    (402, ConfigurationError, ConfigReason.PAYMENT),
    (404, NotFoundError, None),
    (409, ConflictError, None),
    (400, RecordError, None),
    (422, RecordError, None),
]


@pytest.mark.parametrize(("status", "kind", "reason"), STATUSES)
def test_it_classifies_statuses(status, kind, reason):
    error = classify(_response(status, {"message": "words"}))

    assert type(error) is kind
    if reason is not None:
        assert error.reason == reason


def test_it_takes_retry_after_from_a_429():
    error = classify(_response(429, {"message": "slow down"}, headers={"Retry-After": "7"}))

    assert isinstance(error, RateLimitedError)
    assert error.message == "slow down"


@pytest.mark.parametrize("status", [200, 404, 405, 400])
def test_it_calls_an_html_page_not_an_api(status, rsps, client):
    rsps.get(
        BASE + "users/me",
        body="<html><body>Login</body></html>",
        status=status,
        content_type="text/html",
    )

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.NOT_AN_API
    assert "text/html" in caught.value.message


def test_it_calls_a_redirect_not_an_api(rsps, client):
    rsps.get(BASE + "users/me", status=302, headers={"Location": "https://acme.example/login"})

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.NOT_AN_API
    assert len(rsps.calls) == 1  # not followed


def test_it_calls_a_json_404_on_users_me_not_the_api_root(rsps, client):
    # A URL with a path too many reaches a server that answers JSON 404s (found against the
    # sandbox: "No route for GET /admin/api/3/users/me"); users/me exists on every account,
    # so this is a wrong URL for a person to fix, not a record error.
    rsps.get(BASE + "users/me", status=404, json={"message": "No route for GET /api/3/users/me"})

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.NOT_AN_API
    assert "Check the URL" in user_message(caught.value)


def test_it_calls_json_without_a_user_not_an_api(rsps, client):
    rsps.get(BASE + "users/me", json={"hello": "world"})

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.NOT_AN_API


def test_it_never_puts_the_key_in_a_message(rsps, client):
    rsps.get(BASE + "users/me", status=400, json={"message": f"bad header Api-Token: {API_KEY}"})

    with pytest.raises(RecordError) as caught:
        client.check()

    assert API_KEY not in caught.value.message
    assert API_KEY not in str(caught.value)
    assert API_KEY not in user_message(caught.value)
    assert "***" in caught.value.message


# -- the 403 rule ----------------------------------------------------------------------------
FORBIDDEN = {"message": "Forbidden"}
ME = {"user": {"id": "1", "username": "admin", "email": "admin@acme.example"}}


def test_it_turns_a_refused_key_into_a_configuration_error_quickly(rsps, client, clock):
    rsps.get(BASE + "contacts/7", status=403, json=FORBIDDEN)
    rsps.get(BASE + "users/me", status=403, json=FORBIDDEN)

    with pytest.raises(ConfigurationError) as caught:
        client.contacts.get("7")

    assert caught.value.reason == ConfigReason.UNAUTHORIZED
    assert [path(call) for call in rsps.calls] == ["/api/3/contacts/7", "/api/3/users/me"]
    assert clock.sleeps == []


def test_it_refuses_a_bad_key_on_check_with_one_request(rsps, client):
    rsps.get(BASE + "users/me", status=403, json=FORBIDDEN)

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.UNAUTHORIZED
    assert len(rsps.calls) == 1


def test_it_never_retries_a_401(rsps, client):
    rsps.get(BASE + "users/me", status=401, json={"message": "Unauthorized"})

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.UNAUTHORIZED
    assert len(rsps.calls) == 1


def test_it_rides_out_a_transient_403_when_the_key_works(rsps, client):
    contact = {"contact": {"id": "7", "email": "ana@contoso.example"}, "fieldValues": []}
    rsps.get(BASE + "contacts/7", status=403, json=FORBIDDEN)
    rsps.get(BASE + "users/me", json=ME)
    rsps.get(BASE + "fields", json={"fields": [], "meta": {"total": "0"}})
    rsps.get(BASE + "contacts/7", json=contact)

    assert client.contacts.get("7").email == "ana@contoso.example"


def test_it_retries_a_proven_key_twice_then_reports_a_missing_permission(rsps, client, clock):
    rsps.get(BASE + "users/me", json=ME)
    client.check()
    rsps.get(BASE + "automations", status=403, json=FORBIDDEN)

    with pytest.raises(ConfigurationError) as caught:
        list(client.automations.all())

    assert caught.value.reason == ConfigReason.FORBIDDEN
    paths = [path(call) for call in rsps.calls]
    assert paths == ["/api/3/users/me"] + ["/api/3/automations"] * 3 + ["/api/3/users/me"]
    # Backoff between the three tries (the throttle may add a wait of its own).
    assert len(clock.sleeps) >= 2


def test_it_notices_a_key_revoked_mid_run(rsps, client):
    rsps.get(BASE + "users/me", json=ME)
    client.check()
    rsps.replace(responses.GET, BASE + "users/me", status=403, json=FORBIDDEN)
    rsps.get(BASE + "automations", status=403, json=FORBIDDEN)

    with pytest.raises(ConfigurationError) as caught:
        list(client.automations.all())

    assert caught.value.reason == ConfigReason.UNAUTHORIZED


def test_it_bounds_retries_of_server_errors(rsps, make_client, clock):
    client = make_client(retry=RetryPolicy(attempts=3))
    rsps.get(BASE + "users/me", status=503, json={"message": "Service Unavailable"})

    with pytest.raises(RetryableError):
        client.check()

    assert len(rsps.calls) == 3
    assert len(clock.sleeps) == 2


def test_it_retries_an_idempotent_upsert_after_a_server_error(rsps, client):
    synced = {"contact": {"id": "1", "email": "ana@contoso.example"}, "fieldValues": []}
    rsps.post(BASE + "contact/sync", status=500, json={"message": "oops"})
    rsps.post(BASE + "contact/sync", json=synced)
    rsps.get(BASE + "fields", json={"fields": [], "meta": {"total": "0"}})

    result = client.contacts.sync(ContactChanges(email="ana@contoso.example"))

    assert result.contact.id == "1"
    assert [path(c) for c in rsps.calls].count("/api/3/contact/sync") == 2
