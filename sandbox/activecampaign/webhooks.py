"""Webhooks (§10): the management API and real, form-encoded deliveries.

Deliveries leave from one background thread per sandbox, one POST per event and webhook,
with a timeout and never retried (§10.2: at-least-once, no retries; `duplicate_rate` can make
"at least" show). A receiver answering 410 disables its webhook. Changes made through the API
have source `api`; the sandbox control endpoints produce `admin`, `public` and `system` ones.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response
from sandbox.store import Database
from sandbox.worker import BackgroundQueue

from .context import Resource
from .formats import AccountTime, ApiError, as_id, invalid, not_found, page, wrapped

logger = logging.getLogger(__name__)

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
# create-webhook: `listid` "has no effect" on these; every other event is list-scoped.
NOT_LIST_SCOPED = {
    "subscriber_note",
    "contact_tag_added",
    "contact_tag_removed",
    "contact_task_add",
    "list_add",
    "sms_sent",
    "sms_reply",
    "sms_unsub",
    "deal_add",
    "deal_update",
    "deal_note_add",
    "deal_pipeline_add",
    "deal_stage_add",
    "deal_task_add",
    "deal_tasktype_add",
    "deal_task_complete",
    "account_add",
    "account_update",
    "account_contact_add",
    "account_contact_update",
}
# Who `initiated_by` names for each source: the API key's user is the account admin.
INITIATED_BY = {"api": "admin", "admin": "admin", "public": "public", "system": "system"}


@dataclass
class Delivery:
    """One POST the sandbox made (or skipped), for tests and the control endpoint."""

    webhook: int
    url: str
    event: str
    source: str
    body: list[tuple[str, str]]
    status: int | None = None
    error: str = ""
    started: float = 0.0
    duration: float = 0.0

    def as_dict(self) -> dict:
        return {
            "webhook": self.webhook,
            "url": self.url,
            "event": self.event,
            "source": self.source,
            "body": self.body,
            "status": self.status,
            "error": self.error,
            "started": self.started,
            "duration": self.duration,
        }


class WebhookDispatcher:
    """Matches events to webhooks and delivers them from a background thread."""

    def __init__(self, db: Database, time_format: AccountTime, clock: Callable[[], float]):
        self.db = db
        self.time = time_format
        self.clock = clock
        self.timeout = 5.0  # seconds per delivery
        self.duplicate_rate = 0.0  # probability of delivering an event twice (§10.2)
        self.deliveries: deque[Delivery] = deque(maxlen=10_000)
        self._worker = BackgroundQueue("activecampaign-webhooks", self._deliver)
        self._cache: dict[int, list[dict]] = {}
        self._generation = 0  # bumped by forget(), so a stale read is never cached
        self._cache_lock = threading.Lock()
        self._random = random.Random()  # noqa: S311 - simulation, not secrets
        self._session = requests.Session()

    # -- matching --------------------------------------------------------------------------
    def forget(self, tenant: int) -> None:
        with self._cache_lock:
            self._cache.pop(tenant, None)
            self._generation += 1

    def _hooks(self, tenant: int) -> list[dict]:
        with self._cache_lock:
            hooks = self._cache.get(tenant)
            generation = self._generation
        if hooks is None:
            hooks = [
                {
                    "id": row["id"],
                    "url": row["url"],
                    "events": set(json.loads(row["events"])),
                    "sources": set(json.loads(row["sources"])),
                    "listid": row["listid"],
                }
                for row in self.db.execute(
                    "SELECT * FROM webhooks WHERE tenant = ? AND disabled = 0 ORDER BY id",
                    (tenant,),
                )
            ]
            with self._cache_lock:
                if self._generation == generation:
                    self._cache[tenant] = hooks
        return hooks

    def emit(
        self,
        tenant: int,
        event: str,
        source: str,
        build: Callable[[], list[tuple[str, str]] | dict[str, str]],
        *,
        lists: Iterable[int] = (),
        list_id: int = 0,
    ) -> int:
        """Queue `event` for every matching webhook; returns how many deliveries were queued.

        `build` makes the event's own fields (contact[...], campaign[...]…) and is called only
        when some webhook wants the event. `lists` are the lists the event concerns, for
        webhooks restricted to one list; `list_id` is what the payload's `list` says.
        """
        lists = set(lists)
        if list_id:
            lists.add(list_id)
        matched = [
            hook
            for hook in self._hooks(tenant)
            if event in hook["events"]
            and source in hook["sources"]
            and (not hook["listid"] or event in NOT_LIST_SCOPED or hook["listid"] in lists)
        ]
        if not matched:
            return 0
        fields = build()
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        for hook in matched:
            listed = hook["listid"] if hook["listid"] and event not in NOT_LIST_SCOPED else list_id
            body = [
                ("type", event),
                ("date_time", self.time.iso(self.clock())),
                ("initiated_from", source),
                ("initiated_by", INITIATED_BY.get(source, source)),
                ("list", str(listed or 0)),
                *pairs,
            ]
            copies = 2 if self._random.random() < self.duplicate_rate else 1
            for _ in range(copies):
                self._worker.put(Delivery(hook["id"], hook["url"], event, source, body))
        return len(matched)

    # -- delivery ----------------------------------------------------------------------------
    def _deliver(self, delivery: Delivery) -> None:
        delivery.started = time.time()
        parsed = urllib.parse.urlsplit(delivery.url)
        if parsed.scheme == "https" and parsed.port not in (None, 443):
            # create-webhook: "for https endpoints, we only can send webhooks on port 443".
            delivery.error = "not sent: https targets must use port 443"
            self.deliveries.append(delivery)
            return
        try:
            response = self._session.post(
                delivery.url,
                data=urllib.parse.urlencode(delivery.body),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "ActiveCampaign-Webhook (sandbox)",
                },
                timeout=self.timeout,
                allow_redirects=False,
            )
            delivery.status = response.status_code
            response.close()
        except requests.RequestException as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        delivery.duration = time.time() - delivery.started
        self.deliveries.append(delivery)
        if delivery.status == 410:
            # §10.2: answering 410 permanently disables the webhook.
            row = self.db.execute_one(
                "SELECT tenant FROM webhooks WHERE id = ?", (delivery.webhook,)
            )
            self.db.execute("UPDATE webhooks SET disabled = 1 WHERE id = ?", (delivery.webhook,))
            if row is not None:
                self.forget(row["tenant"])

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery was attempted; False on timeout."""
        return self._worker.drain(timeout)

    def close(self) -> None:
        self._worker.close(self.timeout + 1)
        self._session.close()


