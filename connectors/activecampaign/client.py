"""ActiveCampaignClient: the ActiveCampaign v3 API (and the one v1 call v3 lacks), typed.

Every request goes through one VendorHttp (timeouts, User-Agent, retries with backoff and
jitter honouring Retry-After, classification) and one Throttle per AC account: AC allows
5 requests/second for the whole account, shared with every other integration
(https://developers.activecampaign.com/reference/rate-limits).

Facts and pitfalls come from /work/shared/reference/activecampaign-api.md (cited as §n);
where that sheet is unsure, the comment says so and links the public docs.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import logging
import math
import time
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from connectors.config import ActiveCampaignConfig
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConflictError,
    ConnectorError,
    FatalError,
    NotFoundError,
    RecordError,
    RetryableError,
)
from connectors.http import HttpSettings, RetryPolicy, VendorHttp
from connectors.ratelimit import Rate, Store, Throttle, ThrottleTimeout
from connectors.types import ChoiceOption, FieldInfo

from . import parse
from .activity import DEFAULT_INCLUDE, activities
from .errors import VENDOR, BulkImportRejected, classify, not_an_api, response_json
from .metadata import account_field_infos, contact_field_infos
from .paging import MAX_PAGES, PAGE_LIMIT, keyset_pages, offset_pages
from .records import (
    Account,
    AccountContact,
    AccountCustomField,
    AccountFieldInput,
    AccountInfo,
    Activity,
    Automation,
    BulkImportResult,
    BulkImportStatus,
    Campaign,
    CampaignSendResult,
    Contact,
    ContactAutomation,
    ContactChanges,
    ContactSyncResult,
    ContactTag,
    CustomField,
    CustomObjectField,
    CustomObjectRecord,
    CustomObjectSchema,
    CustomObjectSchemaSpec,
    ImportContact,
    ImportContactResult,
    ImportOutcome,
    Message,
    Tag,
    Webhook,
)
from .values import (
    api_timestamp,
    as_id,
    as_int,
    encode_account_value,
    encode_contact_value,
    encode_record_value,
    timestamp_offset,
)

logger = logging.getLogger(__name__)

ACCOUNT_RATE_LIMIT = 5  # requests per second, per AC account (all keys, all integrations)
# The throttle counts a request when it is admitted; AC counts it when it arrives. Network
# jitter (a fresh TLS handshake next to a pooled connection is the largest: 0.1-0.2 s) can
# squeeze admitted requests closer together on arrival, so the throttle's window is padded:
# N requests per 1.2 s admitted can never arrive as N+1 within AC's one second unless
# their delays differ by more than 0.2 s.
WINDOW_PADDING = 0.2

# Bulk import's own limits: 100 multi-contact requests a minute, 20 a minute with a single
# contact, <= 250 contacts and < 400,000 bytes each (reference §11.1).
BULK_IMPORT_MAX_CONTACTS = 250
BULK_IMPORT_MAX_BYTES = 400_000
BULK_IMPORT_MULTI_RATE = Rate(100, 60.0 + WINDOW_PADDING)
BULK_IMPORT_SINGLE_RATE = Rate(20, 60.0 + WINDOW_PADDING)
# A refused chunk is sent again without the contacts AC named, at most this many times.
BULK_IMPORT_RESUBMITS = 2

# Our own writes come back as webhook source "api": leaving it out is the echo-loop guard
# (reference §10.1).
DEFAULT_WEBHOOK_SOURCES = ("public", "admin", "system")
WEBHOOK_SOURCES = frozenset({"public", "admin", "api", "system"})

# 403s a known-good key may meet before the request is given up as forbidden (see _call).
FORBIDDEN_RETRIES = 2

CHOICE_FIELD_TYPES = frozenset({"dropdown", "radio", "listbox", "checkbox"})
CONTACT_STANDARD_KEYS = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
}
PRIMARY_CONTACT = "primary-contact"


def account_throttle_key(api_url: str) -> str:
    """One throttle per AC account: keyed by the API host every caller of it shares."""
    return f"activecampaign:{urlsplit(api_url).netloc.lower()}"


def account_rate(budget_share: float) -> Rate:
    """floor(5 x share) requests (at least 1, at most 5) per padded second."""
    share = min(max(budget_share, 0.0), 1.0)
    per_second = max(1, min(ACCOUNT_RATE_LIMIT, math.floor(ACCOUNT_RATE_LIMIT * share + 1e-9)))
    return Rate(per_second, 1.0 + WINDOW_PADDING)


def normalize_api_url(api_url: str) -> str:
    """The account's API URL as the Developer settings show it, without a trailing /api/3."""
    url = (api_url or "").strip().rstrip("/")
    if url.lower().endswith("/api/3"):
        url = url[: -len("/api/3")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            "the API URL must be a full URL such as https://<account>.api-us1.com",
            vendor=VENDOR,
            reason=ConfigReason.OTHER,
        )
    return url


