"""Tags and contact tags (§8)."""

from __future__ import annotations

import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .deliveries import contact_payload
from .formats import (
    as_id,
    escape_like,
    invalid,
    not_found,
    page,
    read_json,
    status_error,
    text,
    wrapped,
)

RULES = [
    Rule("/api/3/tags", methods=["GET"], endpoint="tags_list"),
    Rule("/api/3/tags", methods=["POST"], endpoint="tag_create"),
    Rule("/api/3/tags/<int:tag_id>", methods=["GET"], endpoint="tag_get"),
    Rule("/api/3/tags/<int:tag_id>", methods=["PUT"], endpoint="tag_update"),
    Rule("/api/3/tags/<int:tag_id>", methods=["DELETE"], endpoint="tag_delete"),
    Rule("/api/3/contactTags", methods=["POST"], endpoint="contact_tag_create"),
    Rule("/api/3/contactTags/<int:ct_id>", methods=["GET"], endpoint="contact_tag_get"),
    Rule("/api/3/contactTags/<int:ct_id>", methods=["DELETE"], endpoint="contact_tag_delete"),
    Rule("/api/3/contacts/<int:contact_id>/contactTags", methods=["GET"], endpoint="contact_tags"),
]

# §8: filters[search][<op>]; the value is compared with the tag name, case-insensitively.
SEARCH_OPS = {
    "eq": ("t.tag_key = ?", lambda v: v),
    "neq": ("t.tag_key != ?", lambda v: v),
    "lt": ("t.tag_key < ?", lambda v: v),
    "lte": ("t.tag_key <= ?", lambda v: v),
    "gt": ("t.tag_key > ?", lambda v: v),
    "gte": ("t.tag_key >= ?", lambda v: v),
    "contains": ("t.tag_key LIKE ? ESCAPE '\\'", lambda v: f"%{escape_like(v)}%"),
    "starts_with": ("t.tag_key LIKE ? ESCAPE '\\'", lambda v: f"{escape_like(v)}%"),
}


def tag_ensure(conn: sqlite3.Connection, tenant: int, name: str, now: int) -> int:
    """The id of the tag named `name` (any case), created if absent (bulk import, §11.1)."""
    row = conn.execute(
        "SELECT id FROM tags WHERE tenant = ? AND tag_key = ?", (tenant, name.lower())
    ).fetchone()
    if row is not None:
        return row["id"]
    return conn.execute(
        "INSERT INTO tags (tenant, tag, tag_key, tag_type, description, cdate) "
        "VALUES (?, ?, ?, 'contact', '', ?)",
        (tenant, name, name.lower(), now),
    ).lastrowid


def tag_attach(
    conn: sqlite3.Connection, tenant: int, contact: int, tag: int, now: int
) -> tuple[int, bool]:
    """Put a tag on a contact; (contactTag id, created). Records the activity row.

    The contact's udate does not move: which changes bump it is an open question (§2.5); the
    sandbox moves it for the contact's own attributes and custom field values only, and a
    sync that needs tag changes reads them from the webhooks or the activity feed.
    """
    row = conn.execute(
        "SELECT id FROM contact_tags WHERE contact = ? AND tag = ?", (contact, tag)
    ).fetchone()
    if row is not None:
        return row["id"], False
    ct_id = conn.execute(
        "INSERT INTO contact_tags (tenant, contact, tag, cdate) VALUES (?, ?, ?, ?)",
        (tenant, contact, tag, now),
    ).lastrowid
    Resource.activity_add(conn, tenant, contact, now, "SubscriberTag", ct_id, "add", "contactTag")
    return ct_id, True


