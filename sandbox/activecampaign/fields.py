"""Custom contact fields (§3): definitions, options, list relations and values."""

from __future__ import annotations

import re
import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from . import fieldvalues
from .context import Resource
from .deliveries import contact_payload
from .formats import (
    ApiError,
    as_id,
    invalid,
    message_error,
    not_found,
    page,
    placeholders,
    read_json,
    text,
    wrapped,
)

RULES = [
    Rule("/api/3/fields", methods=["GET"], endpoint="fields_list"),
    Rule("/api/3/fields", methods=["POST"], endpoint="field_create"),
    Rule("/api/3/fields/<int:field_id>", methods=["GET"], endpoint="field_get"),
    Rule("/api/3/fields/<int:field_id>", methods=["PUT"], endpoint="field_update"),
    Rule("/api/3/fields/<int:field_id>", methods=["DELETE"], endpoint="field_delete"),
    Rule("/api/3/fields/<int:field_id>/options", methods=["GET"], endpoint="field_options"),
    Rule("/api/3/fieldOption/bulk", methods=["POST"], endpoint="field_options_bulk"),
    Rule("/api/3/fieldRels", methods=["GET"], endpoint="field_rels_list"),
    Rule("/api/3/fieldRels", methods=["POST"], endpoint="field_rel_create"),
    Rule("/api/3/fieldRels/<int:rel_id>", methods=["DELETE"], endpoint="field_rel_delete"),
    Rule("/api/3/fieldValues", methods=["GET"], endpoint="field_values_list"),
    Rule("/api/3/fieldValues", methods=["POST"], endpoint="field_value_create"),
    Rule("/api/3/fieldValues/<int:value_id>", methods=["GET"], endpoint="field_value_get"),
    Rule("/api/3/fieldValues/<int:value_id>", methods=["PUT"], endpoint="field_value_update"),
    Rule("/api/3/fieldValues/<int:value_id>", methods=["DELETE"], endpoint="field_value_delete"),
    Rule(
        "/api/3/contacts/<int:contact_id>/fieldValues",
        methods=["GET"],
        endpoint="contact_field_values",
    ),
]

# §3.1: the types POST /fields accepts ("NULL" is listed by the doc page as well).
FIELD_TYPES = {
    "text",
    "textarea",
    "date",
    "datetime",
    "dropdown",
    "listbox",
    "radio",
    "checkbox",
    "hidden",
    "number",
    "NULL",
}
CHOICE_TYPES = {"dropdown", "listbox", "radio", "checkbox"}
BULK_FAILED = "Bulk operation failed. Request must contain an array of fieldOption objects."


def perstag_from(title: str) -> str:
    """`Another Test Title` -> `ANOTHER_TEST_TITLE` (SPEC example; derivation is INF, §3.1)."""
    return re.sub(r"[^A-Z0-9]+", "_", title.upper()).strip("_") or "FIELD"


