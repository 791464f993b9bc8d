"""Lists and a contact's place on them: what campaigns reach and webhooks' `listid` filters.

https://developers.activecampaign.com/reference/retrieve-all-lists
https://developers.activecampaign.com/reference/update-list-status-for-contact
"""

from __future__ import annotations

from collections.abc import Iterator

from . import parse
from .api import Resource, int_id, mapping, seg
from .records import ListMembership, ListStatus, MailingList


class Lists(Resource):
    """ActiveCampaignClient.lists."""

    def all(self) -> Iterator[MailingList]:
        for item in self.api.items("lists", "lists"):
            yield parse.mailing_list(item)

    def for_contact(self, contact_id: str) -> list[ListMembership]:
        """The contact's memberships, whatever their status."""
        items, _ = self.api.sub_items(f"contacts/{seg(contact_id)}/contactLists", "contactLists")
        return [parse.list_membership(item, self.api.learn_tz(item.get("udate"))) for item in items]

    def subscribe(
        self, contact_id: str, list_id: str, *, resubscribe: bool = False
    ) -> ListMembership:
        """Put the contact on the list as active.

        Status 1 on a contact who unsubscribed from the list subscribes them again, which
        their consent may not allow: unless `resubscribe`, such a contact is left as they are
        and their membership (status UNSUBSCRIBED) is returned.
        """
        if not resubscribe:
            for membership in self.for_contact(contact_id):
                if (
                    membership.list_id == str(list_id)
                    and membership.status is ListStatus.UNSUBSCRIBED
                ):
                    return membership
        return self._status(contact_id, list_id, ListStatus.ACTIVE)

    def unsubscribe(self, contact_id: str, list_id: str) -> ListMembership:
        return self._status(contact_id, list_id, ListStatus.UNSUBSCRIBED)

    def _status(self, contact_id: str, list_id: str, status: ListStatus) -> ListMembership:
        # Strings, as the request schema types them (update-list-status-for-contact).
        payload = {
            "contactList": {
                "list": str(int_id(list_id)),
                "contact": str(int_id(contact_id)),
                "status": str(int(status)),
            }
        }
        # Setting a status is idempotent: the same request leaves the same membership.
        body = mapping(
            self.api.call("POST", "contactLists", json=payload, idempotent=True), "contactList"
        )
        item = mapping(body.get("contactList"), "contactList")
        return parse.list_membership(item, self.api.learn_tz(item.get("udate")))
