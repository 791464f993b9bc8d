"""Accounts = companies (§4): accounts, their custom fields, and account-contact links."""

from __future__ import annotations

import json
import sqlite3

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource
from .deliveries import contact_payload
from .formats import (
    ApiError,
    as_id,
    id_list,
    invalid,
    not_found,
    orders,
    page,
    placeholders,
    status_error,
    text,
    wrapped,
)

RULES = [
    Rule("/api/3/accounts", methods=["GET"], endpoint="accounts_list"),
    Rule("/api/3/accounts", methods=["POST"], endpoint="account_create"),
    Rule("/api/3/accounts/bulk_delete", methods=["DELETE"], endpoint="accounts_bulk_delete"),
    Rule("/api/3/accounts/<int:account_id>", methods=["GET"], endpoint="account_get"),
    Rule("/api/3/accounts/<int:account_id>", methods=["PUT"], endpoint="account_update"),
    Rule("/api/3/accounts/<int:account_id>", methods=["DELETE"], endpoint="account_delete"),
    Rule(
        "/api/3/accounts/<int:account_id>/accountContacts",
        methods=["GET"],
        endpoint="account_contacts_of",
    ),
    Rule(
        "/api/3/accounts/<int:account_id>/accountCustomFieldData",
        methods=["GET"],
        endpoint="account_data_of",
    ),
    Rule("/api/3/accountCustomFieldMeta", methods=["GET"], endpoint="account_meta_list"),
    Rule("/api/3/accountCustomFieldMeta", methods=["POST"], endpoint="account_meta_create"),
    Rule(
        "/api/3/accountCustomFieldMeta/<int:meta_id>", methods=["GET"], endpoint="account_meta_get"
    ),
    Rule(
        "/api/3/accountCustomFieldMeta/<int:meta_id>",
        methods=["PUT"],
        endpoint="account_meta_update",
    ),
    Rule(
        "/api/3/accountCustomFieldMeta/<int:meta_id>",
        methods=["DELETE"],
        endpoint="account_meta_delete",
    ),
    Rule("/api/3/accountCustomFieldData", methods=["GET"], endpoint="account_data_list"),
    Rule("/api/3/accountCustomFieldData", methods=["POST"], endpoint="account_data_create"),
    Rule(
        "/api/3/accountCustomFieldData/bulkCreate",
        methods=["POST"],
        endpoint="account_data_bulk_create",
    ),
    Rule(
        "/api/3/accountCustomFieldData/bulkUpdate",
        methods=["PATCH"],
        endpoint="account_data_bulk_update",
    ),
    Rule(
        "/api/3/accountCustomFieldData/<int:data_id>", methods=["GET"], endpoint="account_data_get"
    ),
    Rule(
        "/api/3/accountCustomFieldData/<int:data_id>",
        methods=["PUT"],
        endpoint="account_data_update",
    ),
    Rule(
        "/api/3/accountCustomFieldData/<int:data_id>",
        methods=["DELETE"],
        endpoint="account_data_delete",
    ),
    Rule("/api/3/accountContacts", methods=["GET"], endpoint="account_contacts_list"),
    Rule("/api/3/accountContacts", methods=["POST"], endpoint="account_contact_create"),
    Rule("/api/3/accountContacts/<int:link_id>", methods=["GET"], endpoint="account_contact_get"),
    Rule(
        "/api/3/accountContacts/<int:link_id>", methods=["PUT"], endpoint="account_contact_update"
    ),
    Rule(
        "/api/3/accountContacts/<int:link_id>",
        methods=["DELETE"],
        endpoint="account_contact_delete",
    ),
    Rule(
        "/api/3/contacts/<int:contact_id>/accountContacts",
        methods=["GET"],
        endpoint="contact_account_contacts",
    ),
]

# §4.2: account custom field types.
META_TYPES = {
    "text",
    "textarea",
    "date",
    "datetime",
    "dropdown",
    "multiselect",
    "radio",
    "checkbox",
    "hidden",
    "currency",
    "number",
}
CHOICE_META = {"dropdown", "multiselect", "radio", "checkbox"}
MULTI_META = {"multiselect", "checkbox"}
NOT_FOUND_STATUS = {"errors": [{"status": 404, "title": "Not Found"}]}


def company_link(
    conn: sqlite3.Connection, tenant: int, contact: int, account: int, job: str, now: int
) -> int:
    """Link a contact to an account (bulk import's customer_acct_name); keeps an existing link."""
    row = conn.execute("SELECT id FROM account_contacts WHERE contact = ?", (contact,)).fetchone()
    if row is not None:
        return row["id"]
    return conn.execute(
        "INSERT INTO account_contacts (tenant, account, contact, job_title, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (tenant, account, contact, job, now, now),
    ).lastrowid


