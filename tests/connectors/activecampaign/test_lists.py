"""Lists: read, and a contact's status on one set without re-subscribing anyone by mistake."""

from __future__ import annotations

from connectors.activecampaign import ListStatus

from .conftest import BASE, body, path

LISTS = {
    "lists": [
        {"id": "1", "name": "Newsletter", "stringid": "newsletter"},
        {"id": "2", "name": "Customers", "stringid": "customers"},
    ],
    "meta": {"total": "2"},
}


def _membership(list_id: str, status: int | str, member_id: str = "7") -> dict:
    return {
        "contact": "10",
        "list": list_id,
        "status": status,
        "udate": "2024-05-01T10:03:23-05:00",
        "id": member_id,
    }


def test_it_lists_the_lists(rsps, client):
    rsps.get(BASE + "lists", json=LISTS)

    lists = list(client.lists.all())

    assert [(item.id, item.name, item.string_id) for item in lists] == [
        ("1", "Newsletter", "newsletter"),
        ("2", "Customers", "customers"),
    ]


def test_it_reads_a_contacts_memberships(rsps, client):
    rsps.get(
        BASE + "contacts/10/contactLists",
        json={
            "contactLists": [
                _membership("1", "1"),
                _membership("2", "2", "8"),
                _membership("3", 91, "9"),
            ]
        },
    )

    memberships = client.lists.for_contact("10")

    assert [(m.list_id, m.status) for m in memberships] == [
        ("1", ListStatus.ACTIVE),
        ("2", ListStatus.UNSUBSCRIBED),
        ("3", None),  # a code AC does not document is not guessed at
    ]


def test_it_subscribes_a_contact(rsps, client):
    rsps.get(BASE + "contacts/10/contactLists", json={"contactLists": []})
    rsps.post(BASE + "contactLists", json={"contactList": _membership("1", 1)})

    membership = client.lists.subscribe("10", "1")

    assert membership.status is ListStatus.ACTIVE
    post = next(call for call in rsps.calls if call.request.method == "POST")
    assert body(post) == {"contactList": {"list": "1", "contact": "10", "status": "1"}}


def test_it_never_resubscribes_someone_who_unsubscribed_unless_told(rsps, client):
    rsps.get(BASE + "contacts/10/contactLists", json={"contactLists": [_membership("1", "2")]})
    rsps.post(BASE + "contactLists", json={"contactList": _membership("1", 1)})

    kept = client.lists.subscribe("10", "1")

    assert kept.status is ListStatus.UNSUBSCRIBED
    assert [call.request.method for call in rsps.calls] == ["GET"]

    again = client.lists.subscribe("10", "1", resubscribe=True)

    assert again.status is ListStatus.ACTIVE
    assert [path(call) for call in rsps.calls][-1] == "/api/3/contactLists"


def test_it_unsubscribes_a_contact(rsps, client):
    rsps.post(BASE + "contactLists", json={"contactList": _membership("1", 2)})

    membership = client.lists.unsubscribe("10", "1")

    assert membership.status is ListStatus.UNSUBSCRIBED
    assert body(rsps.calls[0]) == {"contactList": {"list": "1", "contact": "10", "status": "2"}}
