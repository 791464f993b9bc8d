"""What published extractors read from every stream: tap-activecampaign and
airbyte-source-activecampaign must get through all of it without an error.

tap-activecampaign checks the key at `GET /api/3/`, pages with `limit=100` while `offset <=
meta.total`, and replicates campaigns, lists and tags by `updated_timestamp` (falling back to
`created_timestamp`), dropping records without them. airbyte-source-activecampaign pages every
stream (campaigns, contacts, lists, deals, segments, forms, accounts) with `limit=20` and an
offset until a short page. Both send the `Api-Token` header only. The § marks name the topics
of the Sources table in sandbox/activecampaign/README.md.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
import requests

from sandbox.activecampaign.app import ActiveCampaignSandbox
from sandbox.activecampaign.schema import schema_ensure
from sandbox.store import Database

from .test_custom_objects import OPPORTUNITY

pytestmark = pytest.mark.integration

PLAIN_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
NOW = 1_750_000_000  # a fixed clock: 2025-06-15 15:06:40 UTC


def offset_pages(api, path: str, data_key: str, *, limit: int) -> list[dict]:
    """Every record of a stream, paged the way airbyte's OffsetIncrement does."""
    records, offset = [], 0
    while True:
        body = api.get(path, params={"limit": limit, "offset": offset}).json()
        records += body[data_key]
        if len(body[data_key]) < limit:
            return records
        offset += limit


def tap_pages(api, path: str, data_key: str) -> tuple[list[dict], int]:
    """Every record of a stream, paged the way tap-activecampaign does (offset <= total)."""
    records, offset, total = [], 0, 0
    while offset <= total:
        body = api.get(path, params={"offset": offset, "limit": 100}).json()
        records += body[data_key]
        total = int(body["meta"]["total"]) or len(body[data_key])
        offset += 100
    return records, total


@pytest.fixture
def streams(ac):
    ac.app.clock = lambda: NOW
    ac.app.seed(150)
    return ac


# -- the token check -------------------------------------------------------------------------
def test_it_answers_the_token_check_at_the_api_root(ac):
    for path in ("/api/3/", "/api/3"):
        good = requests.get(f"{ac.url}{path}", headers={"Api-Token": ac.key}, timeout=5)
        assert (good.status_code, good.json()) == (200, {})
        assert good.headers["Content-Type"].startswith("application/json")
    for headers in ({}, {"Api-Token": "not-a-key"}):
        bad = requests.get(f"{ac.url}/api/3/", headers=headers, timeout=5)
        assert (bad.status_code, bad.json()) == (403, {"message": "Forbidden"})


def test_it_tells_the_key_its_own_user(ac):
    me = ac.api.get("/users/me").json()["user"]  # AcClient compares it with SPEC's example
    assert (me["id"], me["username"]) == ("1", "admin")
    assert me["links"]["lists"].endswith("/api/3/users/1/lists")


# -- created_timestamp / updated_timestamp ----------------------------------------------------
@pytest.mark.parametrize(
    ("path", "key", "created", "updated"),
    [
        ("/campaigns", "campaigns", "cdate", "mdate"),
        ("/lists", "lists", "cdate", "udate"),
        ("/tags", "tags", "cdate", "cdate"),
    ],
)
def test_it_stamps_campaigns_lists_and_tags_as_the_api_does(streams, path, key, created, updated):
    records, total = tap_pages(streams.api, path, key)
    assert len(records) == total > 0
    table = {"campaigns": "campaigns", "lists": "lists", "tags": "tags"}[key]
    rows = {
        str(r["id"]): r
        for r in streams.app.db.execute(f"SELECT * FROM {table}")  # noqa: S608 - constant
    }
    for record in records:
        row = rows[record["id"]]
        assert PLAIN_TIMESTAMP.match(record["created_timestamp"]), record
        # In the account's zone (-05:00 here), like cdate: same wall time, no offset written.
        assert record["created_timestamp"] == streams.app.time.local_plain(row[created])
        assert record["updated_timestamp"] == streams.app.time.local_plain(row[updated])
        assert record["cdate"].replace("T", " ")[:19] == record["created_timestamp"]
        assert record["updated_timestamp"] >= record["created_timestamp"]
        assert (record["created_by"], record["updated_by"]) == (None, None)


