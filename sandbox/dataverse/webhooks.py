"""Webhook registrations (the sandbox's stand-in for serviceendpoint + sdkmessageprocessingstep)
and their delivery.

Facts: §12 of README.md (S26 use-webhooks, S27 register-web-hook): a POST whose body is a
serialized RemoteExecutionContext, headers x-ms-dynamics-organization,
x-ms-dynamics-entity-name, x-ms-dynamics-request-name, x-ms-correlation-request-id; auth by
HttpHeader / WebhookKey (?code=) / HttpQueryString; 60 s timeout; any non-2xx is a failure and
only 502/503/504 get one more attempt. Registered steps run asynchronously (Mode 1,
PostOperation stage 40). Values use WCF-style JSON ("\\/Date(ms)\\/", typed wrappers).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import deque
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from sandbox.store import Database
from sandbox.worker import BackgroundQueue

from .records import Change
from .schema import SYNCED_TABLES, Column, Table

AUTH_TYPES = {"HttpHeader": 5, "WebhookKey": 4, "HttpQueryString": 6}
MESSAGES = ("Create", "Update", "Delete")
CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
RETRY_STATUSES = {502, 503, 504}


def wcf_date(text: str) -> str:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"/Date({int(moment.timestamp() * 1000)})/"


def wcf_value(table: Table, column: Column | None, value: object, name_of: Callable) -> object:
    if value is None or column is None:
        return value
    kind = column.kind
    if kind in ("Lookup", "Customer", "Owner"):
        target = column.targets[0]
        return {
            "__type": f"EntityReference:{CONTRACTS}",
            "Id": value,
            "KeyAttributes": [],
            "LogicalName": target,
            "Name": None,
            "RowVersion": None,
        }
    if kind in ("Picklist", "State", "Status"):
        return {"__type": f"OptionSetValue:{CONTRACTS}", "Value": int(value)}
    if kind == "Money":
        return {"__type": f"Money:{CONTRACTS}", "Value": float(value)}
    if kind == "Boolean":
        return bool(value)
    if kind == "DateTime":
        text = str(value)
        return wcf_date(text if "T" in text else f"{text}T00:00:00Z")
    if kind == "MultiSelectPicklist":
        return {
            "__type": f"OptionSetValueCollection:{CONTRACTS}",
            "Values": [{"Value": int(v)} for v in str(value).split(",") if v],
        }
    return value


class Webhooks:
    def __init__(
        self, db: Database, context: Callable[[Change], tuple[dict, dict]], *, timeout: float = 60
    ) -> None:
        self.db = db
        self.context = context
        self.timeout = timeout
        self.deliveries: deque[dict] = deque(maxlen=10000)
        self._worker = BackgroundQueue("dataverse-webhooks", lambda job: self._deliver(*job))
        self._session = requests.Session()
        db.script(
            """
            CREATE TABLE IF NOT EXISTS dv_webhooks (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL,
                auth_type TEXT NOT NULL, auth_value TEXT, entities TEXT NOT NULL,
                messages TEXT NOT NULL, filtering_attributes TEXT, created TEXT NOT NULL);
            """
        )

    # -- registrations -------------------------------------------------------------------------
    def register(
        self,
        url: str,
        *,
        name: str | None = None,
        auth_type: str = "HttpHeader",
        auth_value: dict | str | None = None,
        entities: list[str] | None = None,
        messages: list[str] | None = None,
        filtering_attributes: list[str] | None = None,
    ) -> dict:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("A webhook needs an absolute http(s) URL.")
        if auth_type not in AUTH_TYPES:
            raise ValueError(f"auth_type must be one of {sorted(AUTH_TYPES)}.")
        if (
            auth_type in ("HttpHeader", "HttpQueryString")
            and auth_value is not None
            and not isinstance(auth_value, dict)
        ):
            raise ValueError(f"{auth_type} takes a mapping of names to values.")
        if auth_type == "WebhookKey" and not isinstance(auth_value, str):
            raise ValueError("WebhookKey takes the key as a string.")
        entities = list(entities or SYNCED_TABLES)
        messages = list(messages or MESSAGES)
        unknown = set(messages) - set(MESSAGES)
        if unknown:
            raise ValueError(f"Unknown message(s): {sorted(unknown)}.")
        hook = {
            "id": str(uuid.uuid4()),
            "name": name or urlsplit(url).netloc,
            "url": url,
            "auth_type": auth_type,
            "auth_value": json.dumps(auth_value) if auth_value is not None else None,
            "entities": ",".join(entities),
            "messages": ",".join(messages),
            "filtering_attributes": ",".join(filtering_attributes)
            if filtering_attributes
            else None,
            "created": dt.datetime.now(dt.UTC).isoformat(),
        }
        self.db.execute(
            "INSERT INTO dv_webhooks (id, name, url, auth_type, auth_value, entities, messages, "
            "filtering_attributes, created) VALUES (:id, :name, :url, :auth_type, :auth_value, "
            ":entities, :messages, :filtering_attributes, :created)",
            hook,
        )
        return self._public(hook)

    @staticmethod
    def _public(row: dict) -> dict:
        return {
            "id": row["id"],
            "name": row["name"],
            "url": row["url"],
            "auth_type": row["auth_type"],
            "authtype": AUTH_TYPES[row["auth_type"]],
            "entities": row["entities"].split(","),
            "messages": row["messages"].split(","),
            "filtering_attributes": row["filtering_attributes"].split(",")
            if row["filtering_attributes"]
            else None,
        }

    def list(self) -> list[dict]:
        return [
            self._public(dict(r))
            for r in self.db.execute("SELECT * FROM dv_webhooks ORDER BY created")
        ]

    def unregister(self, hook_id: str) -> bool:
        existed = (
            self.db.execute_one("SELECT 1 FROM dv_webhooks WHERE id = ?", (hook_id,)) is not None
        )
        self.db.execute("DELETE FROM dv_webhooks WHERE id = ?", (hook_id,))
        return existed

    # -- events --------------------------------------------------------------------------------
    def notify(self, change: Change) -> None:
        rows = self.db.execute("SELECT * FROM dv_webhooks")
        if not rows:
            return
        targets = []
        for row in rows:
            row = dict(row)
            if change.table.logical not in row["entities"].split(","):
                continue
            if change.message not in row["messages"].split(","):
                continue
            if change.message == "Update" and row["filtering_attributes"]:
                wanted = set(row["filtering_attributes"].split(","))
                if not wanted & set(change.attributes):
                    continue
            targets.append(row)
        if not targets:
            return
        body, headers = self.context(change)
        payload = json.dumps(body, separators=(",", ":"))
        # WCF writes dates as "\/Date(...)\/"; the escaped slash decodes to the same string.
        payload = payload.replace('"/Date(', '"\\/Date(').replace(')/"', ')\\/"')
        for row in targets:
            self._enqueue(row, payload, headers, change)

    def _enqueue(self, row: dict, payload: str, headers: dict, change: Change) -> None:
        self._worker.put((row, payload, headers, change))

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until every queued delivery finished (tests use it)."""
        return self._worker.drain(timeout)

    def _deliver(self, row: dict, payload: str, headers: dict, change: Change) -> None:
        url = row["url"]
        headers = {**headers, "Content-Type": "application/json"}
        auth_value = json.loads(row["auth_value"]) if row["auth_value"] else None
        if row["auth_type"] == "HttpHeader" and auth_value:
            headers.update({str(k): str(v) for k, v in auth_value.items()})
        elif row["auth_type"] in ("WebhookKey", "HttpQueryString") and auth_value:
            pairs = {"code": auth_value} if row["auth_type"] == "WebhookKey" else auth_value
            parts = urlsplit(url)
            query = parts.query + ("&" if parts.query else "") + urlencode(pairs)
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        record = {
            "webhook_id": row["id"],
            "url": row["url"],
            "message": change.message,
            "entity": change.table.logical,
            "record_id": change.record_id,
            "attempts": 0,
            "status": None,
            "error": None,
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        for attempt in (1, 2):
            record["attempts"] = attempt
            try:
                response = self._session.post(
                    url, data=payload.encode(), headers=headers, timeout=self.timeout
                )
                record["status"] = response.status_code
                record["error"] = None
                if response.status_code in RETRY_STATUSES and attempt == 1:
                    continue
            except requests.RequestException as exc:
                record["status"] = None
                record["error"] = type(exc).__name__
            break
        self.deliveries.append(record)
