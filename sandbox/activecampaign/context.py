"""What every resource module of the sandbox relies on, declared once.

The sandbox is one WSGI app (the base class routes to `self.<endpoint>`), assembled from one
mixin per resource family (contacts.py, fields.py, …). Each mixin subclasses `Resource` so
that the attributes and helpers below are typed and documented in one place; `app.py`
provides them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from werkzeug.wrappers import Request

from sandbox.store import Database

from .deliveries import WebhookDispatcher
from .formats import AccountTime

TENANT_KEY = "activecampaign.tenant"


class Resource:
    db: Database
    time: AccountTime
    clock: Callable[[], float]
    webhooks: WebhookDispatcher

    def now(self) -> int:
        """The current time in whole seconds, as AC stores contact timestamps."""
        return int(self.clock())

    def audit_stamps(self, created: float | None, updated: float | None) -> dict:
        """`created_timestamp`/`updated_timestamp` and `created_by`/`updated_by` (§2.3).

        Most v3 objects carry these four beside their own dates, the timestamps written
        `YYYY-MM-DD HH:MM:SS` in the account's zone (SPEC examples of contactLists, bounceLogs,
        contactDeals); tap-activecampaign replicates campaigns, lists and others by
        `updated_timestamp` (falling back to `created_timestamp`) and drops records without
        them. The sandbox records no acting user: both `_by` are null, as in those examples.
        """
        return {
            "created_timestamp": self.time.local_plain(created),
            "updated_timestamp": self.time.local_plain(updated if updated is not None else created),
            "created_by": None,
            "updated_by": None,
        }

    @staticmethod
    def tenant(request: Request) -> int:
        """The id of the AC account the request's API key belongs to (set by `before`)."""
        return request.environ[TENANT_KEY]

    @staticmethod
    def base(request: Request) -> str:
        """`http://host:port` as the client addressed us, for the `links` AC puts in objects."""
        return request.host_url.rstrip("/")

    @staticmethod
    def activity_add(
        conn: sqlite3.Connection,
        tenant: int,
        contact: int,
        tstamp: int,
        reference_type: str,
        reference_id: int,
        action: str,
        model_name: str,
        json_data: str | None = None,
    ) -> int:
        """Record a row of the contact's activity feed (§9, served by activities.py)."""
        return conn.execute(
            "INSERT INTO activities (tenant, contact, tstamp, reference_type, reference_id, "
            "reference_action, model_name, json_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tenant, contact, tstamp, reference_type, reference_id, action, model_name, json_data),
        ).lastrowid

    # -- provided by the resource mixins (declared here so that every mixin can call them) ---
    def contact_row(self, conn_or_db, tenant: int, contact_id: int) -> sqlite3.Row | None:
        raise NotImplementedError  # contacts.py

    def contact_json(self, row: sqlite3.Row, base: str, *, single: bool = False) -> dict:
        raise NotImplementedError  # contacts.py

    def contact_require(self, request: Request, contact_id: int) -> sqlite3.Row:
        raise NotImplementedError  # contacts.py

    def contact_automation_json(self, row: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # automations.py

    def contact_list_json(self, row: sqlite3.Row, contact: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # lists.py

    def list_json(self, row: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # lists.py

    def tag_json(self, row: sqlite3.Row, base: str, *, count: int | None = None) -> dict:
        raise NotImplementedError  # tags.py

    def contact_tag_json(self, row: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # tags.py

    def link_json(self, row: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # accounts.py (an account-contact link)

    def account_json(self, row: sqlite3.Row, base: str, *, counts: tuple[int, int] | None) -> dict:
        raise NotImplementedError  # accounts.py

    def automation_json(self, row: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # automations.py

    def deal_json(self, row: sqlite3.Row, base: str) -> dict:
        raise NotImplementedError  # deals.py

    def deals_of_contacts(self, contact_ids: list[int]) -> list[sqlite3.Row]:
        raise NotImplementedError  # deals.py

    def delete_row(self, table: str, row_id: int, tenant: int) -> bool:
        """Delete one row of the tenant; False if there was none."""
        with self.db.transaction() as conn:
            return (
                conn.execute(
                    f"DELETE FROM {table} WHERE id = ? AND tenant = ?",  # noqa: S608 - constant names
                    (row_id, tenant),
                ).rowcount
                > 0
            )