def test_it_moves_a_tags_updated_timestamp_when_the_tag_changes(streams):
    tag = streams.api.get("/tags", params={"limit": 1}).json()["tags"][0]
    assert tag["updated_timestamp"] == tag["created_timestamp"]
    streams.app.clock = lambda: NOW + 3600
    changed = streams.api.put(f"/tags/{tag['id']}", {"tag": {"description": "edited"}}).json()
    assert changed["tag"]["created_timestamp"] == tag["created_timestamp"]
    assert changed["tag"]["updated_timestamp"] == "2025-06-15 11:06:40"  # NOW + 1 h at -05:00
    single = streams.api.get(f"/tags/{tag['id']}").json()["tag"]
    assert single["updated_timestamp"] == "2025-06-15 11:06:40"


def test_it_gives_an_older_state_file_the_columns_it_now_needs(tmp_path):
    path = tmp_path / "activecampaign.sqlite3"
    with sqlite3.connect(path) as old:  # the tables as the first release wrote them
        old.executescript(
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, tenant INTEGER NOT NULL, tag TEXT NOT "
            "NULL, tag_key TEXT NOT NULL, tag_type TEXT NOT NULL DEFAULT 'contact', description "
            "TEXT NOT NULL DEFAULT '', cdate INTEGER NOT NULL, UNIQUE (tenant, tag_key));"
            "CREATE TABLE forms (id INTEGER PRIMARY KEY, tenant INTEGER NOT NULL, "
            "name TEXT NOT NULL, cdate INTEGER NOT NULL);"
            "INSERT INTO tags (tenant, tag, tag_key, cdate) VALUES (1, 'Old', 'old', 1700000000);"
        )
    db = Database(path)
    app = ActiveCampaignSandbox(db, rate_limit=None)
    try:
        columns = {r["name"] for r in db.execute("PRAGMA table_info(tags)")}
        assert "udate" in columns
        assert {"udate", "list"} <= {r["name"] for r in db.execute("PRAGMA table_info(forms)")}
        schema_ensure(db)  # and again on the next start: nothing to add, no error
        row = db.execute_one("SELECT * FROM tags")
        assert app.tag_json(row, "http://x")["updated_timestamp"] == "2023-11-14 17:13:20"
    finally:
        app.close()
        db.close()


# -- side-loads on the contact list -------------------------------------------------------------
def test_it_side_loads_account_contacts_automations_and_deals_on_the_contact_list(streams):
    include = "accountContacts.account,contactAutomations.automation,deals"
    contacts, loaded = [], {"accountContacts": [], "contactAutomations": [], "deals": []}
    offset = 0
    while True:
        page = streams.api.get(
            "/contacts", params={"include": include, "limit": 40, "offset": offset}
        ).json()
        contacts += page["contacts"]
        for key in loaded:
            loaded[key] += page[key]
        assert {a["id"] for a in page["accounts"]} == {
            link["account"] for link in page["accountContacts"]
        }
        assert {a["id"] for a in page["automations"]} == {
            e["automation"] for e in page["contactAutomations"]
        }
        if len(page["contacts"]) < 40:
            break
        offset += 40
    db = streams.app.db

    def ids(sql: str, contact: str) -> list[str]:
        return [str(r[0]) for r in db.execute(sql, (int(contact),))]

    for contact in contacts:
        cid = contact["id"]
        assert contact["accountContacts"] == ids(
            "SELECT id FROM account_contacts WHERE contact = ? ORDER BY id", cid
        )
        assert contact["contactAutomations"] == ids(
            "SELECT id FROM contact_automations WHERE contact = ? ORDER BY id", cid
        )
        assert contact["deals"] == ids("SELECT id FROM deals WHERE contact = ? ORDER BY id", cid)
    assert len(loaded["accountContacts"]) == len(contacts)  # every seeded contact has one
    assert {d["id"] for d in loaded["deals"]} == {
        str(r[0]) for r in db.execute("SELECT id FROM deals")
    }
    assert loaded["contactAutomations"] and all(
        e["contact"] in {c["id"] for c in contacts} for e in loaded["contactAutomations"]
    )
    # The link objects are the ones /accountContacts serves.
    link = loaded["accountContacts"][0]
    assert streams.api.get(f"/accountContacts/{link['id']}").json()["accountContact"] == link


