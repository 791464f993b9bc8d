"""Sandbox-only control endpoints under /_sandbox/activecampaign/ (not part of AC's API).

They produce what an API client cannot: edits made in AC's UI (source `admin`), a contact's own
actions (opens, clicks, form submissions: source `public`), bounces (source `system`), so that
webhook deliveries with those sources, and the matching activity rows, can be tested. Guarded
like every control endpoint: the sandbox's admin token in the X-Sandbox-Admin header.
"""

from __future__ import annotations

import json
import sqlite3

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import TENANT_KEY, Resource
from .deliveries import contact_payload
from .formats import ApiError, as_id, read_json, text
from .lists import list_subscribe
from .tags import tag_attach, tag_ensure
from .webhooks import SOURCES

PREFIX = "/_sandbox/activecampaign"
CONTROL_MAP = Map(
    [
        Rule(f"{PREFIX}/accounts", methods=["POST"], endpoint="control_account"),
        Rule(f"{PREFIX}/settings", methods=["GET", "PUT"], endpoint="control_settings"),
        Rule(f"{PREFIX}/webhook-deliveries", methods=["GET"], endpoint="control_deliveries"),
        Rule(f"{PREFIX}/drain", methods=["POST"], endpoint="control_drain"),
        Rule(
            f"{PREFIX}/<account>/contacts/<int:contact_id>",
            methods=["POST"],
            endpoint="control_contact_edit",
        ),
        Rule(
            f"{PREFIX}/<account>/contacts/<int:contact_id>/tags",
            methods=["POST"],
            endpoint="control_contact_tag",
        ),
        Rule(f"{PREFIX}/<account>/events", methods=["POST"], endpoint="control_event"),
        Rule(
            f"{PREFIX}/<account>/forms/<int:form_id>/submit",
            methods=["POST"],
            endpoint="control_form_submit",
        ),
    ],
    strict_slashes=False,
)
ENGAGEMENT = {"open", "click", "bounce", "reply", "forward", "share", "unsubscribe"}
# Behaviour switches (attribute of the app -> type), for what the reference leaves open.
SETTINGS = {
    # `include=fieldValues` on GET /api/3/contacts: served (True) or ignored like any include
    # the reference does not promise (False), to test a client's fallback.
    "contact_list_field_values": bool,
}


def control_error(status: int, message: str) -> Response:
    return json_response({"message": message}, status)


