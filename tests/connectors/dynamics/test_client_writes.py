"""Writes: the $batch request byte for byte, results mapped back, splitting, retries, binds."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import responses

from connectors.dynamics import LookupValue, Outcome, RecordWrite
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    RecordError,
    RetryableError,
)

from .conftest import API, add_batch, batch_response, dataverse_calls, odata_error
from .metadata_fixture import contact_answers

C1 = "6ed81853-7b75-e911-a97a-000d3a34a101"
C2 = "6ed81853-7b75-e911-a97a-000d3a34a102"
C3 = "6ed81853-7b75-e911-a97a-000d3a34a103"
ACCOUNT = "7eb682f1-ca75-e511-80d4-00155d2a68d1"
OWNER = "4026be43-6b69-e111-8f65-78e7d1620f5e"
REGION = "90000000-0000-0000-0000-000000000001"
JSON = {"Content-Type": "application/json; odata.metadata=minimal"}


@pytest.fixture(autouse=True)
def _fixed_boundary(monkeypatch):
    monkeypatch.setattr("connectors.dynamics.client.new_boundary", lambda: "batch_TEST")


def entity_id(table_set: str, row_id: str) -> dict:
    url = f"{API}{table_set}({row_id})"
    return {"OData-EntityId": url, "Location": url}


def sent_batches(mocked) -> list:
    return [c.request for c in dataverse_calls(mocked) if c.request.url == API + "$batch"]


def test_it_sends_creates_updates_upserts_and_deletes_in_one_batch(client, mocked):
    add_batch(
        mocked,
        [
            (204, entity_id("contacts", C1), ""),
            (204, entity_id("contacts", C2), ""),
            (204, entity_id("accounts", ACCOUNT), ""),
            (204, {}, ""),
        ],
    )
    writes = [
        RecordWrite.create(
            "contact",
            {
                "firstname": "Ana",
                "lastname": "O'Neil",
                "parentcustomerid": LookupValue("account", ACCOUNT),
                "birthdate": dt.date(1990, 5, 17),
                "creditlimit": Decimal("100000000000000.01"),
                "contactid": "ignored: the key is in the URL",
            },
            id=C1,
            ref="ac-1",
        ),
        RecordWrite.update(
            "contact",
            C2,
            {
                "jobtitle": "CTO",
                "ownerid": LookupValue("systemuser", OWNER),
                "lastsyncedon": dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
            },
            ref="ac-2",
        ),
        RecordWrite.upsert("account", ACCOUNT, {"name": "Fabrikam", "primarycontactid": None}),
        RecordWrite.delete("lead", C3, etag='W/"915300"', ref="lead-3"),
    ]

    results = list(client.write(writes))

    (request,) = sent_batches(mocked)
    assert request.method == "POST"
    assert request.headers["Content-Type"] == 'multipart/mixed; boundary="batch_TEST"'
    assert request.headers["Prefer"] == "odata.continue-on-error"
    assert request.headers["OData-Version"] == "4.0"
    assert request.headers["OData-MaxVersion"] == "4.0"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer token-1"
    assert (
        request.body
        == (
            "--batch_TEST\r\n"
            "Content-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            "\r\n"
            f"PATCH /api/data/v9.2/contacts({C1}) HTTP/1.1\r\n"
            "If-None-Match: *\r\n"
            "Content-Type: application/json; type=entry\r\n"
            "\r\n"
            '{"firstname":"Ana","lastname":"O\'Neil",'
            f'"parentcustomerid_account@odata.bind":"accounts({ACCOUNT})",'
            '"birthdate":"1990-05-17","creditlimit":100000000000000.01}\r\n'
            "--batch_TEST\r\n"
            "Content-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            "\r\n"
            f"PATCH /api/data/v9.2/contacts({C2}) HTTP/1.1\r\n"
            "If-Match: *\r\n"
            "Content-Type: application/json; type=entry\r\n"
            "\r\n"
            f'{{"jobtitle":"CTO","ownerid@odata.bind":"systemusers({OWNER})",'
            '"lastsyncedon":"2024-05-01T10:00:00Z"}\r\n'
            "--batch_TEST\r\n"
            "Content-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            "\r\n"
            f"PATCH /api/data/v9.2/accounts({ACCOUNT}) HTTP/1.1\r\n"
            "Content-Type: application/json; type=entry\r\n"
            "\r\n"
            '{"name":"Fabrikam","primarycontactid@odata.bind":null}\r\n'
            "--batch_TEST\r\n"
            "Content-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            "\r\n"
            f"DELETE /api/data/v9.2/leads({C3}) HTTP/1.1\r\n"
            'If-Match: W/"915300"\r\n'
            "\r\n"
            "\r\n"
            "--batch_TEST--\r\n"
        ).encode()
    )
    assert [(r.ref, r.outcome, r.status, r.id) for r in results] == [
        ("ac-1", Outcome.CREATED, 204, C1),
        ("ac-2", Outcome.UPDATED, 204, C2),
        (None, Outcome.UPSERTED, 204, ACCOUNT),
        ("lead-3", Outcome.DELETED, 204, C3),
    ]
    assert all(r.ok and r.error is None for r in results)


def test_it_maps_a_partial_failure_to_the_right_records(client, mocked):
    add_batch(
        mocked,
        [
            (204, entity_id("contacts", C1), ""),
            (
                400,
                JSON,
                json.dumps(
                    odata_error(
                        "0x80044331",
                        "A validation error occurred. The length of the 'lastname' attribute "
                        "of the 'contact' entity exceeded the maximum allowed length of '50'.",
                    )
                ),
            ),
            (
                412,
                JSON,
                json.dumps(odata_error("", "A record with matching key values already exists.")),
            ),
            (
                404,
                JSON,
                json.dumps(odata_error("0x80040217", f"lead With Id = {C3} Does Not Exist")),
            ),
            (
                412,
                JSON,
                json.dumps(
                    odata_error(
                        "",
                        "The version of the existing record doesn't match the RowVersion "
                        "property provided.",
                    )
                ),
            ),
            (
                404,
                JSON,
                json.dumps(odata_error("0x80040217", f"contact With Id = {C2} Does Not Exist")),
            ),
            (
                403,
                JSON,
                json.dumps(
                    odata_error(
                        "0x80040220", "Principal user is missing prvDeleteAccount privilege"
                    )
                ),
            ),
        ],
    )
    writes = [
        RecordWrite.create("contact", {"lastname": "Diaz"}, id=C1, ref=1),
        RecordWrite.create("contact", {"lastname": "x" * 60}, ref=2),
        RecordWrite.create("contact", {"lastname": "Retry"}, id=C3, ref=3),
        RecordWrite.delete("lead", C3, ref=4),
        RecordWrite.update("contact", C2, {"jobtitle": "CFO"}, etag='W/"1"', ref=5),
        RecordWrite.update("contact", C2, {"jobtitle": "CFO"}, ref=6),
        RecordWrite.delete("account", ACCOUNT, ref=7),
    ]

    results = {r.ref: r for r in client.write(writes)}

    assert results[1].outcome is Outcome.CREATED
    assert results[2].outcome is Outcome.FAILED
    assert isinstance(results[2].error, RecordError)
    assert results[2].error.field == "lastname"
    assert results[2].error.code == "0x80044331"
    assert results[2].status == 400
    assert results[3].outcome is Outcome.ALREADY_EXISTS  # a retried create found its row
    assert results[3].ok and results[3].id == C3
    assert results[4].outcome is Outcome.ALREADY_DELETED
    assert results[5].outcome is Outcome.FAILED
    assert isinstance(results[5].error, ConflictError)
    assert isinstance(results[6].error, NotFoundError)
    assert isinstance(results[7].error, ConfigurationError)
    assert results[7].error.reason is ConfigReason.FORBIDDEN
    assert "prvDeleteAccount" in results[7].error.message


def test_it_splits_large_inputs_into_several_batches_in_order(client, mocked):
    for size in (2, 2, 1):
        add_batch(mocked, [(204, {}, "")] * size)
    writes = (RecordWrite.upsert("contact", C1, {"jobtitle": str(i)}, ref=i) for i in range(5))

    results = list(client.write(writes, batch_size=2))

    batches = sent_batches(mocked)
    assert [b.body.count(b"PATCH ") for b in batches] == [2, 2, 1]
    assert [r.ref for r in results] == [0, 1, 2, 3, 4]
    assert b'"jobtitle":"4"' in batches[2].body


def test_it_allows_at_most_1000_operations_per_batch(client):
    with pytest.raises(ValueError):
        list(client.write([], batch_size=1001))


def test_it_retries_a_batch_that_has_no_etag_condition(client, mocked):
    mocked.add(responses.POST, API + "$batch", status=503, body="")
    add_batch(mocked, [(204, {}, "")])

    (result,) = client.write([RecordWrite.create("contact", {"lastname": "Diaz"}, id=C1)])

    assert result.outcome is Outcome.CREATED
    bodies = [b.body for b in sent_batches(mocked)]
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]  # the same id: the retry cannot create a second row


def test_it_does_not_resend_a_batch_with_an_etag_condition(client, mocked):
    mocked.add(responses.POST, API + "$batch", status=503, body="")
    with pytest.raises(RetryableError):
        list(client.write([RecordWrite.update("contact", C1, {"jobtitle": "x"}, etag='W/"2"')]))
    assert len(sent_batches(mocked)) == 1


def test_it_generates_an_id_for_a_create(client, mocked):
    add_batch(mocked, [(204, {}, "")])
    write = RecordWrite.create("lead", {"lastname": "Diaz"})
    (result,) = client.write([write])
    assert result.id == write.id
    assert (
        f"PATCH /api/data/v9.2/leads({write.id}) HTTP/1.1".encode() in sent_batches(mocked)[0].body
    )


def test_it_fails_an_unwritable_record_without_sending_it(client, mocked):
    add_batch(mocked, [(204, {}, "")])
    writes = [
        RecordWrite.update("contact", C1, {"lastsyncedon": dt.datetime(2024, 1, 1)}, ref="naive"),
        RecordWrite.update(
            "contact", C2, {"parentcustomerid": LookupValue(None, ACCOUNT)}, ref="which"
        ),
        RecordWrite.update("contact", C3, {"jobtitle": "fine"}, ref="fine"),
    ]

    results = {r.ref: r for r in client.write(writes)}

    assert results["naive"].outcome is Outcome.FAILED
    assert isinstance(results["naive"].error, RecordError)
    assert results["which"].error.field == "parentcustomerid"
    assert results["fine"].outcome is Outcome.UPDATED
    (batch,) = sent_batches(mocked)
    assert batch.body.count(b"PATCH ") == 1


def test_it_writes_multi_select_choices_and_clears_a_customer_lookup(client, mocked):
    add_batch(mocked, [(204, {}, "")])
    client.write(
        [
            RecordWrite.update(
                "contact", C1, {"new_interests": (100000000, 100000001), "parentcustomerid": None}
            )
        ]
    ).__next__()
    body = sent_batches(mocked)[0].body
    assert (
        b'{"new_interests":"100000000,100000001",'
        b'"parentcustomerid_account@odata.bind":null,'
        b'"parentcustomerid_contact@odata.bind":null}' in body
    )


def test_it_clears_a_multi_select_choice_with_null(client, mocked):
    add_batch(mocked, [(204, {}, "")])
    next(client.write([RecordWrite.update("contact", C1, {"new_interests": ()})]))
    assert b'{"new_interests":null}' in sent_batches(mocked)[0].body


def test_it_binds_a_custom_lookup_with_names_from_metadata(client, mocked):
    # The schema batch, the custom target's entity set, then the write batch.
    content_type, body = batch_response([(200, JSON, json.dumps(a)) for a in contact_answers()])
    mocked.add(responses.POST, API + "$batch", body=body, content_type=content_type)
    mocked.add(
        responses.GET,
        API + "EntityDefinitions(LogicalName='new_region')",
        json={
            "LogicalName": "new_region",
            "EntitySetName": "new_regions",
            "PrimaryIdAttribute": "new_regionid",
            "PrimaryNameAttribute": "new_name",
            "ChangeTrackingEnabled": False,
        },
    )
    add_batch(mocked, [(204, {}, "")])

    (result,) = client.write(
        [RecordWrite.update("contact", C1, {"new_regionid": LookupValue("new_region", REGION)})]
    )

    assert result.ok
    write_batch = sent_batches(mocked)[-1]
    assert f'{{"new_RegionId@odata.bind":"new_regions({REGION})"}}'.encode() in write_batch.body


def test_it_turns_on_duplicate_detection_when_asked(client, mocked):
    add_batch(mocked, [(204, {}, "")])
    list(
        client.write(
            [RecordWrite.create("lead", {"lastname": "Diaz"}, id=C1)], detect_duplicates=True
        )
    )
    assert b"MSCRM.SuppressDuplicateDetection: false\r\n" in sent_batches(mocked)[0].body
