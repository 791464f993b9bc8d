"""Tags and contact tags (§8)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def tag(ac, name) -> dict:
    response = ac.api.post("/tags", {"tag": {"tag": name, "tagType": "contact", "description": ""}})
    assert response.status_code == 201, response.text
    return response.json()["tag"]


def contact(ac, email="t@example.com") -> str:
    return ac.api.post("/contacts", {"contact": {"email": email}}).json()["contact"]["id"]


def test_it_refuses_a_tag_name_that_exists_in_any_case(ac):
    tag(ac, "D365: Customer")
    response = ac.api.post("/tags", {"tag": {"tag": "d365: customer", "tagType": "contact"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "duplicate"


def test_it_searches_tags(ac):
    for name in ("Customer", "Prospect", "Customer VIP", "customer-old"):
        tag(ac, name)
    contains = ac.api.get("/tags", params={"search": "cust"}).json()
    assert {t["tag"] for t in contains["tags"]} == {"Customer", "Customer VIP", "customer-old"}
    assert contains["meta"]["total"] == "3"
    exact = ac.api.get("/tags", params={"filters[search][eq]": "customer"}).json()["tags"]
    assert [t["tag"] for t in exact] == ["Customer"]
    starts = ac.api.get("/tags", params={"filters[search][starts_with]": "Pro"}).json()["tags"]
    assert [t["tag"] for t in starts] == ["Prospect"]
    weighted = ac.api.get("/tags", params={"search": "customer", "orders[search]": "weight"}).json()
    assert weighted["tags"][0]["tag"] == "Customer"


def test_it_reads_updates_and_deletes_a_tag(ac):
    created = tag(ac, "Lead")
    assert ac.api.get(f"/tags/{created['id']}").json()["tag"]["subscriber_count"] == "0"
    updated = ac.api.put(
        f"/tags/{created['id']}", {"tag": {"tag": "Hot lead", "description": "warm"}}
    )
    assert updated.json()["tag"]["tag"] == "Hot lead"
    assert ac.api.delete(f"/tags/{created['id']}").json() == {}
    missing = ac.api.get(f"/tags/{created['id']}")
    assert missing.json() == {"message": f"No Result found for Tag with id {created['id']}"}


def test_it_tags_a_contact_and_lists_its_tags(ac):
    created = tag(ac, "Customer")
    contact_id = contact(ac)
    response = ac.api.post(
        "/contactTags", {"contactTag": {"contact": int(contact_id), "tag": int(created["id"])}}
    )
    assert response.status_code == 201
    link = response.json()["contactTag"]
    assert (link["contact"], link["tag"]) == (contact_id, created["id"])
    listed = ac.api.get(f"/contacts/{contact_id}/contactTags").json()["contactTags"]
    assert [t["id"] for t in listed] == [link["id"]]
    again = ac.api.post(
        "/contactTags", {"contactTag": {"contact": int(contact_id), "tag": int(created["id"])}}
    )
    assert again.json()["contactTag"]["id"] == link["id"]
    tagged = ac.api.get("/contacts", params={"tagid": created["id"]}).json()
    assert [c["id"] for c in tagged["contacts"]] == [contact_id]


def test_it_also_takes_ids_as_strings_as_clients_send_them(ac):
    # The schema types the ids as integers; §8's example and clients send strings.
    created = tag(ac, "Customer")
    contact_id = contact(ac)
    body = {"contactTag": {"contact": contact_id, "tag": created["id"]}}
    assert ac.api.post("/contactTags", body, check=False).status_code == 201


def test_it_answers_404_when_the_contact_to_tag_is_missing(ac):
    created = tag(ac, "Customer")
    response = ac.api.post(
        "/contactTags", {"contactTag": {"contact": 999, "tag": int(created["id"])}}
    )
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]
    }


def test_it_answers_422_when_an_attribute_is_missing(ac):
    response = ac.api.post("/contactTags", {"contactTag": {"tag": 1}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/contact"


def test_it_removes_a_tag_by_association_id_and_404s_when_gone(ac):
    created = tag(ac, "Customer")
    contact_id = contact(ac)
    link = ac.api.post(
        "/contactTags", {"contactTag": {"contact": int(contact_id), "tag": int(created["id"])}}
    ).json()["contactTag"]
    assert ac.api.delete(f"/contactTags/{link['id']}").json() == {}
    gone = ac.api.delete(f"/contactTags/{link['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"message": f"No Result found for SubscriberTag with id {link['id']}"}
    assert ac.api.get(f"/contacts/{contact_id}/contactTags").json()["contactTags"] == []


def test_a_create_that_loses_a_race_gets_a_duplicate_error(ac, monkeypatch):
    """Two creates that both pass the duplicate check before either inserts: the unique
    constraint stops the second, which must read as AC's 422 duplicate, not a 500 (§8)."""
    from sandbox.activecampaign.tags import TagsApi

    tag(ac, "Racing")
    checked = TagsApi._tag_values

    def check_as_if_not_yet_inserted(self, tenant, data, current_id):
        return (
            {"tag": data["tag"], "tag_key": data["tag"].lower()}
            if current_id is None
            else checked(self, tenant, data, current_id)
        )

    monkeypatch.setattr(TagsApi, "_tag_values", check_as_if_not_yet_inserted)

    response = ac.api.post(
        "/tags", {"tag": {"tag": "Racing", "tagType": "contact", "description": ""}}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "duplicate"
