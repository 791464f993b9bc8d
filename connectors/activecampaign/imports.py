"""Bulk contact import: initial loads in batches of up to 250 contacts, outcomes polled.

https://developers.activecampaign.com/reference/bulk-import-contacts
https://developers.activecampaign.com/reference/bulk-import-status-info
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

from connectors.errors import FatalError, RetryableError
from connectors.ratelimit import Rate, ThrottleTimeout

from . import parse
from .api import WINDOW_PADDING, Api, Resource, int_id, mapping
from .errors import VENDOR, BulkImportRejected
from .records import (
    BulkImportResult,
    BulkImportStatus,
    ImportContact,
    ImportContactResult,
    ImportOutcome,
)
from .values import encode_contact_value

# Bulk import's own limits: 100 multi-contact requests a minute, 20 a minute with a single
# contact, <= 250 contacts and < 400,000 bytes each.
BULK_IMPORT_MAX_CONTACTS = 250
BULK_IMPORT_MAX_BYTES = 400_000
BULK_IMPORT_MULTI_RATE = Rate(100, 60.0 + WINDOW_PADDING)
BULK_IMPORT_SINGLE_RATE = Rate(20, 60.0 + WINDOW_PADDING)
# A refused chunk is sent again without the contacts AC named, at most this many times.
BULK_IMPORT_RESUBMITS = 2


class Imports(Resource):
    """ActiveCampaignClient.imports."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self._multi_throttle = api.own_throttle("bulk_import", BULK_IMPORT_MULTI_RATE)
        self._single_throttle = api.own_throttle("bulk_import_single", BULK_IMPORT_SINGLE_RATE)

    def bulk(
        self,
        contacts: Sequence[ImportContact],
        *,
        exclude_automations: bool = True,
        wait: float = 300.0,
        poll_interval: float = 5.0,
    ) -> BulkImportResult:
        """Import contacts in batches (initial loads): one result per input contact.

        Batches of <= 250 contacts and < 400,000 bytes, snake_case payload, tags by name,
        `exclude_automations` on every contact (the only doc example puts it there).
        A batch AC refuses is sent again without the contacts its `failureReasons` name; the
        queued batches are then polled (GET /import/info) for at most `wait` seconds.
        """
        if not contacts:
            return BulkImportResult(results=())
        results: dict[int, ImportContactResult] = {}
        queued: list[tuple[str, list[int]]] = []
        for chunk in _chunks(contacts, exclude_automations):
            pending = list(chunk)
            for _attempt in range(BULK_IMPORT_RESUBMITS + 1):
                if not pending:
                    break
                batch_id, rejected = self._post(contacts, pending, exclude_automations)
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
        self._outcomes(contacts, queued, results, wait, poll_interval)
        return BulkImportResult(
            results=tuple(results[index] for index in sorted(results)),
            batch_ids=tuple(batch_id for batch_id, _ in queued),
        )

    def _post(
        self, contacts: Sequence[ImportContact], indexes: list[int], exclude_automations: bool
    ) -> tuple[str | None, dict[int, str]]:
        """POST one batch: (batch id, {}) when queued, (None, {index: reason}) when refused."""
        payload = {"contacts": [_payload(contacts[i], exclude_automations) for i in indexes]}
        throttle = self._multi_throttle if len(indexes) > 1 else self._single_throttle
        try:
            throttle.acquire()
        except ThrottleTimeout as exc:
            raise RetryableError(str(exc), vendor=VENDOR, unsent=True) from None
        try:
            # Idempotent in effect: contacts are matched by e-mail, tags by name.
            body = mapping(
                self.api.call("POST", "import/bulk_import", json=payload, idempotent=True),
                "import/bulk_import",
            )
        except BulkImportRejected as error:
            rejected: dict[int, str] = {}
            for position, reason in error.failures:
                # `contact` is read as the 0-based position in the request's array (the doc
                # example: index 230 of up to 250); not stated explicitly.
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

    def _outcomes(
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
                    statuses[batch_id] = self.status(batch_id)
            if all(status.completed for status in statuses.values()):
                break
            if poll < polls - 1:
                self.api.sleep(poll_interval)
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

    def status(self, batch_id: str) -> BulkImportStatus:
        """One batch's status (GET /import/info)."""
        body = self.api.get_mapping("import/info", {"batchId": batch_id})
        return parse.bulk_import_status(body, batch_id)


def _payload(contact: ImportContact, exclude_automations: bool) -> dict[str, Any]:
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
            fields.append({"id": int_id(field_id), "value": encoded})
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


def _chunks(contacts: Sequence[ImportContact], exclude_automations: bool) -> Iterator[list[int]]:
    """Indexes in batches of <= 250 contacts and < 400,000 bytes of JSON."""
    chunk: list[int] = []
    size = len('{"contacts": []}')
    for index, contact in enumerate(contacts):
        item_size = len(json.dumps(_payload(contact, exclude_automations))) + 2
        if chunk and (
            len(chunk) >= BULK_IMPORT_MAX_CONTACTS or size + item_size >= BULK_IMPORT_MAX_BYTES
        ):
            yield chunk
            chunk, size = [], len('{"contacts": []}')
        chunk.append(index)
        size += item_size
    if chunk:
        yield chunk
