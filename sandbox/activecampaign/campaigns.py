"""Campaigns, messages and sending one campaign to one contact (§7).

Sending goes through the legacy v1 `campaign_send` action (§7 point 2), the only documented
route that really sends an existing campaign to one address: `GET|POST /admin/api.php?
api_action=campaign_send&api_output=json` with `email`, `campaignid`, `messageid`, `type`,
`action` (send|test), authenticated by the `Api-Token` header or the older `api_key` param.
A real send records a send log and a `sent` activity, bumps the campaign's and the contact's
counters and fires the `sent` webhook. Opens, clicks and the other engagement events come from
the sandbox control endpoint (a contact's mail client cannot be simulated through the API).
"""

from __future__ import annotations

import json
import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .deliveries import contact_payload
from .formats import ApiError, as_id, invalid, not_found, orders, page, read_json, text, wrapped

RULES = [
    Rule("/api/3/campaigns", methods=["GET"], endpoint="campaigns_list"),
    Rule("/api/3/campaign", methods=["POST"], endpoint="campaign_create"),
    Rule("/api/3/campaigns/<int:campaign_id>", methods=["GET"], endpoint="campaign_get"),
    Rule("/api/3/campaigns/<int:campaign_id>", methods=["DELETE"], endpoint="campaign_delete"),
    Rule("/api/3/campaigns/<int:campaign_id>/links", methods=["GET"], endpoint="campaign_links"),
    # The campaign object's own links (SPEC list-all-campaigns: campaignMessages; retrieve-a-
    # campaign: campaignMessage), and the collection TAP reads (streams.py CampaignMessages).
    Rule(
        "/api/3/campaigns/<int:campaign_id>/campaignMessages",
        methods=["GET"],
        endpoint="campaign_messages_of",
    ),
    Rule(
        "/api/3/campaigns/<int:campaign_id>/campaignMessage",
        methods=["GET"],
        endpoint="campaign_message_of",
    ),
    Rule("/api/3/campaignMessages", methods=["GET"], endpoint="campaign_messages_list"),
    Rule("/api/3/messages", methods=["GET"], endpoint="messages_list"),
    Rule("/api/3/messages", methods=["POST"], endpoint="message_create"),
    Rule("/api/3/messages/<int:message_id>", methods=["GET"], endpoint="message_get"),
    Rule("/api/3/messages/<int:message_id>", methods=["PUT"], endpoint="message_update"),
    Rule("/api/3/messages/<int:message_id>", methods=["DELETE"], endpoint="message_delete"),
    Rule("/admin/api.php", methods=["GET", "POST"], endpoint="v1_api"),
]
# Campaign status codes (TAP schema / AC UI): 0 draft, 1 scheduled, 2 sending, 5 completed.
DRAFT, COMPLETED = 0, 5
STAT_COLUMNS = (
    "send_amt",
    "total_amt",
    "opens",
    "uniqueopens",
    "linkclicks",
    "uniquelinkclicks",
    "subscriberclicks",
    "forwards",
    "uniqueforwards",
    "hardbounces",
    "softbounces",
    "unsubscribes",
)
MESSAGE_FIELDS = (
    "name",
    "fromname",
    "fromemail",
    "reply2",
    "subject",
    "preheader_text",
    "html",
    "text",
    "format",
)


def v1_answer(code: int, message: str, **extra) -> Response:
    """v1 answers are HTTP 200 with `result_code` 1/0 (ActiveCampaign/activecampaign-api-php)."""
    return json_response(
        {"result_code": code, "result_message": message, "result_output": "json", **extra}
    )