class SandboxControl(Resource):
    def account_ensure(self, name: str) -> tuple[str, str]:  # pragma: no cover - app.py
        raise NotImplementedError

    def control(self, request: Request) -> Response:
        adapter = CONTROL_MAP.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return control_error(404, "unknown sandbox control path")
        except HTTPException as exc:
            return control_error(exc.code or 400, exc.description or "bad request")
        if "account" in args:
            row = self.db.execute_one(
                "SELECT id FROM tenants WHERE name = ?", (args.pop("account"),)
            )
            if row is None:
                return control_error(404, "no such sandbox account")
            request.environ[TENANT_KEY] = row["id"]
        try:
            return getattr(self, endpoint)(request, **args)
        except ApiError as error:
            return error.response

    def _source(self, data: dict, default: str) -> str:
        source = data.get("source", default)
        if source not in SOURCES:
            raise ApiError(control_error(400, f"source must be one of {list(SOURCES)}"))
        return source

    def control_account(self, request: Request) -> Response:
        name = text(read_json(request).get("name")).strip()
        if not name:
            return control_error(400, "name is required")
        account, api_key = self.account_ensure(name)
        return json_response({"account": account, "api_key": api_key})

    def control_settings(self, request: Request) -> Response:
        """GET the behaviour switches; PUT `{name: value}` changes the ones given."""
        if request.method == "PUT":
            changes = read_json(request)
            unknown = sorted(set(changes) - set(SETTINGS))
            if unknown:
                return control_error(
                    400, f"unknown setting(s) {unknown}; known: {sorted(SETTINGS)}"
                )
            wrong = sorted(k for k, v in changes.items() if type(v) is not SETTINGS[k])
            if wrong:
                return control_error(400, f"setting(s) {wrong} must be true or false")
            for name, value in changes.items():
                setattr(self, name, value)
        return json_response({name: getattr(self, name) for name in SETTINGS})

    def control_deliveries(self, request: Request) -> Response:
        since = float(request.args.get("since", 0) or 0)
        return json_response(
            {
                "deliveries": [
                    d.as_dict() for d in list(self.webhooks.deliveries) if d.started >= since
                ]
            }
        )

    def control_drain(self, request: Request) -> Response:
        timeout = float(request.args.get("timeout", 10) or 10)
        idle = self.imports.drain(timeout) and self.webhooks.drain(timeout)
        return json_response({"idle": idle})

    def control_contact_edit(self, request: Request, contact_id: int) -> Response:
        """Edit a contact as a user of AC's UI would (default source `admin`)."""
        tenant = self.tenant(request)
        data = read_json(request)
        source = self._source(data, "admin")
        attributes = data.get("contact") if isinstance(data.get("contact"), dict) else {}
        with self.db.transaction() as conn:
            existing = self.contact_row(conn, tenant, contact_id)
            if existing is None:
                return control_error(404, f"no contact {contact_id}")
            change = self.contact_save(conn, tenant, attributes, existing=existing, now=self.now())
        self.contact_changed(tenant, change, source)
        return json_response(self.contact_full(request, contact_id))

    def control_contact_tag(self, request: Request, contact_id: int) -> Response:
        tenant = self.tenant(request)
        data = read_json(request)
        source = self._source(data, "admin")
        name = text(data.get("tag")).strip()
        if not name:
            return control_error(400, "tag is required")
        now = self.now()
        with self.db.transaction() as conn:
            if self.contact_row(conn, tenant, contact_id) is None:
                return control_error(404, f"no contact {contact_id}")
            tag_id = tag_ensure(conn, tenant, name, now)
            if data.get("remove"):
                changed = (
                    conn.execute(
                        "DELETE FROM contact_tags WHERE contact = ? AND tag = ?",
                        (contact_id, tag_id),
                    ).rowcount
                    > 0
                )
            else:
                _, changed = tag_attach(conn, tenant, contact_id, tag_id, now)
        if changed:
            self.tag_changed(tenant, contact_id, name, added=not data.get("remove"), source=source)
        return json_response({"changed": changed})

    def control_event(self, request: Request) -> Response:
        """A contact's engagement with a campaign it was sent: open, click, bounce, reply…"""
        tenant = self.tenant(request)
        data = read_json(request)
        kind = data.get("type")
        if kind not in ENGAGEMENT:
            return control_error(400, f"type must be one of {sorted(ENGAGEMENT)}")
        source = self._source(data, "system" if kind == "bounce" else "public")
        contact_id, campaign_id = as_id(data.get("contact")), as_id(data.get("campaign"))
        now = self.now()
        extra: list[tuple[str, str]] = []
        with self.db.transaction() as conn:
            log = conn.execute(
                "SELECT * FROM send_logs WHERE tenant = ? AND contact = ? AND campaign = ? "
                "ORDER BY id DESC LIMIT 1",
                (tenant, contact_id, campaign_id),
            ).fetchone()
            if log is None:
                return control_error(409, "that contact was never sent that campaign")
            if kind == "open":
                self._open(conn, tenant, log, now)
            elif kind == "click":
                extra = self._click(
                    conn, tenant, log, text(data.get("url")) or "https://example.com/", now
                )
            elif kind == "bounce":
                hard = data.get("bounce", "hard") == "hard"
                conn.execute(
                    f"UPDATE campaigns SET {'hardbounces' if hard else 'softbounces'} = "  # noqa: S608
                    f"{'hardbounces' if hard else 'softbounces'} + 1 WHERE id = ?",
                    (campaign_id,),
                )
                conn.execute(
                    f"UPDATE contacts SET {'bounced_hard' if hard else 'bounced_soft'} = "  # noqa: S608
                    f"{'bounced_hard' if hard else 'bounced_soft'} + 1, bounced_date = ? "
                    "WHERE id = ?",
                    (now, contact_id),
                )
                extra = [
                    ("bounce[type]", "hard" if hard else "soft"),
                    ("bounce[code]", "5.1.1" if hard else "4.2.2"),
                    ("bounce[description]", text(data.get("description")) or "mailbox unavailable"),
                ]
            elif kind == "reply":
                conn.execute(
                    "UPDATE campaigns SET replies = replies + 1, uniquereplies = uniquereplies + 1 "
                    "WHERE id = ?",
                    (campaign_id,),
                )
                extra = [("result", "reply"), ("message", text(data.get("message")))]
            elif kind == "forward":
                conn.execute(
                    "UPDATE campaigns SET forwards = forwards + 1, uniqueforwards = "
                    "uniqueforwards + 1 WHERE id = ?",
                    (campaign_id,),
                )
                extra = [("forward[count]", "1")]
            elif kind == "share":
                conn.execute(
                    "UPDATE campaigns SET socialshares = socialshares + 1 WHERE id = ?",
                    (campaign_id,),
                )
                extra = [("share[network]", text(data.get("network")) or "facebook")]
            else:  # unsubscribe: from every list the contact is on
                for row in conn.execute(
                    "SELECT list FROM contact_lists WHERE contact = ? AND status = 1", (contact_id,)
                ).fetchall():
                    list_subscribe(conn, tenant, contact_id, row["list"], 2, now)
                conn.execute(
                    "UPDATE campaigns SET unsubscribes = unsubscribes + 1 WHERE id = ?",
                    (campaign_id,),
                )
        self.campaign_event_emit(
            tenant, kind, source, contact_id, campaign_id, log["message"], extra
        )
        return json_response({"recorded": kind})

    def _open(self, conn: sqlite3.Connection, tenant: int, log: sqlite3.Row, now: int) -> None:
        conn.execute(
            "UPDATE campaigns SET opens = opens + 1, uniqueopens = uniqueopens + ? WHERE id = ?",
            (0 if log["opens"] else 1, log["campaign"]),
        )
        conn.execute("UPDATE send_logs SET opens = opens + 1 WHERE id = ?", (log["id"],))
        self.activity_add(
            conn,
            tenant,
            log["contact"],
            now,
            "CampaignLog",
            log["id"],
            "open",
            "log",
            json.dumps({"campaignid": log["campaign"], "messageid": log["message"]}),
        )

    def _click(
        self, conn, tenant: int, log: sqlite3.Row, url: str, now: int
    ) -> list[tuple[str, str]]:
        link = conn.execute(
            "SELECT * FROM campaign_links WHERE campaign = ? AND link = ?", (log["campaign"], url)
        ).fetchone()
        link_id = (
            link["id"]
            if link
            else conn.execute(
                "INSERT INTO campaign_links (tenant, campaign, message, link, name, tracked) "
                "VALUES (?, ?, ?, ?, '', 1)",
                (tenant, log["campaign"], log["message"], url),
            ).lastrowid
        )
        clicked_link = conn.execute(
            "SELECT 1 FROM activities WHERE contact = ? AND model_name = 'linkData' AND "
            "reference_id = ?",
            (log["contact"], link_id),
        ).fetchone()
        conn.execute(
            "UPDATE campaigns SET linkclicks = linkclicks + 1, uniquelinkclicks = "
            "uniquelinkclicks + ?, subscriberclicks = subscriberclicks + ? WHERE id = ?",
            (0 if clicked_link else 1, 0 if log["clicks"] else 1, log["campaign"]),
        )
        conn.execute("UPDATE send_logs SET clicks = clicks + 1 WHERE id = ?", (log["id"],))
        self.activity_add(
            conn,
            tenant,
            log["contact"],
            now,
            "LinkData",
            link_id,
            "click",
            "linkData",
            json.dumps({"url": url, "campaignid": log["campaign"], "messageid": log["message"]}),
        )
        return [("link[id]", str(link_id)), ("link[url]", url)]

    def control_form_submit(self, request: Request, form_id: int) -> Response:
        """A visitor submits a subscription form: create/update the contact, subscribe it to the
        form's list, record the activity, and fire `subscribe`/`update` with source `public`."""
        tenant = self.tenant(request)
        data = read_json(request)
        source = self._source(data, "public")
        email = text(data.get("email")).strip()
        if not email:
            return control_error(400, "email is required")
        now = self.now()
        list_id = as_id(data.get("list"))
        with self.db.transaction() as conn:
            form = conn.execute(
                "SELECT * FROM forms WHERE id = ? AND tenant = ?", (form_id, tenant)
            ).fetchone()
            if form is None:
                return control_error(404, f"no form {form_id}")
            existing = self.contact_by_email(conn, tenant, email)
            attributes = {
                k: data[k] for k in ("email", "firstName", "lastName", "phone") if k in data
            }
            change = self.contact_save(conn, tenant, attributes, existing=existing, now=now)
            if list_id:
                list_subscribe(conn, tenant, change.id, list_id, 1, now, form=form_id)
            self.activity_add(
                conn,
                tenant,
                change.id,
                now,
                "Form",
                form_id,
                "submit",
                "form",
                json.dumps({"formid": form_id, "listid": list_id or 0}),
            )
        event = "subscribe" if change.created or list_id else "update"
        self.webhooks.emit(
            tenant,
            event,
            source,
            lambda: [
                *contact_payload(self.db, self.time, tenant, change.id),
                ("form[id]", str(form_id)),
            ],
            list_id=list_id or 0,
        )
        return json_response({"contact": str(change.id), "created": change.created})
