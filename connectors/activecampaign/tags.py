"""Contact tags: found or created by name (cached), added to and removed from contacts.

https://developers.activecampaign.com/reference/retrieve-all-tags
https://developers.activecampaign.com/reference/create-contact-tag
"""

from __future__ import annotations

import logging

from connectors.errors import RecordError

from . import parse
from .api import Api, Resource, int_id, mapping, seg
from .records import ContactTag, Tag

logger = logging.getLogger(__name__)


class Tags(Resource):
    """ActiveCampaignClient.tags: names are unique case-insensitively, and AC refuses a second
    tag of the same name, so a name is searched before it is created."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self._by_name: dict[str, Tag] = {}

    def find(self, name: str) -> Tag | None:
        """The contact tag with this name (case-insensitive), from the cache or a search."""
        key = name.strip().casefold()
        if key in self._by_name:
            return self._by_name[key]
        found = self._search(name.strip())
        if found is not None:
            self._by_name[key] = found
        return found

    def ensure(self, name: str, *, description: str = "") -> Tag:
        """Find the tag by name or create it; a concurrent creation (422) is answered by
        searching again."""
        name = name.strip()
        if not name:
            raise ValueError("a tag needs a name")
        existing = self.find(name)
        if existing is not None:
            return existing
        payload = {"tag": {"tag": name, "tagType": "contact", "description": description}}
        try:
            # Repeatable after a failure that may have reached AC (5xx, dropped connection):
            # if the first try created the tag, the repeat's 422 is answered by the search.
            body = mapping(self.api.call("POST", "tags", json=payload, idempotent=True), "tags")
        except RecordError as error:
            if error.status != 422:
                raise
            found = self._search(name)
            if found is None:
                raise
            self._by_name[name.casefold()] = found
            return found
        created = parse.tag(mapping(body.get("tag"), "tag"))
        self._by_name[name.casefold()] = created
        return created

    def get(self, tag_id: str) -> Tag:
        """One tag by id (GET /tags/{id}): names a contact's tag links."""
        body = self.api.get_mapping(f"tags/{seg(tag_id)}")
        return parse.tag(mapping(body.get("tag"), "tag"))

    def _search(self, name: str) -> Tag | None:
        wanted = name.casefold()
        for item in self.api.items("tags", "tags", {"filters[search][eq]": name}):
            if str(item.get("tag", "")).strip().casefold() == wanted:
                return parse.tag(item)
        return None

    def for_contact(self, contact_id: str) -> list[ContactTag]:
        """The contact's tag associations (their ids are what removal takes)."""
        items, _ = self.api.sub_items(f"contacts/{seg(contact_id)}/contactTags", "contactTags")
        return [parse.contact_tag(item, self.api.account_tz) for item in items]

    def add(self, contact_id: str, tag: str | Tag) -> ContactTag:
        """Tag a contact, creating the tag if needed."""
        resolved = tag if isinstance(tag, Tag) else self.ensure(tag)
        payload = {"contactTag": {"contact": int_id(contact_id), "tag": int_id(resolved.id)}}
        # Safe to send again: a repeated association is harmless, and removal deletes every
        # association of the tag.
        body = mapping(
            self.api.call("POST", "contactTags", json=payload, idempotent=True), "contactTags"
        )
        return parse.contact_tag(mapping(body.get("contactTag"), "contactTag"), self.api.account_tz)

    def remove(self, contact_id: str, tag: str | Tag) -> bool:
        """Untag a contact; False when it did not have the tag. DELETE takes the association
        id, found on the contact; a 404 means an automation removed it first."""
        resolved = tag if isinstance(tag, Tag) else self.find(tag)
        if resolved is None:
            return False
        links = [link for link in self.for_contact(contact_id) if link.tag_id == resolved.id]
        for link in links:
            if not self.api.delete(f"contactTags/{seg(link.id)}"):
                logger.info("contact tag %s was already removed", link.id)
        return bool(links)