class CampaignsApi(Resource):
    # -- campaigns -----------------------------------------------------------------------------
    def campaign_json(self, row: sqlite3.Row, base: str) -> dict:
        campaign_id = row["id"]
        t = self.time
        stats = {column: str(row[column]) for column in STAT_COLUMNS}
        return {
            "type": row["type"],
            "userid": "1",
            "segmentid": "0",
            "bounceid": "-1",
            "realcid": "0",
            "sendid": "0",
            "threadid": "0",
            "seriesid": str(row["seriesid"]),
            "formid": "0",
            "basetemplateid": "",
            "basemessageid": "0",
            "addressid": "0",
            "source": "web",
            "name": row["name"],
            "cdate": t.iso(row["cdate"]),
            "mdate": t.iso(row["mdate"]),
            "sdate": t.iso(row["sdate"]),
            "ldate": t.iso(row["ldate"]),
            **stats,
            "unsubreasons": "0",
            "updates": "0",
            "socialshares": str(row["socialshares"]),
            "replies": str(row["replies"]),
            "uniquereplies": str(row["uniquereplies"]),
            "status": str(row["status"]),
            "public": "1",
            "mail_transfer": "0",
            "mail_send": "0",
            "mail_cleanup": "0",
            "mailer_log_file": "0",
            "tracklinks": "all",
            "tracklinksanalytics": "0",
            "trackreads": "1",
            "trackreadsanalytics": "1",
            "analytics_campaign_name": "",
            "tweet": "0",
            "facebook": "0",
            "survey": "",
            "embed_images": "0",
            "htmlunsub": "0",
            "textunsub": "0",
            "htmlunsubdata": None,
            "textunsubdata": None,
            "recurring": "day1",
            "willrecur": "0",
            "split_type": "even",
            "split_content": str(row["can_split_content"]),
            "split_offset": "2",
            "split_offset_type": "day",
            "split_winner_messageid": "0",
            "split_winner_awaiting": "0",
            "responder_offset": "0",
            "responder_type": "subscribe",
            "responder_existing": "0",
            "reminder_field": "sdate",
            "reminder_format": None,
            "reminder_type": "month_day",
            "reminder_offset": "0",
            "reminder_offset_type": "day",
            "reminder_offset_sign": "+",
            "reminder_last_cron_run": None,
            "activerss_interval": "day1",
            "activerss_url": None,
            "activerss_items": "10",
            "ip4": "0",
            "laststep": "designer" if row["status"] == DRAFT else "summary",
            "managetext": "0",
            "schedule": "0",
            "scheduleddate": None,
            "waitpreview": "0",
            "deletestamp": None,
            "replysys": "0",
            **self.audit_stamps(row["cdate"], row["mdate"]),
            "links": {
                name: f"{base}/api/3/campaigns/{campaign_id}/{name}"
                for name in (
                    "user",
                    "automation",
                    "campaignMessage",
                    "campaignMessages",
                    "links",
                    "aggregateRevenues",
                    "segment",
                    "campaignLists",
                )
            },
            "id": str(campaign_id),
            "user": "1",
            "automation": str(row["seriesid"]) if row["seriesid"] else None,
        }

    def _campaign(self, tenant: int, campaign_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM campaigns WHERE id = ? AND tenant = ?", (campaign_id, tenant)
        )

    def campaigns_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        series = as_id(request.args.get("filters[seriesid]"))
        if series is not None:
            where.append("seriesid = ?")
            params.append(series)
        name = request.args.get("filters[name]")
        if name:
            where.append("name LIKE ?")
            params.append(f"%{name}%")
        order = orders(
            request,
            {
                "sdate": "sdate",
                "ldate": "ldate",
                "mdate": "mdate",
                "cdate": "cdate",
                "id": "id",
                "name": "name",
            },
        )
        order.append("id ASC")
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM campaigns WHERE {sql_where} ORDER BY {', '.join(order)} "  # noqa: S608
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM campaigns WHERE {sql_where}", params)[0]  # noqa: S608
        base = self.base(request)
        return json_response(
            {
                "campaigns": [self.campaign_json(r, base) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def campaign_get(self, request: Request, campaign_id: int) -> Response:
        row = self._campaign(self.tenant(request), campaign_id)
        if row is None:
            return not_found("Campaign", campaign_id)
        return json_response({"campaign": self.campaign_json(row, self.base(request))})

    def campaign_create(self, request: Request) -> Response:
        """POST /api/3/campaign: a draft; note the singular path and the unwrapped body (§7)."""
        payload = read_json(request)
        errors = []
        if not isinstance(payload.get("name"), str) or not payload["name"].strip():
            errors.append("Field name is required")
        if "type" not in payload:
            errors.append("Field type is required")
        elif not isinstance(payload["type"], str):
            errors.append("Field type must be of type string")
        if errors:
            return json_response({"errors": errors}, 400)  # shape 5 (§1.6)
        now = self.now()
        split = bool(payload.get("canSplitContent", False))
        campaign_id = self.db.insert(
            "INSERT INTO campaigns (tenant, name, type, status, cdate, mdate, can_split_content) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.tenant(request),
                payload["name"].strip(),
                payload["type"],
                DRAFT,
                now,
                now,
                int(split),
            ),
        )
        # SPEC create-campaign: 200 with the id as a number and the echoed attributes.
        return json_response(
            {
                "id": campaign_id,
                "name": payload["name"].strip(),
                "type": payload["type"],
                "canSplitContent": split,
            }
        )

    def campaign_delete(self, request: Request, campaign_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM campaigns WHERE id = ? AND tenant = ?", (campaign_id, tenant)
            ).rowcount
            if deleted:
                conn.execute("DELETE FROM campaign_messages WHERE campaign = ?", (campaign_id,))
                conn.execute("DELETE FROM campaign_links WHERE campaign = ?", (campaign_id,))
        # §1.6 shape 8: a soft failure inside a 200 when nothing was deleted.
        if not deleted:
            return json_response(
                {"succeeded": 0, "message": f"Campaign {campaign_id} could not be deleted"}
            )
        return json_response({"succeeded": 1, "message": "Campaign deleted"})

    def campaign_links(self, request: Request, campaign_id: int) -> Response:
        tenant = self.tenant(request)
        if self._campaign(tenant, campaign_id) is None:
            return not_found("Campaign", campaign_id)
        rows = self.db.execute(
            "SELECT * FROM campaign_links WHERE campaign = ? ORDER BY id", (campaign_id,)
        )
        base = self.base(request)
        return json_response({"links": [self.link_row_json(r, base) for r in rows]})

    # -- campaign messages: which message a campaign sends, with its per-message stats ---------
    def campaign_message_json(self, row: sqlite3.Row, base: str) -> dict:
        """One campaignMessage (fields of TAP's schemas/campaign_messages.json)."""
        stats = self.db.execute_one(
            "SELECT COUNT(*) AS sent, COALESCE(SUM(opens), 0) AS opens, "
            "COALESCE(SUM(opens > 0), 0) AS uniqueopens, COALESCE(SUM(clicks), 0) AS clicks, "
            "COALESCE(SUM(clicks > 0), 0) AS uniqueclicks FROM send_logs "
            "WHERE campaign = ? AND message = ?",
            (row["campaign"], row["message"]),
        )
        cm_id = row["id"]
        return {
            "campaignid": str(row["campaign"]),
            "messageid": str(row["message"]),
            "percentage": "100.00",
            "sourcesize": str(stats["sent"]),
            "send_amt": str(stats["sent"]),
            "total_amt": str(stats["sent"]),
            "opens": str(stats["opens"]),
            "uniqueopens": str(stats["uniqueopens"]),
            "linkclicks": str(stats["clicks"]),
            "uniquelinkclicks": str(stats["uniqueclicks"]),
            "subscriberclicks": str(stats["uniqueclicks"]),
            "forwards": "0",
            "uniqueforwards": "0",
            "hardbounces": "0",
            "softbounces": "0",
            "unsubscribes": "0",
            "unsubreasons": "0",
            "updates": "0",
            "socialshares": "0",
            "replies": "0",
            "uniquereplies": "0",
            "spamcheck_score": "0",
            "spamcheck_max": "0",
            "initial_split_percentage": "0.00",
            "screenshot": "",
            "subject": row["subject"],
            "links": {
                name: f"{base}/api/3/campaignMessages/{cm_id}/{name}"
                for name in ("campaign", "message")
            },
            "id": str(cm_id),
            "campaign": str(row["campaign"]),
            "message": str(row["message"]),
        }

    def _campaign_message_rows(self, where: str, params: tuple, limit: int, offset: int):
        # `where` is built from constant fragments by the callers.
        sql = f"SELECT cm.*, m.subject FROM campaign_messages cm JOIN messages m ON m.id = cm.message WHERE {where} ORDER BY cm.id LIMIT ? OFFSET ?"  # noqa: E501, S608
        return self.db.execute(sql, (*params, limit, offset))

    def campaign_messages_of(self, request: Request, campaign_id: int) -> Response:
        tenant = self.tenant(request)
        if self._campaign(tenant, campaign_id) is None:
            return not_found("Campaign", campaign_id)
        rows = self._campaign_message_rows("cm.campaign = ?", (campaign_id,), -1, 0)
        base = self.base(request)
        return json_response(
            {"campaignMessages": [self.campaign_message_json(r, base) for r in rows]}
        )

    def campaign_message_of(self, request: Request, campaign_id: int) -> Response:
        tenant = self.tenant(request)
        if self._campaign(tenant, campaign_id) is None:
            return not_found("Campaign", campaign_id)
        rows = self._campaign_message_rows("cm.campaign = ?", (campaign_id,), 1, 0)
        first = self.campaign_message_json(rows[0], self.base(request)) if rows else None
        return json_response({"campaignMessage": first})

    def campaign_messages_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = "cm.tenant = ?", (tenant,)
        campaign = as_id(request.args.get("filters[campaignid]"))
        if campaign is not None:
            where, params = where + " AND cm.campaign = ?", (*params, campaign)
        rows = self._campaign_message_rows(where, params, limit, offset)
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM campaign_messages cm WHERE {where}",  # noqa: S608 - constant
            params,
        )[0]
        base = self.base(request)
        return json_response(
            {
                "campaignMessages": [self.campaign_message_json(r, base) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def link_row_json(self, row: sqlite3.Row, base: str) -> dict:
        return {
            "campaignid": str(row["campaign"]),
            "messageid": str(row["message"]),
            "link": row["link"],
            "name": row["name"],
            "ref": "",
            "tracked": str(row["tracked"]),
            "links": {
                "campaign": f"{base}/api/3/links/{row['id']}/campaign",
                "message": f"{base}/api/3/links/{row['id']}/message",
            },
            "id": str(row["id"]),
            "campaign": str(row["campaign"]),
            "message": str(row["message"]),
        }

    # -- messages ------------------------------------------------------------------------------
    def message_json(self, row: sqlite3.Row, base: str) -> dict:
        message_id = row["id"]
        return {
            "userid": "1",
            "ed_instanceid": "0",
            "ed_version": "1",
            "cdate": self.time.iso(row["cdate"]),
            "mdate": self.time.iso(row["mdate"]),
            "name": row["name"],
            "fromname": row["fromname"],
            "fromemail": row["fromemail"],
            "reply2": row["reply2"],
            "priority": "3",
            "charset": "utf-8",
            "encoding": "quoted-printable",
            "format": row["format"],
            "subject": row["subject"],
            "preheader_text": row["preheader_text"],
            "text": row["text"],
            "html": row["html"],
            "htmlfetch": "now",
            "textfetch": "now",
            "hidden": "0",
            "preview_mime": "",
            "preview_data": None,
            "has_predictive_content": "0",
            "links": {
                name: f"{base}/api/3/messages/{message_id}/{name}"
                for name in ("user", "hyperlinks", "messageLists", "campaignMessages")
            },
            "id": str(message_id),
            "user": "1",
        }

    def _message(self, tenant: int, message_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM messages WHERE id = ? AND tenant = ?", (message_id, tenant)
        )

    def messages_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        rows = self.db.execute(
            "SELECT * FROM messages WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one("SELECT COUNT(*) FROM messages WHERE tenant = ?", (tenant,))[0]
        base = self.base(request)
        return json_response(
            {"messages": [self.message_json(r, base) for r in rows], "meta": {"total": str(total)}}
        )

    def _message_values(self, data: dict, *, create: bool = False) -> dict:
        values = {key: text(data[key]) for key in MESSAGE_FIELDS if key in data}
        if "fromemail" not in values and "email" in data:
            # create-a-message's schema calls the sender address `email`, its example and
            # the message objects `fromemail`.
            values["fromemail"] = text(data["email"])
        if create:
            for key in ("fromname", "fromemail", "reply2"):
                if not values.get(key):
                    raise ApiError(
                        invalid(
                            f"The {key} attribute was not provided",
                            code="field_missing",
                            pointer=f"/data/attributes/{key}",
                        )
                    )
        if "fromemail" in values and values["fromemail"] and "@" not in values["fromemail"]:
            raise ApiError(
                invalid(
                    "fromemail is not an e-mail address",
                    code="field_invalid",
                    pointer="/data/attributes/fromemail",
                )
            )
        return values

    def message_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        values = self._message_values(wrapped(request, "message"), create=True)
        now = self.now()
        columns = ["tenant", "cdate", "mdate", *values]
        message_id = self.db.insert(
            f"INSERT INTO messages ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})",  # noqa: S608
            (tenant, now, now, *values.values()),
        )
        return json_response(
            {"message": self.message_json(self._message(tenant, message_id), self.base(request))},
            201,
        )

    def message_get(self, request: Request, message_id: int) -> Response:
        row = self._message(self.tenant(request), message_id)
        if row is None:
            return not_found("Message", message_id)
        return json_response({"message": self.message_json(row, self.base(request))})

    def message_update(self, request: Request, message_id: int) -> Response:
        tenant = self.tenant(request)
        if self._message(tenant, message_id) is None:
            return not_found("Message", message_id)
        values = self._message_values(wrapped(request, "message"))
        values["mdate"] = self.now()
        assignments = ", ".join(f"{key} = ?" for key in values)
        self.db.execute(
            f"UPDATE messages SET {assignments} WHERE id = ?",  # noqa: S608 - known columns
            (*values.values(), message_id),
        )
        return json_response(
            {"message": self.message_json(self._message(tenant, message_id), self.base(request))}
        )

    def message_delete(self, request: Request, message_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            if not conn.execute(
                "DELETE FROM messages WHERE id = ? AND tenant = ?", (message_id, tenant)
            ).rowcount:
                return not_found("Message", message_id)
            conn.execute("DELETE FROM campaign_messages WHERE message = ?", (message_id,))
        return json_response({})

    # -- v1: campaign_send ---------------------------------------------------------------------
    def v1_api(self, request: Request) -> Response:
        action = request.values.get("api_action", "")
        if request.values.get("api_output", "json") != "json":
            return v1_answer(0, "This sandbox answers api_output=json only")
        if action == "user_me":
            return v1_answer(
                1,
                "Success: Something is returned",
                id=1,
                username="admin",
                email="admin@example.com",
            )
        if action != "campaign_send":
            return v1_answer(
                0, f"The sandbox implements only campaign_send and user_me, not {action!r}"
            )
        return self.campaign_send(request)

    def campaign_send(self, request: Request) -> Response:
        tenant = self.tenant(request)
        params = request.values
        email = (params.get("email") or "").strip()
        campaign_id = as_id(params.get("campaignid"))
        message_id = as_id(params.get("messageid")) or 0
        mode = (params.get("action") or "send").strip().lower()
        kind = (params.get("type") or "mime").strip().lower()
        if mode not in ("send", "test"):
            return v1_answer(0, "action must be send or test")
        if kind not in ("mime", "html", "text"):
            return v1_answer(0, "type must be mime, html or text")
        if not email:
            return v1_answer(0, "Email address is required")
        campaign = self._campaign(tenant, campaign_id) if campaign_id else None
        if campaign is None:
            return v1_answer(0, "Campaign not found")
        messages = [
            r["message"]
            for r in self.db.execute(
                "SELECT message FROM campaign_messages WHERE campaign = ? ORDER BY id",
                (campaign["id"],),
            )
        ]
        if message_id and message_id not in messages:
            return v1_answer(0, "Message not found in this campaign")
        if not messages:
            return v1_answer(0, "This campaign has no message to send")
        message_id = message_id or messages[0]
        if mode == "test":
            # A test send reaches the address but counts nowhere (no stats, activity, webhook).
            return v1_answer(1, "Test email sent")
        now = self.now()
        with self.db.transaction() as conn:
            contact = conn.execute(
                "SELECT id FROM contacts WHERE tenant = ? AND email_key = ?",
                (tenant, email.lower()),
            ).fetchone()
            if contact is None:
                return v1_answer(0, "Subscriber not found")
            log_id = conn.execute(
                "INSERT INTO send_logs (tenant, contact, campaign, message, tstamp) "
                "VALUES (?, ?, ?, ?, ?)",
                (tenant, contact["id"], campaign["id"], message_id, now),
            ).lastrowid
            conn.execute(
                "UPDATE campaigns SET send_amt = send_amt + 1, total_amt = total_amt + 1, "
                "sdate = COALESCE(sdate, ?), ldate = ?, status = ? WHERE id = ?",
                (now, now, COMPLETED, campaign["id"]),
            )
            conn.execute("UPDATE contacts SET sentcnt = sentcnt + 1 WHERE id = ?", (contact["id"],))
            self.activity_add(
                conn,
                tenant,
                contact["id"],
                now,
                "CampaignLog",
                log_id,
                "sent",
                "log",
                json.dumps({"campaignid": campaign["id"], "messageid": message_id}),
            )
        self.campaign_event_emit(tenant, "sent", "api", contact["id"], campaign["id"], message_id)
        # The success text is not in the sources at hand; clients test result_code.
        return v1_answer(1, "Campaign sent")

    # -- shared with the control endpoint ------------------------------------------------------
    def campaign_block(self, campaign_id: int, message_id: int) -> list[tuple[str, str]]:
        campaign = self.db.execute_one("SELECT * FROM campaigns WHERE id = ?", (campaign_id,))
        message = self.db.execute_one("SELECT * FROM messages WHERE id = ?", (message_id,))
        if campaign is None:
            return [("campaign[id]", str(campaign_id))]
        return [
            ("campaign[id]", str(campaign_id)),
            ("campaign[name]", campaign["name"]),
            ("campaign[status]", str(campaign["status"])),
            ("campaign[type]", campaign["type"]),
            ("campaign[recipients]", str(campaign["send_amt"])),
            ("campaign[message][id]", str(message_id)),
            ("campaign[message][subject]", message["subject"] if message else ""),
        ]

    def campaign_event_emit(
        self,
        tenant: int,
        event: str,
        source: str,
        contact: int,
        campaign: int,
        message: int,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        def build():
            # `sent` is documented with the campaign block only; for a send to one contact the
            # contact block is included too, so that a receiver knows who got it (INF).
            return [
                *contact_payload(self.db, self.time, tenant, contact),
                *self.campaign_block(campaign, message),
                *(extra or []),
            ]

        lists = [
            r[0]
            for r in self.db.execute("SELECT list FROM contact_lists WHERE contact = ?", (contact,))
        ]
        self.webhooks.emit(tenant, event, source, build, lists=lists)
