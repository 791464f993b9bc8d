"""Deals (§11.2), read-only: `GET /api/3/deals`, `GET /api/3/deals/{id}`.

The sandbox seeds a few deals per account (seeding.py) and serves them the way SPEC
list-all-deals and retrieve-a-deal show them, for clients that read every stream
(airbyte-source-activecampaign's `deals`, tap-activecampaign's `Deals` with `mdate` as its
bookmark, GP `deals.list_all_deals`). Writes are not modelled: POST/PUT/DELETE answer 405.
"""

from __future__ import annotations

import hashlib
import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .formats import ApiError, as_id, escape_like, invalid, not_found, orders, page, s

RULES = [
    Rule("/api/3/deals", methods=["GET"], endpoint="deals_list"),
    Rule("/api/3/deals/<int:deal_id>", methods=["GET"], endpoint="deal_get"),
]
# The `links` of a deal: SPEC retrieve-a-deal's, plus `activities`, the older name get-contact's
# side-loaded deals still carry.
DEAL_LINKS = (
    "activities",
    "dealActivities",
    "contact",
    "contactDeals",
    "group",
    "nextTask",
    "notes",
    "account",
    "customerAccount",
    "organization",
    "owner",
    "scoreValues",
    "stage",
    "tasks",
    "dealCustomFieldData",
)
# SPEC list-all-deals: orders[title|value|cdate|contact_name|contact_orgname|next-action].
# Deals have no tasks here, so next-action orders by id (its documented tie-break).
DEAL_ORDERS = {
    "title": "d.title",
    "value": "d.value",
    "cdate": "d.cdate",
    "contact_name": "c.first_name",
    "contact_orgname": "co.name",
    "next-action": "d.id",
}
DEAL_FROM = (
    "deals d LEFT JOIN contacts c ON c.id = d.contact LEFT JOIN companies co ON co.id = d.account"
)
ZERO_DATETIME = "0000-00-00 00:00:00"  # how AC writes an empty datetime (§1.2)


class DealsApi(Resource):
    def deal_json(self, row: sqlite3.Row, base: str) -> dict:
        """A deal as SPEC retrieve-a-deal writes one (numbers as strings, value in cents)."""
        deal_id = row["id"]
        t = self.time
        return {
            "owner": str(row["owner"]),
            "contact": s(row["contact"]),
            "organization": s(row["account"]),
            "group": str(row["pipeline"]),
            "stage": str(row["stage"]),
            "title": row["title"],
            "description": row["description"],
            "percent": str(row["percent"]),
            "cdate": t.iso(row["cdate"]),
            "mdate": t.iso(row["mdate"]),
            "nextdate": None,
            "nextTask": None,  # no tasks in the sandbox
            "nexttaskid": None,
            "value": str(row["value"]),
            "currency": row["currency"],
            "winProbability": row["win_probability"],
            "winProbabilityMdate": (
                t.iso(row["mdate"]) if row["win_probability"] is not None else None
            ),
            "status": str(row["status"]),
            "activitycount": "0",
            "nextdealid": str(deal_id),  # both SPEC examples repeat the deal's own id here
            "edate": t.local_plain(row["edate"]) if row["edate"] else ZERO_DATETIME,
            "hash": hashlib.sha256(f"deal-{deal_id}".encode()).hexdigest()[:8],
            "links": {name: f"{base}/api/3/deals/{deal_id}/{name}" for name in DEAL_LINKS},
            "id": str(deal_id),
            "isDisabled": False,
            "account": s(row["account"]),
            "customerAccount": s(row["account"]),
        }

    def deals_of_contacts(self, contact_ids: list[int]) -> list[sqlite3.Row]:
        """The deals whose primary contact is one of `contact_ids`, by id."""
        if not contact_ids:
            return []
        marks = ",".join("?" * len(contact_ids))
        return self.db.execute(
            f"SELECT * FROM deals WHERE contact IN ({marks}) ORDER BY id",  # noqa: S608
            contact_ids,
        )

    def _deal_filters(self, request: Request) -> tuple[list[str], list]:
        args = request.args
        where, params = ["d.tenant = ?"], [self.tenant(request)]
        for name, column in (
            ("stage", "d.stage"),
            ("group", "d.pipeline"),
            ("status", "d.status"),
            ("owner", "d.owner"),
            ("organization", "d.account"),
        ):
            value = as_id(args.get(f"filters[{name}]"))
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        title = args.get("filters[title]")
        if title:
            where.append("d.title LIKE ? ESCAPE '\\'")
            params.append(f"%{escape_like(title)}%")
        search = args.get("filters[search]")
        if search:
            # search_field values (DOC deal#deals-parameters-available-values): title, contact,
            # org, or all of them (the default here).
            field = (args.get("filters[search_field]") or "all").lower()
            columns = {
                "title": ["d.title"],
                "contact": ["c.first_name", "c.last_name", "c.email"],
                "org": ["co.name"],
            }.get(field, ["d.title", "c.first_name", "c.last_name", "c.email", "co.name"])
            where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
            params.extend([f"%{escape_like(search)}%"] * len(columns))
        for name, clause in (
            ("filters[created_after]", "d.cdate >= ?"),
            ("filters[created_before]", "d.cdate < ?"),
            ("filters[updated_after]", "d.mdate >= ?"),
            ("filters[updated_before]", "d.mdate < ?"),
        ):
            if args.get(name):
                moment = self.time.parse(args[name])
                if moment is None:
                    raise ApiError(
                        invalid(
                            f"Invalid date for {name}",
                            code="field_invalid",
                            pointer=f"/data/attributes/{name}",
                        )
                    )
                where.append(clause)
                params.append(moment)
        # In dollars (SPEC list-all-deals), against values stored in cents.
        for name, clause in (
            ("filters[minimum_value]", "d.value >= ?"),
            ("filters[maximum_value]", "d.value <= ?"),
        ):
            value = as_id(args.get(name))
            if value is not None:
                where.append(clause)
                params.append(value * 100)
        return where, params

    def deals_list(self, request: Request) -> Response:
        limit, offset = page(request)
        where, params = self._deal_filters(request)
        sql_where = " AND ".join(where)
        order = orders(request, DEAL_ORDERS)
        order.append("d.id ASC")
        rows = self.db.execute(
            f"SELECT d.* FROM {DEAL_FROM} WHERE {sql_where} "  # noqa: S608 - constant fragments
            f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        totals = self.db.execute(
            f"SELECT d.currency, COUNT(*) AS n, SUM(d.value) AS total FROM {DEAL_FROM} "  # noqa: S608
            f"WHERE {sql_where} GROUP BY d.currency ORDER BY d.currency",
            params,
        )
        base = self.base(request)
        # SPEC list-all-deals' example writes meta.total as a number (3), unlike most lists,
        # and sums the matching deals per currency.
        return json_response(
            {
                "deals": [self.deal_json(r, base) for r in rows],
                "meta": {
                    "currencies": {
                        r["currency"].upper(): {
                            "currency": r["currency"].upper(),
                            "total": str(r["n"]),
                            "value": str(r["total"]),
                        }
                        for r in totals
                    },
                    "total": sum(r["n"] for r in totals),
                },
            }
        )

    def deal_get(self, request: Request, deal_id: int) -> Response:
        row = self.db.execute_one(
            "SELECT * FROM deals WHERE id = ? AND tenant = ?", (deal_id, self.tenant(request))
        )
        if row is None:
            return not_found("Deal", deal_id)
        return json_response({"deal": self.deal_json(row, self.base(request))})
