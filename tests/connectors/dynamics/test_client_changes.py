"""Change tracking: initial chain, delta links with deletions, expiry and polling fallback."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import responses

from connectors.dynamics import ChangeMode, Deletion, FallbackReason
from connectors.errors import RetryableError

from .conftest import API, dataverse_calls, odata_error, same_url

LEAD_ENTITY = API + (
    "EntityDefinitions(LogicalName='lead')?$select=LogicalName,EntitySetName,PrimaryIdAttribute,"
    "PrimaryNameAttribute,ChangeTrackingEnabled,IsOptimisticConcurrencyEnabled"
)
TRACKED = "odata.track-changes,odata.maxpagesize=5000"
DELTA_LINK = API + (
    "leads?$select=firstname,lastname,leadid,modifiedon"
    "&$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44"
)
NEXT_DELTA = API + (
    "leads?$select=firstname,lastname,leadid,modifiedon"
    "&$deltatoken=919058%2108%2f22%2f2017%2008%3a21%3a20"
)
L1 = "2e451703-c686-e711-80e5-00155db19e01"
L2 = "2e451703-c686-e711-80e5-00155db19e02"
L3 = "2e451703-c686-e711-80e5-00155db19e03"
GONE = "2e451703-c686-e711-80e5-00155db19e6d"


def lead(lead_id: str, modified: str, first: str = "Ann") -> dict:
    return {
        "@odata.etag": 'W/"915244"',
        "leadid": lead_id,
        "firstname": first,
        "lastname": "Diaz",
        "modifiedon": modified,
    }


def deleted(lead_id: str) -> dict:
    return {
        "@odata.context": API + "$metadata#leads/$deletedEntity",
        "id": lead_id,
        "reason": "deleted",
    }


@pytest.fixture
def lead_lookups(mocked):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "EntityDefinitions(LogicalName='lead')/Attributes/") + ".*"),
        json={"value": [{"LogicalName": "customerid", "Targets": ["account", "contact"]}]},
    )


def lead_entity(mocked, tracking: bool):
    mocked.add(
        responses.GET,
        re.compile(re.escape(API + "EntityDefinitions(LogicalName='lead')?") + ".*"),
        json={
            "LogicalName": "lead",
            "EntitySetName": "leads",
            "PrimaryIdAttribute": "leadid",
            "PrimaryNameAttribute": "fullname",
            "ChangeTrackingEnabled": tracking,
            "IsOptimisticConcurrencyEnabled": True,
        },
    )


def lead_pages(mocked, *pages: dict):
    for page in pages:
        mocked.add(responses.GET, re.compile(re.escape(API + "leads?") + ".*"), json=page)


def test_it_starts_a_change_tracking_chain_and_ends_with_the_delta_link(
    client, mocked, lead_lookups
):
    lead_entity(mocked, tracking=True)
    next_page = API + "leads?$select=firstname,lastname,leadid,modifiedon&$skiptoken=%3Ccookie%3E"
    lead_pages(
        mocked,
        {"value": [lead(L1, "2024-01-01T10:00:00Z")], "@odata.nextLink": next_page},
        {"value": [lead(L2, "2024-01-01T09:00:00Z")], "@odata.deltaLink": DELTA_LINK},
    )

    batches = list(client.changes("lead", ["firstname", "lastname"]))

    calls = dataverse_calls(mocked)
    assert LEAD_ENTITY in [c.request.url for c in calls]
    assert [c.request.url for c in calls[-2:]] == [
        API + "leads?$select=firstname,lastname,leadid,modifiedon",
        next_page,
    ]
    for call in calls[-2:]:
        assert call.request.headers["Prefer"] == TRACKED  # no annotations on tracked reads
    assert [b.mode for b in batches] == [ChangeMode.INITIAL, ChangeMode.INITIAL]
    assert [b.last for b in batches] == [False, True]
    assert [b.delta_link for b in batches] == [None, DELTA_LINK]
    assert [[r.id for r in b.rows] for b in batches] == [[L1], [L2]]
    assert batches[-1].watermark == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert batches[0].fallback is None


def test_it_follows_a_delta_link_with_deletions(client, mocked, lead_lookups):
    mocked.add(
        responses.GET,
        DELTA_LINK,
        json={
            "@odata.context": API + "$metadata#leads(firstname,lastname)/$delta",
            "@odata.deltaLink": NEXT_DELTA,
            "value": [lead(L3, "2024-02-01T00:00:00Z", first="Lee"), deleted(GONE)],
        },
    )

    (batch,) = client.changes("lead", ["firstname", "lastname"], DELTA_LINK)

    (call,) = [c for c in dataverse_calls(mocked) if "deltatoken" in c.request.url]
    assert same_url(call.request.url, DELTA_LINK)  # as the server wrote it
    assert call.request.headers["Prefer"] == TRACKED
    assert batch.mode is ChangeMode.DELTA
    assert batch.last is True
    assert batch.delta_link == NEXT_DELTA
    assert [r.text("firstname") for r in batch.rows] == ["Lee"]
    assert batch.deletions == (Deletion(table="lead", id=GONE, reason="deleted"),)


def test_it_returns_an_empty_batch_when_nothing_changed(client, mocked, lead_lookups):
    mocked.add(responses.GET, DELTA_LINK, json={"value": [], "@odata.deltaLink": NEXT_DELTA})
    (batch,) = client.changes("lead", ["firstname", "lastname"], DELTA_LINK)
    assert (batch.rows, batch.deletions, batch.delta_link) == ((), (), NEXT_DELTA)


def test_it_falls_back_to_polling_when_the_delta_link_expired(client, mocked, lead_lookups):
    mocked.add(
        responses.GET,
        DELTA_LINK,
        status=500,
        json=odata_error(
            "0x80044352",
            "Version stamp associated with the client has expired. Please perform a full sync.",
        ),
    )
    page2 = API + "leads?$skiptoken=2"
    lead_pages(
        mocked,
        {
            "value": [lead(L1, "2024-03-01T11:55:00Z"), lead(L2, "2024-03-01T12:00:00Z")],
            "@odata.nextLink": page2,
        },
        # The page boundary repeats L2 at the same modifiedon: emitted once only.
        {"value": [lead(L2, "2024-03-01T12:00:00Z"), lead(L3, "2024-03-01T12:00:00Z")]},
    )
    watermark = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)

    batches = list(
        client.changes(
            "lead",
            ["firstname", "lastname"],
            DELTA_LINK,
            watermark=watermark,
            overlap=dt.timedelta(minutes=10),
        )
    )

    calls = dataverse_calls(mocked)
    assert sum(1 for c in calls if same_url(c.request.url, DELTA_LINK)) == 1  # not retried
    (poll,) = [c for c in calls if "$filter" in c.request.url]
    assert poll.request.url == (
        API + "leads?$select=firstname,lastname,leadid,modifiedon"
        "&$filter=modifiedon%20ge%202024-03-01T11:50:00Z"
        "&$orderby=modifiedon%20asc,leadid%20asc"
    )
    assert poll.request.headers["Prefer"] == "odata.maxpagesize=5000"
    assert calls[-1].request.url == page2
    assert calls[-1].request.headers["Prefer"] == "odata.maxpagesize=5000"
    assert {b.mode for b in batches} == {ChangeMode.POLLING}
    assert {b.fallback for b in batches} == {FallbackReason.TOKEN_EXPIRED}
    assert [[r.id for r in b.rows] for b in batches] == [[L1, L2], [L3]]
    assert [b.last for b in batches] == [False, True]
    assert batches[-1].delta_link is None
    assert batches[-1].watermark == watermark  # nothing newer than the old watermark


def test_it_restarts_the_chain_when_the_link_expired_without_a_watermark(
    client, mocked, lead_lookups
):
    mocked.add(
        responses.GET,
        DELTA_LINK,
        status=400,
        json=odata_error("0x80044352", "Version stamp associated with the client has expired."),
    )
    lead_pages(
        mocked, {"value": [lead(L1, "2024-01-01T00:00:00Z")], "@odata.deltaLink": NEXT_DELTA}
    )

    (batch,) = client.changes("lead", ["firstname", "lastname"], DELTA_LINK)

    assert batch.mode is ChangeMode.INITIAL
    assert batch.fallback is FallbackReason.TOKEN_EXPIRED
    assert batch.delta_link == NEXT_DELTA
    assert dataverse_calls(mocked)[-1].request.headers["Prefer"] == TRACKED


def test_it_polls_a_table_without_change_tracking(client, mocked, lead_lookups):
    lead_entity(mocked, tracking=False)
    lead_pages(mocked, {"value": [lead(L1, "2024-04-01T00:00:00Z")]})

    (batch,) = client.changes("lead", ["firstname", "lastname"])

    assert batch.mode is ChangeMode.POLLING
    assert batch.fallback is FallbackReason.TRACKING_DISABLED
    assert batch.watermark == dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    assert dataverse_calls(mocked)[-1].request.url == (
        API + "leads?$select=firstname,lastname,leadid,modifiedon"
        "&$orderby=modifiedon%20asc,leadid%20asc"
    )


def test_it_does_not_fall_back_on_other_errors(client, mocked, lead_lookups):
    for _ in range(3):
        mocked.add(responses.GET, DELTA_LINK, status=503, body="")
    with pytest.raises(RetryableError):
        list(client.changes("lead", ["firstname", "lastname"], DELTA_LINK))
