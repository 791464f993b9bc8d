"""Automations and enrolments (§6).

Automation `status`: 1 = active, 2 = inactive. The doc does not spell the codes out (§6, INF);
this is how AC's UI stores them. Enrolling a contact into an inactive automation "silently does
nothing useful" (§6): the answer is a normal 201, but the enrolment ends at once without
entering a single step (status 2, completeValue 0), no activity is recorded and the
automation's `entered` count does not move.
"""

from __future__ import annotations

import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .formats import as_id, invalid, message_error, not_found, page, wrapped

RULES = [
    Rule("/api/3/automations", methods=["GET"], endpoint="automations_list"),
    Rule("/api/3/automations/<int:automation_id>", methods=["GET"], endpoint="automation_get"),
    Rule("/api/3/contactAutomations", methods=["GET"], endpoint="contact_automations_list"),
    Rule("/api/3/contactAutomations", methods=["POST"], endpoint="contact_automation_create"),
    Rule(
        "/api/3/contactAutomations/<int:enrolment_id>",
        methods=["GET"],
        endpoint="contact_automation_get",
    ),
    Rule(
        "/api/3/contactAutomations/<int:enrolment_id>",
        methods=["DELETE"],
        endpoint="contact_automation_delete",
    ),
    Rule(
        "/api/3/contacts/<int:contact_id>/contactAutomations",
        methods=["GET"],
        endpoint="contact_automations_of",
    ),
]
ACTIVE, INACTIVE = 1, 2
IN_PROGRESS, COMPLETED = 1, 2


def enrol(
    conn: sqlite3.Connection, tenant: int, contact: int, automation: sqlite3.Row, now: int
) -> tuple[int, bool]:
    """Enrol a contact; (contactAutomation id, entered). See the module docstring."""
    if not automation["multientry"]:
        running = conn.execute(
            "SELECT id FROM contact_automations WHERE contact = ? AND automation = ? "
            "AND status = ?",
            (contact, automation["id"], IN_PROGRESS),
        ).fetchone()
        if running is not None:
            # Already in a run-once automation: AC's answer is not documented (§6, INF);
            # the sandbox answers the running enrolment instead of starting another.
            return running["id"], False
    active = automation["status"] == ACTIVE
    enrolment = conn.execute(
        "INSERT INTO contact_automations (tenant, contact, automation, status, adddate, remdate, "
        "lastdate, lastblock, completed_elements, total_elements) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        (
            tenant,
            contact,
            automation["id"],
            IN_PROGRESS if active else COMPLETED,
            now,
            None if active else now,
            now,
            1 if active else 0,
            0,
            automation["steps"] if active else 0,
        ),
    ).lastrowid
    if active:
        conn.execute(
            "UPDATE automations SET entered = entered + 1 WHERE id = ?", (automation["id"],)
        )
        Resource.activity_add(
            conn, tenant, contact, now, "SubscriberSeries", enrolment, "start", "contactAutomation"
        )
    return enrolment, active