class FieldsApi(Resource):
    # -- representation ----------------------------------------------------------------------
    def field_json(self, row: sqlite3.Row, base: str, options=None, relations=None) -> dict:
        field_id = row["id"]
        result = {
            "title": row["title"],
            "descript": row["descript"],
            "type": row["type"],
            "isrequired": str(row["isrequired"]),
            "perstag": row["perstag"],
            "defval": row["defval"],
            "show_in_list": str(row["show_in_list"]),
            "rows": str(row["rows_"]),
            "cols": str(row["cols"]),
            "visible": str(row["visible"]),
            "service": row["service"],
            "ordernum": str(row["ordernum"]),
            "cdate": self.time.iso(row["cdate"]),
            "udate": self.time.iso(row["udate"]),
        }
        if options is not None:
            result["options"] = [str(o["id"]) for o in options]
        if relations is not None:
            result["relations"] = [str(r["id"]) for r in relations]
        result["links"] = {
            "options": f"{base}/api/3/fields/{field_id}/options",
            "relations": f"{base}/api/3/fields/{field_id}/relations",
        }
        result["id"] = str(field_id)
        return result

    def option_json(self, row: sqlite3.Row, base: str) -> dict:
        return {
            "field": str(row["field"]),
            "orderid": row["orderid"],
            "value": row["value"],
            "label": row["label"],
            "isdefault": row["isdefault"],
            "cdate": self.time.iso(row["cdate"]),
            "udate": self.time.iso(row["udate"]),
            "links": {"field": f"{base}/api/3/fieldOptions/{row['id']}/field"},
            "id": str(row["id"]),
        }

    def rel_json(self, row: sqlite3.Row) -> dict:
        return {
            "field": str(row["field"]),
            "relid": str(row["relid"]),
            "dorder": str(row["dorder"]),
            "cdate": self.time.iso(row["cdate"]),
            "links": [],
            "id": str(row["id"]),
        }

    def _field(self, tenant: int, field_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM fields WHERE id = ? AND tenant = ?", (field_id, tenant)
        )

    # -- /fields -------------------------------------------------------------------------------
    def fields_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        perstag = request.args.get("filters[perstag]")
        if perstag:
            where.append("perstag = ?")
            params.append(perstag)
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM fields WHERE {sql_where} ORDER BY ordernum, id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM fields WHERE {sql_where}", params)[0]  # noqa: S608
        ids = [r["id"] for r in rows]
        options = self.db.execute(
            f"SELECT * FROM field_options WHERE field IN ({placeholders(ids)}) "  # noqa: S608
            "ORDER BY field, orderid, id",
            ids,
        )
        rels = self.db.execute(
            f"SELECT * FROM field_rels WHERE field IN ({placeholders(ids)}) ORDER BY id",  # noqa: S608
            ids,
        )
        base = self.base(request)
        return json_response(
            {
                "fieldOptions": [self.option_json(o, base) for o in options],
                "fieldRels": [self.rel_json(r) for r in rels],
                "fields": [
                    self.field_json(
                        r,
                        base,
                        [o for o in options if o["field"] == r["id"]],
                        [x for x in rels if x["field"] == r["id"]],
                    )
                    for r in rows
                ],
                "meta": {"total": str(total)},
            }
        )

    def _field_values(self, tenant: int, data: dict, *, current: sqlite3.Row | None) -> dict:
        values: dict = {}
        if "title" in data or current is None:
            title = text(data.get("title")).strip()
            if not title:
                raise ApiError(
                    invalid(
                        "The title attribute was not provided",
                        code="field_missing",
                        pointer="/data/attributes/title",
                    )
                )
            clash = self.db.execute_one(
                "SELECT id FROM fields WHERE tenant = ? AND title_key = ?", (tenant, title.lower())
            )
            if clash is not None and (current is None or clash["id"] != current["id"]):
                # SPEC create-a-contact-custom-field 422 example, verbatim.
                raise ApiError(
                    invalid(
                        "There is already a field with this title",
                        code="duplicate",
                        detail=f"There is already a field named '{title}' -- choose another name",
                    )
                )
            values["title"], values["title_key"] = title, title.lower()
        if "type" in data or current is None:
            field_type = text(data.get("type")).strip()
            if not field_type:
                raise ApiError(
                    invalid(
                        "The type attribute was not provided",
                        code="field_missing",
                        pointer="/data/attributes/type",
                    )
                )
            if field_type not in FIELD_TYPES:
                raise ApiError(
                    invalid(
                        f"Invalid field type {field_type!r}",
                        code="field_invalid",
                        pointer="/data/attributes/type",
                    )
                )
            values["type"] = field_type
        for key, column in (("descript", "descript"), ("defval", "defval"), ("service", "service")):
            if key in data:
                values[column] = None if data[key] is None else text(data[key])
        for key, column in (
            ("isrequired", "isrequired"),
            ("visible", "visible"),
            ("show_in_list", "show_in_list"),
            ("rows", "rows_"),
            ("cols", "cols"),
            ("ordernum", "ordernum"),
        ):
            if key in data:
                number = as_id(data[key]) if not isinstance(data[key], bool) else int(data[key])
                if number is None:
                    raise ApiError(
                        invalid(
                            f"The {key} attribute must be a number",
                            code="field_invalid",
                            pointer=f"/data/attributes/{key}",
                        )
                    )
                values[column] = number
        if "perstag" in data and text(data["perstag"]).strip():
            values["perstag"] = perstag_from(text(data["perstag"]))
        elif current is None:
            values["perstag"] = perstag_from(values["title"])
        if "perstag" in values:
            taken = self.db.execute_one(
                "SELECT id FROM fields WHERE tenant = ? AND perstag = ?",
                (tenant, values["perstag"]),
            )
            if taken is not None and (current is None or taken["id"] != current["id"]):
                if "perstag" in data:
                    raise ApiError(
                        invalid(
                            "There is already a field with this personalization tag",
                            code="duplicate",
                            pointer="/data/attributes/perstag",
                        )
                    )
                values["perstag"] = f"{values['perstag']}_{self.now() % 100000}"
        return values

    def field_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        values = self._field_values(tenant, wrapped(request, "field"), current=None)
        now = self.now()
        with self.db.transaction() as conn:
            if "ordernum" not in values:
                values["ordernum"] = conn.execute(
                    "SELECT COALESCE(MAX(ordernum), 0) + 1 FROM fields WHERE tenant = ?", (tenant,)
                ).fetchone()[0]
            columns = ["tenant", "cdate", "udate", *values]
            field_id = conn.execute(
                f"INSERT INTO fields ({', '.join(columns)}) "  # noqa: S608 - known columns
                f"VALUES ({placeholders(columns)})",
                (tenant, now, now, *values.values()),
            ).lastrowid
        row = self._field(tenant, field_id)
        # The SPEC's 201 example for create-a-contact-custom-field repeats the list example
        # (fields/fieldOptions/fieldRels/meta with an empty `type`); the update example and
        # the clients answer/read `{"field": {...}}`, which is what we answer.
        return json_response({"field": self.field_json(row, self.base(request), [], [])}, 201)

    def field_get(self, request: Request, field_id: int) -> Response:
        tenant = self.tenant(request)
        row = self._field(tenant, field_id)
        if row is None:
            return not_found("Field", field_id)
        options = self.db.execute(
            "SELECT * FROM field_options WHERE field = ? ORDER BY orderid, id", (field_id,)
        )
        rels = self.db.execute("SELECT * FROM field_rels WHERE field = ? ORDER BY id", (field_id,))
        base = self.base(request)
        return json_response(
            {
                "fieldOptions": [self.option_json(o, base) for o in options],
                "fieldRels": [self.rel_json(r) for r in rels],
                "field": self.field_json(row, base, options, rels),
            }
        )

    def field_update(self, request: Request, field_id: int) -> Response:
        tenant = self.tenant(request)
        current = self._field(tenant, field_id)
        if current is None:
            return not_found("Field", field_id)
        values = self._field_values(tenant, wrapped(request, "field"), current=current)
        values["udate"] = self.now()
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.execute(
            f"UPDATE fields SET {assignments} WHERE id = ?",  # noqa: S608 - known columns
            (*values.values(), field_id),
        )
        return json_response(
            {"field": self.field_json(self._field(tenant, field_id), self.base(request))}
        )

    def field_delete(self, request: Request, field_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            if not conn.execute(
                "DELETE FROM fields WHERE id = ? AND tenant = ?", (field_id, tenant)
            ).rowcount:
                return not_found("Field", field_id)
            for table in ("field_options", "field_rels", "field_values"):
                conn.execute(f"DELETE FROM {table} WHERE field = ?", (field_id,))  # noqa: S608
        return json_response({})

    def field_options(self, request: Request, field_id: int) -> Response:
        if self._field(self.tenant(request), field_id) is None:
            return not_found("Field", field_id)
        base = self.base(request)
        options = self.db.execute(
            "SELECT * FROM field_options WHERE field = ? ORDER BY orderid, id", (field_id,)
        )
        return json_response({"fieldOptions": [self.option_json(o, base) for o in options]})

    def field_options_bulk(self, request: Request) -> Response:
        """POST /fieldOption/bulk; failures use the single-string error shape 6 (§1.6)."""
        tenant = self.tenant(request)
        options = read_json(request).get("fieldOptions")
        if not isinstance(options, list) or not options:
            return json_response({"errors": BULK_FAILED}, 422)
        rows = []
        for option in options:
            if not isinstance(option, dict):
                return json_response({"errors": BULK_FAILED}, 422)
            field_id = as_id(option.get("field"))
            field = self._field(tenant, field_id) if field_id is not None else None
            if field is None:
                return json_response(
                    {"errors": f"Bulk operation failed. Field {option.get('field')!r} not found."},
                    422,
                )
            label = text(option.get("label") if "label" in option else option.get("value"))
            value = text(option.get("value") if "value" in option else option.get("label"))
            if not value:
                return json_response(
                    {"errors": "Bulk operation failed. Each fieldOption needs a value."}, 422
                )
            rows.append(
                (
                    tenant,
                    field_id,
                    label,
                    value,
                    as_id(option.get("orderid")) or 0,
                    1 if option.get("isdefault") in (True, 1, "1", "true") else 0,
                )
            )
        now = self.now()
        with self.db.transaction() as conn:
            ids = [
                conn.execute(
                    "INSERT INTO field_options (tenant, field, label, value, orderid, isdefault, "
                    "cdate, udate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*row, now, now),
                ).lastrowid
                for row in rows
            ]
        created = self.db.execute(
            f"SELECT * FROM field_options WHERE id IN ({placeholders(ids)}) ORDER BY id",  # noqa: S608
            ids,
        )
        base = self.base(request)
        return json_response({"fieldOptions": [self.option_json(o, base) for o in created]}, 201)

    # -- /fieldRels ------------------------------------------------------------------------------
    def field_rels_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        rows = self.db.execute(
            "SELECT * FROM field_rels WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one("SELECT COUNT(*) FROM field_rels WHERE tenant = ?", (tenant,))[
            0
        ]
        return json_response(
            {"fieldRels": [self.rel_json(r) for r in rows], "meta": {"total": str(total)}}
        )

    def field_rel_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "fieldRel")
        field_id, relid = as_id(data.get("field")), as_id(data.get("relid"))
        for key, value in (("field", field_id), ("relid", relid)):
            if value is None:
                return invalid(
                    f"The {key} attribute was not provided",
                    code="field_missing",
                    pointer=f"/data/attributes/{key}",
                )
        if self._field(tenant, field_id) is None:
            return not_found("Field", field_id)
        if (
            relid
            and self.db.execute_one(
                "SELECT 1 FROM lists WHERE id = ? AND tenant = ?", (relid, tenant)
            )
            is None
        ):
            return not_found("List", relid)
        now = self.now()
        rel_id = self.db.insert(
            "INSERT INTO field_rels (tenant, field, relid, dorder, cdate) VALUES (?, ?, ?, ?, ?)",
            (tenant, field_id, relid, as_id(data.get("dorder")) or 0, now),
        )
        # SPEC create-a-custom-field-relationship-to-lists answers field/relid as numbers.
        return json_response(
            {
                "fieldRel": {
                    "relid": relid,
                    "field": field_id,
                    "cdate": self.time.iso(now),
                    "links": [],
                    "id": str(rel_id),
                }
            },
            201,
        )

    def field_rel_delete(self, request: Request, rel_id: int) -> Response:
        if not self.delete_row("field_rels", rel_id, self.tenant(request)):
            return not_found("FieldRel", rel_id)
        return json_response({})

    # -- /fieldValues ----------------------------------------------------------------------------
    def _value_row(self, tenant: int, value_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM field_values WHERE id = ? AND tenant = ?", (value_id, tenant)
        )

    def field_values_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        field_id = as_id(request.args.get("filters[fieldid]"))
        if field_id is not None:
            where.append("field = ?")
            params.append(field_id)
        if "filters[val]" in request.args:
            where.append("value = ?")
            params.append(request.args["filters[val]"])
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM field_values WHERE {sql_where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM field_values WHERE {sql_where}",  # noqa: S608
            params,
        )[0]
        base = self.base(request)
        return json_response(
            {
                "fieldValues": [fieldvalues.value_json(self.time, r, base) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def _write_value(self, request: Request, *, value_id: int | None) -> Response:
        tenant = self.tenant(request)
        payload = read_json(request)
        data = payload.get("fieldValue")
        if not isinstance(data, dict):
            return invalid(
                'The request body must hold a "fieldValue" object',
                code="field_missing",
                pointer="/data/attributes/fieldValue",
            )
        existing = None
        if value_id is not None:
            existing = self._value_row(tenant, value_id)
            if existing is None:
                return not_found_value(value_id)
        contact_id = as_id(data.get("contact")) or (existing["contact"] if existing else None)
        field_id = as_id(data.get("field")) or (existing["field"] if existing else None)
        for key, ident in (("contact", contact_id), ("field", field_id)):
            if ident is None:
                return invalid(
                    f"The {key} attribute was not provided",
                    code="field_missing",
                    pointer=f"/data/attributes/{key}",
                )
        field = self._field(tenant, field_id)
        if field is None:
            return not_found("Field", field_id)
        if "value" in data:
            value = data["value"]
        else:
            return invalid(
                "The value attribute was not provided",
                code="field_missing",
                pointer="/data/attributes/value",
            )
        now = self.now()
        with self.db.transaction() as conn:
            contact = self.contact_row(conn, tenant, contact_id)
            if contact is None:
                return not_found("Subscriber", contact_id)
            if existing is not None and (
                existing["contact"] != contact_id or existing["field"] != field_id
            ):
                # PUT may move a value to another contact/field: drop the one it replaces.
                conn.execute(
                    "DELETE FROM field_values WHERE contact = ? AND field = ? AND id != ?",
                    (contact_id, field_id, value_id),
                )
                conn.execute(
                    "UPDATE field_values SET contact = ?, field = ? WHERE id = ?",
                    (contact_id, field_id, value_id),
                )
            result = fieldvalues.value_set(conn, tenant, contact_id, field_id, value, now)
            assert result is not None  # the field exists (checked above)
            stored_id, changed = result
            if payload.get("useDefaults"):
                # create-fieldvalue: "populate the missing required fields for this contact
                # with default values".
                for required in conn.execute(
                    "SELECT f.id, f.defval FROM fields f WHERE f.tenant = ? AND f.isrequired = 1 "
                    "AND f.defval IS NOT NULL AND f.defval != '' AND NOT EXISTS (SELECT 1 FROM "
                    "field_values v WHERE v.contact = ? AND v.field = f.id)",
                    (tenant, contact_id),
                ).fetchall():
                    fieldvalues.value_set(
                        conn, tenant, contact_id, required["id"], required["defval"], now
                    )
                    changed = True
            if changed:
                conn.execute("UPDATE contacts SET udate = ? WHERE id = ?", (now, contact_id))
        if changed:
            self.webhooks.emit(
                tenant,
                "update",
                "api",
                lambda: contact_payload(self.db, self.time, tenant, contact_id),
                lists=[
                    r[0]
                    for r in self.db.execute(
                        "SELECT list FROM contact_lists WHERE contact = ?", (contact_id,)
                    )
                ],
            )
        row = self._value_row(tenant, stored_id)
        base = self.base(request)
        contact = self.contact_row(self.db, tenant, contact_id)
        # SPEC create-a-custom-field-value / update-a-custom-field-value-for-contact answer
        # 200 with `contacts` and a fieldValue whose contact/field/owner are numbers.
        return json_response(
            {
                "contacts": [self.contact_json(contact, base)],
                "fieldValue": {
                    "contact": contact_id,
                    "field": field_id,
                    "value": row["value"],
                    "cdate": self.time.iso(row["cdate"]),
                    "udate": self.time.iso(row["udate"]),
                    "links": {
                        "owner": f"{base}/api/3/fieldValues/{stored_id}/owner",
                        "field": f"{base}/api/3/fieldValues/{stored_id}/field",
                    },
                    "owner": contact_id,
                    "id": str(stored_id),
                },
            }
        )

    def field_value_create(self, request: Request) -> Response:
        return self._write_value(request, value_id=None)

    def field_value_update(self, request: Request, value_id: int) -> Response:
        return self._write_value(request, value_id=value_id)

    def field_value_get(self, request: Request, value_id: int) -> Response:
        row = self._value_row(self.tenant(request), value_id)
        if row is None:
            return not_found_value(value_id)
        return json_response(
            {"fieldValue": fieldvalues.value_json(self.time, row, self.base(request))}
        )

    def field_value_delete(self, request: Request, value_id: int) -> Response:
        tenant = self.tenant(request)
        row = self._value_row(tenant, value_id)
        if row is None:
            return not_found_value(value_id)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM field_values WHERE id = ?", (value_id,))
            conn.execute("UPDATE contacts SET udate = ? WHERE id = ?", (self.now(), row["contact"]))
        return json_response({})

    def contact_field_values(self, request: Request, contact_id: int) -> Response:
        self.contact_require(request, contact_id)
        base = self.base(request)
        rows = fieldvalues.rows_for_contact(self.db, contact_id)
        return json_response(
            {"fieldValues": [fieldvalues.value_json(self.time, r, base) for r in rows]}
        )


def not_found_value(value_id: int) -> Response:
    # SPEC retrieve/delete-a-custom-field-value document this miss as a 403, message style.
    return message_error(403, f"No Result found for FieldValue with id {value_id}")
