"""Forms and segments, read-only: `GET /api/3/forms(/{id})`, `GET /api/3/segments(/{id})`.

Forms are the account's subscription forms (seeded; the control endpoint
`POST /_sandbox/activecampaign/{account}/forms/{id}/submit` fills them in), served as SPEC
forms-1 and retrieve-forms show them. Segments are saved contact conditions, served as DOC
segments (https://developers.activecampaign.com/reference/segments) shows one, plus the
`created_timestamp`/`updated_timestamp`/`created_by`/`updated_by` that tap-activecampaign's
segments schema reads. airbyte-source-activecampaign reads both lists with `limit`/`offset`.
Writes are not modelled: POST/PUT/DELETE answer 405.
"""

from __future__ import annotations

import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .formats import not_found, page

RULES = [
    Rule("/api/3/forms", methods=["GET"], endpoint="forms_list"),
    Rule("/api/3/forms/<int:form_id>", methods=["GET"], endpoint="form_get"),
    Rule("/api/3/segments", methods=["GET"], endpoint="segments_list"),
    Rule("/api/3/segments/<int:segment_id>", methods=["GET"], endpoint="segment_get"),
]
ADMIN_EMAIL = "admin@example.com"  # the account's one user (users.py)
# The look every new AC form starts with (SPEC forms-1 example); the sandbox never edits it.
FORM_STYLE = {
    "background": "FFFFFF",
    "dark": True,
    "fontcolor": "000000",
    "layout": "normal",
    "border": {"width": 0, "style": "solid", "color": "B0B0B0", "radius": 0},
    "width": 500,
    "ac_branding": True,
    "button": {
        "padding": 10,
        "background": "333333",
        "fontcolor": "FFFFFF",
        "border": {"radius": 4, "color": "333333", "style": "solid", "width": 0},
    },
    "customcss": "",
}


class FormsApi(Resource):
    # -- forms ------------------------------------------------------------------------------------
    def form_json(self, row: sqlite3.Row, base: str, counts: tuple[int, int]) -> dict:
        """A form as SPEC forms-1 writes one; `counts` = (entries, distinct contacts)."""
        form_id = row["id"]
        t = self.time
        # SPEC forms-1 shows a subscribe-to-list action, retrieve-forms an email-results one;
        # a form may have both: it adds the visitor to its list and mails the admin.
        actions = []
        if row["list"]:
            actions.append(
                {"type": "subscribe-to-list", "email": ADMIN_EMAIL, "list": str(row["list"])}
            )
        actions.append(
            {
                "type": "email-results",
                "email": ADMIN_EMAIL,
                "fromname": "ActiveCampaign",
                "fromemail": ADMIN_EMAIL,
                "subject": "Form submission results",
            }
        )
        return {
            "name": row["name"],
            "action": "",
            "actiondata": {"actions": actions},
            "submit": "show-thank-you",
            "submitdata": {"url": ""},
            "url": "",
            "layout": "inline-form",
            "title": "",
            "body": "",
            "button": "Submit",
            "thanks": "Thanks for signing up!",
            "style": FORM_STYLE,
            "options": {
                "blanks_overwrite": True,
                "confaction": "show-message",
                "sendoptin": False,
                "optin_id": None,
                "optin_created": False,
                "confform": "0",
            },
            "cfields": [
                {
                    "type": "header",
                    "header": row["name"],
                    "class": f"_form{form_id}_header",
                    "required_options": {},
                },
                {
                    "header": "Full Name",
                    "type": "fullname",
                    "default_text": "Type your name",
                    "class": f"_form{form_id}_name",
                    "required_options": {},
                },
                {
                    "header": "Email",
                    "type": "email",
                    "default_text": "Type your email",
                    "required": True,
                    "class": f"_form{form_id}_email",
                    "required_options": {},
                },
            ],
            "parentformid": "0",
            "userid": "1",
            "addressid": "0",
            "cdate": t.iso(row["cdate"]),
            "udate": t.iso(row["udate"] if row["udate"] is not None else row["cdate"]),
            "entries": str(counts[0]),
            "aid": "0",
            "defaultscreenshot": "http://img-us1.com/default-form.gif",
            "recent": [],
            "contacts": counts[1],
            "deals": 0,
            "links": {"address": f"{base}/api/3/forms/{form_id}/address"},
            "id": str(form_id),
            "address": None,
        }

    def _form_counts(self, form_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(entries, contacts) per form: the list subscriptions made through each."""
        if not form_ids:
            return {}
        marks = ",".join("?" * len(form_ids))
        rows = self.db.execute(
            f"SELECT form, COUNT(*) AS entries, COUNT(DISTINCT contact) AS contacts "  # noqa: S608
            f"FROM contact_lists WHERE form IN ({marks}) GROUP BY form",
            form_ids,
        )
        return {r["form"]: (r["entries"], r["contacts"]) for r in rows}

    def forms_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        rows = self.db.execute(
            "SELECT * FROM forms WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one("SELECT COUNT(*) FROM forms WHERE tenant = ?", (tenant,))[0]
        counts = self._form_counts([r["id"] for r in rows])
        base = self.base(request)
        return json_response(
            {
                "forms": [self.form_json(r, base, counts.get(r["id"], (0, 0))) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def form_get(self, request: Request, form_id: int) -> Response:
        row = self.db.execute_one(
            "SELECT * FROM forms WHERE id = ? AND tenant = ?", (form_id, self.tenant(request))
        )
        if row is None:
            return not_found("Form", form_id)
        counts = self._form_counts([form_id]).get(form_id, (0, 0))
        return json_response({"form": self.form_json(row, self.base(request), counts)})

    # -- segments ---------------------------------------------------------------------------------
    def segment_json(self, row: sqlite3.Row) -> dict:
        return {
            "name": row["name"],
            "logic": row["logic"],
            "hidden": str(row["hidden"]),
            "seriesid": str(row["seriesid"]),
            **self.audit_stamps(row["created"], row["updated"]),
            "links": [],
            "id": str(row["id"]),
        }

    def segments_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        rows = self.db.execute(
            "SELECT * FROM segments WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one("SELECT COUNT(*) FROM segments WHERE tenant = ?", (tenant,))[0]
        return json_response(
            {"segments": [self.segment_json(r) for r in rows], "meta": {"total": str(total)}}
        )

    def segment_get(self, request: Request, segment_id: int) -> Response:
        row = self.db.execute_one(
            "SELECT * FROM segments WHERE id = ? AND tenant = ?",
            (segment_id, self.tenant(request)),
        )
        if row is None:
            return not_found("Segment", segment_id)
        return json_response({"segment": self.segment_json(row)})
