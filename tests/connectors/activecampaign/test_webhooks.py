"""Webhooks: registered without the "api" source (no echo), listed and deleted."""

from __future__ import annotations

import pytest

from .conftest import BASE, body, path, query

HOOK = {
    "id": "1",
    "name": "syncadmin",
    "url": "https://sync.example/ac/hook/s3cret",
    "events": ["update", "contact_tag_added"],
    "sources": ["public", "admin", "system"],
    "listid": "0",
    "cdate": "2016-01-01T12:00:00-00:00",
}


def test_it_registers_a_webhook_without_the_api_source(rsps, client):
    rsps.post(BASE + "webhooks", status=201, json={"webhook": HOOK})

    hook = client.webhooks.create(
        name="syncadmin", url=HOOK["url"], events=["update", "contact_tag_added"]
    )

    assert body(rsps.calls[0]) == {
        "webhook": {
            "name": "syncadmin",
            "url": HOOK["url"],
            "events": ["update", "contact_tag_added"],
            "sources": ["public", "admin", "system"],
            "listid": 0,
        }
    }
    assert "api" not in hook.sources


def test_it_refuses_an_unknown_source(client):
    with pytest.raises(ValueError):
        client.webhooks.create(name="n", url="https://x", events=["update"], sources=["robots"])


def test_it_lists_and_deletes_webhooks(rsps, client):
    rsps.get(BASE + "webhooks", json={"webhooks": [HOOK], "meta": {"total": "1"}})
    rsps.delete(BASE + "webhooks/1", json={})
    rsps.delete(BASE + "webhooks/2", status=404, json={"message": "No Result found"})

    (hook,) = client.webhooks.all(url=HOOK["url"])
    client.webhooks.delete(hook.id)
    client.webhooks.delete("2")  # already gone: fine

    assert query(rsps.calls[0])["filters[url]"] == [HOOK["url"]]
    assert [path(call) for call in rsps.calls[1:]] == ["/api/3/webhooks/1", "/api/3/webhooks/2"]
