"""Change tracking (S9): Prefer: odata.track-changes, delta links, deleted-entity stubs,
refused query options, the per-table flag and token expiry."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, unquote

import pytest

from .conftest import unique

pytestmark = pytest.mark.integration

TRACK = {"Prefer": "odata.track-changes"}


def _initial(s, url: str, page_size: int = 5000) -> tuple[list[dict], str, list[dict]]:
    headers = {"Prefer": f"odata.track-changes,odata.maxpagesize={page_size}"}
    rows, bodies = [], []
    for _ in range(500):
        response = s.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert "odata.track-changes" in response.headers["Preference-Applied"]
        body = response.json()
        bodies.append(body)
        rows += body["value"]
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            url = body["@odata.nextLink"]
            continue
        return rows, body["@odata.deltaLink"], bodies
    raise AssertionError("no deltaLink")


def test_it_returns_a_delta_link_on_the_last_page_of_a_tracked_load(dv, s):
    total = dv.app.store.count(dv.app.table("lead"))
    rows, delta, bodies = _initial(
        s, f"{dv.api}/leads?$select=fullname,emailaddress1", page_size=40
    )
    assert len(rows) == total and len(bodies) > 1
    assert delta.startswith(f"{dv.api}/leads?$select=fullname,emailaddress1&$deltatoken=")
    token = unquote(delta.split("$deltatoken=")[1])
    version, stamp = token.split("!")
    assert int(version) > 0
    assert dt.datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S")


def test_it_returns_changes_and_deletions_since_the_token_then_a_fresh_link(dv, s):
    keep = dv.create("contacts", {"lastname": unique("Keep")})
    doomed = dv.create("contacts", {"lastname": unique("Doomed")})
    _, delta, _ = _initial(s, f"{dv.api}/contacts?$select=lastname,jobtitle")
    fresh = dv.create("contacts", {"lastname": unique("Fresh")})
    s.patch(f"{dv.api}/contacts({keep})", json={"jobtitle": "Changed"}, headers={"If-Match": "*"})
    s.delete(f"{dv.api}/contacts({doomed})")
    response = s.get(delta)
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == f"{dv.api}/$metadata#contacts(lastname,jobtitle)/$delta"
    changed = [r for r in body["value"] if "contactid" in r]
    assert [r["contactid"] for r in changed] == [fresh, keep]  # in version order
    assert changed[1]["jobtitle"] == "Changed"
    assert set(changed[0]) == {"@odata.etag", "lastname", "jobtitle", "contactid"}
    deleted = [r for r in body["value"] if "reason" in r]
    assert deleted == [
        {
            "@odata.context": f"{dv.api}/$metadata#contacts/$deletedEntity",
            "id": doomed,
            "reason": "deleted",
        }
    ]
    assert body["value"][-1] == deleted[0]  # deletions after new/updated rows
    again = s.get(body["@odata.deltaLink"]).json()
    assert again["value"] == []
    count = s.get(
        f"{dv.api}/contacts/$count", params={"$deltatoken": unquote(delta.split("$deltatoken=")[1])}
    )
    assert count.text == "3"


def test_it_pages_a_big_delta(dv, s):
    _, delta, _ = _initial(s, f"{dv.api}/accounts?$select=name")
    prefix = unique("Bulk")
    for i in range(7):
        dv.create("accounts", {"name": f"{prefix}{i}"})
    seen = []
    url = delta
    for _ in range(10):
        body = s.get(url, headers={"Prefer": "odata.maxpagesize=3"}).json()
        seen += [r["name"] for r in body["value"]]
        if "@odata.deltaLink" in body:
            break
        url = body["@odata.nextLink"]
    assert seen == [f"{prefix}{i}" for i in range(7)]


@pytest.mark.parametrize("option", ["$filter", "$orderby", "$expand", "$top"])
def test_it_refuses_query_options_that_change_tracking_does_not_support(dv, s, option):
    values = {
        "$filter": "statecode eq 0",
        "$orderby": "name",
        "$expand": "primarycontactid",
        "$top": "5",
    }
    response = s.get(
        f"{dv.api}/accounts", params={"$select": "name", option: values[option]}, headers=TRACK
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'
    )


def test_it_refuses_tracking_on_a_table_without_change_tracking(dv, s):
    dv.app.change_tracking_set("lead", False)
    response = s.get(f"{dv.api}/leads?$select=fullname", headers=TRACK)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "0x80072491",
        "message": "Entity lead isn't enabled for change tracking.",
    }
    flag = s.get(
        f"{dv.api}/EntityDefinitions(LogicalName='lead')",
        params={"$select": "ChangeTrackingEnabled"},
    )
    assert flag.json()["ChangeTrackingEnabled"] is False


def test_it_expires_old_tokens(dv, s):
    _, delta, _ = _initial(s, f"{dv.api}/opportunities?$select=name")
    old_stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(days=8)).strftime("%m/%d/%Y %H:%M:%S")
    version = unquote(delta.split("$deltatoken=")[1]).split("!")[0]
    stale = (
        delta.split("$deltatoken=")[0] + "$deltatoken=" + quote(f"{version}!{old_stamp}", safe="")
    )
    response = s.get(stale)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "0x80044352",  # ExpiredVersionStamp
        "message": (
            "Version stamp associated with the client has expired. Please perform a full sync."
        ),
    }
    dv.app.expire_change_tracking_days = 30
    assert s.get(stale).status_code == 200
    org = s.get(f"{dv.api}/organizations", params={"$select": "expirechangetrackingindays"}).json()
    assert org["value"][0]["expirechangetrackingindays"] == 30
