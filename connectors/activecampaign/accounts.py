"""Accounts (companies) with their custom field values, and a contact's link to its account.

https://developers.activecampaign.com/reference/list-all-accounts
https://developers.activecampaign.com/reference/create-an-account-new
https://developers.activecampaign.com/reference/create-an-association
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.errors import ConflictError, RecordError

from . import parse
from .api import Api, Resource, int_id, mapping, seg
from .fields import CustomFields
from .paging import MAX_PAGES
from .records import Account, AccountContact, AccountFieldInput
from .values import as_id, encode_account_value


class Accounts(Resource):
    """ActiveCampaignClient.accounts. One account per contact: links are moved, never doubled."""

    def __init__(self, api: Api, custom_fields: CustomFields) -> None:
        super().__init__(api)
        self.custom_fields = custom_fields

    # -- reads ------------------------------------------------------------------------------
    def all(
        self, *, updated_since: datetime | None = None, max_pages: int = MAX_PAGES
    ) -> Iterator[Account]:
        """Every account (offset paging) with its custom field values; AC has no
        updated-since filter for accounts, so `updated_since` is applied here."""
        types = self.custom_fields.account_types()
        values: dict[str, list[Mapping]] | None = None
        for item in self.api.items("accounts", "accounts", max_pages=max_pages):
            if types and not isinstance(item.get("fields"), list) and values is None:
                # Listed accounts carry no values (list-all-accounts): read them all once,
                # rather than once per account.
                values = self._values(None)
            account = parse.account(
                item,
                types,
                self.api.learn_tz(item.get("updatedTimestamp")),
                values=(values or {}).get(as_id(item.get("id")) or "", ()),
            )
            if updated_since is not None and (
                account.updated_at is not None and account.updated_at < updated_since
            ):
                continue
            yield account

    def get(self, account_id: str) -> Account:
        body = self.api.get_mapping(f"accounts/{seg(account_id)}")
        return self._with_values(mapping(body.get("account"), "account"))

    def _with_values(self, item: Mapping) -> Account:
        """An account with its custom field values: GET accounts/{id} and the list answer
        come without `fields` (only the POST and PUT answers carry them), so they are read
        from accountCustomFieldData."""
        types = self.custom_fields.account_types()
        values: Sequence[Mapping] = ()
        if types and not isinstance(item.get("fields"), list) and item.get("id") is not None:
            account_id = as_id(item.get("id")) or ""
            values = self._values(account_id).get(account_id, ())
        return parse.account(item, types, self.api.account_tz, values=values)

    def _values(self, account_id: str | None) -> dict[str, list[Mapping]]:
        """accountCustomFieldData items by account id: one account's, or every account's."""
        params = {"filters[customerAccountId]": account_id} if account_id else None
        grouped: dict[str, list[Mapping]] = {}
        for item in self.api.items("accountCustomFieldData", "accountCustomFieldData", params):
            # The doc schema says customerAccountId, its examples accountId: read both.
            owner = as_id(item.get("accountId") or item.get("customerAccountId"))
            if owner:
                grouped.setdefault(owner, []).append(item)
        return grouped

    def find(self, name: str) -> Account | None:
        """The account with this name: exact match first, then case-insensitive."""
        wanted = name.strip()
        candidates = list(self.api.items("accounts", "accounts", {"search": wanted}, max_pages=50))
        for matches in (
            lambda item: str(item.get("name", "")).strip() == wanted,
            lambda item: str(item.get("name", "")).strip().casefold() == wanted.casefold(),
        ):
            for item in candidates:
                if matches(item):
                    return self._with_values(item)
        return None

    # -- writes -----------------------------------------------------------------------------
    def create(
        self, name: str, *, url: str | None = None, fields: Sequence[AccountFieldInput] = ()
    ) -> Account:
        """Create an account with its custom field values inline (a taken name ->
        ConflictError)."""
        return self._post(name, url=url, fields=fields, repeatable=False)

    def _post(
        self,
        name: str,
        *,
        url: str | None,
        fields: Sequence[AccountFieldInput],
        repeatable: bool,
    ) -> Account:
        payload = self._payload(name=name, url=url, fields=fields)
        body = mapping(
            self.api.call("POST", "accounts", json={"account": payload}, idempotent=repeatable),
            "account",
        )
        return parse.account(
            mapping(body.get("account"), "account"),
            self.custom_fields.account_types(),
            self.api.account_tz,
        )

    def ensure(
        self, name: str, *, url: str | None = None, fields: Sequence[AccountFieldInput] = ()
    ) -> Account:
        """The account named `name`, created (with `url` and `fields`) when missing. A name
        taken meanwhile (422 duplicate) is answered by searching again. An existing account
        is returned as it is: update() changes it."""
        existing = self.find(name)
        if existing is not None:
            return existing
        try:
            # Repeatable after a failure that may have reached AC: if the first try created
            # the account, the repeat's 422 duplicate is answered by the search below.
            return self._post(name, url=url, fields=fields, repeatable=True)
        except ConflictError:
            found = self.find(name)
            if found is None:
                raise
            return found

    def update(
        self,
        account_id: str,
        *,
        name: str | None = None,
        url: str | None = None,
        fields: Sequence[AccountFieldInput] = (),
    ) -> Account:
        payload = self._payload(name=name, url=url, fields=fields)
        body = mapping(
            self.api.call("PUT", f"accounts/{seg(account_id)}", json={"account": payload}),
            "account",
        )
        return parse.account(
            mapping(body.get("account"), "account"),
            self.custom_fields.account_types(),
            self.api.account_tz,
        )

    def delete(self, account_id: str) -> bool:
        """Delete an account; False when it did not exist (done either way)."""
        return self.api.delete(f"accounts/{seg(account_id)}")

    def _payload(
        self, *, name: str | None, url: str | None, fields: Sequence[AccountFieldInput]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if name:
            payload["name"] = name
        if url:
            payload["accountUrl"] = url
        if fields:
            types = self.custom_fields.account_types()
            values = []
            for item in fields:
                kind = types.get(str(item.field_id))
                value: dict[str, Any] = {
                    "customFieldId": int_id(item.field_id),
                    "fieldValue": encode_account_value(item.value, kind),
                }
                if item.currency:
                    value["fieldCurrency"] = item.currency
                values.append(value)
            payload["fields"] = values
        return payload

    # -- account <-> contact ----------------------------------------------------------------
    def contact_link(self, contact_id: str) -> AccountContact | None:
        """The contact's account link (AC allows one account per contact)."""
        for item in self.api.items(
            "accountContacts", "accountContacts", {"filters[contact]": contact_id}, max_pages=10
        ):
            if as_id(item.get("contact")) == str(contact_id):
                return parse.account_contact(item, self.api.account_tz)
        return None

    def link_contact(
        self,
        contact_id: str,
        account_id: str,
        *,
        job_title: str | None = None,
        clear_job_title: bool = False,
    ) -> AccountContact:
        """Put the contact on this account, with this job title.

        One account per contact: an existing link is moved by PUT, never duplicated (a second
        link is a 422); nothing is written when it is already right. The job title is sent
        only when given (or cleared with clear_job_title).
        """
        existing = self.contact_link(contact_id)
        # None: leave the title alone; "" clears it, but only when asked to.
        title = "" if clear_job_title else (job_title or None)
        if existing is not None:
            return self._move(existing, account_id, title)
        payload: dict[str, Any] = {"contact": int_id(contact_id), "account": int_id(account_id)}
        if title is not None:
            payload["jobTitle"] = title
        try:
            # Repeatable: a repeat of a link the first try made answers 422 (one account per
            # contact), which is resolved below by reading the link and moving nothing.
            body = mapping(
                self.api.call(
                    "POST", "accountContacts", json={"accountContact": payload}, idempotent=True
                ),
                "accountContact",
            )
        except RecordError as error:
            if error.status != 422:
                raise
            # Linked meanwhile ("contacts on multiple accounts not supported"): move it.
            existing = self.contact_link(contact_id)
            if existing is None:
                raise
            return self._move(existing, account_id, title)
        return parse.account_contact(
            mapping(body.get("accountContact"), "link"), self.api.account_tz
        )

    def _move(self, link: AccountContact, account_id: str, title: str | None) -> AccountContact:
        same_account = link.account_id == str(account_id)
        if same_account and (title is None or title == link.job_title):
            return link
        payload: dict[str, Any] = {
            "contact": int_id(link.contact_id),
            "account": int_id(account_id),
        }
        if title is not None:
            payload["jobTitle"] = title
        body = mapping(
            self.api.call(
                "PUT", f"accountContacts/{seg(link.id)}", json={"accountContact": payload}
            ),
            "accountContact",
        )
        return parse.account_contact(
            mapping(body.get("accountContact"), "link"), self.api.account_tz
        )

    def unlink_contact(self, contact_id: str) -> bool:
        """Take the contact off its account; False when it had none."""
        link = self.contact_link(contact_id)
        if link is None:
            return False
        self.api.delete(f"accountContacts/{seg(link.id)}")
        return True
