"""Bulk contact import (§11.1): validated at once, processed later on a background thread.

`POST /api/3/import/bulk_import` checks the payload (≤ 250 contacts, < 400,000 bytes, e-mail
format, `fields` [{id, value}], `tags` names, `subscribe`/`unsubscribe` [{listid}]) and answers
400 with `failureReasons` (shape 7) or queues the batch. The worker upserts each contact by
e-mail with the snake_case attributes, writes custom field values, adds tags by name (creating
them), links `customer_acct_name`, and (un)subscribes lists. Imports fire no webhooks (§10.2).
Contacts whose address hard-bounced, or who unsubscribed from a list the import would
subscribe them to, are skipped (§11.1) and reported under `failure`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import time
import urllib.parse
import uuid

import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import SlidingWindow, json_response
from sandbox.worker import BackgroundQueue

from . import fieldvalues
from .accounts import company_ensure, company_link
from .context import Resource
from .formats import as_id, email_valid, message_error, text
from .lists import list_subscribe
from .tags import tag_attach, tag_ensure

logger = logging.getLogger(__name__)

RULES = [
    Rule("/api/3/import/bulk_import", methods=["POST"], endpoint="import_create"),
    Rule("/api/3/import/bulk_import", methods=["GET"], endpoint="imports_status"),
    Rule("/api/3/import/info", methods=["GET"], endpoint="import_info"),
]
MAX_CONTACTS = 250
MAX_BYTES = 400_000
VALIDATION_FAILED = (
    "JSON payload did not pass validation. Please fix failure Reasons and retry. "
    "The import was not queued for processing."
)
RECENT_DAYS = 7  # how long a finished batch counts as "recentlyCompleted"


def failure(message: str, reasons: list) -> Response:
    return json_response({"success": 0, "message": message, "failureReasons": reasons}, 400)


def contact_reasons(index: int, contact: object) -> list[dict]:
    """Why one contact of the payload is invalid (SPEC's failureReasons objects)."""

    def reason(text_: str) -> dict:
        return {"contact": index, "failureReason": text_}

    if not isinstance(contact, dict):
        return [reason("Contact must be an object")]
    reasons = []
    email = contact.get("email")
    if not isinstance(email, str) or not email_valid(email.strip()):
        reasons.append(reason("Field 'email' incorrect format"))
    for key in ("first_name", "last_name", "phone", "customer_acct_name"):
        if key in contact and contact[key] is not None and not isinstance(contact[key], str):
            reasons.append(reason(f"Field '{key}' must be a string"))
    fields = contact.get("fields", [])
    if not isinstance(fields, list) or any(
        not isinstance(f, dict) or as_id(f.get("id")) is None or "value" not in f for f in fields
    ):
        reasons.append(reason("Field 'fields' must be a list of {id, value}"))
    tags = contact.get("tags", [])
    if not isinstance(tags, list) or any(not isinstance(t, str) or not t.strip() for t in tags):
        reasons.append(reason("Field 'tags' must be a list of tag names"))
    for key in ("subscribe", "unsubscribe"):
        items = contact.get(key, [])
        if not isinstance(items, list) or any(
            not isinstance(i, dict) or as_id(i.get("listid")) is None for i in items
        ):
            reasons.append(reason(f"Field '{key}' must be a list of {{listid}}"))
    return reasons


class ImportsApi(Resource):
    imports: BackgroundQueue
    import_delay: float  # seconds a batch waits before processing (to watch it outstanding)
    rate_limit: int | None
    _import_single: SlidingWindow
    _import_multi: SlidingWindow

    def import_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        raw = request.get_data(cache=True)
        if len(raw) >= MAX_BYTES:
            return failure(
                "Payload too large.", [f"The payload must be smaller than {MAX_BYTES} bytes."]
            )
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            return failure("Invalid JSON payload.", ["The request body is not valid JSON."])
        contacts = payload.get("contacts") if isinstance(payload, dict) else None
        if not isinstance(contacts, list) or not contacts:
            return failure(VALIDATION_FAILED, ["'contacts' must be a non-empty list"])
        if len(contacts) > MAX_CONTACTS:
            return failure(
                VALIDATION_FAILED,
                [f"Up to {MAX_CONTACTS} contacts may be included in a single request."],
            )
        reasons = [r for i, c in enumerate(contacts) for r in contact_reasons(i, c)]
        if reasons:
            return failure(VALIDATION_FAILED, reasons)
        if self.rate_limit is not None:
            # §11.1: 20 single-contact and 100 multi-contact import requests per minute.
            window, allowed = (
                (self._import_single, 20) if len(contacts) == 1 else (self._import_multi, 100)
            )
            if window.hit(str(tenant)):
                return failure(
                    "Rate limit exceeded.",
                    [
                        f"Up to {allowed} imports may be requested per minute.Please batch "
                        "contacts into larger requests, or retry this request in a minute."
                    ],
                )
        batch_id = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO imports (batch_id, tenant, status, payload, contacts, created) "
            "VALUES (?, ?, 'outstanding', ?, ?, ?)",
            (batch_id, tenant, json.dumps(payload), len(contacts), self.clock()),
        )
        self.imports.put(batch_id)
        # DOC bulk-import-contacts spells the flag `success`, the SPEC example `Success`;
        # both are sent so that a client reading either one sees it.
        return json_response(
            {
                "success": 1,
                "Success": 1,
                "queued_contacts": len(contacts),
                "batchId": batch_id,
                "message": "Contact import queued",
            }
        )

    def import_info(self, request: Request) -> Response:
        batch_id = request.args.get("batchId")
        if not batch_id:
            return json_response({"success": 0, "message": "'batchId' is a required field."}, 400)
        row = self.db.execute_one(
            "SELECT * FROM imports WHERE batch_id = ? AND tenant = ?",
            (batch_id, self.tenant(request)),
        )
        if row is None:
            return message_error(404, f"No Result found for batch with id {batch_id}")
        return json_response(
            {
                "status": row["status"],
                "success": json.loads(row["success"]),
                "failure": json.loads(row["failure"]),
            }
        )

    def imports_status(self, request: Request) -> Response:
        tenant = self.tenant(request)
        since = self.clock() - RECENT_DAYS * 86400
        rows = self.db.execute(
            "SELECT status, created, completed, contacts FROM imports WHERE tenant = ? AND "
            "(status = 'outstanding' OR completed >= ?) ORDER BY created",
            (tenant, since),
        )
        groups: dict[str, dict[str, list[int]]] = {"outstanding": {}, "recentlyCompleted": {}}
        for row in rows:
            key = "outstanding" if row["status"] == "outstanding" else "recentlyCompleted"
            moment = row["created"] if key == "outstanding" else row["completed"]
            day = (dt.datetime.fromtimestamp(moment, self.time.tz)).date().isoformat()
            groups[key].setdefault(day, []).append(row["contacts"])
        return json_response(
            {
                key: [
                    {"forDate": day, "batches": str(len(counts)), "contacts": str(sum(counts))}
                    for day, counts in sorted(days.items())
                ]
                for key, days in groups.items()
            }
        )

    # -- the worker ----------------------------------------------------------------------------
    def import_process(self, batch_id: str) -> None:
        if self.import_delay:
            time.sleep(self.import_delay)
        row = self.db.execute_one("SELECT * FROM imports WHERE batch_id = ?", (batch_id,))
        if row is None or row["status"] != "outstanding":
            return
        tenant = row["tenant"]
        payload = json.loads(row["payload"])
        succeeded: list[str] = []
        failed: list[str] = []
        for contact in payload["contacts"]:
            email = contact["email"].strip()
            now = self.now()
            try:
                with self.db.transaction() as conn:
                    contact_id = self._import_one(conn, tenant, contact, now)
            except Exception:  # one bad contact must not sink the batch
                logger.exception("bulk import %s: contact %s failed", batch_id, email)
                contact_id = None
            if contact_id is None:
                failed.append(email)
            else:
                succeeded.append(str(contact_id))
        self.contact_counts.forget(tenant)
        self.db.execute(
            "UPDATE imports SET status = 'completed', success = ?, failure = ?, completed = ? "
            "WHERE batch_id = ?",
            (json.dumps(succeeded), json.dumps(failed), self.clock(), batch_id),
        )
        callback = payload.get("callback")
        if isinstance(callback, dict) and callback.get("url"):
            self._import_callback(batch_id, callback, succeeded, failed)

    def _import_one(
        self, conn: sqlite3.Connection, tenant: int, data: dict, now: int
    ) -> int | None:
        existing = conn.execute(
            "SELECT c.*, NULL AS org_id, NULL AS org_name FROM contacts c "
            "WHERE c.tenant = ? AND c.email_key = ?",
            (tenant, data["email"].strip().lower()),
        ).fetchone()
        subscribe = [as_id(i["listid"]) for i in data.get("subscribe", [])]
        unsubscribe = [as_id(i["listid"]) for i in data.get("unsubscribe", [])]
        if existing is not None:
            if existing["bounced_hard"]:
                return None
            if (
                subscribe
                and conn.execute(
                    f"SELECT 1 FROM contact_lists WHERE contact = ? AND status = 2 AND list IN "  # noqa: S608
                    f"({','.join('?' * len(subscribe))})",
                    (existing["id"], *subscribe),
                ).fetchone()
            ):
                return None
        attributes = {"email": data["email"].strip()}
        for key, attribute in (
            ("first_name", "firstName"),
            ("last_name", "lastName"),
            ("phone", "phone"),
        ):
            if data.get(key) is not None:
                attributes[attribute] = data[key]
        change = self.contact_save(conn, tenant, attributes, existing=existing, now=now)
        contact_id = change.id
        changed = change.changed
        for item in data.get("fields", []):
            result = fieldvalues.value_set(
                conn, tenant, contact_id, as_id(item["id"]), item.get("value"), now
            )
            changed = changed or bool(result and result[1])
        if changed and not change.created:
            conn.execute("UPDATE contacts SET udate = ? WHERE id = ?", (now, contact_id))
        for name in data.get("tags", []):
            tag_attach(conn, tenant, contact_id, tag_ensure(conn, tenant, name.strip(), now), now)
        account_name = text(data.get("customer_acct_name")).strip()
        if account_name:
            company_link(
                conn, tenant, contact_id, company_ensure(conn, tenant, account_name, now), "", now
            )
        known_lists = {
            r["id"] for r in conn.execute("SELECT id FROM lists WHERE tenant = ?", (tenant,))
        }
        for list_id in subscribe:
            if list_id in known_lists:
                list_subscribe(conn, tenant, contact_id, list_id, 1, now)
        for list_id in unsubscribe:
            if list_id in known_lists:
                list_subscribe(conn, tenant, contact_id, list_id, 2, now)
        return contact_id

    def _import_callback(
        self, batch_id: str, callback: dict, succeeded: list, failed: list
    ) -> None:
        """Call the import's callback once (no retries). The payload format is not documented
        beyond `params`, `headers` and `detailed_results`: params become form fields (or query
        params for GET), plus batchId and, with detailed_results, success/failure as JSON."""
        fields = [
            (text(p.get("key")), text(p.get("value")))
            for p in callback.get("params") or []
            if isinstance(p, dict) and p.get("key")
        ]
        fields.append(("batchId", batch_id))
        if text(callback.get("detailed_results")).lower() == "true":
            fields += [("success", json.dumps(succeeded)), ("failure", json.dumps(failed))]
        headers = {
            text(h.get("key")): text(h.get("value"))
            for h in callback.get("headers") or []
            if isinstance(h, dict) and h.get("key")
        }
        url = text(callback["url"])
        if not url.startswith(("http://", "https://")):
            url = "https://" + url
        try:
            if text(callback.get("requestType")).upper() == "GET":
                requests.get(url, params=fields, headers=headers, timeout=5)
            else:
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
                requests.post(url, data=urllib.parse.urlencode(fields), headers=headers, timeout=5)
        except requests.RequestException as exc:
            logger.info("bulk import %s: callback to %s failed: %s", batch_id, url, exc)
