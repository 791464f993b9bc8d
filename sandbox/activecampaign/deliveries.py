"""Webhook deliveries (§10.2): matching events to webhooks and POSTing them, form-encoded.

Deliveries leave from one background thread per sandbox, one POST per event and webhook,
with a timeout and never retried (at-least-once, no retries; `duplicate_rate` can make
"at least" show). A receiver answering 410 disables its webhook. Every resource module emits
events through `WebhookDispatcher.emit` and builds their `contact[...]` block with
`contact_payload`; the management API (webhooks.py) only reads and writes the webhook rows.
This module imports no resource module, so that all of them can import it.
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

from sandbox.store import Database
from sandbox.worker import BackgroundQueue

from .formats import AccountTime

logger = logging.getLogger(__name__)

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
