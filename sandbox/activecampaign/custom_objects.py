"""Custom objects (§5): private schemas and their records.

Rules implemented from the sources of §5 (README.md): schema slugs are unique; PUT adds
fields/options/relationships but never removes or retypes (removal is the field DELETE, which
only marks the field `marked_for_deletion`, keeps its id taken, and hides its data); records are
written only through the POST upsert (PUT/PATCH answer 405), with the id/externalId matching
rules of §5.2. Errors use shape 4 (`source: {type: pointer, value}`), meta.total is an int here.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import sqlite3
import uuid

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .formats import AccountTime, ApiError, as_id, message_error, object_invalid, read_json, text

RULES = [
    Rule("/api/3/customObjects/schemas", methods=["GET"], endpoint="schemas_list"),
    Rule("/api/3/customObjects/schemas", methods=["POST"], endpoint="schema_create"),
    Rule("/api/3/customObjects/schemas/<schema_id>", methods=["GET"], endpoint="schema_get"),
    Rule("/api/3/customObjects/schemas/<schema_id>", methods=["PUT"], endpoint="schema_update"),
    Rule("/api/3/customObjects/schemas/<schema_id>", methods=["DELETE"], endpoint="schema_delete"),
    Rule(
        "/api/3/customObjects/schemas/<schema_id>/fields/<field_id>",
        methods=["DELETE"],
        endpoint="schema_field_delete",
    ),
    Rule("/api/3/customObjects/records/<schema_id>", methods=["GET"], endpoint="records_list"),
    Rule("/api/3/customObjects/records/<schema_id>", methods=["POST"], endpoint="record_upsert"),
    Rule(
        "/api/3/customObjects/records/<schema_id>/<record_id>",
        methods=["GET"],
        endpoint="record_get",
    ),
    Rule(
        "/api/3/customObjects/records/<schema_id>/<record_id>",
        methods=["DELETE"],
        endpoint="record_delete",
    ),
    Rule(
        "/api/3/customObjects/records/<schema_id>/external/<external_id>",
        methods=["GET"],
        endpoint="record_get_external",
    ),
    Rule(
        "/api/3/customObjects/records/<schema_id>/external/<external_id>",
        methods=["DELETE"],
        endpoint="record_delete_external",
    ),
]

# §5.1: types seen in the docs. The date-time token is not shown in any example; both
# spellings are accepted and kept as sent.
FIELD_TYPES = {
    "text",
    "textarea",
    "number",
    "decimal",
    "currency",
    "dropdown",
    "multiselect",
    "date",
    "datetime",
    "date-time",
}
CHOICE_TYPES = {"dropdown", "multiselect"}
NAMESPACES = {"contacts", "accounts", "deals"}
ICON = "https://d226aj4ao1t61q.cloudfront.net/n9mayqo2d_customobject.png"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-_]*$")
MAX_LIMIT = 100
NOT_FOUND = {"message": "Not Found"}
FILTER_RE = re.compile(r"^filters\[([^\]]+)\](?:\[([a-z_]+)\])?$")
ORDER_RE = re.compile(r"^orders\[([^\]]+)\]$")


def labels_ok(labels: object) -> bool:
    return (
        isinstance(labels, dict)
        and isinstance(labels.get("singular"), str)
        and isinstance(labels.get("plural"), str)
        and bool(labels["singular"].strip())
        and bool(labels["plural"].strip())
    )


def field_normalize(raw: object, *, with_options: bool = True) -> dict:
    """A schema field from a request body, as stored (validation errors raise ApiError).

    with_options=False leaves a choice field's options to the caller (PUT merges them).
    """
    if not isinstance(raw, dict):
        raise ApiError(object_invalid("schema.fields", "Schema fields must be objects"))
    field_id = raw.get("id")
    if not isinstance(field_id, str) or not SLUG_RE.match(field_id):
        raise ApiError(
            object_invalid("schema.fields.id", "Schema fields must provide an id (a-z, 0-9, -)")
        )
    if not labels_ok(raw.get("labels")):
        # SPEC create-a-schema 422 "invalid field value" example, verbatim.
        raise ApiError(object_invalid("schema.fields.labels", "Schema fields must provide labels"))
    field_type = raw.get("type")
    if field_type not in FIELD_TYPES:
        raise ApiError(
            object_invalid("schema.fields.type", f"Field type must be one of {sorted(FIELD_TYPES)}")
        )
    required = bool(raw.get("required", raw.get("isRequired", False)))
    field = {
        "id": field_id,
        "labels": {"singular": raw["labels"]["singular"], "plural": raw["labels"]["plural"]},
        "type": field_type,
        # The docs spell the flag both ways (`required` in create/get examples, `isRequired`
        # in update-a-schema); both are answered.
        "required": required,
        "isRequired": required,
    }
    if raw.get("description") is not None:
        field["description"] = text(raw["description"])
    if raw.get("origin") is not None:
        field["origin"] = text(raw["origin"])
    if field_type in ("number", "decimal"):
        scale = raw.get("scale", 0 if field_type == "number" else 2)
        if not isinstance(scale, int) or isinstance(scale, bool) or scale < 0:
            raise ApiError(object_invalid("schema.fields.scale", "scale must be an integer >= 0"))
        field["scale"] = scale
    if field_type == "currency":
        currency = text(raw.get("defaultCurrency") or "USD")
        if not re.match(r"^[A-Za-z]{3}$", currency):
            raise ApiError(
                object_invalid(
                    "schema.fields.defaultCurrency", "defaultCurrency is a 3-letter code"
                )
            )
        field["defaultCurrency"] = currency
    if field_type in CHOICE_TYPES and with_options:
        field["options"] = options_normalize(raw.get("options"), [])
    return field


def options_normalize(raw: object, existing: list[dict]) -> list[dict]:
    """Existing options plus the new values of `raw` ([{value}]), each with an id."""
    if raw is None:
        raw = []
    if not isinstance(raw, list) or any(
        not isinstance(o, dict) or not isinstance(o.get("value"), str) or not o["value"]
        for o in raw
    ):
        raise ApiError(
            object_invalid("schema.fields.options", "options must be a list of {value: string}")
        )
    result = [dict(o) for o in existing]
    known = {o["value"] for o in result}
    for option in raw:
        if option["value"] not in known:
            result.append({"id": str(uuid.uuid4()), "value": option["value"]})
            known.add(option["value"])
    if not result:
        raise ApiError(
            object_invalid("schema.fields.options", "Choice fields need at least one option")
        )
    return result


def relationship_normalize(raw: object) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ApiError(
            object_invalid("schema.relationships.id", "Relationships must provide an id")
        )
    if not labels_ok(raw.get("labels")):
        raise ApiError(
            object_invalid("schema.relationships.labels", "Relationships must provide labels")
        )
    if raw.get("namespace") not in NAMESPACES:
        raise ApiError(
            object_invalid(
                "schema.relationships.namespace",
                f"namespace must be one of {sorted(NAMESPACES)}",
            )
        )
    return {
        "id": raw["id"],
        "labels": {"singular": raw["labels"]["singular"], "plural": raw["labels"]["plural"]},
        "description": text(raw.get("description")),
        "namespace": raw["namespace"],
        "hasMany": bool(raw.get("hasMany", False)),
    }


def value_check(field: dict, value: object) -> object:
    """A record field value checked against its schema field; returns the value as stored."""
    fid, kind = field["id"], field["type"]

    def bad(detail: str | None = None) -> ApiError:
        return ApiError(
            object_invalid(
                fid,
                detail or f"{fid} cannot accept a value that is not defined in the schema.",
                value_path=f"/data/attributes/{fid}",
            )
        )

    if value is None:
        return None
    if kind in ("text", "textarea"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise bad(f"{fid} must be a string")
        return text(value)
    if kind in ("number", "decimal", "currency"):
        number = value
        if isinstance(value, str):
            try:
                number = float(value) if "." in value else int(value)
            except ValueError:
                raise bad(f"{fid} must be a number") from None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise bad(f"{fid} must be a number")
        if kind == "number" and field.get("scale", 0) == 0 and isinstance(number, float):
            if not number.is_integer():
                raise bad(f"{fid} must be a whole number (scale 0)")
            number = int(number)
        return number
    if kind == "dropdown":
        if value not in {o["value"] for o in field.get("options", [])}:
            raise bad()  # SPEC create-or-update-record 422 example
        return value
    if kind == "multiselect":
        values = value if isinstance(value, list) else [value]
        allowed = {o["value"] for o in field.get("options", [])}
        if any(v not in allowed for v in values):
            raise bad()
        return values
    if kind == "date":
        try:
            dt.date.fromisoformat(text(value))
        except ValueError:
            raise bad(f"{fid} must be a date (YYYY-MM-DD)") from None
        return text(value)
    try:  # datetime / date-time
        dt.datetime.fromisoformat(text(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"{fid} must be an ISO 8601 date-time") from None
    return text(value)


class CustomObjectsApi(Resource):
    record_list_lag: float  # seconds a new record stays out of lists (§5.2 eventual consistency)

    # -- schemas -------------------------------------------------------------------------------
    def schema_json(self, row: sqlite3.Row, *, show_all: bool) -> dict:
        document = json.loads(row["document"])
        fields = []
        for field in document["fields"]:
            if field.get("status") == "marked_for_deletion" and not show_all:
                continue
            fields.append({**field, "inherited": False})
        result = {
            "id": row["id"],
            "slug": row["slug"],
            "visibility": "private",
            "labels": document["labels"],
            "description": document.get("description", ""),
            "createdTimestamp": AccountTime.utc_z(row["created"]),
            "updatedTimestamp": AccountTime.utc_z(row["updated"]),
            "fields": fields,
            "icons": document.get("icons") or {"default": ICON},
            "relationships": [{**r, "inherited": False} for r in document["relationships"]],
        }
        if document.get("appId"):
            result["appId"] = document["appId"]
        return result

    def _schema(self, tenant: int, schema_id: str) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM co_schemas WHERE id = ? AND tenant = ?", (schema_id, tenant)
        )

    def _schema_require(self, request: Request, schema_id: str) -> sqlite3.Row:
        row = self._schema(self.tenant(request), schema_id)
        if row is None:
            raise ApiError(json_response(NOT_FOUND, 404))
        return row

    @staticmethod
    def _show_all(request: Request) -> bool:
        return request.args.get("showFields") == "all"

    @staticmethod
    def _co_page(request: Request) -> tuple[int, int]:
        limit = as_id(request.args.get("limit")) or 20
        return min(limit, MAX_LIMIT), as_id(request.args.get("offset")) or 0

    def schemas_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = self._co_page(request)
        rows = self.db.execute(
            "SELECT * FROM co_schemas WHERE tenant = ? ORDER BY seq LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one("SELECT COUNT(*) FROM co_schemas WHERE tenant = ?", (tenant,))[
            0
        ]
        show_all = self._show_all(request)
        return json_response(
            {
                "schemas": [self.schema_json(r, show_all=show_all) for r in rows],
                "meta": {"total": total, "count": len(rows), "limit": limit, "offset": offset},
            }
        )

    @staticmethod
    def _schema_body(request: Request) -> dict:
        body = read_json(request).get("schema")
        if not isinstance(body, dict):
            raise ApiError(object_invalid("schema", "The body must hold a schema object"))
        return body

    def schema_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        body = self._schema_body(request)
        slug = body.get("slug")
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            raise ApiError(object_invalid("schema.slug", "Schema slug is required (a-z, 0-9, -)"))
        if not labels_ok(body.get("labels")):
            raise ApiError(object_invalid("schema.labels", "Schema must provide labels"))
        fields = [field_normalize(f) for f in body.get("fields") or []]
        if len({f["id"] for f in fields}) != len(fields):
            raise ApiError(object_invalid("schema.fields.id", "Schema field ids must be unique"))
        relationships = [relationship_normalize(r) for r in body.get("relationships") or []]
        if len({r["id"] for r in relationships}) != len(relationships):
            raise ApiError(
                object_invalid("schema.relationships.id", "Relationship ids must be unique")
            )
        document = {
            "labels": {"singular": body["labels"]["singular"], "plural": body["labels"]["plural"]},
            "description": text(body.get("description")),
            "fields": fields,
            "relationships": relationships,
            "icons": body.get("icons")
            if isinstance(body.get("icons"), dict)
            else {"default": ICON},
        }
        if body.get("appId"):
            document["appId"] = text(body["appId"])
        now = self.clock()
        schema_id = str(uuid.uuid4())
        with self.db.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM co_schemas WHERE tenant = ? AND slug = ?", (tenant, slug)
            ).fetchone():
                # SPEC create-a-schema 422 "slug conflict" example, verbatim.
                return object_invalid("schema.slug", "Schema slug must be unique")
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM co_schemas").fetchone()[0]
            conn.execute(
                "INSERT INTO co_schemas (id, tenant, seq, slug, document, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (schema_id, tenant, seq, slug, json.dumps(document), now, now),
            )
        row = self._schema(tenant, schema_id)
        return json_response({"schema": self.schema_json(row, show_all=False)}, 201)

    def schema_get(self, request: Request, schema_id: str) -> Response:
        row = self._schema_require(request, schema_id)
        return json_response({"schema": self.schema_json(row, show_all=self._show_all(request))})

    def schema_update(self, request: Request, schema_id: str) -> Response:
        tenant = self.tenant(request)
        row = self._schema_require(request, schema_id)
        body = self._schema_body(request)
        document = copy.deepcopy(json.loads(row["document"]))
        slug = row["slug"]
        if "slug" in body and body["slug"] != slug:
            if not isinstance(body["slug"], str) or not SLUG_RE.match(body["slug"]):
                raise ApiError(object_invalid("schema.slug", "Schema slug is invalid"))
            if self.db.execute_one(
                "SELECT 1 FROM co_schemas WHERE tenant = ? AND slug = ? AND id != ?",
                (tenant, body["slug"], schema_id),
            ):
                return object_invalid("schema.slug", "Schema slug must be unique")
            slug = body["slug"]
        if "labels" in body:
            if not labels_ok(body["labels"]):
                raise ApiError(object_invalid("schema.labels", "Schema must provide labels"))
            document["labels"] = body["labels"]
        if "description" in body:
            document["description"] = text(body["description"])
        if isinstance(body.get("icons"), dict):
            document["icons"] = body["icons"]
        if body.get("appId"):
            document["appId"] = text(body["appId"])
        current = {f["id"]: f for f in document["fields"]}
        for raw in body.get("fields") or []:
            field = field_normalize(raw, with_options=False)
            existing = current.get(field["id"])
            if existing is None:
                if field["type"] in CHOICE_TYPES:
                    field["options"] = options_normalize(raw.get("options"), [])
                document["fields"].append(field)
                current[field["id"]] = field
                continue
            if existing.get("status") == "marked_for_deletion":
                # delete-a-field-1: the deleted field id is not immediately reusable.
                raise ApiError(
                    object_invalid(
                        "schema.fields.id",
                        f"Field id {field['id']!r} belongs to a deleted field and cannot be reused",
                    )
                )
            if field["type"] != existing["type"]:
                raise ApiError(
                    object_invalid(
                        "schema.fields.type",
                        f"The type of field {field['id']!r} cannot be changed",
                    )
                )
            existing["labels"] = field["labels"]
            existing["required"] = existing["isRequired"] = field["required"]
            for key in ("description", "origin", "scale", "defaultCurrency"):
                if key in field and key in raw:
                    existing[key] = field[key]
            if field["type"] in CHOICE_TYPES:
                existing["options"] = options_normalize(raw.get("options"), existing["options"])
        relationships = {r["id"]: r for r in document["relationships"]}
        raw_relationships = body.get("relationships") or []
        if isinstance(raw_relationships, dict):  # the SPEC's PUT schema types it as one object
            raw_relationships = [raw_relationships]
        for raw in raw_relationships:
            relationship = relationship_normalize(raw)
            existing = relationships.get(relationship["id"])
            if existing is None:
                document["relationships"].append(relationship)
                relationships[relationship["id"]] = relationship
            elif existing["namespace"] != relationship["namespace"]:
                raise ApiError(
                    object_invalid(
                        "schema.relationships.namespace",
                        "The namespace of a relationship cannot be changed",
                    )
                )
            else:
                existing.update(
                    labels=relationship["labels"],
                    description=relationship["description"],
                    hasMany=relationship["hasMany"],
                )
        validate_only = request.headers.get("validateOnly", "").lower() == "true"
        now = self.clock()
        if validate_only:
            # update-a-schema: `validateOnly: true` validates without saving.
            preview = dict(row)
            preview.update(slug=slug, document=json.dumps(document), updated=now)
            return json_response(
                {"schema": self.schema_json(preview, show_all=self._show_all(request))}
            )
        self.db.execute(
            "UPDATE co_schemas SET slug = ?, document = ?, updated = ? WHERE id = ?",
            (slug, json.dumps(document), now, schema_id),
        )
        return json_response(
            {
                "schema": self.schema_json(
                    self._schema(tenant, schema_id), show_all=self._show_all(request)
                )
            }
        )

    def schema_delete(self, request: Request, schema_id: str) -> Response:
        self._schema_require(request, schema_id)
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM co_record_links WHERE record_seq IN "
                "(SELECT seq FROM co_records WHERE schema_id = ?)",
                (schema_id,),
            )
            conn.execute("DELETE FROM co_records WHERE schema_id = ?", (schema_id,))
            conn.execute("DELETE FROM co_schemas WHERE id = ?", (schema_id,))
        # SPEC delete-a-schema documents a 200 with an empty body.
        return Response(b"", status=200)

    def schema_field_delete(self, request: Request, schema_id: str, field_id: str) -> Response:
        row = self._schema_require(request, schema_id)
        document = json.loads(row["document"])
        for field in document["fields"]:
            if field["id"] == field_id and field.get("status") != "marked_for_deletion":
                field["status"] = "marked_for_deletion"
                break
        else:
            return json_response(NOT_FOUND, 404)
        self.db.execute(
            "UPDATE co_schemas SET document = ?, updated = ? WHERE id = ?",
            (json.dumps(document), self.clock(), schema_id),
        )
        fresh = self._schema(self.tenant(request), schema_id)
        return json_response(
            {"schema": self.schema_json(fresh, show_all=self._show_all(request))}, 202
        )

    # -- records -------------------------------------------------------------------------------
    def record_json(self, row: sqlite3.Row, document: dict) -> dict:
        values = json.loads(row["fields"])
        active = [f["id"] for f in document["fields"] if f.get("status") != "marked_for_deletion"]
        return {
            "id": row["id"],
            "externalId": row["external_id"],
            "schemaId": row["schema_id"],
            "fields": [{"id": fid, "value": values[fid]} for fid in active if fid in values],
            "relationships": json.loads(row["relationships"]),
            "createdTimestamp": AccountTime.utc_z(row["created"]),
            "updatedTimestamp": AccountTime.utc_z(row["updated"]),
        }

    def _record_values(self, document: dict, raw_fields: object, current: dict) -> dict:
        if raw_fields is None:
            return current
        if not isinstance(raw_fields, list):
            raise ApiError(
                object_invalid("record.fields", "fields must be an array of {id, value}")
            )
        schema_fields = {
            f["id"]: f for f in document["fields"] if f.get("status") != "marked_for_deletion"
        }
        values = dict(current)
        for item in raw_fields:
            if not isinstance(item, dict) or "id" not in item:
                raise ApiError(
                    object_invalid("record.fields", "fields must be an array of {id, value}")
                )
            field = schema_fields.get(item["id"])
            if field is None:
                raise ApiError(
                    object_invalid(
                        text(item["id"]),
                        f"{item['id']} is not a field of this schema",
                        value_path=f"/data/attributes/{item['id']}",
                    )
                )
            checked = value_check(field, item.get("value"))
            if checked is None:
                values.pop(field["id"], None)
            else:
                values[field["id"]] = checked
        return values

    def _record_relationships(
        self, conn, tenant: int, document: dict, raw: object, current: dict
    ) -> dict:
        if raw is None:
            return current
        if not isinstance(raw, dict):
            raise ApiError(
                object_invalid(
                    "record.relationships",
                    "relationships must be an object of relationship id -> [ids]",
                )
            )
        declared = {r["id"]: r for r in document["relationships"]}
        result = dict(current)
        for rel_id, targets in raw.items():
            relationship = declared.get(rel_id)
            if relationship is None:
                raise ApiError(
                    object_invalid(
                        f"relationships.{rel_id}", f"{rel_id} is not a relationship of this schema"
                    )
                )
            targets = targets if isinstance(targets, list) else [targets]
            ids = [as_id(t) for t in targets]
            if any(i is None for i in ids):
                raise ApiError(
                    object_invalid(f"relationships.{rel_id}", "relationship targets are ids")
                )
            if len(ids) > 1 and not relationship["hasMany"]:
                raise ApiError(
                    object_invalid(
                        f"relationships.{rel_id}", f"{rel_id} accepts one id (hasMany is false)"
                    )
                )
            table = {"contacts": "contacts", "accounts": "companies", "deals": "deals"}.get(
                relationship["namespace"]
            )
            for ident in ids:
                exists = (
                    table
                    and conn.execute(
                        f"SELECT 1 FROM {table} WHERE id = ? AND tenant = ?",  # noqa: S608
                        (ident, tenant),
                    ).fetchone()
                )
                if not exists:
                    raise ApiError(
                        object_invalid(
                            f"relationships.{rel_id}",
                            f"No {relationship['namespace'][:-1]} with id {ident}",
                        )
                    )
            result[rel_id] = [str(i) for i in ids]  # §5.2: answered as strings
        return result

    def record_upsert(self, request: Request, schema_id: str) -> Response:
        tenant = self.tenant(request)
        schema = self._schema_require(request, schema_id)
        document = json.loads(schema["document"])
        body = read_json(request).get("record")
        if not isinstance(body, dict):
            raise ApiError(object_invalid("record", "The body must hold a record object"))
        external_id = body.get("externalId")
        if external_id is not None:
            external_id = text(external_id)
        now = self.clock()
        with self.db.transaction() as conn:
            target = None
            body_id = body.get("id")
            if body_id:
                by_id = conn.execute(
                    "SELECT * FROM co_records WHERE id = ? AND schema_id = ?",
                    (text(body_id), schema_id),
                ).fetchone()
                # §5.2: an id that matches and no externalId (or the same one) updates it; a
                # different externalId makes a new record; an id that matches nothing is ignored.
                if by_id is not None and (
                    external_id is None or external_id == by_id["external_id"]
                ):
                    target = by_id
            if target is None and external_id is not None:
                target = conn.execute(
                    "SELECT * FROM co_records WHERE schema_id = ? AND external_id = ?",
                    (schema_id, external_id),
                ).fetchone()
            current_values = json.loads(target["fields"]) if target else {}
            current_links = json.loads(target["relationships"]) if target else {}
            values = self._record_values(document, body.get("fields"), current_values)
            links = self._record_relationships(
                conn, tenant, document, body.get("relationships"), current_links
            )
            missing = [
                f["id"]
                for f in document["fields"]
                if f.get("required")
                and f.get("status") != "marked_for_deletion"
                and values.get(f["id"]) in (None, "", [])
            ]
            if missing:
                raise ApiError(object_invalid(missing[0], f"{missing[0]} is required"))
            if target is None:
                record_id = str(uuid.uuid4())
                seq = conn.execute(
                    "INSERT INTO co_records (id, tenant, schema_id, external_id, fields, "
                    "relationships, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record_id,
                        tenant,
                        schema_id,
                        external_id,
                        json.dumps(values),
                        json.dumps(links),
                        now,
                        now,
                    ),
                ).lastrowid
            else:
                seq, record_id = target["seq"], target["id"]
                conn.execute(
                    "UPDATE co_records SET fields = ?, relationships = ?, updated = ?, "
                    "external_id = COALESCE(?, external_id) WHERE seq = ?",
                    (json.dumps(values), json.dumps(links), now, external_id, seq),
                )
                conn.execute("DELETE FROM co_record_links WHERE record_seq = ?", (seq,))
            conn.executemany(
                "INSERT INTO co_record_links (record_seq, relationship, target) VALUES (?, ?, ?)",
                [(seq, rel, target_id) for rel, ids in links.items() for target_id in ids],
            )
            row = conn.execute("SELECT * FROM co_records WHERE seq = ?", (seq,)).fetchone()
        # §5.2: the upsert answers 201 whether it created or updated.
        return json_response({"record": self.record_json(row, document)}, 201)

    def records_list(self, request: Request, schema_id: str) -> Response:
        schema = self._schema_require(request, schema_id)
        document = json.loads(schema["document"])
        limit, offset = self._co_page(request)
        where, params = ["r.schema_id = ?"], [schema_id]
        field_types = {f["id"]: f["type"] for f in document["fields"]}
        for key, value in request.args.items(multi=True):
            match = FILTER_RE.match(key)
            if not match:
                continue
            subject, op = match.group(1), match.group(2) or "eq"
            clause, clause_params = self._record_filter(subject, op, value, field_types)
            where.append(clause)
            params.extend(clause_params)
        if self.record_list_lag > 0:
            where.append("r.created <= ?")
            params.append(self.clock() - self.record_list_lag)
        order_sql, order_params = [], []
        for key, value in request.args.items(multi=True):
            match = ORDER_RE.match(key)
            if not match:
                continue
            direction = "DESC" if value.upper() == "DESC" else "ASC"
            subject = match.group(1)
            if subject in ("createdTimestamp", "updatedTimestamp"):
                order_sql.append(f"r.{subject[:7]} {direction}")
            elif subject.startswith("fields."):
                order_sql.append(f"json_extract(r.fields, ?) {direction}")
                order_params.append(json_path(subject[7:]))
        order_sql.append("r.seq ASC")
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT r.* FROM co_records r WHERE {sql_where} "  # noqa: S608 - built from constants
            f"ORDER BY {', '.join(order_sql)} LIMIT ? OFFSET ?",
            (*params, *order_params, limit, offset),
        )
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM co_records r WHERE {sql_where}",  # noqa: S608
            params,
        )[0]
        return json_response(
            {
                "records": [self.record_json(r, document) for r in rows],
                "meta": {"total": total, "count": len(rows), "limit": limit, "offset": offset},
            }
        )

    @staticmethod
    def _record_filter(subject: str, op: str, value: str, field_types: dict) -> tuple[str, list]:
        """One `filters[<subject>][<op>]` (§1.4 operator syntax) as SQL."""
        if subject.startswith("relationships."):
            relationship = subject[len("relationships.") :]
            targets = [v.strip() for v in value.split(",")] if op == "in" else [value.strip()]
            if op not in ("eq", "in"):
                raise ApiError(message_error(400, f"Unsupported operator {op!r} for {subject}"))
            marks = ",".join("?" * len(targets))
            return (
                "r.seq IN (SELECT record_seq FROM co_record_links WHERE relationship = ? "  # noqa: S608
                f"AND target IN ({marks}))",
                [relationship, *targets],
            )
        if subject.startswith("fields."):
            field_id = subject[len("fields.") :]
            expression, extra = "json_extract(r.fields, ?)", [json_path(field_id)]
            if field_types.get(field_id) == "multiselect" and op in ("eq", "in", "contains"):
                targets = [v.strip() for v in value.split(",")] if op == "in" else [value]
                marks = ",".join("?" * len(targets))
                return (
                    f"EXISTS (SELECT 1 FROM json_each(r.fields, ?) WHERE value IN ({marks}))",  # noqa: S608
                    [json_path(field_id), *targets],
                )
        elif subject in ("externalId", "id"):
            expression, extra = ("r.external_id" if subject == "externalId" else "r.id"), []
        elif subject in ("createdTimestamp", "updatedTimestamp"):
            expression, extra = f"r.{subject[:7]}", []
            parsed = AccountTime("+00:00").parse(value)
            if parsed is None and op not in ("blank", "not_blank"):
                raise ApiError(message_error(400, f"Invalid timestamp for {subject}"))
            value = parsed  # type: ignore[assignment]
        else:
            raise ApiError(message_error(400, f"Unsupported filter {subject!r}"))
        comparisons = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
        if op in comparisons:
            typed = numeric(value)
            return f"{expression} {comparisons[op]} ?", [*extra, typed]
        if op == "contains":
            pattern = text(value).replace("%", "\\%").replace("_", "\\_").replace("*", "%")
            if "%" not in pattern:
                pattern = f"%{pattern}%"
            return f"{expression} LIKE ? ESCAPE '\\'", [*extra, pattern]
        if op == "in":
            targets = [numeric(v.strip()) for v in text(value).split(",")]
            return f"{expression} IN ({','.join('?' * len(targets))})", [*extra, *targets]
        if op == "blank":
            return f"({expression} IS NULL OR {expression} = '')", [*extra, *extra]
        if op == "not_blank":
            return f"({expression} IS NOT NULL AND {expression} != '')", [*extra, *extra]
        raise ApiError(message_error(400, f"Unsupported operator {op!r}"))

    def _record(self, schema_id: str, record_id: str, *, external: bool) -> sqlite3.Row | None:
        column = "external_id" if external else "id"
        return self.db.execute_one(
            f"SELECT * FROM co_records WHERE schema_id = ? AND {column} = ?",  # noqa: S608
            (schema_id, record_id),
        )

    def _record_answer(self, request: Request, schema_id: str, ident: str, external: bool):
        schema = self._schema_require(request, schema_id)
        row = self._record(schema_id, ident, external=external)
        if row is None:
            return json_response(NOT_FOUND, 404)
        return json_response({"record": self.record_json(row, json.loads(schema["document"]))})

    def record_get(self, request: Request, schema_id: str, record_id: str) -> Response:
        return self._record_answer(request, schema_id, record_id, external=False)

    def record_get_external(self, request: Request, schema_id: str, external_id: str) -> Response:
        return self._record_answer(request, schema_id, external_id, external=True)

    def _record_remove(self, request: Request, schema_id: str, ident: str, external: bool):
        self._schema_require(request, schema_id)
        row = self._record(schema_id, ident, external=external)
        if row is None:
            return json_response(NOT_FOUND, 404)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM co_record_links WHERE record_seq = ?", (row["seq"],))
            conn.execute("DELETE FROM co_records WHERE seq = ?", (row["seq"],))
        # SPEC delete-a-record documents 202 with an empty body.
        return Response(b"", status=202)

    def record_delete(self, request: Request, schema_id: str, record_id: str) -> Response:
        return self._record_remove(request, schema_id, record_id, external=False)

    def record_delete_external(
        self, request: Request, schema_id: str, external_id: str
    ) -> Response:
        return self._record_remove(request, schema_id, external_id, external=True)


def json_path(field_id: str) -> str:
    return '$."' + field_id.replace('"', "") + '"'


def numeric(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value
