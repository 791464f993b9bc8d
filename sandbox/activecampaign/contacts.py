"""Contacts (§2): CRUD, `contact/sync` upsert by e-mail, listing/filters and sub-resources."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from . import fieldvalues
from .context import Resource
from .deliveries import contact_payload
from .formats import (
    ApiError,
    as_id,
    email_valid,
    escape_like,
    id_list,
    invalid,
    not_found,
    orders,
    page,
    placeholders,
    read_json,
    s,
    text,
)

RULES = [
    Rule("/api/3/contacts", methods=["GET"], endpoint="contacts_list"),
    Rule("/api/3/contacts", methods=["POST"], endpoint="contact_create"),
    # §2.1 pitfall: the plural path is routed as a plain create (422 for an existing e-mail).
    Rule("/api/3/contacts/sync", methods=["POST"], endpoint="contact_create"),
    Rule("/api/3/contact/sync", methods=["POST"], endpoint="contact_sync"),
    Rule("/api/3/contacts/<int:contact_id>", methods=["GET"], endpoint="contact_get"),
    Rule("/api/3/contacts/<int:contact_id>", methods=["PUT"], endpoint="contact_update"),
    Rule("/api/3/contacts/<int:contact_id>", methods=["DELETE"], endpoint="contact_delete"),
    Rule(
        "/api/3/contacts/<int:contact_id>/<any("
        + ",".join(
            [
                "bounceLogs",
                "contactData",
                "contactGoals",
                "contactLogs",
                "trackingLogs",
                "deals",
                "contactDeals",
                "geoIps",
                "notes",
                "scoreValues",
                "automationEntryCounts",
            ]
        )
        + "):sub>",
        methods=["GET"],
        endpoint="contact_untracked",
    ),
    Rule("/api/3/contacts/<int:contact_id>/plusAppend", methods=["GET"], endpoint="contact_plus"),
    Rule(
        "/api/3/contacts/<int:contact_id>/organization",
        methods=["GET"],
        endpoint="contact_organization",
    ),
]

# What AC's contact `links` name (SPEC examples of get-contact / list-all-contacts).
CONTACT_LINKS = (
    "bounceLogs",
    "contactAutomations",
    "contactData",
    "contactGoals",
    "contactLists",
    "contactLogs",
    "contactTags",
    "contactDeals",
    "deals",
    "fieldValues",
    "geoIps",
    "notes",
    "organization",
    "plusAppend",
    "trackingLogs",
    "scoreValues",
)
# The contact/sync example also links these two; list items do not (list-all-contacts).
CONTACT_LINKS_SINGLE = (*CONTACT_LINKS, "accountContacts", "automationEntryCounts")
# API attribute -> column. §2.2: these plus fieldValues are what a contact write accepts.
CONTACT_ATTRIBUTES = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
}
CONTACT_ORDERS = {
    "id": "c.id",
    "cdate": "c.cdate",
    "email": "c.email_key",
    "first_name": "c.first_name",
    "last_name": "c.last_name",
    "name": "c.first_name || ' ' || c.last_name",
    # Scores are not modelled (no contact has one); ordering by score falls back to id.
    "score": "c.id",
}
# Relationships a contact list answers side-loaded on `include=` (DOC sideloading,
# https://developers.activecampaign.com/reference/sideloading: "api/3/contacts?include=
# contactLists.list,organization"): the contact's own relationships the sandbox models, named
# as in its `links` and in the single contact's side-loads (SPEC get-contact), and `.x` for the
# object each one points to. Each contact then names its related ids (`"contactLists": ["3"]`)
# and the objects come as top-level arrays. `organization` (deprecated, §2.2) and relationships
# the sandbox does not model (notes, geoIps, scoreValues…) add nothing, as an unknown name does.
# `fieldValues` is not in the reference's list of side-loads; many clients use it, so it is
# served unless the sandbox's `contact_list_field_values` switch is off (see README.md).
CONTACT_INCLUDES = frozenset(
    {
        "fieldValues",
        "contactTags",
        "contactTags.tag",
        "contactLists",
        "contactLists.list",
        "accountContacts",
        "accountContacts.account",
        "contactAutomations",
        "contactAutomations.automation",
        "deals",
    }
)
CONTACT_COLUMNS = (
    "c.id, c.email, c.first_name, c.last_name, c.phone, c.cdate, c.udate, c.ip, c.sentcnt, "
    "c.bounced_hard, c.bounced_soft, c.bounced_date, c.hash, "
    "ac.account AS org_id, co.name AS org_name"
)
CONTACT_FROM = (
    "contacts c LEFT JOIN account_contacts ac ON ac.contact = c.id "
    "LEFT JOIN companies co ON co.id = ac.account"
)


@dataclass
class ContactChange:
    """What a contact write did: the id, whether it created, and what it changed."""

    id: int
    created: bool
    changed_attributes: set[str] = field(default_factory=set)
    changed_fields: set[int] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.changed_attributes or self.changed_fields)


class TenantCounts:
    """Per-tenant contact counts, so that an unfiltered list answers meta.total without
    counting 100,000 rows on every page. Any contact insert or delete forgets the tenant.

    A count is stored only if no write happened since it was computed (the version check),
    so a slow reader cannot put back a count that a concurrent insert made stale.
    """

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._versions: dict[int, int] = {}
        self._lock = threading.Lock()

    def get(self, tenant: int) -> tuple[int | None, int]:
        with self._lock:
            return self._counts.get(tenant), self._versions.get(tenant, 0)

    def put(self, tenant: int, count: int, version: int) -> None:
        with self._lock:
            if self._versions.get(tenant, 0) == version:
                self._counts[tenant] = count

    def forget(self, tenant: int) -> None:
        with self._lock:
            self._counts.pop(tenant, None)
            self._versions[tenant] = self._versions.get(tenant, 0) + 1


class ContactFragments:
    """Serialized contacts for list pages, reused while the row they came from is unchanged.

    A page of 100 contacts is ~200 KB of JSON; building it from dicts every time costs ~6 ms,
    which would cap listing at a few hundred pages per second. The cache key is the whole
    database row (plus the base URL of the links), so any change to a contact, its account
    link or its counters misses and rebuilds: nothing has to remember to invalidate it.
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[int, tuple[tuple, str, bytes]] = {}

    def get(self, row: sqlite3.Row, base: str) -> bytes | None:
        entry = self._entries.get(row["id"])
        if entry is not None and entry[1] == base and entry[0] == tuple(row):
            return entry[2]
        return None

    def put(self, row: sqlite3.Row, base: str, fragment: bytes) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude but bounded; the next pages refill it
        self._entries[row["id"]] = (tuple(row), base, fragment)


