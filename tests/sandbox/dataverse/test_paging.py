"""Paging as the reference describes it: Prefer: odata.maxpagesize, absolute @odata.nextLink
with an opaque $skiptoken, Preference-Applied, $top vs maxpagesize, the 5000 cap on counts."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from .conftest import org_start, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def big(dv_tls_dir):
    """An organization with more than 5000 contacts (12,000 seeded people)."""
    org = org_start(dv_tls_dir, seed=12000)
    yield org
    for handle in org.handles:
        handle.stop()


def _page_all(s, url: str, page_size: int | None) -> tuple[list[dict], list[dict]]:
    headers = {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}
    rows, pages = [], []
    for _ in range(1000):  # a bound on the loop, as every remote loop has
        response = s.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append({"count": len(body["value"]), "headers": response.headers, "body": body})
        rows += body["value"]
        url = body.get("@odata.nextLink")
        if not url:
            break
    return rows, pages


def test_it_pages_with_maxpagesize_and_absolute_next_links(big):
    s = big.session()
    total = big.app.store.count(big.app.table("contact"))
    assert total > 5000
    rows, pages = _page_all(s, f"{big.api}/contacts?$select=fullname", 1000)
    assert len(rows) == total
    assert len({r["contactid"] for r in rows}) == total
    assert all(p["count"] == 1000 for p in pages[:-1])
    assert all(p["headers"]["Preference-Applied"] == "odata.maxpagesize=1000" for p in pages)
    first_link = pages[0]["body"]["@odata.nextLink"]
    assert first_link.startswith(f"{big.api}/contacts?$select=fullname&$skiptoken=")
    token = unquote(first_link.split("$skiptoken=", 1)[1])
    assert token.startswith('<cookie pagenumber="2" pagingcookie="') and token.endswith(
        'istracking="False" />'
    )
    assert "@odata.nextLink" not in pages[-1]["body"]


def test_it_serves_5000_rows_per_page_by_default_and_caps_counts(big):
    s = big.session()
    response = s.get(
        f"{big.api}/contacts",
        params={"$select": "contactid", "$count": "true"},
        headers={
            "Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,'
            'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"'
        },
    )
    body = response.json()
    assert len(body["value"]) == 5000
    assert "@odata.nextLink" in body
    assert body["@odata.count"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
    assert s.get(f"{big.api}/contacts/$count").text == "5000"
    capped = s.get(
        f"{big.api}/contacts",
        params={"$select": "contactid"},
        headers={"Prefer": "odata.maxpagesize=9000"},
    )
    assert capped.headers["Preference-Applied"] == "odata.maxpagesize=5000"
    assert len(capped.json()["value"]) == 5000


def test_it_ignores_top_when_maxpagesize_is_sent(big):
    s = big.session()
    paged = s.get(
        f"{big.api}/contacts",
        params={"$select": "contactid", "$top": "10"},
        headers={"Prefer": "odata.maxpagesize=3"},
    )
    assert len(paged.json()["value"]) == 3
    assert "@odata.nextLink" in paged.json()
    top_only = s.get(f"{big.api}/contacts", params={"$select": "contactid", "$top": "10"}).json()
    assert len(top_only["value"]) == 10
    assert "@odata.nextLink" not in top_only


def test_it_pages_a_modifiedon_filter_in_key_order(big):
    s = big.session()
    store = big.app.store
    cutoff = store.query(
        "SELECT modifiedon FROM dv_contact ORDER BY modifiedon LIMIT 1 OFFSET 1500"
    )[0][0]
    expected = store.query("SELECT COUNT(*) FROM dv_contact WHERE modifiedon >= ?", (cutoff,))[0][0]
    url = (
        f"{big.api}/contacts?$select=modifiedon&$filter=modifiedon ge {cutoff}"
        "&$orderby=modifiedon asc,contactid asc"
    )
    rows, pages = _page_all(s, url, 500)
    assert len(rows) == expected
    keys = [(r["modifiedon"], r["contactid"]) for r in rows]
    assert keys == sorted(keys)
    assert len(pages) == -(-expected // 500)


def test_it_keeps_descending_orders_with_nulls_stable_across_pages(dv):
    s = dv.session()
    p = unique("Pg")
    for i, middle in enumerate(["b", None, "a", None, "c", "b", None]):
        body = {"lastname": f"{p}{i}"}
        if middle:
            body["middlename"] = middle
        dv.create("contacts", body, s)
    base = f"{dv.api}/contacts?$select=middlename,lastname&$filter=startswith(lastname,'{p}')"
    for order in ("middlename desc", "middlename asc,lastname desc"):
        whole, _ = _page_all(s, f"{base}&$orderby={order}", None)
        paged, pages = _page_all(s, f"{base}&$orderby={order}", 2)
        assert [r["contactid"] for r in paged] == [r["contactid"] for r in whole]
        assert len(pages) == 4
        if order == "middlename desc":
            assert [r["middlename"] for r in whole][:4] == ["c", "b", "b", "a"]


def test_it_neither_repeats_nor_skips_rows_when_data_changes_between_pages(dv):
    s = dv.session()
    p = unique("Pc")
    for i in range(6):
        dv.create("contacts", {"lastname": f"{p}{i}"}, s)
    url = (
        f"{dv.api}/contacts?$select=lastname&$filter=startswith(lastname,'{p}')"
        "&$orderby=lastname asc"
    )
    first = s.get(url, headers={"Prefer": "odata.maxpagesize=3"}).json()
    dv.create("contacts", {"lastname": f"{p}9"}, s)  # sorts after every row seen so far
    rest, _ = _page_all(s, first["@odata.nextLink"], 3)
    names = [r["lastname"] for r in first["value"] + rest]
    assert names == [f"{p}{i}" for i in (0, 1, 2, 3, 4, 5, 9)]


def test_it_refuses_a_tampered_skiptoken(dv, s):
    response = s.get(f"{dv.api}/contacts", params={"$skiptoken": "<cookie nonsense/>"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message"}
