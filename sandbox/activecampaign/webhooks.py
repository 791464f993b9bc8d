"""Webhooks (§10): the management API (`/api/3/webhooks`, `/api/3/webhook/events`).

The deliveries themselves (matching, form-encoded POSTs, 410 handling) live in deliveries.py.
Changes made through the API have source `api`; the sandbox control endpoints produce
`admin`, `public` and `system` ones.
"""

from __future__ import annotations

import json

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .formats import ApiError, as_id, invalid, not_found, page, wrapped

RULES = [
    Rule("/api/3/webhooks", methods=["GET"], endpoint="webhooks_list"),
    Rule("/api/3/webhooks", methods=["POST"], endpoint="webhook_create"),
    Rule("/api/3/webhooks/<int:webhook_id>", methods=["GET"], endpoint="webhook_get"),
    Rule("/api/3/webhooks/<int:webhook_id>", methods=["PUT"], endpoint="webhook_update"),
    Rule("/api/3/webhooks/<int:webhook_id>", methods=["DELETE"], endpoint="webhook_delete"),
    Rule("/api/3/webhook/events", methods=["GET"], endpoint="webhook_events"),
]

# SPEC get-a-list-of-webhook-events, verbatim (25 events).
DOCUMENTED_EVENTS = [
    "bounce",
    "click",
    "contact_tag_added",
    "contact_tag_removed",
    "deal_add",
    "deal_note_add",
    "deal_pipeline_add",
    "deal_stage_add",
    "deal_task_add",
    "deal_task_complete",
    "deal_tasktype_add",
    "deal_update",
    "forward",
    "list_add",
    "open",
    "reply",
    "sent",
    "share",
    "sms_reply",
    "sms_sent",
    "sms_unsub",
    "subscribe",
    "subscriber_note",
    "unsubscribe",
    "update",
]
# The create-webhook doc also names these (in its `listid` description); accepted on create.
EXTRA_EVENTS = [
    "contact_task_add",
    "account_add",
    "account_update",
    "account_contact_add",
    "account_contact_update",
]
SOURCES = ("public", "admin", "api", "system")


def field_invalid(key: str, title: str) -> Response:
    return invalid(title, code="field_invalid", pointer=f"/data/attributes/{key}")


# -- management API ------------------------------------------------------------------------------
class WebhooksApi(Resource):
    def webhook_json(self, row) -> dict:
        return {
            "cdate": self.time.iso(row["cdate"]),
            "listid": str(row["listid"]),
            "name": row["name"],
            "url": row["url"],
            "events": json.loads(row["events"]),
            "sources": json.loads(row["sources"]),
            "links": [],
            "id": str(row["id"]),
        }

    def _webhook_values(self, data: dict, *, partial: bool) -> dict:
        """Validated column values from a webhook body; raises ApiError with a 422."""
        values: dict = {}
        for key in ("name", "url", "events", "sources"):
            if key in data:
                values[key] = data[key]
            elif not partial:
                raise ApiError(
                    invalid(
                        f"The {key} attribute was not provided",
                        code="field_missing",
                        pointer=f"/data/attributes/{key}",
                    )
                )
        for key in ("name", "url"):
            if key in values and (not isinstance(values[key], str) or not values[key].strip()):
                raise ApiError(field_invalid(key, f"The {key} attribute is invalid"))
        if "url" in values and not values["url"].startswith(("http://", "https://")):
            raise ApiError(field_invalid("url", "The url must be an http or https URL"))
        known = {"events": set(DOCUMENTED_EVENTS + EXTRA_EVENTS), "sources": set(SOURCES)}
        for key in ("events", "sources"):
            if key not in values:
                continue
            items = values[key]
            if (
                not isinstance(items, list)
                or not items
                or any(not isinstance(i, str) or i not in known[key] for i in items)
            ):
                raise ApiError(
                    field_invalid(key, f"Invalid {key}: expected a non-empty list of known {key}")
                )
            values[key] = json.dumps(items)
        if "listid" in data:
            listid = as_id(data["listid"])
            if listid is None:
                raise ApiError(field_invalid("listid", "The listid attribute is invalid"))
            values["listid"] = listid
        return values

    def webhook_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        values = self._webhook_values(wrapped(request, "webhook"), partial=False)
        webhook_id = self.db.insert(
            "INSERT INTO webhooks (tenant, name, url, events, sources, listid, cdate) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tenant,
                values["name"],
                values["url"],
                values["events"],
                values["sources"],
                values.get("listid", 0),
                self.now(),
            ),
        )
        self.webhooks.forget(tenant)
        row = self.db.execute_one("SELECT * FROM webhooks WHERE id = ?", (webhook_id,))
        return json_response({"webhook": self.webhook_json(row)}, 201)

    def webhooks_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        for name in ("name", "url"):
            value = request.args.get(f"filters[{name}]")
            if value:
                where.append(f"{name} = ?")
                params.append(value)
        listid = as_id(request.args.get("filters[listid]"))
        if listid is not None:
            where.append("listid = ?")
            params.append(listid)
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM webhooks WHERE {sql_where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM webhooks WHERE {sql_where}", params)[0]  # noqa: S608
        return json_response(
            {"webhooks": [self.webhook_json(r) for r in rows], "meta": {"total": str(total)}}
        )

    def _webhook(self, request: Request, webhook_id: int):
        return self.db.execute_one(
            "SELECT * FROM webhooks WHERE id = ? AND tenant = ?",
            (webhook_id, self.tenant(request)),
        )

    def webhook_get(self, request: Request, webhook_id: int) -> Response:
        row = self._webhook(request, webhook_id)
        if row is None:
            return not_found("Webhook", webhook_id)
        return json_response({"webhook": self.webhook_json(row)})

    def webhook_update(self, request: Request, webhook_id: int) -> Response:
        if self._webhook(request, webhook_id) is None:
            return not_found("Webhook", webhook_id)
        values = self._webhook_values(wrapped(request, "webhook"), partial=True)
        if values:
            assignments = ", ".join(f"{k} = ?" for k in values)
            self.db.execute(
                f"UPDATE webhooks SET {assignments} WHERE id = ?",  # noqa: S608 - known keys
                (*values.values(), webhook_id),
            )
        self.webhooks.forget(self.tenant(request))
        return json_response({"webhook": self.webhook_json(self._webhook(request, webhook_id))})

    def webhook_delete(self, request: Request, webhook_id: int) -> Response:
        if self._webhook(request, webhook_id) is None:
            return not_found("Webhook", webhook_id)
        self.db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
        self.webhooks.forget(self.tenant(request))
        return json_response({})

    def webhook_events(self, request: Request) -> Response:
        return json_response(
            {"webhookEvents": DOCUMENTED_EVENTS, "meta": {"total": len(DOCUMENTED_EVENTS)}}
        )
