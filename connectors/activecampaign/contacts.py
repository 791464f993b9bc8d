"""Contacts and their custom field values: streams, reads by id and e-mail, writes.

https://developers.activecampaign.com/reference/list-all-contacts
https://developers.activecampaign.com/reference/sync-a-contacts-data
"""

from __future__ import annotations

import logging
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.errors import FatalError, NotFoundError

from . import parse
from .api import Api, Resource, mapping, seg
from .errors import VENDOR
from .fields import CustomFields
from .paging import MAX_PAGES, PAGE_LIMIT, keyset_pages
from .records import Contact, ContactChanges, ContactSyncResult
from .values import api_timestamp, as_id, encode_contact_value

logger = logging.getLogger(__name__)

CONTACT_STANDARD_KEYS = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
}


class Contacts(Resource):
    """ActiveCampaignClient.contacts: every read says whether field values were loaded.

    Lists ask for the values side-loaded (`include=fieldValues`): the public reference shows
    side-loading (https://developers.activecampaign.com/reference/sideloading) but does not
    promise this include on the contact list. A contact whose values did not come with its
    page (the top-level `fieldValues` array missing, or lacking ids the contact names) has them
    read from the documented per-contact route, contacts/{id}/fieldValues
    (https://developers.activecampaign.com/reference/retrieve-contact-field-values): one call
    per contact, the cheapest documented way for a page, because /fieldValues
    (https://developers.activecampaign.com/reference/list-all-custom-field-values) filters
    only by field and value, not by contact, and has no documented order, so offset pages over
    a changing set could skip a value, which would read as a blank.
    """

    def __init__(self, api: Api, custom_fields: CustomFields) -> None:
        super().__init__(api)
        self.custom_fields = custom_fields
        self._warned = False

    # -- streams ----------------------------------------------------------------------------
    def all(
        self, *, with_field_values: bool = True, max_pages: int = MAX_PAGES
    ) -> Iterator[Contact]:
        """Every contact, by ascending id (keyset paging), custom field values typed."""
        return self._stream({}, with_field_values=with_field_values, max_pages=max_pages)

    def changed_since(
        self,
        since: datetime,
        *,
        overlap: timedelta = timedelta(hours=24),
        seen: Container[tuple[str, datetime | None]] = (),
        with_field_values: bool = True,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[Contact]:
        """Contacts updated at or after `since - overlap`, oldest id first.

        `filters[updated_after]` is typed `date` in the docs and nobody documents whether the
        time part is honoured or which zone a value is read in: the request asks from
        `since - overlap` (24 h covers every zone offset and a date-only reading), and the
        answer is filtered here on `udate` converted to UTC. Versions the caller has already
        handled, (id, udate) pairs from `seen` (e.g. the last run's overlap), are skipped;
        within one stream keyset paging returns each contact at most once.
        Bookmark advice for the caller: the next `since` is this run's start, never a udate.
        """
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        cutoff = since.astimezone(UTC) - overlap
        params = {"filters[updated_after]": api_timestamp(cutoff)}
        stream = self._stream(params, with_field_values=with_field_values, max_pages=max_pages)
        return (
            contact
            for contact in stream
            if (contact.updated_at is None or contact.updated_at >= cutoff)
            and contact.version not in seen
        )

    def _stream(
        self, params: Mapping, *, with_field_values: bool, max_pages: int
    ) -> Iterator[Contact]:
        types = self.custom_fields.contact_types() if with_field_values else {}

        def fetch(last_id: int | None) -> Mapping:
            query: dict[str, Any] = {**params, "orders[id]": "ASC", "limit": PAGE_LIMIT}
            if last_id is not None:
                query["id_greater"] = last_id
            if with_field_values:
                query["include"] = "fieldValues"
            return self.api.get_mapping("contacts", query)

        for page in keyset_pages(fetch, "contacts", limit=PAGE_LIMIT, max_pages=max_pages):
            # id_greater makes pages disjoint; a page's own repeats are dropped here, by
            # (id, udate), in memory bounded by the page size.
            yielded: set[tuple[str, Any]] = set()
            for contact in self._page(page, types, with_field_values=with_field_values):
                if contact.version in yielded:
                    continue
                yielded.add(contact.version)
                yield contact

    # -- reads ------------------------------------------------------------------------------
    def get(self, contact_id: str) -> Contact:
        """One contact with its custom field values (NotFoundError if it does not exist)."""
        body = self.api.get_mapping(f"contacts/{seg(contact_id)}")
        item = body.get("contact")
        if not isinstance(item, Mapping):
            raise FatalError("the answer has no contact", vendor=VENDOR)
        # GET contacts/{id} documents `fieldValues` side-loaded; checked all the same.
        return self._page({**body, "contacts": [item]}, self.custom_fields.contact_types())[0]

    def get_many(self, ids: Iterable[str], *, with_field_values: bool = True) -> list[Contact]:
        """The contacts with these ids that exist, by ascending id: one request per 100.

        The contact list filters by id (`ids[]=1&ids[]=2`, list-all-contacts). An answer naming
        a contact that was not asked for means the filter was not applied: that batch is read
        one contact at a time instead, so that a contact missing from the answer always means
        it does not exist.
        """
        wanted = sorted({str(i) for i in ids}, key=lambda i: (len(i), i))
        types = self.custom_fields.contact_types() if with_field_values else {}
        found: list[Contact] = []
        for start in range(0, len(wanted), PAGE_LIMIT):
            batch = wanted[start : start + PAGE_LIMIT]
            params: list[tuple[str, Any]] = [("ids[]", contact_id) for contact_id in batch]
            params += [("limit", PAGE_LIMIT), ("orders[id]", "ASC")]
            if with_field_values:
                params.append(("include", "fieldValues"))
            page = self.api.get_mapping("contacts", params)
            items = [item for item in page.get("contacts") or () if isinstance(item, Mapping)]
            if any(as_id(item.get("id")) not in batch for item in items):
                logger.warning("the contact list ignored ids[]; reading %d by id", len(batch))
                found += [c for c in map(self._get_or_none, batch) if c is not None]
                continue
            found += self._page(page, types, with_field_values=with_field_values)
        return found

    def _get_or_none(self, contact_id: str) -> Contact | None:
        try:
            return self.get(contact_id)
        except NotFoundError:
            return None

    def find_by_email(self, email: str) -> Contact | None:
        """The contact with this e-mail (AC matches e-mails case-insensitively)."""
        page = self.api.get_mapping("contacts", {"email": email, "include": "fieldValues"})
        items = [
            item
            for item in page.get("contacts") or ()
            if isinstance(item, Mapping)
            and str(item.get("email", "")).casefold() == email.casefold()
        ]
        if not items:
            return None
        return self._page({**page, "contacts": items[:1]}, self.custom_fields.contact_types())[0]

    def _page(
        self, page: Mapping, types: Mapping[str, str], *, with_field_values: bool = True
    ) -> list[Contact]:
        """The page's contacts with their values: side-loaded, else read per contact."""
        side_load = page.get("fieldValues")
        by_contact = parse.field_values_by_contact(side_load or ())
        contacts = []
        for item in page.get("contacts") or ():
            if not isinstance(item, Mapping):
                continue
            tz = self.api.learn_tz(item.get("udate"), item.get("cdate"))
            contact_id = as_id(item.get("id")) or ""
            values: Sequence[Mapping] = by_contact.get(contact_id, ())
            loaded = False
            if with_field_values:
                loaded = isinstance(side_load, list) and _has_every_named_value(item, values)
                if not loaded:
                    self._warn_once(contact_id)
                    values, loaded = self._values_of(item)
            contacts.append(
                parse.contact(item, values, field_types=types, tz=tz, field_values_loaded=loaded)
            )
        return contacts

    def _values_of(self, item: Mapping) -> tuple[list[Mapping], bool]:
        """(contacts/{id}/fieldValues items, whether they are all of them)."""
        contact_id = as_id(item.get("id")) or ""
        try:
            values, complete = self.api.sub_items(
                f"contacts/{seg(contact_id)}/fieldValues", "fieldValues"
            )
        except NotFoundError:
            return [], False  # deleted meanwhile: nothing is known about its values
        return values, complete and _has_every_named_value(item, values)

    def _warn_once(self, contact_id: str) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "ActiveCampaign answered without the field values of contact %s; reading "
                "them per contact (contacts/{id}/fieldValues)",
                contact_id,
            )

    # -- writes -----------------------------------------------------------------------------
    def sync(self, changes: ContactChanges) -> ContactSyncResult:
        """Create or update the contact with this e-mail (POST /contact/sync), in one call.

        The path is singular: /contacts/sync is routed as a plain create and 422s for an
        existing e-mail (https://developers.activecampaign.com/reference/sync-a-contacts-data).
        Idempotent: safe to retry.
        """
        payload = contact_payload(changes, require_email=True)
        response = self.api.send("POST", "contact/sync", json={"contact": payload}, idempotent=True)
        body = mapping(self.api.json(response), "contact/sync")
        item = body.get("contact") if isinstance(body.get("contact"), Mapping) else {}
        # Created: AC documents 201 for the create path; the update path's status is not
        # documented (200 seen, 201 possible), so 201 alone does not prove a creation, and
        # cdate == udate alone does not either: timestamps are whole seconds, an update in
        # the creation's second leaves them equal. Both must agree.
        same_stamp = not item.get("cdate") or item.get("cdate") == item.get("udate")
        created = response.status_code == 201 and same_stamp
        return ContactSyncResult(contact=self._written(body), created=created)

    def update(self, contact_id: str, changes: ContactChanges) -> Contact:
        """Update a contact by AC id (PUT /contacts/{id}): the way to change an e-mail, which
        contact/sync would take for a new contact."""
        payload = contact_payload(changes, require_email=False)
        body = mapping(
            self.api.call("PUT", f"contacts/{seg(contact_id)}", json={"contact": payload}),
            "contact",
        )
        return self._written(body)

    def delete(self, contact_id: str) -> bool:
        """Delete a contact; False when it did not exist (deleted meanwhile: done either way)."""
        return self.api.delete(f"contacts/{seg(contact_id)}")

    def _written(self, body: Mapping) -> Contact:
        """The contact a write answered. Its values count as loaded only when the contact
        names its value ids and every one is side-loaded: a write's answer is not promised to
        carry values it did not write."""
        item = body.get("contact")
        if not isinstance(item, Mapping):
            raise FatalError("the answer has no contact", vendor=VENDOR)
        tz = self.api.learn_tz(item.get("udate"), item.get("cdate"))
        contact_id = as_id(item.get("id")) or ""
        side_load = body.get("fieldValues")
        values = parse.field_values_by_contact(side_load or ()).get(contact_id, ())
        loaded = (
            isinstance(side_load, list)
            and isinstance(item.get("fieldValues"), list)
            and _has_every_named_value(item, values)
        )
        return parse.contact(
            item,
            values,
            field_types=self.custom_fields.contact_types(),
            tz=tz,
            field_values_loaded=loaded,
        )


