"""Change tracking against the sandbox: a chain from the initial load through delta links,
the `modifiedon` fallback when tracking is off, and what happens when a delta link expired.

Changes are made through the sandbox's Web API with a plain HTTP client, between the
connector's reads, the way users and other integrations change the org in between syncs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from connectors.dynamics import ChangeMode, FallbackReason

pytestmark = pytest.mark.integration

COLUMNS = ["lastname", "emailaddress1"]


def _read(client, table: str, **kwargs):
    batches = list(client.changes(table, COLUMNS, **kwargs))
    assert batches and batches[-1].last
    assert not any(batch.last for batch in batches[:-1])
    rows = [row for batch in batches for row in batch.rows]
    deletions = [deletion for batch in batches for deletion in batch.deletions]
    return batches, rows, deletions


def test_it_sees_every_create_update_and_delete_exactly_once(org, client):
    existing = [
        org.create("leads", {"lastname": f"Lead {i}", "emailaddress1": f"l{i}@example.com"})
        for i in range(7)
    ]

    batches, rows, deletions = _read(client, "lead", page_size=3)

    assert {b.mode for b in batches} == {ChangeMode.INITIAL}
    assert len(batches) == 3  # 3 + 3 + 1 rows: paged, maxpagesize sent with track-changes
    assert sorted(row.id for row in rows) == sorted(existing)
    assert deletions == []
    assert all("odata.track-changes" in p for p in org.prefer_headers("leads"))
    assert all("odata.maxpagesize=3" in p for p in org.prefer_headers("leads"))
    delta_link = batches[-1].delta_link
    assert delta_link and "$deltatoken=" in delta_link

    created = [org.create("leads", {"lastname": f"New {i}"}) for i in range(2)]
    updated = existing[:3]
    for lead in updated:
        org.update("leads", lead, {"emailaddress1": f"changed-{lead[:4]}@example.com"})
    org.update("leads", updated[0], {"lastname": "Changed twice"})
    deleted = existing[5:]
    for lead in deleted:
        org.delete("leads", lead)

    batches, rows, deletions = _read(client, "lead", delta_link=delta_link, page_size=2)

    assert {b.mode for b in batches} == {ChangeMode.DELTA}
    assert Counter(row.id for row in rows) == Counter(created + updated)
    assert sorted(d.id for d in deletions) == sorted(deleted)
    twice = next(row for row in rows if row.id == updated[0])
    assert twice.get("lastname") == "Changed twice"  # the latest values, once
    next_link = batches[-1].delta_link
    assert next_link and next_link != delta_link

    # Nothing changed since: the next delta is empty, nothing is seen a second time.
    batches, rows, deletions = _read(client, "lead", delta_link=next_link)
    assert (rows, deletions) == ([], [])
    assert batches[-1].delta_link


def test_it_polls_modifiedon_when_tracking_is_off(org, client):
    org.app.change_tracking_set("contact", False)
    contacts = [org.create("contacts", {"lastname": f"Polled {i}"}) for i in range(5)]
    # Rows last modified at distinct, older times (arranged inside the sandbox).
    table = org.app.table("contact")
    for i, contact in enumerate(contacts):
        org.app.store.update(table, contact, {"modifiedon": f"2024-01-01T00:00:0{i}Z"})

    batches, rows, deletions = _read(client, "contact", page_size=2)

    assert {b.mode for b in batches} == {ChangeMode.POLLING}
    assert {b.fallback for b in batches} == {FallbackReason.TRACKING_DISABLED}
    assert [row.id for row in rows] == contacts  # ordered by modifiedon, then id
    assert deletions == [] and batches[-1].delta_link is None
    watermark = batches[-1].watermark
    assert watermark == dt.datetime(2024, 1, 1, 0, 0, 4, tzinfo=dt.UTC)

    org.update("contacts", contacts[1], {"lastname": "Touched"})
    org.delete("contacts", contacts[2])  # invisible to polling

    _, rows, deletions = _read(client, "contact", watermark=watermark, overlap=dt.timedelta(0))
    # `ge` the watermark: the row stamped exactly at it comes again (1-second resolution, the
    # caller dedupes), then the touched one.
    assert [row.id for row in rows] == [contacts[4], contacts[1]]
    assert deletions == []
    _, rows, _ = _read(client, "contact", watermark=watermark)  # default 5-minute overlap
    assert {row.id for row in rows} == {contacts[0], contacts[1], contacts[3], contacts[4]}


def test_it_falls_back_to_polling_when_the_delta_link_expired(org, client):
    leads = [org.create("leads", {"lastname": f"Tracked {i}"}) for i in range(3)]
    batches, _, _ = _read(client, "lead")
    delta_link, watermark = batches[-1].delta_link, batches[-1].watermark
    org.update("leads", leads[0], {"lastname": "Changed"})
    org.app.expire_change_tracking_days = 0  # every token issued before now has expired

    batches, rows, _ = _read(client, "lead", delta_link=delta_link, watermark=watermark)

    assert {b.mode for b in batches} == {ChangeMode.POLLING}
    assert {b.fallback for b in batches} == {FallbackReason.TOKEN_EXPIRED}
    assert leads[0] in {row.id for row in rows}
    assert batches[-1].delta_link is None  # the next call starts a new chain
    expired = [e for e in org.api_log() if "deltatoken" in e.query]
    assert [e.status for e in expired] == [400]


def test_it_starts_a_new_chain_when_the_delta_link_expired_without_a_watermark(org, client):
    leads = [org.create("leads", {"lastname": f"Tracked {i}"}) for i in range(3)]
    batches, _, _ = _read(client, "lead")
    old_link = batches[-1].delta_link
    org.app.expire_change_tracking_days = 0

    batches, rows, _ = _read(client, "lead", delta_link=old_link, page_size=2)

    assert {b.mode for b in batches} == {ChangeMode.INITIAL}
    assert {b.fallback for b in batches} == {FallbackReason.TOKEN_EXPIRED}
    assert sorted(row.id for row in rows) == sorted(leads)  # a full resync
    new_link = batches[-1].delta_link
    assert new_link and new_link != old_link

    org.app.expire_change_tracking_days = 7
    later = org.create("leads", {"lastname": "After the resync"})
    batches, rows, _ = _read(client, "lead", delta_link=new_link)
    assert {b.mode for b in batches} == {ChangeMode.DELTA}
    assert [row.id for row in rows] == [later]