class TagsApi(Resource):
    def tag_json(self, row: sqlite3.Row, base: str, *, count: int | None = None) -> dict:
        result = {
            "tagType": row["tag_type"],
            "tag": row["tag"],
            "description": row["description"],
            "cdate": self.time.iso(row["cdate"]),
            **self.audit_stamps(row["cdate"], row["udate"]),
        }
        if count is not None:
            result["subscriber_count"] = str(count)
        result["links"] = {
            "contactGoalTags": f"{base}/api/3/tags/{row['id']}/contactGoalTags",
        }
        result["id"] = str(row["id"])
        return result

    def contact_tag_json(self, row: sqlite3.Row, base: str) -> dict:
        ct_id = row["id"]
        return {
            "cdate": self.time.iso(row["cdate"]),
            "contact": str(row["contact"]),
            "tag": str(row["tag"]),
            "links": {
                "contact": f"{base}/api/3/contactTags/{ct_id}/contact",
                "tag": f"{base}/api/3/contactTags/{ct_id}/tag",
            },
            "id": str(ct_id),
        }

    def _tag(self, tenant: int, tag_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM tags WHERE id = ? AND tenant = ?", (tag_id, tenant)
        )

    def tags_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["t.tenant = ?"], [tenant]
        search = request.args.get("search")
        if search:
            where.append("t.tag_key LIKE ? ESCAPE '\\'")
            params.append(f"%{escape_like(search.lower())}%")
        for op, (clause, shape) in SEARCH_OPS.items():
            value = request.args.get(f"filters[search][{op}]")
            if value is not None:
                where.append(clause)
                params.append(shape(value.lower()))
        if request.args.get("filters[search]") is not None:  # no operator = eq
            where.append("t.tag_key = ?")
            params.append(request.args["filters[search]"].lower())
        tag_type = request.args.get("filters[tag_type]")
        if tag_type:
            where.append("t.tag_type = ?")
            params.append(tag_type)
        order_params: list = []
        order = "t.id ASC"
        by = (request.args.get("orders[search]") or "").strip().lower()
        if by == "weight":
            term = (search or request.args.get("filters[search][eq]") or "").lower()
            order = "CASE WHEN t.tag_key = ? THEN 0 ELSE 1 END, t.tag_key, t.id"
            order_params.append(term)
        elif by in ("asc", "desc"):
            order = f"t.tag_key {by.upper()}, t.id"
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT t.* FROM tags t WHERE {sql_where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
            (*params, *order_params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM tags t WHERE {sql_where}", params)[0]  # noqa: S608
        base = self.base(request)
        return json_response(
            {"tags": [self.tag_json(r, base) for r in rows], "meta": {"total": str(total)}}
        )

    def _tag_values(self, tenant: int, data: dict, *, current_id: int | None) -> dict | Response:
        values: dict = {}
        if "tag" in data or current_id is None:
            name = text(data.get("tag")).strip()
            if not name:
                return invalid(
                    "The tag attribute was not provided",
                    code="field_missing",
                    pointer="/data/attributes/tag",
                )
            clash = self.db.execute_one(
                "SELECT id FROM tags WHERE tenant = ? AND tag_key = ?", (tenant, name.lower())
            )
            if clash is not None and clash["id"] != current_id:
                # §8: names are unique case-insensitively; creating an existing one fails.
                return invalid(
                    f'A tag named "{name}" already exists',
                    code="duplicate",
                    pointer="/data/attributes/tag",
                )
            values["tag"], values["tag_key"] = name, name.lower()
        if "tagType" in data:
            values["tag_type"] = text(data["tagType"]) or "contact"
        if "description" in data:
            values["description"] = text(data["description"])
        return values

    def tag_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        values = self._tag_values(tenant, wrapped(request, "tag"), current_id=None)
        if isinstance(values, Response):
            return values
        tag_id = self.db.insert(
            "INSERT INTO tags (tenant, tag, tag_key, tag_type, description, cdate) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                tenant,
                values["tag"],
                values["tag_key"],
                values.get("tag_type", "contact"),
                values.get("description", ""),
                self.now(),
            ),
        )
        return json_response(
            {"tag": self.tag_json(self._tag(tenant, tag_id), self.base(request))}, 201
        )

    def tag_get(self, request: Request, tag_id: int) -> Response:
        row = self._tag(self.tenant(request), tag_id)
        if row is None:
            return not_found("Tag", tag_id)
        count = self.db.execute_one("SELECT COUNT(*) FROM contact_tags WHERE tag = ?", (tag_id,))[0]
        return json_response({"tag": self.tag_json(row, self.base(request), count=count)})

    def tag_update(self, request: Request, tag_id: int) -> Response:
        tenant = self.tenant(request)
        if self._tag(tenant, tag_id) is None:
            return not_found("Tag", tag_id)
        values = self._tag_values(tenant, wrapped(request, "tag"), current_id=tag_id)
        if isinstance(values, Response):
            return values
        if values:
            values["udate"] = self.now()
            assignments = ", ".join(f"{column} = ?" for column in values)
            self.db.execute(
                f"UPDATE tags SET {assignments} WHERE id = ?",  # noqa: S608 - known columns
                (*values.values(), tag_id),
            )
        return json_response({"tag": self.tag_json(self._tag(tenant, tag_id), self.base(request))})

    def tag_delete(self, request: Request, tag_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            if not conn.execute(
                "DELETE FROM tags WHERE id = ? AND tenant = ?", (tag_id, tenant)
            ).rowcount:
                return not_found("Tag", tag_id)
            conn.execute("DELETE FROM contact_tags WHERE tag = ?", (tag_id,))
        return json_response({})

    def contact_tag_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = read_json(request).get("contactTag")
        if not isinstance(data, dict):
            data = {}
        ids = {key: as_id(data.get(key)) for key in ("contact", "tag")}
        for key, value in ids.items():
            if value is None:
                # SPEC create-contact-tag 422 example (status style, no detail).
                return status_error(422, "Missing attribute", pointer=f"/data/attributes/{key}")
        now = self.now()
        with self.db.transaction() as conn:
            if self.contact_row(conn, tenant, ids["contact"]) is None:
                return status_error(404, "Not Found", detail="Contact not found")
            tag = conn.execute(
                "SELECT * FROM tags WHERE id = ? AND tenant = ?", (ids["tag"], tenant)
            ).fetchone()
            if tag is None:
                return status_error(404, "Not Found", detail="Tag not found")
            ct_id, created = tag_attach(conn, tenant, ids["contact"], ids["tag"], now)
        if created:
            self.tag_changed(tenant, ids["contact"], tag["tag"], added=True, source="api")
        row = self.db.execute_one("SELECT * FROM contact_tags WHERE id = ?", (ct_id,))
        return json_response({"contactTag": self.contact_tag_json(row, self.base(request))}, 201)

    def tag_changed(self, tenant: int, contact: int, tag_name: str, *, added: bool, source: str):
        def build():
            return [*contact_payload(self.db, self.time, tenant, contact), ("tag", tag_name)]

        self.webhooks.emit(
            tenant, "contact_tag_added" if added else "contact_tag_removed", source, build
        )

    def contact_tag_get(self, request: Request, ct_id: int) -> Response:
        row = self.db.execute_one(
            "SELECT * FROM contact_tags WHERE id = ? AND tenant = ?", (ct_id, self.tenant(request))
        )
        if row is None:
            return not_found("SubscriberTag", ct_id)
        return json_response({"contactTag": self.contact_tag_json(row, self.base(request))})

    def contact_tag_delete(self, request: Request, ct_id: int) -> Response:
        tenant = self.tenant(request)
        row = self.db.execute_one(
            "SELECT ct.*, t.tag AS tag_name FROM contact_tags ct JOIN tags t ON t.id = ct.tag "
            "WHERE ct.id = ? AND ct.tenant = ?",
            (ct_id, tenant),
        )
        if row is None:
            # §8: removing an already-removed association answers this 404.
            return not_found("SubscriberTag", ct_id)
        self.db.execute("DELETE FROM contact_tags WHERE id = ?", (ct_id,))
        self.tag_changed(tenant, row["contact"], row["tag_name"], added=False, source="api")
        return json_response({})

    def contact_tags(self, request: Request, contact_id: int) -> Response:
        self.contact_require(request, contact_id)
        rows = self.db.execute(
            "SELECT * FROM contact_tags WHERE contact = ? ORDER BY id", (contact_id,)
        )
        base = self.base(request)
        return json_response({"contactTags": [self.contact_tag_json(r, base) for r in rows]})