class ActiveCampaignClient:
    """One AC account: reads as streams, idempotent writes, typed records, a polite budget."""

    vendor = VENDOR

    def __init__(
        self,
        config: ActiveCampaignConfig,
        *,
        http_settings: HttpSettings | None = None,
        throttle_store: Store | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = normalize_api_url(config.api_url)
        self.api_host = urlsplit(self.api_url).netloc.lower()
        self._sleep = sleep
        key = account_throttle_key(self.api_url)
        self.throttle = Throttle(
            key, [account_rate(config.budget_share)], store=throttle_store, sleep=sleep
        )
        self._bulk_throttle = Throttle(
            f"{key}:bulk_import", [BULK_IMPORT_MULTI_RATE], store=throttle_store, sleep=sleep
        )
        self._bulk_single_throttle = Throttle(
            f"{key}:bulk_import_single",
            [BULK_IMPORT_SINGLE_RATE],
            store=throttle_store,
            sleep=sleep,
        )
        api_key = config.api_key
        self.http = VendorHttp(
            vendor=VENDOR,
            base_url=f"{self.api_url}/api/3/",
            classify=classify,
            auth_headers=lambda: {"Api-Token": api_key},
            throttle=self.throttle,
            settings=http_settings or HttpSettings.from_settings(),
            retry=retry,
            secrets=[api_key],
            sleep=sleep,
        )
        self._key_proven = False
        # The account's UTC offset, learned from the timestamps AC writes with it; used for
        # the few that come without a zone.
        self._account_tz: tzinfo = UTC
        self._contact_field_types: dict[str, str] | None = None
        self._account_field_types: dict[str, str] | None = None
        self._tags: dict[str, Tag] = {}
        # Custom-object field types by schema id: record values are read by their type.
        self._record_field_types: dict[str, dict[str, str]] = {}

    # == plumbing ===============================================================================
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping | Sequence | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        forbidden_is_record: bool = False,
    ) -> Any:
        """One logical request; the JSON answer, or a ConnectorError (see _send)."""
        return self._json(
            self._send(
                method,
                path,
                params=params,
                json=json,
                idempotent=idempotent,
                forbidden_is_record=forbidden_is_record,
            )
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping | Sequence | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        forbidden_is_record: bool = False,
    ) -> requests.Response:
        """One logical request; the successful response, or a ConnectorError.

        The 403 rule. AC answers 403 both for a refused key and for a missing permission, and
        occasionally 403s a good key once and then succeeds (TAP retries 403 for that reason,
        reference §1.5). So that a bad key becomes a configuration error at once instead of
        after five backoffs:
        - a key that has not yet produced a 2xx is checked with one GET users/me (every user
          may read itself): refused -> ConfigurationError(UNAUTHORIZED) after two requests;
        - a key known to work is asked again at most FORBIDDEN_RETRIES times with backoff (a
          403 means AC did nothing, so this is safe for any method); a 403 that persists is
          checked with users/me: refused -> UNAUTHORIZED (the key was revoked), else
          FORBIDDEN (the user lacks a permission), or a RecordError where the caller says a
          403 is AC's answer about the record (contactAutomations).
        """
        forbidden = 0
        probed = False
        while True:
            try:
                response = self.http.request(
                    method, path, params=params, json=json, idempotent=idempotent
                )
            except ConfigurationError as error:
                if error.status != 403:
                    raise
                forbidden += 1
                if not self._key_proven and not probed:
                    probed = True
                    if not self._key_accepted():
                        raise _unauthorized(error) from None
                    continue
                if forbidden <= FORBIDDEN_RETRIES:
                    self._sleep(self.http.retry.delay(forbidden, None))
                    continue
                if not probed and not self._key_accepted():
                    raise _unauthorized(error) from None
                if forbidden_is_record:
                    raise RecordError(error.message, vendor=VENDOR, status=403) from None
                raise
            self._key_proven = True
            return response

    def _key_accepted(self) -> bool:
        """One GET users/me: does AC accept the key at all?"""
        try:
            self.http.request("GET", "users/me")
        except ConfigurationError as error:
            if error.status in (401, 403):
                return False
            raise
        self._key_proven = True
        return True

    def _json(self, response: requests.Response) -> Any:
        # VendorHttp does not follow redirects: a 3xx means the URL is not the API (the web
        # app's login page, http -> https, a parked domain).
        if 300 <= response.status_code < 400:
            raise not_an_api(response)
        body = response_json(response)
        if body is None:
            raise not_an_api(response)
        return body

    def _get(self, path: str, params: Mapping | Sequence | None = None) -> Any:
        return self._call("GET", path, params=params)

    def _pages(
        self,
        path: str,
        collection: str,
        params: Mapping | None = None,
        *,
        max_pages: int = MAX_PAGES,
        truncate: bool = False,
    ) -> Iterator[Mapping]:
        def fetch(offset: int, limit: int) -> Mapping:
            return _mapping(
                self._get(path, {**(params or {}), "limit": limit, "offset": offset}), path
            )

        return offset_pages(fetch, collection, max_pages=max_pages, truncate=truncate)

    def _items(
        self,
        path: str,
        collection: str,
        params: Mapping | None = None,
        *,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[Mapping]:
        for page in self._pages(path, collection, params, max_pages=max_pages):
            for item in page.get(collection) or ():
                if isinstance(item, Mapping):
                    yield item

    def _learn_tz(self, *values: Any) -> tzinfo:
        for value in values:
            offset = timestamp_offset(value)
            if offset is not None and offset is not UTC:
                self._account_tz = offset
                break
        return self._account_tz

    # == connection =============================================================================
    def check(self) -> AccountInfo:
        """Validate the URL and key with one cheap real call (GET /users/me)."""
        try:
            response = self.http.request("GET", "users/me")
        except ConfigurationError as error:
            if error.status == 403:
                # Every user may read itself: a 403 here is the key being refused.
                raise _unauthorized(error) from None
            raise
        except NotFoundError as error:
            # users/me exists on every account (SPEC get-user-loggedin,
            # https://developers.activecampaign.com/reference/get-user-loggedin): a 404, even
            # a JSON one, means the URL does not point at the API root (a path too many).
            raise ConfigurationError(
                f"{error.message} (no users/me under {self.api_url}/api/3/)",
                vendor=VENDOR,
                status=error.status,
                reason=ConfigReason.NOT_AN_API,
            ) from None
        body = self._json(response)
        user = body.get("user") if isinstance(body, Mapping) else None
        if not isinstance(user, Mapping) or user.get("id") is None:
            raise ConfigurationError(
                "the answer to users/me has no user",
                vendor=VENDOR,
                status=response.status_code,
                reason=ConfigReason.NOT_AN_API,
            )
        self._key_proven = True
        return AccountInfo(
            user_id=as_id(user.get("id")) or "",
            username=str(user.get("username") or ""),
            email=str(user.get("email") or ""),
            first_name=str(user.get("firstName") or ""),
            last_name=str(user.get("lastName") or ""),
            api_url=self.api_url,
            api_host=self.api_host,
        )

    # == metadata ===============================================================================
    def custom_fields(self) -> list[CustomField]:
        """Contact custom field definitions with their options and list relations."""
        fields: list[CustomField] = []
        for page in self._pages("fields", "fields"):
            fields.extend(parse.custom_fields(page))
        self._contact_field_types = {field.id: field.type for field in fields}
        return fields

    def account_custom_fields(self) -> list[AccountCustomField]:
        fields = [
            parse.account_custom_field(item)
            for item in self._items("accountCustomFieldMeta", "accountCustomFieldMeta")
        ]
        self._account_field_types = {field.id: field.type for field in fields}
        return fields

    def contact_fields(self) -> list[FieldInfo]:
        """Mappable contact fields: standard ones, then custom fields (key = field id)."""
        return contact_field_infos(self.custom_fields())

    def account_fields(self) -> list[FieldInfo]:
        return account_field_infos(self.account_custom_fields())

    def _field_types(self) -> dict[str, str]:
        if self._contact_field_types is None:
            self.custom_fields()
        return self._contact_field_types or {}

    def _account_types(self) -> dict[str, str]:
        if self._account_field_types is None:
            self.account_custom_fields()
        return self._account_field_types or {}

    # == contacts: reads ========================================================================
    def contacts(
        self, *, with_field_values: bool = True, max_pages: int = MAX_PAGES
    ) -> Iterator[Contact]:
        """Every contact, by ascending id (keyset paging), custom field values typed."""
        return self._contact_stream({}, with_field_values=with_field_values, max_pages=max_pages)

    def contacts_changed_since(
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
        time part is honoured or which zone a value is read in (reference §2.5): the request
        asks from `since - overlap` (24 h covers every zone offset and a date-only reading),
        and the answer is filtered here on `udate` converted to UTC. Versions the caller has
        already handled, (id, udate) pairs from `seen` (e.g. the last run's overlap), are
        skipped; within one stream keyset paging returns each contact at most once.
        Bookmark advice for the caller: the next `since` is this run's start, never a udate.
        """
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        cutoff = since.astimezone(UTC) - overlap
        params = {"filters[updated_after]": api_timestamp(cutoff)}
        stream = self._contact_stream(
            params, with_field_values=with_field_values, max_pages=max_pages
        )
        return (
            contact
            for contact in stream
            if (contact.updated_at is None or contact.updated_at >= cutoff)
            and contact.version not in seen
        )

    def _contact_stream(
        self, params: Mapping, *, with_field_values: bool, max_pages: int
    ) -> Iterator[Contact]:
        types = self._field_types() if with_field_values else {}

        def fetch(last_id: int | None) -> Mapping:
            query: dict[str, Any] = {**params, "orders[id]": "ASC", "limit": PAGE_LIMIT}
            if last_id is not None:
                query["id_greater"] = last_id
            if with_field_values:
                # Side-loads the page's values as top-level `fieldValues` objects; not in the
                # reference sheet, used on the list endpoint by many public clients.
                query["include"] = "fieldValues"
            return _mapping(self._get("contacts", query), "contacts")

        for page in keyset_pages(fetch, "contacts", max_pages=max_pages):
            values = parse.field_values_by_contact(page.get("fieldValues") or ())
            # id_greater makes pages disjoint; a page's own repeats are dropped here, by
            # (id, udate), in memory bounded by the page size.
            yielded: set[tuple[str, Any]] = set()
            for item in page.get("contacts") or ():
                if not isinstance(item, Mapping):
                    continue
                tz = self._learn_tz(item.get("udate"), item.get("cdate"))
                contact = parse.contact(
                    item,
                    values.get(as_id(item.get("id")) or "", ()),
                    field_types=types,
                    tz=tz,
                )
                if contact.version in yielded:
                    continue
                yielded.add(contact.version)
                yield contact

    def contact(self, contact_id: str) -> Contact:
        """One contact with its custom field values (NotFoundError if it does not exist)."""
        body = _mapping(self._get(f"contacts/{_seg(contact_id)}"), "contact")
        return self._contact_from(body)

    def contact_by_email(self, email: str) -> Contact | None:
        body = _mapping(
            self._get("contacts", {"email": email, "include": "fieldValues"}), "contacts"
        )
        values = parse.field_values_by_contact(body.get("fieldValues") or ())
        types = self._field_types()
        for item in body.get("contacts") or ():
            if isinstance(item, Mapping) and str(item.get("email", "")).casefold() == (
                email.casefold()
            ):
                tz = self._learn_tz(item.get("udate"), item.get("cdate"))
                return parse.contact(
                    item, values.get(as_id(item.get("id")) or "", ()), field_types=types, tz=tz
                )
        return None

    def _contact_from(self, body: Mapping) -> Contact:
        item = body.get("contact")
        if not isinstance(item, Mapping):
            raise FatalError("the answer has no contact", vendor=VENDOR)
        tz = self._learn_tz(item.get("udate"), item.get("cdate"))
        contact_id = as_id(item.get("id")) or ""
        values = parse.field_values_by_contact(body.get("fieldValues") or ()).get(contact_id, ())
        return parse.contact(item, values, field_types=self._field_types(), tz=tz)

    # == contacts: writes =======================================================================
    def contact_sync(self, changes: ContactChanges) -> ContactSyncResult:
        """Create or update the contact with this e-mail (POST /contact/sync), in one call.

        The path is singular: /contacts/sync is routed as a plain create and 422s for an
        existing e-mail (reference §2.1 pitfall). Idempotent: safe to retry.
        """
        payload = _contact_payload(changes, require_email=True)
        response = self._send("POST", "contact/sync", json={"contact": payload}, idempotent=True)
        body = _mapping(self._json(response), "contact/sync")
        item = body.get("contact") if isinstance(body.get("contact"), Mapping) else {}
        # Created: AC documents 201 for the create path; the update path's status is not
        # documented (200 seen, 201 possible), so 201 alone does not prove a creation, and
        # cdate == udate alone does not either: timestamps are whole seconds, an update in
        # the creation's second leaves them equal. Both must agree (reference §2.4;
        # https://developers.activecampaign.com/reference/sync-a-contacts-data).
        same_stamp = not item.get("cdate") or item.get("cdate") == item.get("udate")
        created = response.status_code == 201 and same_stamp
        return ContactSyncResult(contact=self._contact_from(body), created=created)

    def contact_update(self, contact_id: str, changes: ContactChanges) -> Contact:
        """Update a contact by AC id (PUT /contacts/{id}): the way to change an e-mail, which
        contact/sync would take for a new contact (reference §2.4)."""
        payload = _contact_payload(changes, require_email=False)
        body = _mapping(
            self._call("PUT", f"contacts/{_seg(contact_id)}", json={"contact": payload}),
            "contact",
        )
        return self._contact_from(body)

    # == bulk import ============================================================================
    def bulk_import(
        self,
        contacts: Sequence[ImportContact],
        *,
        exclude_automations: bool = True,
        wait: float = 300.0,
        poll_interval: float = 5.0,
    ) -> BulkImportResult:
        """Import contacts in batches (initial loads): one result per input contact.

        Batches of <= 250 contacts and < 400,000 bytes, snake_case payload, tags by name,
        `exclude_automations` on every contact (the only doc example puts it there, §11.1).
        A batch AC refuses is sent again without the contacts its `failureReasons` name; the
        queued batches are then polled (GET /import/info) for at most `wait` seconds.
        """
        if not contacts:
            return BulkImportResult(results=())
        results: dict[int, ImportContactResult] = {}
        queued: list[tuple[str, list[int]]] = []
        for chunk in _import_chunks(contacts, exclude_automations):
            pending = list(chunk)
            for _attempt in range(BULK_IMPORT_RESUBMITS + 1):
                if not pending:
                    break
                batch_id, rejected = self._bulk_import_chunk(contacts, pending, exclude_automations)
                for index, reason in rejected.items():
                    results[index] = ImportContactResult(
                        index, contacts[index].email, ImportOutcome.REJECTED, reason
                    )
                pending = [index for index in pending if index not in rejected]
                if batch_id is not None:
                    queued.append((batch_id, pending))
                    pending = []
                    break
            for index in pending:  # still refused after the resubmissions
                results[index] = ImportContactResult(
                    index,
                    contacts[index].email,
                    ImportOutcome.REJECTED,
                    "refused by ActiveCampaign together with other contacts of its batch",
                )
        self._bulk_import_outcomes(contacts, queued, results, wait, poll_interval)
        return BulkImportResult(
            results=tuple(results[index] for index in sorted(results)),
            batch_ids=tuple(batch_id for batch_id, _ in queued),
        )

    def _bulk_import_chunk(
        self, contacts: Sequence[ImportContact], indexes: list[int], exclude_automations: bool
    ) -> tuple[str | None, dict[int, str]]:
        """POST one batch: (batch id, {}) when queued, (None, {index: reason}) when refused."""
        payload = {"contacts": [_import_payload(contacts[i], exclude_automations) for i in indexes]}
        throttle = self._bulk_throttle if len(indexes) > 1 else self._bulk_single_throttle
        try:
            throttle.acquire()
        except ThrottleTimeout as exc:
            raise RetryableError(str(exc), vendor=VENDOR, unsent=True) from None
        try:
            # Idempotent in effect: contacts are matched by e-mail, tags by name.
            body = _mapping(
                self._call("POST", "import/bulk_import", json=payload, idempotent=True),
                "import/bulk_import",
            )
        except BulkImportRejected as error:
            rejected: dict[int, str] = {}
            for position, reason in error.failures:
                # `contact` is read as the 0-based position in the request's array (the doc
                # example: index 230 of up to 250); not stated explicitly:
                # https://developers.activecampaign.com/reference/bulk-import-contacts
                if position is not None and 0 <= position < len(indexes):
                    rejected[indexes[position]] = reason or error.message
            if not rejected:
                rejected = {index: error.message for index in indexes}
            return None, rejected
        batch_id = body.get("batchId") or body.get("batch_id")
        if not batch_id:
            raise FatalError(
                f"bulk import answered without a batch id ({body.get('message', '')})",
                vendor=VENDOR,
            )
        return str(batch_id), {}

    def _bulk_import_outcomes(
        self,
        contacts: Sequence[ImportContact],
        queued: list[tuple[str, list[int]]],
        results: dict[int, ImportContactResult],
        wait: float,
        poll_interval: float,
    ) -> None:
        statuses: dict[str, BulkImportStatus] = {}
        polls = max(1, math.ceil(wait / poll_interval)) if poll_interval > 0 else 1
        for poll in range(polls):
            for batch_id, _ in queued:
                if batch_id not in statuses or not statuses[batch_id].completed:
                    statuses[batch_id] = self.bulk_import_status(batch_id)
            if all(status.completed for status in statuses.values()):
                break
            if poll < polls - 1:
                self._sleep(poll_interval)
        for batch_id, indexes in queued:
            status = statuses.get(batch_id)
            failed = {email.casefold() for email in status.failed_emails} if status else set()
            accounted = bool(status) and (
                status.success_count + status.failure_count >= len(indexes)
            )
            for index in indexes:
                email = contacts[index].email
                if status is None or not status.completed:
                    outcome, reason = ImportOutcome.PENDING, "the import had not finished"
                elif email.casefold() in failed:
                    outcome, reason = ImportOutcome.FAILED, "ActiveCampaign did not import it"
                elif accounted:
                    outcome, reason = ImportOutcome.IMPORTED, ""
                else:
                    # AC skips e-mails on the exclusion list, bounced ones and contacts
                    # unsubscribed from a list the import would subscribe them to, silently.
                    outcome, reason = (
                        ImportOutcome.UNCONFIRMED,
                        "the batch skipped some contacts silently; look it up by e-mail",
                    )
                results[index] = ImportContactResult(index, email, outcome, reason, batch_id)

    def bulk_import_status(self, batch_id: str) -> BulkImportStatus:
        body = _mapping(self._get("import/info", {"batchId": batch_id}), "import/info")
        return parse.bulk_import_status(body, batch_id)

    # == tags ===================================================================================
    def tag(self, name: str) -> Tag | None:
        """The contact tag with this name (case-insensitive), from the cache or a search."""
        key = name.strip().casefold()
        if key in self._tags:
            return self._tags[key]
        found = self._tag_search(name.strip())
        if found is not None:
            self._tags[key] = found
        return found

    def tag_find_or_create(self, name: str, *, description: str = "") -> Tag:
        """Find the tag by name or create it; names are unique case-insensitively, so a
        concurrent creation (422) is answered by searching again (reference §8)."""
        name = name.strip()
        if not name:
            raise ValueError("a tag needs a name")
        existing = self.tag(name)
        if existing is not None:
            return existing
        payload = {"tag": {"tag": name, "tagType": "contact", "description": description}}
        try:
            # Repeatable after a failure that may have reached AC (5xx, dropped connection):
            # if the first try created the tag, the repeat's 422 is answered by the search.
            body = _mapping(self._call("POST", "tags", json=payload, idempotent=True), "tags")
        except RecordError as error:
            if error.status != 422:
                raise
            found = self._tag_search(name)
            if found is None:
                raise
            self._tags[name.casefold()] = found
            return found
        created = parse.tag(_mapping(body.get("tag"), "tag"))
        self._tags[name.casefold()] = created
        return created

    def _tag_search(self, name: str) -> Tag | None:
        wanted = name.casefold()
        for item in self._items("tags", "tags", {"filters[search][eq]": name}):
            if str(item.get("tag", "")).strip().casefold() == wanted:
                return parse.tag(item)
        return None

    def contact_tags(self, contact_id: str) -> list[ContactTag]:
        body = _mapping(self._get(f"contacts/{_seg(contact_id)}/contactTags"), "contactTags")
        return [
            parse.contact_tag(item, self._account_tz)
            for item in body.get("contactTags") or ()
            if isinstance(item, Mapping)
        ]

    def contact_tag_add(self, contact_id: str, tag: str | Tag) -> ContactTag:
        """Tag a contact, creating the tag if needed."""
        resolved = tag if isinstance(tag, Tag) else self.tag_find_or_create(tag)
        payload = {"contactTag": {"contact": _int_id(contact_id), "tag": _int_id(resolved.id)}}
        # Safe to send again: a repeated association is harmless, and removal deletes every
        # association of the tag.
        body = _mapping(
            self._call("POST", "contactTags", json=payload, idempotent=True), "contactTags"
        )
        return parse.contact_tag(_mapping(body.get("contactTag"), "contactTag"), self._account_tz)

    def contact_tag_remove(self, contact_id: str, tag: str | Tag) -> bool:
        """Untag a contact; False when it did not have the tag. DELETE takes the association
        id, found on the contact; a 404 means an automation removed it first (§8)."""
        resolved = tag if isinstance(tag, Tag) else self.tag(tag)
        if resolved is None:
            return False
        links = [link for link in self.contact_tags(contact_id) if link.tag_id == resolved.id]
        for link in links:
            try:
                self._call("DELETE", f"contactTags/{_seg(link.id)}")
            except NotFoundError:
                logger.info("contact tag %s was already removed", link.id)
        return bool(links)

    # == custom fields ==========================================================================
    def custom_field_create(
        self,
        *,
        title: str,
        type: str,
        perstag: str | None = None,
        description: str | None = None,
        default: str | None = None,
        options: Sequence[ChoiceOption | str] = (),
        list_ids: Sequence[str | int] = (0,),
    ) -> CustomField:
        """Create a contact custom field, its options (choice types) and its list relations.

        Choice fields are created empty and take options from /fieldOption/bulk; a field is
        only visible on contacts of lists it is related to, list 0 = all lists (§3.1).
        A title that exists -> ConflictError.
        """
        field: dict[str, Any] = {"title": title, "type": type}
        if perstag:
            field["perstag"] = perstag
        if description:
            field["descript"] = description
        if default:
            field["defval"] = default
        body = _mapping(self._call("POST", "fields", json={"field": field}), "fields")
        item = body.get("field")
        if not isinstance(item, Mapping):
            # Some answers carry `fields` (the doc example does): pick ours by title.
            item = next(
                (
                    candidate
                    for candidate in body.get("fields") or ()
                    if isinstance(candidate, Mapping) and candidate.get("title") == title
                ),
                None,
            )
        if not isinstance(item, Mapping) or item.get("id") is None:
            raise FatalError("the new custom field has no id", vendor=VENDOR)
        created = parse.custom_field(item)
        added: tuple[ChoiceOption, ...] = ()
        if options and created.type in CHOICE_FIELD_TYPES:
            added = self._field_options_post(created.id, _choices(options), first_order=1)
        for relid in list_ids:
            self._call(
                "POST",
                "fieldRels",
                json={"fieldRel": {"field": _int_id(created.id), "relid": int(relid)}},
            )
        if self._contact_field_types is not None:
            self._contact_field_types[created.id] = created.type
        return CustomField(
            id=created.id,
            title=created.title,
            type=created.type,
            perstag=created.perstag,
            description=created.description,
            default=created.default,
            required=created.required,
            options=added,
            list_ids=tuple(str(relid) for relid in list_ids),
        )

    def custom_field_options_add(
        self, field_id: str, options: Sequence[ChoiceOption | str]
    ) -> tuple[ChoiceOption, ...]:
        """Add the options a choice field lacks, after the ones it has; the options added.

        Values that are not options are stored inconsistently: pre-create them (§3.3). The
        field's options are read first (GET fields/{id} side-loads `fieldOptions`, SPEC
        retrieve-a-custom-field-contact): a value it has is not sent again (AC would list it
        twice), and `orderid` continues after the last one, so new options are appended
        rather than sorted among the existing ones.
        """
        body = _mapping(self._get(f"fields/{_seg(field_id)}"), "field")
        existing = [item for item in body.get("fieldOptions") or () if isinstance(item, Mapping)]
        have = {str(item.get("value", "")) for item in existing}
        last = max((as_int(item.get("orderid")) for item in existing), default=0)
        wanted = [choice for choice in _choices(options) if choice.value not in have]
        return self._field_options_post(field_id, wanted, first_order=last + 1)

    def _field_options_post(
        self, field_id: str, choices: Sequence[ChoiceOption], *, first_order: int
    ) -> tuple[ChoiceOption, ...]:
        if not choices:
            return ()
        payload = {
            "fieldOptions": [
                {
                    "field": _int_id(field_id),
                    "label": choice.label or choice.value,
                    "value": choice.value,
                    "orderid": order,
                    "isdefault": False,
                }
                for order, choice in enumerate(choices, start=first_order)
            ]
        }
        body = _mapping(self._call("POST", "fieldOption/bulk", json=payload), "fieldOptions")
        answered = [item for item in body.get("fieldOptions") or () if isinstance(item, Mapping)]
        if not answered:
            return tuple(choices)
        return tuple(
            ChoiceOption(str(item.get("value", "")), str(item.get("label") or item.get("value")))
            for item in answered
        )

    # == accounts ===============================================================================
    def accounts(
        self, *, updated_since: datetime | None = None, max_pages: int = MAX_PAGES
    ) -> Iterator[Account]:
        """Every account (offset paging) with its custom field values; AC has no
        updated-since filter for accounts, so `updated_since` is applied here (§4.1)."""
        types = self._account_types()
        values: dict[str, list[Mapping]] | None = None
        for item in self._items("accounts", "accounts", max_pages=max_pages):
            if types and not isinstance(item.get("fields"), list) and values is None:
                # Listed accounts carry no values (SPEC list-all-accounts): read them all
                # once, rather than once per account.
                values = self._account_values(None)
            account = parse.account(
                item,
                types,
                self._learn_tz(item.get("updatedTimestamp")),
                values=(values or {}).get(as_id(item.get("id")) or "", ()),
            )
            if updated_since is not None and (
                account.updated_at is not None and account.updated_at < updated_since
            ):
                continue
            yield account

    def account(self, account_id: str) -> Account:
        body = _mapping(self._get(f"accounts/{_seg(account_id)}"), "account")
        return self._account_from(_mapping(body.get("account"), "account"))

    def _account_from(self, item: Mapping) -> Account:
        """An account with its custom field values: GET accounts/{id} and the list answer
        without `fields` (SPEC retrieve-an-account, list-all-accounts; only the POST and PUT
        answers carry them), so they are read from accountCustomFieldData (§4.2)."""
        types = self._account_types()
        values: Sequence[Mapping] = ()
        if types and not isinstance(item.get("fields"), list) and item.get("id") is not None:
            account_id = as_id(item.get("id")) or ""
            values = self._account_values(account_id).get(account_id, ())
        return parse.account(item, types, self._account_tz, values=values)

    def _account_values(self, account_id: str | None) -> dict[str, list[Mapping]]:
        """accountCustomFieldData items by account id: one account's, or every account's."""
        params = {"filters[customerAccountId]": account_id} if account_id else None
        grouped: dict[str, list[Mapping]] = {}
        for item in self._items("accountCustomFieldData", "accountCustomFieldData", params):
            # The doc schema says customerAccountId, the examples accountId (§4.2): read both.
            owner = as_id(item.get("accountId") or item.get("customerAccountId"))
            if owner:
                grouped.setdefault(owner, []).append(item)
        return grouped

    def account_find(self, name: str) -> Account | None:
        """The account with this name: exact match first, then case-insensitive."""
        wanted = name.strip()
        candidates = list(self._items("accounts", "accounts", {"search": wanted}, max_pages=50))
        for matches in (
            lambda item: str(item.get("name", "")).strip() == wanted,
            lambda item: str(item.get("name", "")).strip().casefold() == wanted.casefold(),
        ):
            for item in candidates:
                if matches(item):
                    return self._account_from(item)
        return None

    def account_create(
        self, name: str, *, url: str | None = None, fields: Sequence[AccountFieldInput] = ()
    ) -> Account:
        """Create an account with its custom field values inline (a taken name ->
        ConflictError)."""
        return self._account_post(name, url=url, fields=fields, repeatable=False)

    def _account_post(
        self,
        name: str,
        *,
        url: str | None,
        fields: Sequence[AccountFieldInput],
        repeatable: bool,
    ) -> Account:
        payload = self._account_payload(name=name, url=url, fields=fields)
        body = _mapping(
            self._call("POST", "accounts", json={"account": payload}, idempotent=repeatable),
            "account",
        )
        return parse.account(
            _mapping(body.get("account"), "account"), self._account_types(), self._account_tz
        )

    def account_find_or_create(
        self, name: str, *, url: str | None = None, fields: Sequence[AccountFieldInput] = ()
    ) -> Account:
        """The account named `name`, created (with `url` and `fields`) when missing. A name
        taken meanwhile (422 duplicate) is answered by searching again. An existing account
        is returned as it is: account_update() changes it."""
        existing = self.account_find(name)
        if existing is not None:
            return existing
        try:
            # Repeatable after a failure that may have reached AC: if the first try created
            # the account, the repeat's 422 duplicate is answered by the search below.
            return self._account_post(name, url=url, fields=fields, repeatable=True)
        except ConflictError:
            found = self.account_find(name)
            if found is None:
                raise
            return found

    def account_update(
        self,
        account_id: str,
        *,
        name: str | None = None,
        url: str | None = None,
        fields: Sequence[AccountFieldInput] = (),
    ) -> Account:
        payload = self._account_payload(name=name, url=url, fields=fields)
        body = _mapping(
            self._call("PUT", f"accounts/{_seg(account_id)}", json={"account": payload}),
            "account",
        )
        return parse.account(
            _mapping(body.get("account"), "account"), self._account_types(), self._account_tz
        )

    def _account_payload(
        self, *, name: str | None, url: str | None, fields: Sequence[AccountFieldInput]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if name:
            payload["name"] = name
        if url:
            payload["accountUrl"] = url
        if fields:
            types = self._account_types()
            values = []
            for item in fields:
                kind = types.get(str(item.field_id))
                value: dict[str, Any] = {
                    "customFieldId": _int_id(item.field_id),
                    "fieldValue": encode_account_value(item.value, kind),
                }
                if item.currency:
                    value["fieldCurrency"] = item.currency
                values.append(value)
            payload["fields"] = values
        return payload

    # == account <-> contact ====================================================================
    def account_contact(self, contact_id: str) -> AccountContact | None:
        """The contact's account link (AC allows one account per contact)."""
        for item in self._items(
            "accountContacts", "accountContacts", {"filters[contact]": contact_id}, max_pages=10
        ):
            if as_id(item.get("contact")) == str(contact_id):
                return parse.account_contact(item, self._account_tz)
        return None

    def account_contact_link(
        self,
        contact_id: str,
        account_id: str,
        *,
        job_title: str | None = None,
        clear_job_title: bool = False,
    ) -> AccountContact:
        """Put the contact on this account, with this job title.

        One account per contact: an existing link is moved by PUT, never duplicated (a second
        link is a 422, reference §4.3); nothing is written when it is already right. The job
        title is sent only when given (or cleared with clear_job_title).
        """
        existing = self.account_contact(contact_id)
        # None: leave the title alone; "" clears it, but only when asked to.
        title = "" if clear_job_title else (job_title or None)
        if existing is not None:
            return self._account_contact_move(existing, account_id, title)
        payload: dict[str, Any] = {
            "contact": _int_id(contact_id),
            "account": _int_id(account_id),
        }
        if title is not None:
            payload["jobTitle"] = title
        try:
            # Repeatable: a repeat of a link the first try made answers 422 (one account per
            # contact), which is resolved below by reading the link and moving nothing.
            body = _mapping(
                self._call(
                    "POST", "accountContacts", json={"accountContact": payload}, idempotent=True
                ),
                "accountContact",
            )
        except RecordError as error:
            if error.status != 422:
                raise
            # Linked meanwhile ("contacts on multiple accounts not supported"): move it.
            existing = self.account_contact(contact_id)
            if existing is None:
                raise
            return self._account_contact_move(existing, account_id, title)
        return parse.account_contact(_mapping(body.get("accountContact"), "link"), self._account_tz)

    def _account_contact_move(
        self, link: AccountContact, account_id: str, title: str | None
    ) -> AccountContact:
        same_account = link.account_id == str(account_id)
        if same_account and (title is None or title == link.job_title):
            return link
        payload: dict[str, Any] = {
            "contact": _int_id(link.contact_id),
            "account": _int_id(account_id),
        }
        if title is not None:
            payload["jobTitle"] = title
        body = _mapping(
            self._call("PUT", f"accountContacts/{_seg(link.id)}", json={"accountContact": payload}),
            "accountContact",
        )
        return parse.account_contact(_mapping(body.get("accountContact"), "link"), self._account_tz)

    def account_contact_unlink(self, contact_id: str) -> bool:
        link = self.account_contact(contact_id)
        if link is None:
            return False
        with contextlib.suppress(NotFoundError):  # removed meanwhile: done either way
            self._call("DELETE", f"accountContacts/{_seg(link.id)}")
        return True

    # == custom objects =========================================================================
    def custom_object_schemas(self) -> list[CustomObjectSchema]:
        """Every schema, deleted fields included (showFields=all)."""
        return [
            self._schema_known(item)
            for item in self._items("customObjects/schemas", "schemas", {"showFields": "all"})
        ]

    def custom_object_schema(self, schema_id: str) -> CustomObjectSchema:
        body = self._get(f"customObjects/schemas/{_seg(schema_id)}", {"showFields": "all"})
        return self._schema_known(_mapping(_mapping(body, "schema").get("schema"), "schema"))

    def custom_object_schema_ensure(self, spec: CustomObjectSchemaSpec) -> CustomObjectSchema:
        """Create the schema, or extend it with the fields and options it lacks.

        Never deletes: fields and options are only added, and the update sends back every
        field AC holds. Fields are listed with showFields=all first, because a deleted field's
        id is not free again (it shows `marked_for_deletion`): such a clash is a
        ConflictError rather than a resurrected field (reference §5.1).
        """
        raw = self._schema_raw_by_slug(spec.slug)
        if raw is None:
            try:
                body = self._call(
                    "POST", "customObjects/schemas", json={"schema": _schema_payload(spec)}
                )
                return self._schema_known(
                    _mapping(_mapping(body, "schema").get("schema"), "schema")
                )
            except ConflictError:
                raw = self._schema_raw_by_slug(spec.slug)  # created meanwhile
                if raw is None:
                    raise
        return self._schema_extend(raw, spec)

    def _schema_raw_by_slug(self, slug: str) -> Mapping | None:
        for item in self._items("customObjects/schemas", "schemas", {"showFields": "all"}):
            if item.get("slug") == slug:
                return item
        return None

    def _schema_extend(self, raw: Mapping, spec: CustomObjectSchemaSpec) -> CustomObjectSchema:
        raw_fields = [field for field in raw.get("fields") or () if isinstance(field, Mapping)]
        by_id = {str(field.get("id")): field for field in raw_fields}
        deleted = {
            key for key, field in by_id.items() if field.get("status") == "marked_for_deletion"
        }
        kept: list[dict[str, Any]] = []
        changed = False
        for field in raw_fields:
            if str(field.get("id")) in deleted:
                continue
            copy = _schema_field_copy(field)
            wanted = next((f for f in spec.fields if f.id == str(field.get("id"))), None)
            if wanted is not None and wanted.options:
                have = {
                    str(option.get("value")) if isinstance(option, Mapping) else str(option)
                    for option in copy.get("options") or ()
                }
                extra = [value for value in wanted.options if value not in have]
                if extra:
                    copy["options"] = [*(copy.get("options") or []), *({"value": v} for v in extra)]
                    changed = True
            kept.append(copy)
        for wanted in spec.fields:
            if wanted.id in deleted:
                raise ConflictError(
                    f"custom object field id {wanted.id!r} belongs to a deleted field of "
                    f"{spec.slug!r} and cannot be reused; choose another key",
                    vendor=VENDOR,
                    field=wanted.id,
                )
            if wanted.id not in by_id:
                kept.append(_schema_field_payload(wanted))
                changed = True
        relationships = [
            dict(relation)
            for relation in raw.get("relationships") or ()
            if isinstance(relation, Mapping)
        ]
        if spec.contact_relationship and not any(
            relation.get("id") == PRIMARY_CONTACT for relation in relationships
        ):
            relationships.append(_primary_contact_relationship())
            changed = True
        if not changed:
            return self._schema_known(raw)
        labels = raw.get("labels") if isinstance(raw.get("labels"), Mapping) else {}
        payload = {
            "schema": {
                "slug": raw.get("slug") or spec.slug,
                "labels": {
                    "singular": labels.get("singular") or spec.label,
                    "plural": labels.get("plural") or spec.plural_label,
                },
                "description": raw.get("description") or spec.description,
                "fields": kept,
                "relationships": relationships,
            }
        }
        body = self._call("PUT", f"customObjects/schemas/{_seg(str(raw.get('id')))}", json=payload)
        return self._schema_known(_mapping(_mapping(body, "schema").get("schema"), "schema"))

    def _schema_known(self, item: Mapping) -> CustomObjectSchema:
        """Parse a schema and remember its field types, to read its records typed."""
        schema = parse.custom_object_schema(item)
        self._record_field_types[schema.id] = {field.id: field.type for field in schema.fields}
        return schema

    def _record_types(self, schema: CustomObjectSchema | str) -> Mapping[str, str]:
        if isinstance(schema, CustomObjectSchema):
            return {field.id: field.type for field in schema.fields}
        if schema not in self._record_field_types:
            self.custom_object_schema(schema)
        return self._record_field_types.get(schema, {})

    def custom_object_record_upsert(
        self,
        schema: CustomObjectSchema,
        *,
        external_id: str,
        values: Mapping[str, Any],
        contact_id: str | None = None,
    ) -> CustomObjectRecord:
        """Create or update the record with this external id (POST, AC's upsert).

        Only `externalId` is sent, never an `id`: an id with another externalId creates a
        new record (§5.2). Values given as None are not sent. Idempotent.
        """
        fields = []
        for field_id, value in values.items():
            if value is None:
                continue
            definition = schema.field(field_id)
            if definition is None:
                raise ValueError(f"{schema.slug} has no field {field_id!r}")
            fields.append({"id": field_id, "value": encode_record_value(value, definition.type)})
        record: dict[str, Any] = {"externalId": external_id, "fields": fields}
        if contact_id is not None:
            record["relationships"] = {PRIMARY_CONTACT: [_int_id(contact_id)]}
        body = _mapping(
            self._call(
                "POST",
                f"customObjects/records/{_seg(schema.id)}",
                json={"record": record},
                idempotent=True,
            ),
            "record",
        )
        return parse.custom_object_record(
            _mapping(body.get("record"), "record"), schema.id, self._record_types(schema)
        )

    def custom_object_record(
        self, schema: CustomObjectSchema | str, external_id: str
    ) -> CustomObjectRecord | None:
        """The record with this external id, None if there is none. (The doc page prints the
        path as /records/{schemdId}/external/…, a typo; clients use this one, §5.2.)

        Values are typed by the schema's fields: pass the schema, or its id (then it is
        read once per client, unless this client has already seen it).
        """
        schema_id = schema.id if isinstance(schema, CustomObjectSchema) else str(schema)
        try:
            body = self._get(
                f"customObjects/records/{_seg(schema_id)}/external/{_seg(external_id)}"
            )
        except NotFoundError:
            return None
        return parse.custom_object_record(
            _mapping(_mapping(body, "record").get("record"), "record"),
            schema_id,
            self._record_types(schema),
        )

    def custom_object_records_for_contact(
        self, schema: CustomObjectSchema | str, contact_id: str
    ) -> Iterator[CustomObjectRecord]:
        schema_id = schema.id if isinstance(schema, CustomObjectSchema) else str(schema)
        params = {f"filters[relationships.{PRIMARY_CONTACT}][eq]": contact_id}
        for item in self._items(f"customObjects/records/{_seg(schema_id)}", "records", params):
            yield parse.custom_object_record(item, schema_id, self._record_types(schema))

    # == automations ============================================================================
    def automations(self) -> Iterator[Automation]:
        for item in self._items("automations", "automations"):
            yield parse.automation(item, self._learn_tz(item.get("mdate")))

    def automation(self, automation_id: str) -> Automation:
        body = _mapping(self._get(f"automations/{_seg(automation_id)}"), "automation")
        item = body.get("automation")
        if not isinstance(item, Mapping):
            # The SPEC shows this path answering a list; take ours from it.
            item = next(
                (
                    candidate
                    for candidate in body.get("automations") or ()
                    if isinstance(candidate, Mapping)
                    and as_id(candidate.get("id")) == str(automation_id)
                ),
                None,
            )
        if not isinstance(item, Mapping):
            raise NotFoundError(f"automation {automation_id} not found", vendor=VENDOR, status=404)
        return parse.automation(item, self._account_tz)

    def contact_automation_add(
        self, contact_id: str, automation: str | Automation
    ) -> ContactAutomation:
        """Enrol a contact in an automation (POST /contactAutomations).

        Refused here for an inactive automation: AC accepts the enrolment and nothing
        happens (§6). Not retried after a failure that may have reached AC: a second
        enrolment could run the automation twice.
        """
        target = automation if isinstance(automation, Automation) else self.automation(automation)
        if not target.active:
            raise RecordError(
                f"automation “{target.name}” is not active; activate it in ActiveCampaign first",
                vendor=VENDOR,
                code="automation_inactive",
            )
        payload = {
            "contactAutomation": {"contact": _int_id(contact_id), "automation": _int_id(target.id)}
        }
        body = _mapping(
            self._call(
                "POST",
                "contactAutomations",
                json=payload,
                idempotent=False,
                # 403 {"message": "Could not create SubscriberSeries"} is AC refusing this
                # enrolment, not the key (SPEC create-new-contactautomation).
                forbidden_is_record=True,
            ),
            "contactAutomation",
        )
        return parse.contact_automation(
            _mapping(body.get("contactAutomation"), "contactAutomation"), self._account_tz
        )

    def contact_automations(self, contact_id: str) -> list[ContactAutomation]:
        body = _mapping(
            self._get(f"contacts/{_seg(contact_id)}/contactAutomations"), "contactAutomations"
        )
        return [
            parse.contact_automation(item, self._learn_tz(item.get("adddate")))
            for item in body.get("contactAutomations") or ()
            if isinstance(item, Mapping)
        ]

    # == campaigns ==============================================================================
    def campaigns(self) -> Iterator[Campaign]:
        """Campaigns, most recently sent first."""
        for item in self._items("campaigns", "campaigns", {"orders[sdate]": "DESC"}):
            yield parse.campaign(item, self._learn_tz(item.get("cdate")))

    def campaign_messages(self, campaign_id: str) -> list[Message]:
        """A campaign's messages (the `campaignMessages` link of every campaign; items carry
        `messageid` and `subject`, TAP schemas/campaign_messages.json)."""
        body = _mapping(
            self._get(f"campaigns/{_seg(campaign_id)}/campaignMessages"), "campaignMessages"
        )
        messages = []
        for item in body.get("campaignMessages") or ():
            if not isinstance(item, Mapping):
                continue
            message_id = as_id(item.get("messageid") or item.get("message"))
            if message_id is None:
                continue
            messages.append(
                Message(
                    id=message_id,
                    subject=str(item.get("subject") or ""),
                    name=str(item.get("name") or ""),
                    campaign_id=str(campaign_id),
                )
            )
        return messages

    def messages(self) -> Iterator[Message]:
        for item in self._items("messages", "messages"):
            yield parse.message(item)

    def campaign_send(
        self, *, email: str, campaign_id: str, message_id: str, type: str = "mime"
    ) -> CampaignSendResult:
        """Send an existing campaign's message to one contact (v1 `campaign_send`).

        v3 has no such call (only a test send); the v1 API is still live and documented at
        https://www.activecampaign.com/api/example.php?call=campaign_send : GET
        /admin/api.php?api_action=campaign_send&api_output=json with email, campaignid,
        messageid, type (mime/html/text) and action=send ("send a campaign to this contact and
        append him to the recipients list"). The key goes in the Api-Token header, as for v3
        (TAP client_v1.py), never in the URL. The answer is HTTP 200 either way; success is
        result_code 1, a refusal result_code 0 with result_message.
        Doubts (reference §7 open questions): whether action=send still works on every
        current account and counts as a tracked send. Never retried once it may have been
        sent: a second try could e-mail the person twice.
        """
        if type not in ("mime", "html", "text"):
            raise ValueError(f"type must be mime, html or text, not {type!r}")
        params = {
            "api_action": "campaign_send",
            "api_output": "json",
            "email": email,
            "campaignid": campaign_id,
            "messageid": message_id,
            "type": type,
            "action": "send",
        }
        response = self.http.request(
            "GET", f"{self.api_url}/admin/api.php", params=params, idempotent=False
        )
        body = self._json(response)
        if not isinstance(body, Mapping) or "result_code" not in body:
            raise ConfigurationError(
                "the v1 API answered without a result_code",
                vendor=VENDOR,
                status=response.status_code,
                reason=ConfigReason.NOT_AN_API,
            )
        message = " ".join(str(body.get("result_message") or "").split())
        if as_int(body.get("result_code")) == 1:
            self._key_proven = True
            return CampaignSendResult(email, str(campaign_id), str(message_id), message)
        if "not authorized" in message.lower():
            # v1 reports a refused key as result_code 0 "You are not authorized to access this
            # file" with HTTP 200 (ActiveCampaign/activecampaign-api-php issue #8).
            raise ConfigurationError(
                message, vendor=VENDOR, status=200, reason=ConfigReason.UNAUTHORIZED
            )
        raise RecordError(message or "the campaign was not sent", vendor=VENDOR, status=200)

    # == activity ===============================================================================
    def contact_activities(
        self,
        contact_id: str,
        *,
        after: datetime | None = None,
        include: Sequence[str] = DEFAULT_INCLUDE,
        max_items: int = 500,
    ) -> Iterator[Activity]:
        """The contact's recent activity, newest first, as readable Activity records.

        The docs say activity rows are generated when the contact is read via
        GET /contacts/{id}; call contact() first if the feed looks stale (§9).
        """
        params: dict[str, Any] = {"contact": contact_id, "orders[tstamp]": "DESC"}
        if after is not None:
            params["after"] = api_timestamp(after)
        if include:
            params["include"] = ",".join(include)
        emitted = 0
        # A feed, not a collection to finish: the bound ends it quietly (pages of 20 on a
        # server that caps `limit` still reach max_items).
        pages = self._pages("activities", "activities", params, max_pages=max_items, truncate=True)
        for page in pages:
            for item in activities(page, tz=self._account_tz):
                yield item
                emitted += 1
                if emitted >= max_items:
                    return

    # == webhooks ===============================================================================
    def webhooks(self, *, url: str | None = None) -> list[Webhook]:
        params = {"filters[url]": url} if url else None
        return [parse.webhook(item) for item in self._items("webhooks", "webhooks", params)]

    def webhook_create(
        self,
        *,
        name: str,
        url: str,
        events: Sequence[str],
        sources: Sequence[str] = DEFAULT_WEBHOOK_SOURCES,
        list_id: str | int = 0,
    ) -> Webhook:
        """Register a webhook. `sources` leaves out "api" by default: AC would otherwise call
        us back for our own writes (the echo-loop guard, §10.1)."""
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
        body = _mapping(self._call("POST", "webhooks", json=payload), "webhook")
        return parse.webhook(_mapping(body.get("webhook"), "webhook"))

    def webhook_delete(self, webhook_id: str) -> None:
        try:
            self._call("DELETE", f"webhooks/{_seg(webhook_id)}")
        except NotFoundError:
            logger.info("webhook %s was already deleted", webhook_id)


# == helpers ====================================================================================
def _unauthorized(error: ConnectorError) -> ConfigurationError:
    return ConfigurationError(
        error.message or "the API key was refused",
        vendor=VENDOR,
        status=error.status,
        reason=ConfigReason.UNAUTHORIZED,
    )


def _mapping(value: Any, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise FatalError(f"unexpected answer for {what}", vendor=VENDOR)
    return value


def _seg(value: Any) -> str:
    """A path segment: ids and external ids are quoted, never trusted as path syntax."""
    return quote(str(value), safe="")


def _int_id(value: Any) -> int:
    """Ids in request bodies as integers (the request schemas type them int32)."""
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"not an ActiveCampaign id: {value!r}") from None


def _choices(options: Sequence[ChoiceOption | str]) -> list[ChoiceOption]:
    return [
        option if isinstance(option, ChoiceOption) else ChoiceOption(option, option)
        for option in options
    ]


def _contact_payload(changes: ContactChanges, *, require_email: bool) -> dict[str, Any]:
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


def _import_payload(contact: ImportContact, exclude_automations: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"email": contact.email}
    for key, value in (
        ("first_name", contact.first_name),
        ("last_name", contact.last_name),
        ("phone", contact.phone),
        ("customer_acct_name", contact.account_name),
    ):
        if value not in (None, ""):
            payload[key] = value
    if contact.tags:
        payload["tags"] = [tag for tag in contact.tags if tag]
    fields = []
    for field_id, value in contact.field_values.items():
        encoded = encode_contact_value(value)
        if encoded != "":
            fields.append({"id": _int_id(field_id), "value": encoded})
    if fields:
        payload["fields"] = fields
    if contact.subscribe_list_ids:
        payload["subscribe"] = [{"listid": str(list_id)} for list_id in contact.subscribe_list_ids]
    if contact.unsubscribe_list_ids:
        payload["unsubscribe"] = [
            {"listid": str(list_id)} for list_id in contact.unsubscribe_list_ids
        ]
    payload["exclude_automations"] = exclude_automations
    return payload


def _import_chunks(
    contacts: Sequence[ImportContact], exclude_automations: bool
) -> Iterator[list[int]]:
    """Indexes in batches of <= 250 contacts and < 400,000 bytes of JSON."""
    chunk: list[int] = []
    size = len('{"contacts": []}')
    for index, contact in enumerate(contacts):
        item_size = len(jsonlib.dumps(_import_payload(contact, exclude_automations))) + 2
        if chunk and (
            len(chunk) >= BULK_IMPORT_MAX_CONTACTS or size + item_size >= BULK_IMPORT_MAX_BYTES
        ):
            yield chunk
            chunk, size = [], len('{"contacts": []}')
        chunk.append(index)
        size += item_size
    if chunk:
        yield chunk


def _primary_contact_relationship() -> dict[str, Any]:
    return {
        "id": PRIMARY_CONTACT,
        "labels": {"singular": "Contact", "plural": "Contacts"},
        "description": "The contact this record belongs to",
        "namespace": "contacts",
        "hasMany": False,
    }


def _schema_field_payload(field: CustomObjectField) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": field.id,
        "labels": {"singular": field.label, "plural": field.plural_label or field.label},
        "type": field.type,
        "isRequired": field.required,
    }
    if field.description:
        payload["description"] = field.description
    if field.scale is not None:
        payload["scale"] = field.scale
    if field.options:
        payload["options"] = [{"value": value} for value in field.options]
    if field.default_currency:
        payload["defaultCurrency"] = field.default_currency
    return payload


# Keys AC adds to a field that a schema update does not take back.
_SERVER_FIELD_KEYS = frozenset({"createdTimestamp", "updatedTimestamp", "status"})


def _schema_field_copy(field: Mapping) -> dict[str, Any]:
    """An existing field as AC gave it, for the update body: sent back unchanged."""
    copy = {key: value for key, value in field.items() if key not in _SERVER_FIELD_KEYS}
    if "options" in copy and isinstance(copy["options"], list):
        copy["options"] = [dict(o) if isinstance(o, Mapping) else o for o in copy["options"]]
    return copy


def _schema_payload(spec: CustomObjectSchemaSpec) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "slug": spec.slug,
        "labels": {"singular": spec.label, "plural": spec.plural_label},
        "description": spec.description,
        "fields": [_schema_field_payload(field) for field in spec.fields],
    }
    if spec.contact_relationship:
        payload["relationships"] = [_primary_contact_relationship()]
    return payload


__all__ = [
    "ACCOUNT_RATE_LIMIT",
    "DEFAULT_WEBHOOK_SOURCES",
    "WINDOW_PADDING",
    "ActiveCampaignClient",
    "account_rate",
    "account_throttle_key",
]