class AutomationsApi(Resource):
    def automation_json(self, row: sqlite3.Row, base: str) -> dict:
        automation_id = row["id"]
        return {
            "name": row["name"],
            "cdate": self.time.iso(row["cdate"]),
            "mdate": self.time.iso(row["mdate"]),
            "userid": "1",
            "status": str(row["status"]),
            "entered": str(row["entered"]),
            "exited": str(row["exited"]),
            "hidden": "0",
            "defaultscreenshot": "http://img-us1.com/default-series.gif",
            "screenshot": "",
            "entitlements_violation": "0",
            "source": "0",
            "description": None,
            "exit_on_unsubscribe": "0",
            "exit_on_conversion": "0",
            "multientry": str(row["multientry"]),
            "links": {
                name: f"{base}/api/3/automations/{automation_id}/{name}"
                for name in (
                    "campaigns",
                    "contactGoals",
                    "contactAutomations",
                    "blocks",
                    "goals",
                    "sms",
                    "sitemessages",
                    "triggers",
                )
            },
            "id": str(automation_id),
        }

    def contact_automation_json(self, row: sqlite3.Row, base: str) -> dict:
        enrolment = row["id"]
        total = row["total_elements"]
        done = row["status"] == COMPLETED
        return {
            "contact": str(row["contact"]),
            "seriesid": str(row["automation"]),
            "startid": "0",
            "status": str(row["status"]),
            "batchid": "completed" if done else None,
            "adddate": self.time.iso(row["adddate"]),
            "remdate": self.time.iso(row["remdate"]),
            "timespan": str(row["remdate"] - row["adddate"]) if row["remdate"] else None,
            "lastblock": str(row["lastblock"]),
            "lastlogid": "0",
            "lastdate": self.time.iso(row["lastdate"]),
            "in_als": "0",
            "completedElements": row["completed_elements"],
            "totalElements": total,
            "completed": 1 if done else 0,
            "completeValue": int(100 * row["completed_elements"] / total) if total else 0,
            "links": {
                name: f"{base}/api/3/contactAutomations/{enrolment}/{name}"
                for name in ("automation", "contact", "contactGoals", "automationLogs")
            },
            "id": str(enrolment),
            "automation": str(row["automation"]),
        }

    def automations_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        rows = self.db.execute(
            "SELECT * FROM automations WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one("SELECT COUNT(*) FROM automations WHERE tenant = ?", (tenant,))[
            0
        ]
        base = self.base(request)
        return json_response(
            {
                "automations": [self.automation_json(r, base) for r in rows],
                "meta": {
                    "total": str(total),
                    # The trigger ("start") of each automation; one per automation here.
                    "starts": [
                        {"id": str(r["id"]), "series": str(r["id"]), "type": r["start_type"]}
                        for r in rows
                    ],
                    "filtered": False,
                    "smsLogs": [],
                },
            }
        )

    def automation_get(self, request: Request, automation_id: int) -> Response:
        row = self.db.execute_one(
            "SELECT * FROM automations WHERE id = ? AND tenant = ?",
            (automation_id, self.tenant(request)),
        )
        if row is None:
            return not_found("Series", automation_id)
        # The SPEC's example for this path repeats the list example (`automations: [...]`);
        # a single object under the singular key is what v3 reads answer everywhere else.
        return json_response({"automation": self.automation_json(row, self.base(request))})

    def contact_automations_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        for name, column in (
            ("contact", "contact"),
            ("seriesid", "automation"),
            ("automation", "automation"),
        ):
            value = as_id(request.args.get(f"filters[{name}]"))
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM contact_automations WHERE {sql_where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM contact_automations WHERE {sql_where}",  # noqa: S608
            params,
        )[0]
        base = self.base(request)
        return json_response(
            {
                "contactAutomations": [self.contact_automation_json(r, base) for r in rows],
                "meta": {"total": str(total), "showcase_stats": []},
            }
        )

    def contact_automation_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "contactAutomation")
        ids = {key: as_id(data.get(key)) for key in ("contact", "automation")}
        for key, value in ids.items():
            if value is None:
                return invalid(
                    f"The {key} attribute was not provided",
                    code="field_missing",
                    pointer=f"/data/attributes/{key}",
                )
        now = self.now()
        with self.db.transaction() as conn:
            automation = conn.execute(
                "SELECT * FROM automations WHERE id = ? AND tenant = ?",
                (ids["automation"], tenant),
            ).fetchone()
            contact = self.contact_row(conn, tenant, ids["contact"])
            if automation is None or contact is None:
                # SPEC create-new-contactautomation documents this failure, message style.
                return message_error(403, "Could not create SubscriberSeries")
            enrolment, _entered = enrol(conn, tenant, ids["contact"], automation, now)
        base = self.base(request)
        row = self.db.execute_one("SELECT * FROM contact_automations WHERE id = ?", (enrolment,))
        body = self.contact_automation_json(row, base)
        # SPEC's 201 example answers startid/status as numbers on this path.
        body["startid"], body["status"] = 0, row["status"]
        contact = self.contact_row(self.db, tenant, ids["contact"])
        return json_response(
            {"contacts": [self.contact_json(contact, base)], "contactAutomation": body}, 201
        )

    def contact_automation_get(self, request: Request, enrolment_id: int) -> Response:
        row = self.db.execute_one(
            "SELECT * FROM contact_automations WHERE id = ? AND tenant = ?",
            (enrolment_id, self.tenant(request)),
        )
        if row is None:
            return not_found("SubscriberSeries", enrolment_id)
        return json_response(
            {"contactAutomation": self.contact_automation_json(row, self.base(request))}
        )

    def contact_automation_delete(self, request: Request, enrolment_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM contact_automations WHERE id = ? AND tenant = ?",
                (enrolment_id, tenant),
            ).fetchone()
            if row is None:
                # SPEC delete-a-contactautomation documents this miss as a 403.
                return message_error(
                    403, f"No Result found for SubscriberSeries with id {enrolment_id}"
                )
            conn.execute("DELETE FROM contact_automations WHERE id = ?", (enrolment_id,))
            if row["status"] == IN_PROGRESS:
                conn.execute(
                    "UPDATE automations SET exited = exited + 1 WHERE id = ?", (row["automation"],)
                )
        return json_response({})

    def contact_automations_of(self, request: Request, contact_id: int) -> Response:
        self.contact_require(request, contact_id)
        rows = self.db.execute(
            "SELECT * FROM contact_automations WHERE contact = ? ORDER BY id", (contact_id,)
        )
        base = self.base(request)
        return json_response(
            {"contactAutomations": [self.contact_automation_json(r, base) for r in rows]}
        )
