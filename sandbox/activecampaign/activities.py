"""The contact activity feed (§9): `GET /api/3/activities?contact=…&after=…&include=…`.

Rows are written where things happen (campaign sends, opens and clicks, tag adds, automation
entries, list subscriptions, form submissions). The reference types and model names are the
sandbox's reading of the `include` vocabulary the doc lists (reference.log,
reference.log.campaign, reference.campaign, reference.campaignMessage, reference.link,
reference.automation, reference.list…); AC does not document the full mapping.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .formats import ApiError, as_id, invalid, page, placeholders

RULES = [Rule("/api/3/activities", methods=["GET"], endpoint="activities_list")]


class ActivitiesApi(Resource):
    def activity_json(self, row: sqlite3.Row) -> dict:
        return {
            "tstamp": self.time.iso(row["tstamp"]),
            "subscriberid": str(row["contact"]),
            "reference_type": row["reference_type"],
            "reference_id": str(row["reference_id"]),
            "reference_action": row["reference_action"],
            "jsonData": row["json_data"],
            "userid": "0",
            "permission": "",
            "referenceModelName": row["model_name"],
            "notes": [],
            "recipients": [],
            "reference": {"type": row["model_name"], "id": str(row["reference_id"])},
            "user": None,
            "id": str(row["id"]),
        }

    def activities_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        contact = as_id(request.args.get("contact"))
        # The doc calls `contact` required, yet public callers read the whole feed without
        # it (e.g. `activities?after=`), so a missing contact means every contact here.
        if contact is not None:
            where = ["contact = ?", "tenant = ?"]
            params = [contact, tenant]
        after = request.args.get("after")
        if after:
            moment = self.time.parse(after)
            if moment is None:
                raise ApiError(
                    invalid(
                        "Invalid date for after",
                        code="field_invalid",
                        pointer="/data/attributes/after",
                    )
                )
            where.append("tstamp > ?")
            params.append(moment)
        direction = "ASC" if (request.args.get("orders[tstamp]") or "").upper() == "ASC" else "DESC"
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM activities WHERE {sql_where} "  # noqa: S608 - built from constants
            f"ORDER BY tstamp {direction}, id {direction} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM activities WHERE {sql_where}", params)[0]  # noqa: S608
        body: dict = {"activities": [self.activity_json(r) for r in rows]}
        body.update(self._side_loads(request, rows))
        body["meta"] = {"total": str(total)}
        return json_response(body)

    def _side_loads(self, request: Request, rows: list[sqlite3.Row]) -> dict:
        """The top-level arrays `include` asks for, plus the contacts of the page."""
        include = {part.strip() for part in (request.args.get("include") or "").split(",")}
        base = self.base(request)
        result: dict = {}
        contact_ids = sorted({r["contact"] for r in rows})
        contacts = self.db.execute(
            "SELECT id, email, first_name, last_name, cdate, udate FROM contacts "  # noqa: S608
            f"WHERE id IN ({placeholders(contact_ids)})",
            contact_ids,
        )
        result["contacts"] = [
            {
                "cdate": self.time.iso(c["cdate"]),
                "email": c["email"],
                "firstName": c["first_name"],
                "lastName": c["last_name"],
                "created_timestamp": self.time.local_plain(c["cdate"]),
                "updated_timestamp": self.time.local_plain(c["udate"]),
                "id": str(c["id"]),
            }
            for c in contacts
        ]
        if "recipients" in include:
            result["activityRecipients"] = [
                {
                    "reltype": "Subscriber",
                    "relid": str(r["contact"]),
                    "activityid": str(r["id"]),
                    "recipient": {"type": "contact", "id": str(r["contact"])},
                }
                for r in rows
            ]
        if "notes" in include:
            result["notes"] = []
        by_model: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_model[row["model_name"]].append(row["reference_id"])
        wants_reference = any(
            part == "reference" or part.startswith("reference.") for part in include
        )
        campaign_ids: set[int] = set()
        message_ids: set[int] = set()
        if wants_reference or "reference.log" in include:
            logs = self._rows("send_logs", by_model.get("log", []))
            result["logs"] = [
                {
                    "subscriberid": str(r["contact"]),
                    "campaignid": str(r["campaign"]),
                    "messageid": str(r["message"]),
                    "tstamp": self.time.iso(r["tstamp"]),
                    "opens": str(r["opens"]),
                    "clicks": str(r["clicks"]),
                    "id": str(r["id"]),
                    "campaign": str(r["campaign"]),
                    "message": str(r["message"]),
                }
                for r in logs
            ]
            campaign_ids.update(r["campaign"] for r in logs)
            message_ids.update(r["message"] for r in logs)
        if wants_reference:
            links = self._rows("campaign_links", by_model.get("linkData", []))
            if "reference.link" in include or links:
                result["links"] = [self.link_row_json(r, base) for r in links]
            campaign_ids.update(r["campaign"] for r in links)
            message_ids.update(r["message"] for r in links)
            tags = self._rows("contact_tags", by_model.get("contactTag", []))
            result["contactTags"] = [self.contact_tag_json(r, base) for r in tags]
            enrolments = self._rows("contact_automations", by_model.get("contactAutomation", []))
            result["contactAutomations"] = [
                self.contact_automation_json(r, base) for r in enrolments
            ]
            memberships = self._rows("contact_lists", by_model.get("contactList", []))
            result["contactLists"] = [
                {
                    "contact": str(r["contact"]),
                    "list": str(r["list"]),
                    "status": str(r["status"]),
                    "id": str(r["id"]),
                }
                for r in memberships
            ]
            forms = self._rows("forms", by_model.get("form", []))
            if forms or "reference.form" in include:
                result["forms"] = [
                    {"name": f["name"], "cdate": self.time.iso(f["cdate"]), "id": str(f["id"])}
                    for f in forms
                ]
            if {"reference.campaign", "reference.log.campaign"} & include:
                result["campaigns"] = [
                    self.campaign_json(r, base)
                    for r in self._rows("campaigns", sorted(campaign_ids))
                ]
            if {"reference.campaignMessage", "reference.campaign.campaignMessage"} & include:
                result["messages"] = [
                    self.message_json(r, base) for r in self._rows("messages", sorted(message_ids))
                ]
            if "reference.automation" in include:
                ids = sorted({r["automation"] for r in enrolments})
                result["automations"] = [
                    self.automation_json(r, base) for r in self._rows("automations", ids)
                ]
            if {"reference.list", "reference.contactList.list"} & include:
                ids = sorted({r["list"] for r in memberships})
                result["lists"] = [self.list_json(r, base) for r in self._rows("lists", ids)]
            if "reference.tag" in include:
                ids = sorted({r["tag"] for r in tags})
                result["tags"] = [self.tag_json(r, base) for r in self._rows("tags", ids)]
        return result

    def _rows(self, table: str, ids: list[int]) -> list[sqlite3.Row]:
        if not ids:
            return []
        return self.db.execute(
            f"SELECT * FROM {table} WHERE id IN ({placeholders(ids)}) ORDER BY id",  # noqa: S608
            ids,
        )