def company_ensure(conn: sqlite3.Connection, tenant: int, name: str, now: int) -> int:
    row = conn.execute(
        "SELECT id FROM companies WHERE tenant = ? AND name_key = ?", (tenant, name.lower())
    ).fetchone()
    if row is not None:
        return row["id"]
    return conn.execute(
        "INSERT INTO companies (tenant, name, name_key, created, updated) VALUES (?, ?, ?, ?, ?)",
        (tenant, name, name.lower(), now, now),
    ).lastrowid


class AccountsApi(Resource):
    # -- accounts ------------------------------------------------------------------------------
    def account_json(self, row: sqlite3.Row, base: str, *, counts: tuple[int, int] | None) -> dict:
        account_id = row["id"]
        result = {
            "name": row["name"],
            "accountUrl": row["account_url"],
            "createdTimestamp": self.time.iso(row["created"]),
            "updatedTimestamp": self.time.iso(row["updated"]),
        }
        if counts is not None:
            result["contactCount"], result["dealCount"] = str(counts[0]), str(counts[1])
            # The list example names these links; the single-account examples carry `[]`.
            result["links"] = {
                name: f"{base}/api/3/accounts/{account_id}/{name}"
                for name in ("notes", "accountCustomFieldData", "accountContacts")
            }
        else:
            result["links"] = []
        result["id"] = str(account_id)
        return result

    def account_fields_json(self, account_id: int) -> list[dict]:
        rows = self.db.execute(
            "SELECT d.*, m.type FROM account_field_data d "
            "JOIN account_field_meta m ON m.id = d.field WHERE d.account = ? ORDER BY d.field",
            (account_id,),
        )
        result = []
        for row in rows:
            item = {"customFieldId": row["field"], "fieldValue": json.loads(row["value"])}
            if row["type"] == "currency":
                item["fieldCurrency"] = row["currency"]
            item["accountId"] = str(account_id)
            result.append(item)
        return result

    def _company(self, tenant: int, account_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM companies WHERE id = ? AND tenant = ?", (account_id, tenant)
        )

    def accounts_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        search = request.args.get("search")
        if search:
            where.append("name_key LIKE ?")
            params.append(f"%{search.lower()}%")
        sql_where = " AND ".join(where)
        order = orders(
            request,
            {
                "name": "name_key",
                "id": "id",
                "created_timestamp": "created",
                "updated_timestamp": "updated",
            },
        ) or ["id ASC"]
        rows = self.db.execute(
            f"SELECT * FROM companies WHERE {sql_where} ORDER BY {', '.join(order)} "  # noqa: S608
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = self.db.execute_one(f"SELECT COUNT(*) FROM companies WHERE {sql_where}", params)[0]  # noqa: S608
        # §4.1: contactCount/dealCount are computed only with count_deals=true, else 0.
        counted = request.args.get("count_deals", "").lower() == "true"
        counts: dict[int, int] = {}
        deal_counts: dict[int, int] = {}
        if counted and rows:
            ids = [r["id"] for r in rows]
            counts = dict(
                self.db.execute(
                    f"SELECT account, COUNT(*) FROM account_contacts WHERE account IN "  # noqa: S608
                    f"({placeholders(ids)}) GROUP BY account",
                    ids,
                )
            )
            deal_counts = dict(
                self.db.execute(
                    f"SELECT account, COUNT(*) FROM deals WHERE account IN "  # noqa: S608
                    f"({placeholders(ids)}) GROUP BY account",
                    ids,
                )
            )
        base = self.base(request)
        return json_response(
            {
                "accounts": [
                    self.account_json(
                        r, base, counts=(counts.get(r["id"], 0), deal_counts.get(r["id"], 0))
                    )
                    for r in rows
                ],
                "meta": {"total": str(total)},
            }
        )

    def _account_fields(
        self, conn, tenant: int, fields: object
    ) -> list[tuple[int, str, str | None]]:
        """Validate inline `fields` [{customFieldId, fieldValue, fieldCurrency?}] (§4.1)."""
        if fields is None:
            return []
        if not isinstance(fields, list):
            raise ApiError(
                invalid(
                    "fields must be a list", code="field_invalid", pointer="/data/attributes/fields"
                )
            )
        result = []
        for item in fields:
            meta_id = as_id(item.get("customFieldId")) if isinstance(item, dict) else None
            meta = (
                conn.execute(
                    "SELECT * FROM account_field_meta WHERE id = ? AND tenant = ?",
                    (meta_id, tenant),
                ).fetchone()
                if meta_id is not None
                else None
            )
            if meta is None:
                shown = item.get("customFieldId") if isinstance(item, dict) else item
                raise ApiError(
                    invalid(
                        f"Custom field {shown!r} does not exist",
                        code="field_invalid",
                        pointer="/data/attributes/fields/customFieldId",
                    )
                )
            value = item.get("fieldValue")
            result.append(self._datum_value(meta, value, item.get("fieldCurrency")))
        return result

    @staticmethod
    def _datum_value(
        meta: sqlite3.Row, value: object, currency: object
    ) -> tuple[int, str, str | None]:
        """(field id, JSON of the value, currency): multi-values are arrays, currency is cents."""
        if meta["type"] in MULTI_META and isinstance(value, str):
            # §4.2: account multi-values are arrays; accept AC's contact-style ||a||b|| too.
            value = [v for v in value.split("||") if v] if "||" in value else [value]
        if meta["type"] == "currency":
            cents = as_id(value) if not isinstance(value, int) else value
            if cents is None:
                raise ApiError(
                    invalid(
                        "A currency field value is a whole number of cents",
                        code="field_invalid",
                        pointer="/data/attributes/fieldValue",
                    )
                )
            value = cents
            # Kept as sent: the docs show both "GBP" and "cad".
            currency = text(currency) or meta["default_currency"] or "USD"
        else:
            currency = None
        return meta["id"], json.dumps(value), currency

    @staticmethod
    def _fields_store(conn, tenant: int, account_id: int, fields, now: int) -> None:
        for field_id, value, currency in fields:
            conn.execute(
                "INSERT INTO account_field_data (tenant, account, field, value, currency, created, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, field) DO UPDATE "
                "SET value = excluded.value, currency = excluded.currency, "
                "updated = excluded.updated",
                (tenant, account_id, field_id, value, currency, now, now),
            )

    def _account_name(self, conn, tenant: int, data: dict, current: int | None) -> str | None:
        if "name" not in data and current is not None:
            return None
        name = text(data.get("name")).strip()
        if not name:
            raise ApiError(
                invalid(
                    "The account name was not provided.",
                    code="field_missing",
                    pointer="/data/attributes/name",
                )
            )
        clash = conn.execute(
            "SELECT id FROM companies WHERE tenant = ? AND name_key = ?", (tenant, name.lower())
        ).fetchone()
        if clash is not None and clash["id"] != current:
            raise ApiError(
                invalid(
                    f'An account named "{name}" already exists. Please choose a new name.',
                    code="duplicate",
                    pointer="/data/attributes/name",
                )
            )
        return name

    def account_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "account")
        now = self.now()
        with self.db.transaction() as conn:
            name = self._account_name(conn, tenant, data, None)
            fields = self._account_fields(conn, tenant, data.get("fields"))
            account_id = conn.execute(
                "INSERT INTO companies (tenant, name, name_key, account_url, owner, created, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    name,
                    name.lower(),
                    None if data.get("accountUrl") is None else text(data["accountUrl"]),
                    as_id(data.get("owner")) or 1,
                    now,
                    now,
                ),
            ).lastrowid
            self._fields_store(conn, tenant, account_id, fields, now)
        self.account_changed(tenant, account_id, "account_add")
        return self._account_written(request, account_id, 201)

    def _account_written(self, request: Request, account_id: int, status: int) -> Response:
        row = self._company(self.tenant(request), account_id)
        body = self.account_json(row, self.base(request), counts=None)
        body = {
            **{k: v for k, v in body.items() if k != "id"},
            "fields": self.account_fields_json(account_id),
            "id": body["id"],
        }
        return json_response({"account": body}, status)

    def account_changed(self, tenant: int, account_id: int, event: str) -> None:
        def build():
            row = self.db.execute_one("SELECT * FROM companies WHERE id = ?", (account_id,))
            pairs = [
                ("account[id]", str(account_id)),
                ("account[name]", row["name"]),
                ("account[account_url]", row["account_url"] or ""),
                ("account[created_timestamp]", self.time.local_plain(row["created"])),
                ("account[updated_timestamp]", self.time.local_plain(row["updated"])),
            ]
            for data in self.db.execute(
                "SELECT m.label, d.value FROM account_field_data d JOIN account_field_meta m "
                "ON m.id = d.field WHERE d.account = ? ORDER BY m.id",
                (account_id,),
            ):
                value = json.loads(data["value"])
                shown = ", ".join(map(str, value)) if isinstance(value, list) else text(value)
                pairs.append((f"account[fields][{data['label']}]", shown))
            return pairs

        self.webhooks.emit(tenant, event, "api", build)

    def account_get(self, request: Request, account_id: int) -> Response:
        row = self._company(self.tenant(request), account_id)
        if row is None:
            return not_found("Account", account_id)
        return json_response({"account": self.account_json(row, self.base(request), counts=None)})

    def account_update(self, request: Request, account_id: int) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "account")
        now = self.now()
        with self.db.transaction() as conn:
            if (
                conn.execute(
                    "SELECT 1 FROM companies WHERE id = ? AND tenant = ?", (account_id, tenant)
                ).fetchone()
                is None
            ):
                return not_found("Account", account_id)
            name = self._account_name(conn, tenant, data, account_id)
            fields = self._account_fields(conn, tenant, data.get("fields"))
            values: dict = {"updated": now}
            if name is not None:
                values["name"], values["name_key"] = name, name.lower()
            if "accountUrl" in data:
                values["account_url"] = (
                    None if data["accountUrl"] is None else text(data["accountUrl"])
                )
            if "owner" in data and as_id(data["owner"]):
                values["owner"] = as_id(data["owner"])
            assignments = ", ".join(f"{column} = ?" for column in values)
            conn.execute(
                f"UPDATE companies SET {assignments} WHERE id = ?",  # noqa: S608 - known columns
                (*values.values(), account_id),
            )
            self._fields_store(conn, tenant, account_id, fields, now)
        self.account_changed(tenant, account_id, "account_update")
        return self._account_written(request, account_id, 200)

    def _companies_delete(self, conn, tenant: int, ids: list[int]) -> int:
        deleted = 0
        for account_id in ids:
            if conn.execute(
                "DELETE FROM companies WHERE id = ? AND tenant = ?", (account_id, tenant)
            ).rowcount:
                deleted += 1
                conn.execute("DELETE FROM account_contacts WHERE account = ?", (account_id,))
                conn.execute("DELETE FROM account_field_data WHERE account = ?", (account_id,))
        return deleted

    def account_delete(self, request: Request, account_id: int) -> Response:
        with self.db.transaction() as conn:
            if not self._companies_delete(conn, self.tenant(request), [account_id]):
                return not_found("Account", account_id)
        return json_response({})

    def accounts_bulk_delete(self, request: Request) -> Response:
        ids = id_list(request)
        if not ids:
            return invalid(
                "No account ids were given (ids[]=…)",
                code="field_missing",
                pointer="/data/attributes/ids",
            )
        with self.db.transaction() as conn:
            self._companies_delete(conn, self.tenant(request), ids)
        return json_response({"meta": {"success": True}})

    # -- account custom field meta (§4.2) --------------------------------------------------------
    def meta_json(self, row: sqlite3.Row) -> dict:
        meta_id = row["id"]
        return {
            "id": str(row["id"]),
            "fieldLabel": row["label"],
            "fieldType": row["type"],
            "fieldOptions": json.loads(row["options"]) if row["options"] else None,
            "fieldDefault": None
            if row["default_value"] is None
            else json.loads(row["default_value"]),
            "fieldDefaultCurrency": row["default_currency"],
            "isFormVisible": row["is_form_visible"],
            "isRequired": row["is_required"],
            "displayOrder": row["display_order"],
            "personalization": row["personalization"],
            "knownFieldId": None,
            "hideFieldFlag": 0,
            "createdTimestamp": self.time.utc_plain(row["created"]),
            "updatedTimestamp": self.time.utc_plain(row["updated"]),
            "links": {
                "accountCustomFieldData": f"/api/3/accountCustomFieldMeta/{meta_id}/"
                "accountCustomFieldData"
            },
        }

    def _meta(self, tenant: int, meta_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM account_field_meta WHERE id = ? AND tenant = ?", (meta_id, tenant)
        )

    def _meta_values(self, data: dict, current: sqlite3.Row | None) -> dict:
        values: dict = {}
        for key, column, required in (
            ("fieldLabel", "label", True),
            ("fieldType", "type", True),
        ):
            if key in data or current is None:
                value = text(data.get(key)).strip()
                if not value and required:
                    label = "field label" if key == "fieldLabel" else "field type"
                    raise ApiError(
                        invalid(
                            f"The {label} field is required.",
                            code="field_missing",
                            pointer=f"/data/attributes/{key}",
                        )
                    )
                values[column] = value
        if "type" in values and values["type"] not in META_TYPES:
            raise ApiError(
                invalid(
                    f"Invalid field type {values['type']!r}",
                    code="field_invalid",
                    pointer="/data/attributes/fieldType",
                )
            )
        field_type = values.get("type") or (current["type"] if current else "")
        if "fieldOptions" in data:
            options = data["fieldOptions"]
            if options is not None and (
                not isinstance(options, list) or not all(isinstance(o, str) for o in options)
            ):
                raise ApiError(
                    invalid(
                        "fieldOptions must be a list of strings",
                        code="field_invalid",
                        pointer="/data/attributes/fieldOptions",
                    )
                )
            values["options"] = json.dumps(options) if options else None
        if field_type in CHOICE_META and not (
            values.get("options") or (current and current["options"])
        ):
            raise ApiError(
                invalid(
                    "The field options field is required for this field type.",
                    code="field_missing",
                    pointer="/data/attributes/fieldOptions",
                )
            )
        if "fieldDefault" in data:
            # Stored as JSON: multi-value defaults are arrays (SPEC multiselect example).
            values["default_value"] = (
                None if data["fieldDefault"] is None else json.dumps(data["fieldDefault"])
            )
        if "fieldDefaultCurrency" in data:
            values["default_currency"] = (
                None if data["fieldDefaultCurrency"] is None else text(data["fieldDefaultCurrency"])
            )
        for key, column in (
            ("isFormVisible", "is_form_visible"),
            ("isRequired", "is_required"),
            ("displayOrder", "display_order"),
        ):
            if key in data:
                values[column] = (
                    int(bool(data[key])) if isinstance(data[key], bool) else (as_id(data[key]) or 0)
                )
        return values

    def account_meta_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request, default=100)
        rows = self.db.execute(
            "SELECT * FROM account_field_meta WHERE tenant = ? ORDER BY display_order, id "
            "LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        )
        total = self.db.execute_one(
            "SELECT COUNT(*) FROM account_field_meta WHERE tenant = ?", (tenant,)
        )[0]
        return json_response(
            {
                "accountCustomFieldMeta": [self.meta_json(r) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def account_meta_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        values = self._meta_values(wrapped(request, "accountCustomFieldMetum"), None)
        now = self.now()
        columns = ["tenant", "created", "updated", *values]
        meta_id = self.db.insert(
            f"INSERT INTO account_field_meta ({', '.join(columns)}) "  # noqa: S608 - known columns
            f"VALUES ({placeholders(columns)})",
            (tenant, now, now, *values.values()),
        )
        # SPEC create-an-account-custom-field-meta documents 200 for the create.
        return json_response(
            {"accountCustomFieldMetum": self.meta_json(self._meta(tenant, meta_id))}
        )

    def account_meta_get(self, request: Request, meta_id: int) -> Response:
        row = self._meta(self.tenant(request), meta_id)
        if row is None:
            return json_response(NOT_FOUND_STATUS, 404)
        return json_response({"accountCustomFieldMetum": self.meta_json(row)})

    def account_meta_update(self, request: Request, meta_id: int) -> Response:
        tenant = self.tenant(request)
        current = self._meta(tenant, meta_id)
        if current is None:
            return json_response(NOT_FOUND_STATUS, 404)
        values = self._meta_values(wrapped(request, "accountCustomFieldMetum"), current)
        if "type" in values and values["type"] != current["type"]:
            return invalid(
                "The field type of an existing field cannot be changed",
                code="field_invalid",
                pointer="/data/attributes/fieldType",
            )
        values["updated"] = self.now()
        assignments = ", ".join(f"{column} = ?" for column in values)
        self.db.execute(
            f"UPDATE account_field_meta SET {assignments} WHERE id = ?",  # noqa: S608
            (*values.values(), meta_id),
        )
        return json_response(
            {"accountCustomFieldMetum": self.meta_json(self._meta(tenant, meta_id))}
        )

    def account_meta_delete(self, request: Request, meta_id: int) -> Response:
        tenant = self.tenant(request)
        with self.db.transaction() as conn:
            if not conn.execute(
                "DELETE FROM account_field_meta WHERE id = ? AND tenant = ?", (meta_id, tenant)
            ).rowcount:
                return json_response(NOT_FOUND_STATUS, 404)
            conn.execute("DELETE FROM account_field_data WHERE field = ?", (meta_id,))
        return json_response({"message": "AccountCustomFieldMeta deleted."})

    # -- account custom field data (§4.2) --------------------------------------------------------
    def datum_json(self, row: sqlite3.Row, *, with_meta_id: bool = True) -> dict:
        result: dict = {"id": str(row["id"])}
        if with_meta_id:
            result["accountCustomFieldMetumId"] = row["field"]
        result.update(
            {
                "accountId": row["account"],
                "customFieldId": row["field"],
                "createdTimestamp": self.time.utc_plain(row["created"]),
                "updatedTimestamp": self.time.utc_plain(row["updated"]),
                "fieldValue": json.loads(row["value"]),
            }
        )
        if row["currency"] is not None:
            result["fieldCurrency"] = row["currency"]
        result["links"] = {
            "account": f"/api/3/accountCustomFieldData/{row['id']}/account",
            "accountCustomFieldMetum": f"/api/3/accountCustomFieldData/{row['id']}/"
            "accountCustomFieldMetum",
        }
        return result

    def _datum(self, tenant: int, data_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM account_field_data WHERE id = ? AND tenant = ?", (data_id, tenant)
        )

    def _datum_write(self, conn, tenant: int, data: dict, now: int) -> int:
        # §4.2: the schema names the account `customerAccountId`, examples and clients send
        # `accountId`; both are accepted.
        account_id = as_id(data.get("customerAccountId", data.get("accountId")))
        meta_id = as_id(data.get("customFieldId"))
        for key, value in (("customerAccountId", account_id), ("customFieldId", meta_id)):
            if value is None:
                raise ApiError(
                    invalid(
                        f"The {key} attribute was not provided",
                        code="field_missing",
                        pointer=f"/data/attributes/{key}",
                    )
                )
        if (
            conn.execute(
                "SELECT 1 FROM companies WHERE id = ? AND tenant = ?", (account_id, tenant)
            ).fetchone()
            is None
        ):
            raise ApiError(json_response(NOT_FOUND_STATUS, 404))
        meta = conn.execute(
            "SELECT * FROM account_field_meta WHERE id = ? AND tenant = ?", (meta_id, tenant)
        ).fetchone()
        if meta is None:
            raise ApiError(json_response(NOT_FOUND_STATUS, 404))
        if "fieldValue" not in data:
            raise ApiError(
                invalid(
                    "The fieldValue attribute was not provided",
                    code="field_missing",
                    pointer="/data/attributes/fieldValue",
                )
            )
        field = self._datum_value(meta, data["fieldValue"], data.get("fieldCurrency"))
        self._fields_store(conn, tenant, account_id, [field], now)
        conn.execute("UPDATE companies SET updated = ? WHERE id = ?", (now, account_id))
        return conn.execute(
            "SELECT id FROM account_field_data WHERE account = ? AND field = ?",
            (account_id, meta_id),
        ).fetchone()["id"]

    def account_data_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        account = as_id(
            request.args.get("filters[customerAccountId]") or request.args.get("filters[accountId]")
        )
        if account is not None:
            where.append("account = ?")
            params.append(account)
        field = as_id(request.args.get("filters[customFieldId]"))
        if field is not None:
            where.append("field = ?")
            params.append(field)
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM account_field_data WHERE {sql_where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM account_field_data WHERE {sql_where}",  # noqa: S608
            params,
        )[0]
        return json_response(
            {
                "accountCustomFieldData": [self.datum_json(r) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def account_data_of(self, request: Request, account_id: int) -> Response:
        tenant = self.tenant(request)
        if self._company(tenant, account_id) is None:
            return not_found("Account", account_id)
        rows = self.db.execute(
            "SELECT * FROM account_field_data WHERE account = ? ORDER BY id", (account_id,)
        )
        return json_response({"accountCustomFieldData": [self.datum_json(r) for r in rows]})

    def account_data_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "accountCustomFieldDatum")
        now = self.now()
        with self.db.transaction() as conn:
            data_id = self._datum_write(conn, tenant, data, now)
        # SPEC create-a-custom-account-field-value documents 200 for the create.
        return json_response(
            {"accountCustomFieldDatum": self.datum_json(self._datum(tenant, data_id))}
        )

    def account_data_get(self, request: Request, data_id: int) -> Response:
        row = self._datum(self.tenant(request), data_id)
        if row is None:
            return json_response(NOT_FOUND_STATUS, 404)
        return json_response({"accountCustomFieldDatum": self.datum_json(row, with_meta_id=False)})

    def account_data_update(self, request: Request, data_id: int) -> Response:
        tenant = self.tenant(request)
        row = self._datum(tenant, data_id)
        if row is None:
            return json_response(NOT_FOUND_STATUS, 404)
        data = wrapped(request, "accountCustomFieldDatum")
        merged = {"customerAccountId": row["account"], "customFieldId": row["field"], **data}
        merged.pop("accountId", None)
        if "accountId" in data:
            merged["customerAccountId"] = data["accountId"]
        with self.db.transaction() as conn:
            self._datum_write(conn, tenant, merged, self.now())
        return json_response(
            {
                "accountCustomFieldDatum": self.datum_json(
                    self._datum(tenant, data_id), with_meta_id=False
                )
            }
        )

    def account_data_delete(self, request: Request, data_id: int) -> Response:
        if not self.delete_row("account_field_data", data_id, self.tenant(request)):
            return json_response(NOT_FOUND_STATUS, 404)
        return json_response({"message": "AccountCustomFieldData deleted."})

    def account_data_bulk_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        items = bare_list(request)
        now = self.now()
        with self.db.transaction() as conn:
            for item in items:
                self._datum_write(conn, tenant, item, now)
        return json_response({"message": "the bulk insert was successful"})

    def account_data_bulk_update(self, request: Request) -> Response:
        tenant = self.tenant(request)
        items = bare_list(request)
        now = self.now()
        updated = []
        with self.db.transaction() as conn:
            for item in items:
                data_id = as_id(item.get("id"))
                row = (
                    conn.execute(
                        "SELECT * FROM account_field_data WHERE id = ? AND tenant = ?",
                        (data_id, tenant),
                    ).fetchone()
                    if data_id is not None
                    else None
                )
                if row is None:
                    raise ApiError(json_response(NOT_FOUND_STATUS, 404))
                self._datum_write(
                    conn,
                    tenant,
                    {
                        "customerAccountId": row["account"],
                        "customFieldId": row["field"],
                        "fieldValue": item.get("fieldValue"),
                        "fieldCurrency": item.get("fieldCurrency", row["currency"]),
                    },
                    now,
                )
                updated.append(str(data_id))
        return json_response(
            {
                "message": f"AccountCustomFieldDatas with ID(s): {', '.join(updated)} "
                "successfully bulk updated."
            }
        )

    # -- account contacts (§4.3) -----------------------------------------------------------------
    def link_json(self, row: sqlite3.Row, base: str) -> dict:
        return {
            "account": str(row["account"]),
            "contact": str(row["contact"]),
            "jobTitle": row["job_title"],
            "createdTimestamp": self.time.iso(row["created"]),
            "updatedTimestamp": self.time.iso(row["updated"]),
            "links": {
                "account": f"{base}/api/3/accountContacts/{row['id']}/account",
                "contact": f"{base}/api/3/accountContacts/{row['id']}/contact",
            },
            "id": str(row["id"]),
        }

    def _link(self, tenant: int, link_id: int) -> sqlite3.Row | None:
        return self.db.execute_one(
            "SELECT * FROM account_contacts WHERE id = ? AND tenant = ?", (link_id, tenant)
        )

    def account_contacts_list(self, request: Request) -> Response:
        tenant = self.tenant(request)
        limit, offset = page(request)
        where, params = ["tenant = ?"], [tenant]
        for name in ("contact", "account"):
            value = as_id(request.args.get(f"filters[{name}]"))
            if value is not None:
                where.append(f"{name} = ?")
                params.append(value)
        sql_where = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT * FROM account_contacts WHERE {sql_where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            (*params, limit, offset),
        )
        total = self.db.execute_one(
            f"SELECT COUNT(*) FROM account_contacts WHERE {sql_where}",  # noqa: S608
            params,
        )[0]
        base = self.base(request)
        return json_response(
            {
                "accountContacts": [self.link_json(r, base) for r in rows],
                "meta": {"total": str(total)},
            }
        )

    def account_contacts_of(self, request: Request, account_id: int) -> Response:
        if self._company(self.tenant(request), account_id) is None:
            return not_found("Account", account_id)
        rows = self.db.execute(
            "SELECT * FROM account_contacts WHERE account = ? ORDER BY id", (account_id,)
        )
        base = self.base(request)
        return json_response({"accountContacts": [self.link_json(r, base) for r in rows]})

    def contact_account_contacts(self, request: Request, contact_id: int) -> Response:
        self.contact_require(request, contact_id)
        rows = self.db.execute(
            "SELECT * FROM account_contacts WHERE contact = ? ORDER BY id", (contact_id,)
        )
        base = self.base(request)
        return json_response({"accountContacts": [self.link_json(r, base) for r in rows]})

    def _link_target(self, conn, tenant: int, data: dict, key: str) -> int:
        ident = as_id(data.get(key))
        if ident is None:
            raise ApiError(
                invalid(
                    f"The {key} attribute was not provided",
                    code="field_missing",
                    pointer=f"/data/attributes/{key}",
                )
            )
        table = "contacts" if key == "contact" else "companies"
        if (
            conn.execute(
                f"SELECT 1 FROM {table} WHERE id = ? AND tenant = ?",  # noqa: S608 - two constants
                (ident, tenant),
            ).fetchone()
            is None
        ):
            raise ApiError(
                invalid(
                    f"The {key} attribute is invalid: no {key} with id {ident}",
                    code="field_invalid",
                    pointer=f"/data/attributes/{key}",
                )
            )
        return ident

    def account_contact_create(self, request: Request) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "accountContact")
        now = self.now()
        with self.db.transaction() as conn:
            account_id = self._link_target(conn, tenant, data, "account")
            contact_id = self._link_target(conn, tenant, data, "contact")
            if conn.execute(
                "SELECT 1 FROM account_contacts WHERE contact = ?", (contact_id,)
            ).fetchone():
                # §4.3, SPEC example verbatim: one account per contact.
                return invalid(
                    "This contact is already associated with an account. We currently do not "
                    "support contacts on multiple accounts.",
                    code="field_invalid",
                    pointer="/data/attributes/account,contact",
                )
            link_id = conn.execute(
                "INSERT INTO account_contacts (tenant, account, contact, job_title, created, "
                "updated) VALUES (?, ?, ?, ?, ?, ?)",
                (tenant, account_id, contact_id, text(data.get("jobTitle")), now, now),
            ).lastrowid
        self.link_changed(tenant, link_id, "account_contact_add")
        row = self._link(tenant, link_id)
        body = self.link_json(row, self.base(request))
        # SPEC create-an-account-contact-association answers account/contact as numbers.
        body["account"], body["contact"] = account_id, contact_id
        return json_response({"accountContact": body}, 201)

    def link_changed(self, tenant: int, link_id: int, event: str) -> None:
        def build():
            row = self.db.execute_one(
                "SELECT ac.*, co.name, co.account_url FROM account_contacts ac "
                "JOIN companies co ON co.id = ac.account WHERE ac.id = ?",
                (link_id,),
            )
            if row is None:
                return [("accountContact[id]", str(link_id))]
            return [
                *contact_payload(self.db, self.time, tenant, row["contact"]),
                ("account[id]", str(row["account"])),
                ("account[name]", row["name"]),
                ("account[account_url]", row["account_url"] or ""),
                ("customer_acct_name", row["name"]),
                ("customer_account_id", str(row["account"])),
                ("orgname", row["name"]),
                ("accountContact[id]", str(link_id)),
                ("accountContact[account]", str(row["account"])),
                ("accountContact[contact]", str(row["contact"])),
                ("accountContact[job_title]", row["job_title"]),
            ]

        self.webhooks.emit(tenant, event, "api", build)

    def account_contact_get(self, request: Request, link_id: int) -> Response:
        row = self._link(self.tenant(request), link_id)
        if row is None:
            return not_found("CustomerAccountSubscriber", link_id)
        return json_response({"accountContact": self.link_json(row, self.base(request))})

    def account_contact_update(self, request: Request, link_id: int) -> Response:
        tenant = self.tenant(request)
        data = wrapped(request, "accountContact")
        now = self.now()
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM account_contacts WHERE id = ? AND tenant = ?", (link_id, tenant)
            ).fetchone()
            if row is None:
                return not_found("CustomerAccountSubscriber", link_id)
            values: dict = {"updated": now}
            if "account" in data:
                values["account"] = self._link_target(conn, tenant, data, "account")
            if "contact" in data:
                contact_id = self._link_target(conn, tenant, data, "contact")
                other = conn.execute(
                    "SELECT id FROM account_contacts WHERE contact = ?", (contact_id,)
                ).fetchone()
                if other is not None and other["id"] != link_id:
                    return invalid(
                        "This contact is already associated with an account. We currently do "
                        "not support contacts on multiple accounts.",
                        code="field_invalid",
                        pointer="/data/attributes/account,contact",
                    )
                values["contact"] = contact_id
            if "jobTitle" in data:
                values["job_title"] = text(data["jobTitle"])
            assignments = ", ".join(f"{column} = ?" for column in values)
            conn.execute(
                f"UPDATE account_contacts SET {assignments} WHERE id = ?",  # noqa: S608
                (*values.values(), link_id),
            )
        self.link_changed(tenant, link_id, "account_contact_update")
        return json_response(
            {"accountContact": self.link_json(self._link(tenant, link_id), self.base(request))}
        )

    def account_contact_delete(self, request: Request, link_id: int) -> Response:
        if not self.delete_row("account_contacts", link_id, self.tenant(request)):
            return not_found("CustomerAccountSubscriber", link_id)
        return json_response({})


def bare_list(request: Request) -> list[dict]:
    """bulkCreate/bulkUpdate take a bare JSON array (§4.2), not a wrapped object."""
    raw = request.get_data(cache=True)
    try:
        items = json.loads(raw or b"null")
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ApiError(
            status_error(
                422, "Unprocessable Entity", detail="The body must be a JSON array of objects"
            )
        )
    return items