def email_key(email: str) -> str | None:
    return email.strip().lower() or None


class ContactsApi(Resource):
    contact_counts: TenantCounts
    contact_fragments: ContactFragments
    # Off: `include=fieldValues` on the contact list adds nothing (a sandbox control switch).
    contact_list_field_values: bool = True

    # -- representation ----------------------------------------------------------------------
    def contact_json(self, row: sqlite3.Row, base: str, *, single: bool = False) -> dict:
        """A contact the way v3 contact endpoints write one (SPEC get-contact, list, sync)."""
        cid = row["id"]
        t = self.time
        names = CONTACT_LINKS_SINGLE if single else CONTACT_LINKS
        links = {name: f"{base}/api/3/contacts/{cid}/{name}" for name in names}
        email = row["email"]
        return {
            "cdate": t.iso(row["cdate"]),
            "email": email,
            "phone": row["phone"],
            "firstName": row["first_name"],
            "lastName": row["last_name"],
            "orgid": s(row["org_id"]) or "0",
            "orgname": row["org_name"] or "",
            "segmentio_id": "",
            "bounced_hard": str(row["bounced_hard"]),
            "bounced_soft": str(row["bounced_soft"]),
            "bounced_date": t.iso(row["bounced_date"]),
            "ip": row["ip"],
            "ua": None,
            "hash": row["hash"],
            "socialdata_lastcheck": None,
            "email_local": "",
            "email_domain": "",
            "sentcnt": str(row["sentcnt"]),
            "rating_tstamp": None,
            "gravatar": "0",
            "deleted": "0",
            "anonymized": "0",
            "adate": None,
            "udate": t.iso(row["udate"]),
            "edate": None,
            "deleted_at": None,
            "created_utc_timestamp": t.utc_plain(row["cdate"]),
            "updated_utc_timestamp": t.utc_plain(row["udate"]),
            "created_timestamp": t.local_plain(row["cdate"]),
            "updated_timestamp": t.local_plain(row["udate"]),
            "created_by": None,
            "updated_by": None,
            "email_empty": not email,
            "mpp_tracking": "0",
            "scoreValues": [],
            "links": links,
            "id": str(cid),
            "organization": s(row["org_id"]),
        }

    def contact_row(self, conn_or_db, tenant: int, contact_id: int) -> sqlite3.Row | None:
        sql = f"SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE c.id = ? AND c.tenant = ?"  # noqa: S608 - constant fragments
        if isinstance(conn_or_db, sqlite3.Connection):
            return conn_or_db.execute(sql, (contact_id, tenant)).fetchone()
        return conn_or_db.execute_one(sql, (contact_id, tenant))

    def contact_by_email(self, conn: sqlite3.Connection, tenant: int, email: str):
        key = email_key(email)
        if key is None:
            return None
        return conn.execute(
            f"SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE c.tenant = ? AND c.email_key = ?",  # noqa: S608
            (tenant, key),
        ).fetchone()

    def contact_require(self, request: Request, contact_id: int) -> sqlite3.Row:
        row = self.contact_row(self.db, self.tenant(request), contact_id)
        if row is None:
            raise ApiError(not_found("Subscriber", contact_id))
        return row

    def contact_full(self, request: Request, contact_id: int) -> dict:
        """A contact plus its side-loads, as GET /contacts/{id}, sync and PUT answer (§2.1)."""
        tenant = self.tenant(request)
        base = self.base(request)
        row = self.contact_row(self.db, tenant, contact_id)
        if row is None:
            raise ApiError(not_found("Subscriber", contact_id))
        contact = self.contact_json(row, base, single=True)
        values = fieldvalues.rows_for_contact(self.db, contact_id)
        automations = self.db.execute(
            "SELECT ca.*, a.steps FROM contact_automations ca "
            "JOIN automations a ON a.id = ca.automation WHERE ca.contact = ? ORDER BY ca.id",
            (contact_id,),
        )
        lists = self.db.execute(
            "SELECT * FROM contact_lists WHERE contact = ? ORDER BY id", (contact_id,)
        )
        links = self.db.execute("SELECT id FROM account_contacts WHERE contact = ?", (contact_id,))
        deals = self.deals_of_contacts([contact_id])
        # §2.3: inside `contact` these are lists of id strings; the objects are side-loaded.
        contact["contactAutomations"] = [str(r["id"]) for r in automations]
        contact["contactLists"] = [str(r["id"]) for r in lists]
        contact["fieldValues"] = [str(r["id"]) for r in values]
        contact["geoIps"] = []
        contact["deals"] = [str(r["id"]) for r in deals]
        contact["accountContacts"] = [str(r["id"]) for r in links]
        return {
            "contactAutomations": [self.contact_automation_json(r, base) for r in automations],
            "contactLists": [self.contact_list_json(r, row, base) for r in lists],
            "deals": [self.deal_json(r, base) for r in deals],
            "fieldValues": [fieldvalues.value_json(self.time, r, base) for r in values],
            "geoAddresses": [],
            "geoIps": [],
            "contact": contact,
        }

    # -- the one write path (API, sandbox control, bulk import) -------------------------------
    def contact_save(
        self,
        conn: sqlite3.Connection,
        tenant: int,
        data: dict,
        *,
        existing: sqlite3.Row | None,
        now: int,
        allow_null_email: bool = False,
    ) -> ContactChange:
        """Create (existing=None) or update a contact from API-shaped attributes.

        §2.4: an omitted attribute keeps its value, an empty string clears it. Inline
        `fieldValues` ([{field, value}]) are written in the same transaction.
        """
        values: dict[str, str] = {}
        for attribute, column in CONTACT_ATTRIBUTES.items():
            if attribute in data and data[attribute] is not None:
                value = text(data[attribute])
                values[column] = value.strip() if column == "email" else value
        if "email" in values:
            email = values["email"]
            if email and not email_valid(email):
                raise ApiError(
                    invalid(
                        "Email address is invalid",
                        code="field_invalid",
                        pointer="/data/attributes/email",
                    )
                )
            if not email and not (allow_null_email and (values.get("phone") or "")):
                raise ApiError(
                    invalid(
                        "Email address is required",
                        code="field_missing",
                        pointer="/data/attributes/email",
                    )
                )
            other = self.contact_by_email(conn, tenant, email) if email else None
            if other is not None and (existing is None or other["id"] != existing["id"]):
                raise ApiError(duplicate_email())
        elif existing is None and not (allow_null_email and text(data.get("phone"))):
            raise ApiError(
                invalid(
                    "Email address is required",
                    code="field_missing",
                    pointer="/data/attributes/email",
                )
            )
        field_values = data.get("fieldValues") or []
        if not isinstance(field_values, list):
            raise ApiError(
                invalid(
                    "fieldValues must be a list of {field, value}",
                    code="field_invalid",
                    pointer="/data/attributes/fieldValues",
                )
            )

        if existing is None:
            email = values.get("email", "")
            contact_id = conn.execute(
                "INSERT INTO contacts (tenant, email, email_key, first_name, last_name, phone, "
                "cdate, udate, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    email,
                    email_key(email),
                    values.get("first_name", ""),
                    values.get("last_name", ""),
                    values.get("phone", ""),
                    now,
                    now,
                    hashlib.md5(email.lower().encode()).hexdigest(),  # noqa: S324 - not security
                ),
            ).lastrowid
            change = ContactChange(contact_id, created=True)
            self.contact_counts.forget(tenant)
        else:
            change = ContactChange(existing["id"], created=False)
            changed = {col: v for col, v in values.items() if existing[col] != v}
            if changed:
                change.changed_attributes = set(changed)
                if "email" in changed:
                    changed["email_key"] = email_key(changed["email"])
                    changed["hash"] = hashlib.md5(changed["email"].lower().encode()).hexdigest()  # noqa: S324
                assignments = ", ".join(f"{col} = ?" for col in changed)
                conn.execute(
                    f"UPDATE contacts SET {assignments} WHERE id = ?",  # noqa: S608 - known columns
                    (*changed.values(), change.id),
                )
        for item in field_values:
            if not isinstance(item, dict):
                continue
            field_id = as_id(item.get("field"))
            if field_id is None or "value" not in item:
                continue
            result = fieldvalues.value_set(
                conn, tenant, change.id, field_id, item.get("value"), now
            )
            if result is not None and result[1]:
                change.changed_fields.add(field_id)
        # udate moves when the contact or one of its custom field values changed (§2.5 leaves
        # this open; a sync tool reading filters[updated_after] needs field changes to count).
        if not change.created and change.changed:
            conn.execute("UPDATE contacts SET udate = ? WHERE id = ?", (now, change.id))
        return change

    def contact_changed(self, tenant: int, change: ContactChange, source: str) -> None:
        """Fire `subscribe` (creation) or `update` webhooks after a committed write (§10)."""
        if not change.changed:
            return
        event = "subscribe" if change.created else "update"
        self.webhooks.emit(
            tenant,
            event,
            source,
            lambda: contact_payload(self.db, self.time, tenant, change.id),
            lists=contact_list_ids(self.db, change.id),
        )

    # -- handlers -----------------------------------------------------------------------------
    def contacts_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        args = request.args
        limit, offset = page(request)
        where = ["c.tenant = ?"]
        params: list = [tenant]
        filtered = False

        def add(clause: str, *values) -> None:
            nonlocal filtered
            where.append(clause)
            params.extend(values)
            filtered = True

        if args.get("email"):
            add("c.email_key = ?", args["email"].strip().lower())
        if args.get("email_like"):
            add("c.email_key LIKE ? ESCAPE '\\'", f"%{escape_like(args['email_like'].lower())}%")
        if args.get("search") and args["search"] != "null":
            term = f"%{escape_like(args['search'])}%"
            add(
                "(c.first_name LIKE ? ESCAPE '\\' OR c.last_name LIKE ? ESCAPE '\\' "
                "OR (c.first_name || ' ' || c.last_name) LIKE ? ESCAPE '\\' "
                "OR c.email LIKE ? ESCAPE '\\' OR c.phone LIKE ? ESCAPE '\\' "
                "OR co.name LIKE ? ESCAPE '\\')",
                term,
                term,
                term,
                term,
                term,
                term,
            )
        if args.get("phone"):
            add("c.phone LIKE ? ESCAPE '\\'", f"{escape_like(args['phone'])}%")
        ids = id_list(request)
        if ids:
            add(f"c.id IN ({placeholders(ids)})", *ids)
        for name, clause in (
            ("id_greater", "c.id > ?"),
            ("id_less", "c.id < ?"),
            ("exclude", "c.id != ?"),
        ):
            value = as_id(args.get(name))
            if value is not None:
                add(clause, value)
        tag = as_id(args.get("tagid"))
        if tag:
            add("c.id IN (SELECT contact FROM contact_tags WHERE tag = ?)", tag)
        series = as_id(args.get("seriesid"))
        if series:
            add("c.id IN (SELECT contact FROM contact_automations WHERE automation = ?)", series)
        form = as_id(args.get("formid"))
        if form:
            add("c.id IN (SELECT contact FROM contact_lists WHERE form = ?)", form)
        status = args.get("status")
        status_value = int(status) if status and status.lstrip("-").isdigit() else -1
        list_id = as_id(args.get("listid"))
        if list_id:
            if status_value >= 0:
                add(
                    "c.id IN (SELECT contact FROM contact_lists WHERE list = ? AND status = ?)",
                    list_id,
                    status_value,
                )
            else:
                add("c.id IN (SELECT contact FROM contact_lists WHERE list = ?)", list_id)
        elif status_value >= 0:
            add("c.id IN (SELECT contact FROM contact_lists WHERE status = ?)", status_value)
        for name, clause in (
            ("filters[created_after]", "c.cdate >= ?"),
            ("filters[created_before]", "c.cdate < ?"),
            ("filters[updated_after]", "c.udate >= ?"),
            ("filters[updated_before]", "c.udate < ?"),
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
                add(clause, moment)

        order = orders(request, CONTACT_ORDERS)
        if "c.id ASC" not in order and "c.id DESC" not in order:
            order.append("c.id ASC")
        where_sql = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT {CONTACT_COLUMNS} FROM {CONTACT_FROM} WHERE {where_sql} "  # noqa: S608
            f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = self.contact_count(tenant, where_sql, params, filtered)
        base = self.base(request)
        include = {
            part.strip() for part in (args.get("include") or "").split(",")
        } & CONTACT_INCLUDES
        if not self.contact_list_field_values:
            include.discard("fieldValues")
        related, side_loads = self.contact_side_loads(rows, include, base)
        fragments = []
        for row in rows:
            fragment = self.contact_fragments.get(row, base)
            if fragment is None:
                fragment = json.dumps(
                    self.contact_json(row, base), separators=(",", ":"), ensure_ascii=False
                ).encode()
                self.contact_fragments.put(row, base, fragment)
            if include:
                # The side-loaded relationships are named inside each contact by their ids
                # (DOC sideloading: `"contactLists": [3,5]`): appended to the cached object.
                extra = json.dumps(related[row["id"]], separators=(",", ":")).encode()
                fragment = fragment[:-1] + b"," + extra[1:]
            fragments.append(fragment)
        meta = {
            "total": str(total),
            "page_input": {
                "segmentid": as_id(args.get("segmentid")) or 0,
                "formid": form or 0,
                "listid": list_id or 0,
                "tagid": tag or 0,
                "limit": limit,
                "offset": offset,
                "search": args.get("search"),
                "sort": None,
                "seriesid": series or 0,
                "waitid": as_id(args.get("waitid")) or 0,
                "status": status_value,
                "forceQuery": as_id(args.get("forceQuery")) or 0,
                "cacheid": "",
            },
        }
        loaded = b"".join(
            b'"' + key.encode() + b'":' + json.dumps(items, separators=(",", ":")).encode() + b","
            for key, items in side_loads.items()
        )
        body = b"".join(
            [
                b'{"scoreValues":[],',
                loaded,
                b'"contacts":[',
                b",".join(fragments),
                b'],"meta":',
                json.dumps(meta, separators=(",", ":")).encode(),
                b"}",
            ]
        )
        return Response(body, status=200, content_type="application/json; charset=utf-8")

    def contact_side_loads(
        self, rows: list[sqlite3.Row], include: set[str], base: str
    ) -> tuple[dict[int, dict[str, list[str]]], dict[str, list[dict]]]:
        """For `include`: each contact's related ids, and the top-level arrays of objects."""
        related: dict[int, dict[str, list[str]]] = {row["id"]: {} for row in rows}
        loads: dict[str, list[dict]] = {}
        if not include:
            return related, loads
        ids = list(related)
        marks = placeholders(ids)
        if "fieldValues" in include:
            values = self.db.execute(
                f"SELECT * FROM field_values WHERE contact IN ({marks}) ORDER BY id",  # noqa: S608
                ids,
            )
            loads["fieldValues"] = [fieldvalues.value_json(self.time, v, base) for v in values]
            for cid in ids:
                related[cid]["fieldValues"] = []
            for value in values:
                related[value["contact"]]["fieldValues"].append(str(value["id"]))
        if include & {"contactTags", "contactTags.tag"}:
            links = self.db.execute(
                f"SELECT * FROM contact_tags WHERE contact IN ({marks}) ORDER BY id",  # noqa: S608
                ids,
            )
            loads["contactTags"] = [self.contact_tag_json(r, base) for r in links]
            for cid in ids:
                related[cid]["contactTags"] = []
            for link in links:
                related[link["contact"]]["contactTags"].append(str(link["id"]))
            if "contactTags.tag" in include:
                tag_ids = sorted({link["tag"] for link in links})
                loads["tags"] = [
                    self.tag_json(r, base)
                    for r in self.db.execute(
                        f"SELECT * FROM tags WHERE id IN ({placeholders(tag_ids)}) ORDER BY id",  # noqa: S608
                        tag_ids,
                    )
                ]
        if include & {"contactLists", "contactLists.list"}:
            by_id = {row["id"]: row for row in rows}
            memberships = self.db.execute(
                f"SELECT * FROM contact_lists WHERE contact IN ({marks}) ORDER BY id",  # noqa: S608
                ids,
            )
            loads["contactLists"] = [
                self.contact_list_json(r, by_id[r["contact"]], base) for r in memberships
            ]
            for cid in ids:
                related[cid]["contactLists"] = []
            for membership in memberships:
                related[membership["contact"]]["contactLists"].append(str(membership["id"]))
            if "contactLists.list" in include:
                list_ids = sorted({m["list"] for m in memberships})
                loads["lists"] = [
                    self.list_json(r, base)
                    for r in self.db.execute(
                        f"SELECT * FROM lists WHERE id IN ({placeholders(list_ids)}) ORDER BY id",  # noqa: S608
                        list_ids,
                    )
                ]
        if include & {"accountContacts", "accountContacts.account"}:
            account_links = self.db.execute(
                f"SELECT * FROM account_contacts WHERE contact IN ({marks}) ORDER BY id",  # noqa: S608
                ids,
            )
            loads["accountContacts"] = [self.link_json(r, base) for r in account_links]
            for cid in ids:
                related[cid]["accountContacts"] = []
            for link in account_links:
                related[link["contact"]]["accountContacts"].append(str(link["id"]))
            if "accountContacts.account" in include:
                account_ids = sorted({link["account"] for link in account_links})
                loads["accounts"] = [
                    self.account_json(r, base, counts=None)
                    for r in self.db.execute(
                        f"SELECT * FROM companies WHERE id IN ({placeholders(account_ids)}) "  # noqa: S608
                        "ORDER BY id",
                        account_ids,
                    )
                ]
        if include & {"contactAutomations", "contactAutomations.automation"}:
            enrolments = self.db.execute(
                "SELECT ca.*, a.steps FROM contact_automations ca JOIN automations a "  # noqa: S608
                f"ON a.id = ca.automation WHERE ca.contact IN ({marks}) ORDER BY ca.id",
                ids,
            )
            loads["contactAutomations"] = [
                self.contact_automation_json(r, base) for r in enrolments
            ]
            for cid in ids:
                related[cid]["contactAutomations"] = []
            for enrolment in enrolments:
                related[enrolment["contact"]]["contactAutomations"].append(str(enrolment["id"]))
            if "contactAutomations.automation" in include:
                automation_ids = sorted({e["automation"] for e in enrolments})
                loads["automations"] = [
                    self.automation_json(r, base)
                    for r in self.db.execute(
                        f"SELECT * FROM automations WHERE id IN ({placeholders(automation_ids)}) "  # noqa: S608
                        "ORDER BY id",
                        automation_ids,
                    )
                ]
        if "deals" in include:
            deals = self.deals_of_contacts(ids)
            loads["deals"] = [self.deal_json(r, base) for r in deals]
            for cid in ids:
                related[cid]["deals"] = []
            for deal in deals:
                related[deal["contact"]]["deals"].append(str(deal["id"]))
        return related, loads

    def contact_count(self, tenant: int, where_sql: str, params: list, filtered: bool) -> int:
        cached, version = self.contact_counts.get(tenant)
        if not filtered and cached is not None:
            return cached
        needs_join = "co.name" in where_sql
        source = CONTACT_FROM if needs_join else "contacts c"
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM {source} WHERE {where_sql}",  # noqa: S608
            params,
        )[0]
        if not filtered:
            self.contact_counts.put(tenant, total, version)
        return total

    def contact_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = contact_body(request)
        with self.db.transaction() as conn:
            change = self.contact_save(
                conn,
                tenant,
                data,
                existing=None,
                now=self.now(),
                allow_null_email=bool(data.get("allowNullEmail")),
            )
        self.contact_changed(tenant, change, "api")
        return json_response(self.contact_full(request, change.id), 201)

    def contact_sync(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = contact_body(request)
        email = text(data.get("email")).strip()
        if not email:
            return invalid(
                "Email address is required", code="field_missing", pointer="/data/attributes/email"
            )
        with self.db.transaction() as conn:
            existing = self.contact_by_email(conn, tenant, email)
            change = self.contact_save(conn, tenant, data, existing=existing, now=self.now())
        self.contact_changed(tenant, change, "api")
        # §2.4: 201 is documented for the create path. The update path's status is not
        # documented; we answer 200 (an inference from GO commit 842b309), so `cdate == udate`
        # and the status both tell a client which happened.
        return json_response(self.contact_full(request, change.id), 201 if change.created else 200)

    def contact_get(self, request: Request, contact_id: int) -> Response:
        return json_response(self.contact_full(request, contact_id))

    def contact_update(self, request: Request, contact_id: int) -> Response:
        tenant = self.tenant(request)
        data = contact_body(request)
        with self.db.transaction() as conn:
            existing = self.contact_row(conn, tenant, contact_id)
            if existing is None:
                return not_found("Subscriber", contact_id)
            change = self.contact_save(conn, tenant, data, existing=existing, now=self.now())
        self.contact_changed(tenant, change, "api")
        return json_response(self.contact_full(request, contact_id))

    def contact_delete(self, request: Request, contact_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            if not contact_delete_rows(conn, tenant, contact_id):
                # SPEC delete-contact: the 404 spells "contact" here, not "Subscriber".
                return not_found("contact", contact_id)
        self.contact_counts.forget(tenant)
        return json_response({})

    def contact_untracked(self, request: Request, contact_id: int, sub: str) -> Response:
        """Sub-resources of objects the sandbox does not write (deals, notes, bounce logs…).

        Deals are the seeded ones; a sandbox contact has none of the others, so each answers
        its documented key with no rows.
        """
        row = self.contact_require(request, contact_id)
        if sub == "deals":
            # The deals whose primary contact this is (SPEC retrieve-contact-deals).
            base = self.base(request)
            return json_response(
                {"deals": [self.deal_json(r, base) for r in self.deals_of_contacts([contact_id])]}
            )
        if sub == "contactData":
            # One object per contact (`contactDatum`), with the empty geo/analytics defaults.
            return json_response({"contactDatum": {**contact_datum(self.time, row), "links": []}})
        if sub == "contactDeals":
            return json_response(
                {
                    "contacts": [self.contact_json(row, self.base(request))],
                    "deals": [],
                    "contactDeals": [],
                }
            )
        return json_response({sub: []})

    def contact_plus(self, request: Request, contact_id: int) -> Response:
        self.contact_require(request, contact_id)
        return json_response({"plusAppend": None})

    def contact_organization(self, request: Request, contact_id: int) -> Response:
        # Deprecated in favour of accountContacts (§2.2); no contact has a legacy organization.
        self.contact_require(request, contact_id)
        return json_response({"organization": None})


def contact_datum(time_format, row: sqlite3.Row) -> dict:
    """SPEC retrieve-contact-data: geo and analytics data; a sandbox contact has none."""
    return {
        "contact": str(row["id"]),
        "tstamp": time_format.iso(row["cdate"]),
        "geoTstamp": None,
        "geoIp4": "0",
        "geoCountry2": "",
        "geo_country": "",
        "geoState": "",
        "geoCity": "",
        "geoZip": "",
        "geoArea": "0",
        "geoLat": "0.000000",
        "geoLon": "0.000000",
        "geoTz": "",
        "geoTzOffset": "0.00",
        "ga_campaign_source": "",
        "ga_campaign_name": "",
        "ga_campaign_medium": "",
        "ga_campaign_term": "",
        "ga_campaign_content": "",
        "ga_campaign_customsegment": "",
        "ga_first_visit": None,
        "ga_times_visited": "0",
        "fb_id": "0",
        "fb_name": "",
        "tw_id": "0",
        "created_timestamp": time_format.local_plain(row["cdate"]),
        "updated_timestamp": time_format.local_plain(row["udate"]),
        "created_by": "0",
        "updated_by": "0",
        "id": str(row["id"]),
    }


def contact_body(request: Request) -> dict:
    payload = read_json(request)
    data = payload.get("contact")
    if not isinstance(data, dict):
        raise ApiError(
            invalid(
                'The request body must hold a "contact" object',
                code="field_missing",
                pointer="/data/attributes/contact",
            )
        )
    return data


def duplicate_email() -> Response:
    return invalid(
        "Email address already exists in the system",
        code="duplicate",
        pointer="/data/attributes/email",
    )


def contact_list_ids(db, contact_id: int) -> list[int]:
    return [
        r[0] for r in db.execute("SELECT list FROM contact_lists WHERE contact = ?", (contact_id,))
    ]


def contact_delete_rows(conn: sqlite3.Connection, tenant: int, contact_id: int) -> bool:
    deleted = conn.execute(
        "DELETE FROM contacts WHERE id = ? AND tenant = ?", (contact_id, tenant)
    ).rowcount
    if not deleted:
        return False
    for table in (
        "field_values",
        "contact_tags",
        "contact_lists",
        "account_contacts",
        "contact_automations",
        "activities",
        "send_logs",
    ):
        conn.execute(f"DELETE FROM {table} WHERE contact = ?", (contact_id,))  # noqa: S608
    return True