def test_it_adds_nothing_for_an_include_it_does_not_model(streams):
    plain = streams.api.get("/contacts", params={"limit": 5}).json()
    odd = streams.api.get(
        "/contacts", params={"limit": 5, "include": "organization,notes,no.such"}
    ).json()
    assert odd == plain


def test_it_can_stop_serving_the_field_values_side_load_on_the_contact_list(streams):
    params = {"limit": 10, "include": "fieldValues,contactTags"}
    served = streams.api.get("/contacts", params=params).json()
    assert served["fieldValues"] and "fieldValues" in served["contacts"][0]

    switched = streams.control("PUT", "/settings", {"contact_list_field_values": False})
    assert switched.json() == {"contact_list_field_values": False}
    ignored = streams.api.get("/contacts", params=params).json()
    assert "fieldValues" not in ignored
    assert all("fieldValues" not in contact for contact in ignored["contacts"])
    assert ignored["contactTags"] == served["contactTags"]  # the other includes still work
    # A single contact keeps its documented side-loads, and so does the per-contact route.
    first = served["contacts"][0]["id"]
    assert "fieldValues" in streams.api.get(f"/contacts/{first}").json()
    assert streams.api.get(f"/contacts/{first}/fieldValues").json()["fieldValues"]

    for bad in ({"contact_list_field_values": "no"}, {"no_such_switch": True}):
        refused = streams.control("PUT", "/settings", bad)
        assert refused.status_code == 400
    assert streams.control("GET", "/settings").json() == {"contact_list_field_values": False}
    streams.control("PUT", "/settings", {"contact_list_field_values": True})
    assert streams.api.get("/contacts", params=params).json()["fieldValues"]


# -- deals, segments, forms ---------------------------------------------------------------------
def test_it_serves_the_seeded_deals_with_the_documented_shape_and_paging(streams):
    deals = offset_pages(streams.api, "/deals", "deals", limit=2)  # AcClient checks the shape
    first = streams.api.get("/deals", params={"limit": 2}).json()
    assert first["meta"]["total"] == len(deals) == 6
    assert len({d["id"] for d in deals}) == 6
    currencies = first["meta"]["currencies"]
    assert currencies["USD"]["total"] == "6"
    assert int(currencies["USD"]["value"]) == sum(int(d["value"]) for d in deals)
    deal = deals[0]
    assert deal["links"]["dealActivities"].endswith(f"/api/3/deals/{deal['id']}/dealActivities")
    assert streams.api.get(f"/deals/{deal['id']}").json() == {"deal": deal}
    assert streams.api.get("/deals/999").status_code == 404
    # tap's Deals stream: `mdate` bookmark; every record has one at or after its `cdate`.
    assert all(d["mdate"] >= d["cdate"] for d in deals)

    won = streams.api.get("/deals", params={"filters[status]": 1}).json()["deals"]
    assert [d["title"] for d in won] == ["Onboarding services"]
    big = streams.api.get("/deals", params={"filters[minimum_value]": 40_000}).json()["deals"]
    assert {d["title"] for d in big} == {"Platform upgrade", "Enterprise expansion"}
    found = streams.api.get("/deals", params={"filters[search]": "pilot"}).json()
    assert [d["title"] for d in found["deals"]] == ["Pilot project"]
    assert found["meta"]["total"] == 1
    by_value = streams.api.get("/deals", params={"orders[value]": "DESC", "limit": 2}).json()
    assert [d["title"] for d in by_value["deals"]] == ["Enterprise expansion", "Platform upgrade"]
    bad_date = streams.api.get("/deals", params={"filters[created_after]": "soon"})
    assert bad_date.status_code == 422

    # Each deal is its contact's too.
    contact = deal["contact"]
    assert streams.api.get(f"/contacts/{contact}/deals").json() == {"deals": [deal]}
    single = streams.api.get(f"/contacts/{contact}").json()
    assert single["contact"]["deals"] == [deal["id"]] and single["deals"] == [deal]


def test_it_does_not_write_deals_segments_or_forms(streams):
    for method, path in (
        ("POST", "/deals"),
        ("PUT", "/deals/1"),
        ("DELETE", "/deals/1"),
        ("POST", "/forms"),
        ("DELETE", "/segments/1"),
    ):
        refused = streams.api(method, path, json_body={"deal": {"title": "x"}}, check=False)
        assert refused.status_code == 405, (method, path)
    assert streams.app.db.execute_one("SELECT COUNT(*) FROM deals")[0] == 6