# -- payload blocks (§10.2; field names from AE's asyncapi rendering of DOC page/webhooks) ------
def contact_payload(db: Database, time_format: AccountTime, tenant: int, contact_id: int):
    """The `contact[...]` block: standard fields, tags, account and custom fields by perstag."""
    row = db.execute_one(
        "SELECT c.*, co.name AS org_name FROM contacts c "
        "LEFT JOIN account_contacts ac ON ac.contact = c.id "
        "LEFT JOIN companies co ON co.id = ac.account WHERE c.id = ? AND c.tenant = ?",
        (contact_id, tenant),
    )
    if row is None:
        return [("contact[id]", str(contact_id))]
    tags = db.execute(
        "SELECT t.tag FROM contact_tags ct JOIN tags t ON t.id = ct.tag "
        "WHERE ct.contact = ? ORDER BY ct.id",
        (contact_id,),
    )
    pairs = [
        ("contact[id]", str(row["id"])),
        ("contact[email]", row["email"]),
        ("contact[first_name]", row["first_name"]),
        ("contact[last_name]", row["last_name"]),
        ("contact[phone]", row["phone"]),
        ("contact[tags]", ", ".join(t["tag"] for t in tags)),
        ("contact[orgname]", row["org_name"] or ""),
        ("contact[customer_acct_name]", row["org_name"] or ""),
        ("contact[ip]", row["ip"]),
    ]
    # Keyed by personalisation tag, lower-cased (e.g. contact[fields][d365_id], §10.2);
    # multi-values keep their `||a||b||` form.
    values = db.execute(
        "SELECT f.perstag, fv.value FROM field_values fv JOIN fields f ON f.id = fv.field "
        "WHERE fv.contact = ? ORDER BY f.id",
        (contact_id,),
    )
    pairs.extend((f"contact[fields][{v['perstag'].lower()}]", v["value"] or "") for v in values)
    return pairs


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
