"""Lists and list membership (§2.6): what `listid` filters, webhooks' `listid` and campaigns
rely on. Status codes: 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced."""

from __future__ import annotations

import re
import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .deliveries import contact_payload
from .formats import as_id, invalid, message_error, not_found, page, text, wrapped

RULES = [
    Rule("/api/3/lists", methods=["GET"], endpoint="lists_list"),
    Rule("/api/3/lists", methods=["POST"], endpoint="list_create"),
    Rule("/api/3/lists/<int:list_id>", methods=["GET"], endpoint="list_get"),
    Rule("/api/3/lists/<int:list_id>", methods=["DELETE"], endpoint="list_delete"),
    Rule("/api/3/contactLists", methods=["POST"], endpoint="contact_list_update"),
    Rule(
        "/api/3/contacts/<int:contact_id>/contactLists",
        methods=["GET"],
        endpoint="contact_lists",
    ),
]


def list_subscribe(
    conn: sqlite3.Connection,
    tenant: int,
    contact: int,
    list_id: int,
    status: int,
    now: int,
    *,
    sourceid: int = 0,
    form: int | None = None,
) -> tuple[int, int | None]:
    """Set a contact's status on a list; (contactList id, previous status or None)."""
    row = conn.execute(
        "SELECT id, status FROM contact_lists WHERE contact = ? AND list = ?", (contact, list_id)
    ).fetchone()
    if row is None:
        new_id = conn.execute(
            "INSERT INTO contact_lists (tenant, contact, list, status, sourceid, form, sdate, "
            "udate, unsubdate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tenant,
                contact,
                list_id,
                status,
                sourceid,
                form,
                now if status == 1 else None,
                now,
                now if status == 2 else None,
            ),
        ).lastrowid
        return new_id, None
    if row["status"] != status:
        conn.execute(
            "UPDATE contact_lists SET status = ?, sourceid = ?, udate = ?, "
            "sdate = CASE WHEN ? = 1 THEN ? ELSE sdate END, "
            "unsubdate = CASE WHEN ? = 2 THEN ? ELSE unsubdate END, "
            "form = COALESCE(?, form) WHERE id = ?",
            (status, sourceid, now, status, now, status, now, form, row["id"]),
        )
    return row["id"], row["status"]