def test_it_serves_segments_as_documented(streams):
    segments = offset_pages(streams.api, "/segments", "segments", limit=2)
    assert [s["name"] for s in segments] == [
        "Engaged in the last 30 days",
        "VIP customers",
        "Segment of Welcome series",
    ]
    # DOC segments' example: {"segment": {name, logic, hidden, seriesid, links: [], id}}.
    single = streams.api.get(f"/segments/{segments[2]['id']}").json()
    assert set(single) == {"segment"}
    segment = single["segment"]
    assert segment == segments[2]
    assert {"name", "logic", "hidden", "seriesid", "links", "id"} <= set(segment)
    assert (segment["logic"], segment["hidden"], segment["links"]) == ("and", "1", [])
    assert segment["seriesid"] != "0"  # an automation's own segment
    assert PLAIN_TIMESTAMP.match(segment["updated_timestamp"])
    total = streams.api.get("/segments", params={"limit": 1}).json()["meta"]["total"]
    assert total == "3"
    assert streams.api.get("/segments/999").status_code == 404


def test_it_serves_forms_as_documented(streams):
    forms = offset_pages(streams.api, "/forms", "forms", limit=1)  # AcClient checks the shape
    assert [f["name"] for f in forms] == ["Website signup", "Webinar registration"]
    signup = forms[0]
    assert signup["actiondata"]["actions"][0]["type"] == "subscribe-to-list"
    submitted = streams.app.db.execute_one(
        "SELECT COUNT(*), COUNT(DISTINCT contact) FROM contact_lists WHERE form = ?",
        (int(signup["id"]),),
    )
    assert (int(signup["entries"]), signup["contacts"]) == tuple(submitted)
    assert submitted[0] > 0
    assert streams.api.get(f"/forms/{signup['id']}").json() == {"form": signup}
    assert streams.api.get("/forms/999").status_code == 404
    # The contact list filters by the same form.
    by_form = streams.api.get("/contacts", params={"formid": signup["id"]}).json()
    assert by_form["meta"]["total"] == str(submitted[1])


def test_it_lets_an_extractor_read_every_stream_to_the_end(streams):
    # airbyte-source-activecampaign's seven streams, each to its last page.
    for path, key in (
        ("/campaigns", "campaigns"),
        ("/contacts", "contacts"),
        ("/lists", "lists"),
        ("/deals", "deals"),
        ("/segments", "segments"),
        ("/forms", "forms"),
        ("/accounts", "accounts"),
    ):
        records = offset_pages(streams.api, path, key, limit=20)
        total = streams.api.get(path, params={"limit": 1}).json()["meta"]["total"]
        assert len(records) == int(total) > 0, path
        assert len({r["id"] for r in records}) == len(records), path


def test_it_counts_and_relates_the_seeded_deals_elsewhere(streams):
    # §4.1: with count_deals=true an account counts its deals too.
    per_account = dict(
        streams.app.db.execute("SELECT account, COUNT(*) FROM deals GROUP BY account")
    )
    accounts = streams.api.get("/accounts", params={"count_deals": "true", "limit": 100}).json()[
        "accounts"
    ]
    counted = {int(a["id"]): int(a["dealCount"]) for a in accounts}
    assert {k: v for k, v in counted.items() if v} == per_account
    # §5.1: a custom object may relate to deals, and only to deals that exist.
    body = {
        **OPPORTUNITY,
        "slug": "deal-follow-up",
        "relationships": [
            {
                "id": "deal",
                "labels": {"singular": "Deal", "plural": "Deals"},
                "namespace": "deals",
                "hasMany": False,
            }
        ],
    }
    schema = streams.api.post("/customObjects/schemas", {"schema": body}).json()["schema"]
    deal_id = next(iter(streams.app.db.execute("SELECT id FROM deals ORDER BY id")))[0]

    def upsert(deal: int):
        return streams.api.post(
            f"/customObjects/records/{schema['id']}",
            {
                "record": {
                    "externalId": f"note-{deal}",
                    "fields": [
                        {"id": "name", "value": "Call back"},
                        {"id": "probability", "value": 40},
                    ],
                    "relationships": {"deal": [deal]},
                }
            },
        )

    related = upsert(deal_id)
    assert related.status_code == 201, related.text
    assert related.json()["record"]["relationships"] == {"deal": [str(deal_id)]}
    assert upsert(999).status_code == 422
