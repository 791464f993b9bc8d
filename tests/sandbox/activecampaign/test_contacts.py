"""Contacts (§2): CRUD, contact/sync, side-loads, listing, filters and paging."""

from __future__ import annotations

import re

import pytest

from .conftest import start, stop

pytestmark = pytest.mark.integration

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-05:00$")
PLAIN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def make_field(ac, title="Favourite colour", kind="text") -> str:
    return ac.api.post("/fields", {"field": {"title": title, "type": kind}}).json()["field"]["id"]


def test_it_creates_a_contact_with_inline_field_values_and_side_loads_them(ac):
    field_id = make_field(ac)
    response = ac.api.post(
        "/contacts",
        {
            "contact": {
                "email": "ana@contoso.example",
                "firstName": "Ana",
                "lastName": "Silva",
                "phone": "+351210000000",
                "fieldValues": [{"field": field_id, "value": "Blue"}],
            }
        },
    )
    assert response.status_code == 201
    body = response.json()
    contact = body["contact"]
    assert contact["email"] == "ana@contoso.example"
    assert isinstance(contact["id"], str)
    # §2.3: inside `contact` the field values are id strings, the objects are side-loaded.
    assert contact["fieldValues"] == [body["fieldValues"][0]["id"]]
    assert body["fieldValues"][0]["value"] == "Blue"
    assert body["fieldValues"][0]["field"] == field_id
    assert ISO_WITH_OFFSET.match(contact["cdate"])
    assert contact["cdate"] == contact["udate"]
    assert PLAIN.match(contact["created_utc_timestamp"])
    assert contact["links"]["contactTags"].endswith(f"/api/3/contacts/{contact['id']}/contactTags")


def test_it_answers_timestamps_in_the_accounts_utc_offset(sandbox_server):
    running = start(sandbox_server, utc_offset="+02:00")
    try:
        running.app.clock = lambda: 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
        contact = running.api.post("/contacts", {"contact": {"email": "tz@example.com"}}).json()
        assert contact["contact"]["cdate"] == "2023-11-15T00:13:20+02:00"
        assert contact["contact"]["created_utc_timestamp"] == "2023-11-14 22:13:20"
    finally:
        stop(sandbox_server, running)


def test_it_refuses_a_second_contact_with_the_same_email(ac):
    ac.api.post("/contacts", {"contact": {"email": "dup@example.com"}})
    response = ac.api.post("/contacts", {"contact": {"email": "DUP@example.com"}})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["code"] == "duplicate"
    assert error["source"]["pointer"] == "/data/attributes/email"


def test_it_treats_the_plural_contacts_sync_path_as_a_plain_create(ac):
    first = ac.api.post("/contacts/sync", {"contact": {"email": "p@example.com"}}, check=False)
    assert first.status_code == 201
    again = ac.api.post("/contacts/sync", {"contact": {"email": "p@example.com"}}, check=False)
    assert again.status_code == 422
    assert again.json()["errors"][0]["code"] == "duplicate"


def test_it_upserts_by_email_on_contact_sync(ac):
    created = ac.api.post(
        "/contact/sync",
        {"contact": {"email": "sync@example.com", "firstName": "Sam", "lastName": "Lee"}},
    )
    assert created.status_code == 201
    contact_id = created.json()["contact"]["id"]
    updated = ac.api.post(
        "/contact/sync", {"contact": {"email": "SYNC@example.com", "lastName": "Li"}}
    )
    # The update path answers 200 (undocumented; see contacts.py).
    assert updated.status_code == 200
    contact = updated.json()["contact"]
    assert contact["id"] == contact_id
    assert contact["firstName"] == "Sam"  # omitted keeps
    assert contact["lastName"] == "Li"