def _has_every_named_value(item: Mapping, values: Sequence[Mapping]) -> bool:
    """Whether every value id the contact names (its `fieldValues` id list) is in `values`.

    A contact answered with side-loads names its related ids inside itself
    (https://developers.activecampaign.com/reference/sideloading); without the list there is
    nothing to compare, and the values given are taken as complete.
    """
    named = item.get("fieldValues")
    if not isinstance(named, list):
        return True
    have = {as_id(value.get("id")) for value in values}
    return all(as_id(ident) in have for ident in named if isinstance(ident, (str, int)))


def contact_payload(changes: ContactChanges, *, require_email: bool) -> dict[str, Any]:
    """The `contact` body of a sync or update: only what is given, empty means "clear" only
    where asked (AC clears an attribute sent as an empty string)."""
    if "email" in changes.clear:
        raise ValueError("an e-mail cannot be cleared")
    payload: dict[str, Any] = {}
    for key, attribute in CONTACT_STANDARD_KEYS.items():
        value = getattr(changes, attribute)
        if key in changes.clear:
            payload[key] = ""
        elif value not in (None, ""):
            payload[key] = value
    if require_email and not payload.get("email"):
        raise ValueError("contact/sync matches on e-mail: an e-mail is required")
    values = []
    for field_id, value in changes.field_values.items():
        encoded = encode_contact_value(value)
        if encoded == "" and str(field_id) not in changes.clear:
            continue
        values.append({"field": str(field_id), "value": encoded})
    present = {str(field_id) for field_id in changes.field_values}
    for key in sorted(changes.clear - set(CONTACT_STANDARD_KEYS) - present):
        values.append({"field": str(key), "value": ""})
    if values:
        payload["fieldValues"] = values
    return payload