class ListsApi(Resource):
    def list_json(self, row: sqlite3.Row, base: str) -> dict:
        list_id = row["id"]
        return {
            "stringid": row["stringid"],
            "userid": "1",
            "name": row["name"],
            "cdate": self.time.iso(row["cdate"]),
            "p_use_tracking": "1",
            "p_use_analytics_read": "0",
            "p_use_analytics_link": "0",
            "p_use_twitter": "0",
            "p_use_facebook": "0",
            "p_embed_image": "1",
            "p_use_captcha": "1",
            "send_last_broadcast": "0",
            "private": "0",
            "analytics_domains": None,
            "analytics_source": "",
            "analytics_ua": "",
            "twitter_token": "",
            "twitter_token_secret": "",
            "facebook_session": None,
            "carboncopy": None,
            "subscription_notify": None,
            "unsubscription_notify": None,
            "require_name": "0",
            "get_unsubscribe_reason": "0",
            "to_name": "Subscriber",
            "optinoptout": "1",
            "sender_name": "",
            "sender_addr1": "",
            "sender_addr2": "",
            "sender_city": "",
            "sender_state": "",
            "sender_zip": "",
            "sender_country": "",
            "sender_phone": "",
            "sender_url": row["sender_url"],
            "sender_reminder": row["sender_reminder"],
            "fulladdress": "",
            "optinmessageid": "0",
            "optoutconf": "0",
            "deletestamp": None,
            "udate": self.time.iso(row["udate"]),
            **self.audit_stamps(row["cdate"], row["udate"]),
            "links": {
                name: f"{base}/api/3/lists/{list_id}/{name}"
                for name in ("contactGoalLists", "user", "addressLists")
            },
            "id": str(list_id),
            "user": "1",
        }

    def contact_list_json(self, row: sqlite3.Row, contact: sqlite3.Row, base: str) -> dict:
        cl_id = row["id"]
        return {
            "contact": str(row["contact"]),
            "list": str(row["list"]),
            "form": None if row["form"] is None else str(row["form"]),
            "seriesid": "0",
            "sdate": self.time.iso(row["sdate"]),
            "udate": self.time.iso(row["udate"]),
            "status": str(row["status"]),
            "responder": "1",
            "sync": "0",
            "unsubreason": None,
            "campaign": None,
            "message": None,
            "first_name": contact["first_name"],
            "last_name": contact["last_name"],
            "ip4Sub": "0",
            "sourceid": str(row["sourceid"]),
            "autosyncLog": None,
            "ip4_last": "0",
            "ip4Unsub": "0",
            "created_timestamp": self.time.local_plain(row["sdate"] or row["udate"]),
            "updated_timestamp": self.time.local_plain(row["udate"]),
            "created_by": None,
            "updated_by": None,
            "unsubscribeAutomation": None,
            "links": {
                name: f"{base}/api/3/contactLists/{cl_id}/{name}"
                for name in (
                    "automation",
                    "list",
                    "contact",
                    "form",
                    "autosyncLog",
                    "campaign",
                    "unsubscribeAutomation",
                    "message",
                )
            },
            "id": str(cl_id),
            "automation": None,
        }

    def _list(self, tenant: int, list_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM lists WHERE id = ? AND tenant = ?", (list_id, tenant)
        )

    def lists_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        name = request.args.get("filters[name]")
        if name:
            where.append("name LIKE ?")
            params.append(f"%{name}%")
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM lists WHERE {sql_where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM lists WHERE {sql_where}", params)[0]  # noqa: S608
        base = self.base(request)
        return json_response(
            {"lists": [self.list_json(r, base) for r in rows], "meta": {"total": str(total)}}
        )

    def list_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "list")
        name = text(data.get("name")).strip()
        if not name:
            return invalid(
                "The name attribute was not provided",
                code="field_missing",
                pointer="/data/attributes/name",
            )
        stringid = text(data.get("stringid")).strip() or re.sub(r"[^A-Za-z0-9]+", "-", name)
        now = self.now()
        list_id = self.db.insert(
            "INSERT INTO lists (tenant, name, stringid, sender_url, sender_reminder, cdate, udate)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tenant,
                name,
                stringid,
                text(data.get("sender_url")),
                text(data.get("sender_reminder")),
                now,
                now,
            ),
        )
        self.webhooks.emit(
            tenant,
            "list_add",
            "api",
            lambda: [("list[id]", str(list_id)), ("list[userid]", "1"), ("list[name]", name)],
        )
        # SPEC create-new-list documents 200 for the create.
        return json_response(
            {"list": self.list_json(self._list(tenant, list_id), self.base(request))}
        )

    def list_get(self, request: Request, list_id: int) -> Response:
        row = self._list(self.tenant(request), list_id)
        if row is None:
            return not_found("_List", list_id)
        return json_response({"list": self.list_json(row, self.base(request))})

    def list_delete(self, request: Request, list_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            if not conn.execute(
                "DELETE FROM lists WHERE id = ? AND tenant = ?", (list_id, tenant)
            ).rowcount:
                # SPEC delete-a-list documents this miss as a 403.
                return message_error(403, f"No Result found for _List with id {list_id}")
            conn.execute("DELETE FROM contact_lists WHERE list = ?", (list_id,))
        return json_response({})

    def contact_list_update(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "contactList")
        ids = {key: as_id(data.get(key)) for key in ("list", "contact", "status")}
        for key, value in ids.items():
            if value is None:
                return invalid(
                    f"The {key} attribute was not provided",
                    code="field_missing",
                    pointer=f"/data/attributes/{key}",
                )
        if ids["status"] not in (0, 1, 2, 3):
            return invalid(
                "The status attribute is invalid",
                code="field_invalid",
                pointer="/data/attributes/status",
            )
        if self._list(tenant, ids["list"]) is None:
            return not_found("_List", ids["list"])
        now = self.now()
        with self.db.transaction() as conn:
            contact = self.contact_row(conn, tenant, ids["contact"])
            if contact is None:
                return not_found("Subscriber", ids["contact"])
            cl_id, previous = list_subscribe(
                conn,
                tenant,
                ids["contact"],
                ids["list"],
                ids["status"],
                now,
                sourceid=as_id(data.get("sourceid")) or 0,
            )
            if previous != ids["status"] and ids["status"] in (1, 2):
                self.activity_add(
                    conn,
                    tenant,
                    ids["contact"],
                    now,
                    "SubscriberList",
                    cl_id,
                    "subscribe" if ids["status"] == 1 else "unsubscribe",
                    "contactList",
                )
        event = {1: "subscribe", 2: "unsubscribe"}.get(ids["status"])
        if event and previous != ids["status"]:
            self.webhooks.emit(
                tenant,
                event,
                "api",
                lambda: contact_payload(self.db, self.time, tenant, ids["contact"]),
                list_id=ids["list"],
            )
        row = self.db.execute_one("SELECT * FROM contact_lists WHERE id = ?", (cl_id,))
        base = self.base(request)
        contact_row = self.contact_row(self.db, tenant, ids["contact"])
        body = self.contact_list_json(row, contact_row, base)
        body["status"] = ids["status"]  # SPEC's example answers the status as a number here
        return json_response(
            {"contacts": [self.contact_json(contact_row, base)], "contactList": body}
        )

    def contact_lists(self, request: Request, contact_id: int) -> Response:
        contact = self.contact_require(request, contact_id)
        rows = self.db.execute(
            "SELECT * FROM contact_lists WHERE contact = ? ORDER BY id", (contact_id,)
        )
        base = self.base(request)
        return json_response(
            {"contactLists": [self.contact_list_json(r, contact, base) for r in rows]}
        )