def test_it_clears_an_attribute_sent_as_an_empty_string_on_sync(ac):
    ac.api.post(
        "/contact/sync", {"contact": {"email": "e@example.com", "firstName": "Eve", "phone": "123"}}
    )
    contact = ac.api.post(
        "/contact/sync", {"contact": {"email": "e@example.com", "firstName": ""}}
    ).json()["contact"]
    assert contact["firstName"] == ""
    assert contact["phone"] == "123"


def test_it_needs_an_email_on_sync(ac):
    response = ac.api.post("/contact/sync", {"contact": {"firstName": "Nobody"}}, check=False)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "field_missing"


def test_it_rejects_a_malformed_email(ac):
    response = ac.api.post("/contacts", {"contact": {"email": "not-an-email"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/email"


def test_it_moves_udate_only_when_something_changed(ac):
    ac.app.clock = lambda: 1_700_000_000.0
    contact_id = ac.api.post(
        "/contacts", {"contact": {"email": "u@example.com", "firstName": "U"}}
    ).json()["contact"]["id"]
    ac.app.clock = lambda: 1_700_000_100.0
    same = ac.api.post(
        "/contact/sync", {"contact": {"email": "u@example.com", "firstName": "U"}}
    ).json()
    assert same["contact"]["udate"] == same["contact"]["cdate"]
    field_id = make_field(ac)
    changed = ac.api.put(
        f"/contacts/{contact_id}",
        {"contact": {"fieldValues": [{"field": field_id, "value": "x"}]}},
    ).json()
    assert changed["contact"]["udate"] != changed["contact"]["cdate"]


def test_it_updates_a_contact_by_id_including_its_email(ac):
    contact_id = ac.api.post("/contacts", {"contact": {"email": "old@example.com"}}).json()[
        "contact"
    ]["id"]
    response = ac.api.put(f"/contacts/{contact_id}", {"contact": {"email": "new@example.com"}})
    assert response.status_code == 200
    assert response.json()["contact"]["email"] == "new@example.com"
    found = ac.api.get("/contacts", params={"email": "new@example.com"}).json()
    assert [c["id"] for c in found["contacts"]] == [contact_id]


def test_it_answers_404_in_message_style_for_a_missing_contact(ac):
    response = ac.api.get("/contacts/999")
    assert response.status_code == 404
    assert response.json() == {"message": "No Result found for Subscriber with id 999"}
    assert ac.api.put("/contacts/999", {"contact": {"firstName": "x"}}).status_code == 404


def test_it_deletes_a_contact_and_answers_an_empty_object(ac):
    contact_id = ac.api.post("/contacts", {"contact": {"email": "d@example.com"}}).json()[
        "contact"
    ]["id"]
    response = ac.api.delete(f"/contacts/{contact_id}")
    assert response.status_code == 200
    assert response.json() == {}
    assert ac.api.get(f"/contacts/{contact_id}").status_code == 404
    again = ac.api.delete(f"/contacts/{contact_id}")
    assert again.status_code == 404
    assert "message" in again.json()


def test_it_side_loads_related_objects_on_get(seeded):
    contact = seeded.api.get("/contacts/1").json()
    for key in (
        "contactAutomations",
        "contactLists",
        "deals",
        "fieldValues",
        "geoAddresses",
        "geoIps",
    ):
        assert isinstance(contact[key], list)
    inner = contact["contact"]
    assert all(isinstance(i, str) for i in inner["fieldValues"])
    assert [v["id"] for v in contact["fieldValues"]] == inner["fieldValues"]
    assert inner["accountContacts"] and isinstance(inner["accountContacts"][0], str)
    assert inner["orgname"]


def test_it_answers_empty_collections_for_unmodelled_sub_resources(seeded):
    for sub in ("bounceLogs", "notes", "trackingLogs", "scoreValues", "contactGoals"):
        response = seeded.api.get(f"/contacts/1/{sub}")
        assert response.status_code == 200, sub
        assert response.json()[sub] == []
    assert seeded.api.get("/contacts/2/deals").json() == {"deals": []}  # only a few have deals
    datum = seeded.api.get("/contacts/1/contactData").json()["contactDatum"]
    assert datum["contact"] == "1"
    assert datum["geoCity"] == ""
    assert seeded.api.get("/contacts/99999/notes").status_code == 404


def test_it_side_loads_what_a_list_page_includes(seeded):
    # DOC sideloading (https://developers.activecampaign.com/reference/sideloading): `include`
    # adds one top-level array per relationship, and each contact names its related ids.
    plain = seeded.api.get("/contacts", params={"limit": 50}).json()
    assert "fieldValues" not in plain and "fieldValues" not in plain["contacts"][0]
    page = seeded.api.get(
        "/contacts",
        params={"limit": 50, "include": "fieldValues,contactTags.tag,contactLists.list"},
    ).json()
    contacts = page["contacts"]
    ids = {c["id"] for c in contacts}
    values = {v["id"]: v for v in page["fieldValues"]}
    assert values and {v["contact"] for v in values.values()} <= ids
    for contact in contacts:
        expected = seeded.app.db.execute(
            "SELECT id FROM field_values WHERE contact = ? ORDER BY id", (int(contact["id"]),)
        )
        assert contact["fieldValues"] == [str(r["id"]) for r in expected]
        assert all(values[i]["contact"] == contact["id"] for i in contact["fieldValues"])
    tags = {t["id"] for t in page["tags"]}
    assert page["contactTags"] and {ct["tag"] for ct in page["contactTags"]} == tags
    lists = {x["id"] for x in page["lists"]}
    assert page["contactLists"] and {cl["list"] for cl in page["contactLists"]} == lists
    # The contacts themselves are the same as without include.
    assert [c["email"] for c in contacts] == [c["email"] for c in plain["contacts"]]


def test_it_pages_with_limit_and_offset_and_caps_the_limit_at_100(seeded):
    default = seeded.api.get("/contacts").json()
    assert len(default["contacts"]) == 20
    total = int(default["meta"]["total"])
    assert isinstance(default["meta"]["total"], str)
    assert total > 200
    capped = seeded.api.get("/contacts", params={"limit": 500}).json()
    assert len(capped["contacts"]) == 100
    last = seeded.api.get("/contacts", params={"limit": 100, "offset": total - 5}).json()
    assert len(last["contacts"]) == 5
    beyond = seeded.api.get("/contacts", params={"limit": 100, "offset": total}).json()
    assert beyond["contacts"] == []


def test_it_pages_every_contact_exactly_once_with_id_greater(seeded):
    total = int(seeded.api.get("/contacts").json()["meta"]["total"])
    seen, last = [], 0
    for _ in range(20):
        page = seeded.api.get(
            "/contacts", params={"orders[id]": "ASC", "id_greater": last, "limit": 100}
        ).json()["contacts"]
        if not page:
            break
        seen.extend(int(c["id"]) for c in page)
        last = int(page[-1]["id"])
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)


def test_it_orders_by_the_given_fields(seeded):
    down = seeded.api.get("/contacts", params={"orders[id]": "DESC", "limit": 5}).json()["contacts"]
    ids = [int(c["id"]) for c in down]
    assert ids == sorted(ids, reverse=True)
    by_email = seeded.api.get("/contacts", params={"orders[email]": "ASC", "limit": 50}).json()[
        "contacts"
    ]
    emails = [c["email"].lower() for c in by_email]
    assert emails == sorted(emails)
    by_name = seeded.api.get(
        "/contacts", params={"orders[last_name]": "DESC", "orders[first_name]": "ASC", "limit": 100}
    ).json()["contacts"]
    keys = [(c["lastName"], c["firstName"]) for c in by_name]
    assert [k[0] for k in keys] == sorted([k[0] for k in keys], reverse=True)


def test_it_filters_by_id_range_and_ids(seeded):
    window = seeded.api.get("/contacts", params={"id_greater": 10, "id_less": 15}).json()
    assert [c["id"] for c in window["contacts"]] == ["11", "12", "13", "14"]
    assert window["meta"]["total"] == "4"
    chosen = seeded.api.get("/contacts?ids[]=3&ids[]=7").json()["contacts"]
    assert {c["id"] for c in chosen} == {"3", "7"}


def test_it_finds_contacts_by_email_exactly_and_by_parts(seeded):
    email = seeded.api.get("/contacts/5").json()["contact"]["email"]
    exact = seeded.api.get("/contacts", params={"email": email.upper()}).json()["contacts"]
    assert [c["email"] for c in exact] == [email]
    assert seeded.api.get("/contacts", params={"email": "x" + email}).json()["contacts"] == []
    domain = email.split("@")[1]
    like = seeded.api.get("/contacts", params={"email_like": domain, "limit": 100}).json()[
        "contacts"
    ]
    assert like and all(domain in c["email"] for c in like)
    last_name = seeded.api.get("/contacts/5").json()["contact"]["lastName"]
    search = seeded.api.get("/contacts", params={"search": last_name, "limit": 100}).json()[
        "contacts"
    ]
    assert any(c["id"] == "5" for c in search)


def test_it_filters_by_tag_and_list(seeded):
    tag = seeded.api.get("/tags", params={"search": "VIP"}).json()["tags"][0]
    tagged = seeded.api.get("/contacts", params={"tagid": tag["id"], "limit": 100}).json()
    assert tagged["contacts"]
    for contact in tagged["contacts"][:5]:
        tags = seeded.api.get(f"/contacts/{contact['id']}/contactTags").json()["contactTags"]
        assert tag["id"] in {t["tag"] for t in tags}
    newsletter = seeded.api.get("/contacts", params={"listid": 2, "limit": 100}).json()
    everyone = seeded.api.get("/contacts").json()
    assert 0 < int(newsletter["meta"]["total"]) < int(everyone["meta"]["total"])


def test_it_filters_by_created_and_updated_time(ac):
    times = iter([1_700_000_000.0, 1_700_100_000.0, 1_700_200_000.0])
    for n in range(3):
        stamp = next(times)
        ac.app.clock = lambda stamp=stamp: stamp
        ac.api.post("/contacts", {"contact": {"email": f"t{n}@example.com"}})
    # 1_700_100_000 = 2023-11-15 21:00:00 -05:00
    after = ac.api.get(
        "/contacts", params={"filters[created_after]": "2023-11-15T21:00:00-05:00"}
    ).json()
    assert [c["email"] for c in after["contacts"]] == ["t1@example.com", "t2@example.com"]
    before = ac.api.get("/contacts", params={"filters[created_before]": "2023-11-15"}).json()
    assert [c["email"] for c in before["contacts"]] == ["t0@example.com"]
    ac.app.clock = lambda: 1_700_300_000.0
    ac.api.post("/contact/sync", {"contact": {"email": "t0@example.com", "firstName": "changed"}})
    updated = ac.api.get(
        "/contacts", params={"filters[updated_after]": "2023-11-17 12:00:00"}
    ).json()["contacts"]
    assert [c["email"] for c in updated] == ["t0@example.com"]
    stale = ac.api.get(
        "/contacts", params={"filters[updated_before]": "2023-11-17T12:00:00"}
    ).json()
    assert stale["meta"]["total"] == "2"
    bad = ac.api.get("/contacts", params={"filters[updated_after]": "yesterday"})
    assert bad.status_code == 422


def test_it_allows_a_phone_only_contact_when_asked(ac):
    refused = ac.api.post("/contacts", {"contact": {"phone": "555"}})
    assert refused.status_code == 422
    allowed = ac.api.post("/contacts", {"contact": {"phone": "555", "allowNullEmail": True}})
    assert allowed.status_code == 201
    assert allowed.json()["contact"]["email_empty"] is True
