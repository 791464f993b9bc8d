"""Webhooks: an automation's (or the account's) calls back to the product.

https://developers.activecampaign.com/reference/create-webhook
https://developers.activecampaign.com/page/webhooks
"""

from __future__ import annotations

from collections.abc import Sequence

from . import parse
from .api import Resource, mapping, seg
from .records import Webhook

# Our own writes come back as webhook source "api": leaving it out is the echo-loop guard.
DEFAULT_WEBHOOK_SOURCES = ("public", "admin", "system")
WEBHOOK_SOURCES = frozenset({"public", "admin", "api", "system"})


class Webhooks(Resource):
    """ActiveCampaignClient.webhooks."""

    def all(self, *, url: str | None = None) -> list[Webhook]:
        """The account's webhooks, or those calling `url`."""
        params = {"filters[url]": url} if url else None
        return [parse.webhook(item) for item in self.api.items("webhooks", "webhooks", params)]

    def create(
        self,
        *,
        name: str,
        url: str,
        events: Sequence[str],
        sources: Sequence[str] = DEFAULT_WEBHOOK_SOURCES,
        list_id: str | int = 0,
    ) -> Webhook:
        """Register a webhook. `sources` leaves out "api" by default: AC would otherwise call
        us back for our own writes."""
        unknown = set(sources) - WEBHOOK_SOURCES
        if unknown or not sources or not events:
            raise ValueError(f"events and sources are required; unknown sources: {unknown}")
        payload = {
            "webhook": {
                "name": name,
                "url": url,
                "events": list(events),
                "sources": list(sources),
                "listid": int(list_id),
            }
        }
        body = mapping(self.api.call("POST", "webhooks", json=payload), "webhook")
        return parse.webhook(mapping(body.get("webhook"), "webhook"))

    def delete(self, webhook_id: str) -> bool:
        """Delete a webhook; False when it was already gone."""
        return self.api.delete(f"webhooks/{seg(webhook_id)}")
