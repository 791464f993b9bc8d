"""Writing rows: create, update, upsert and delete with the Web API's rules.

Facts: §5 of README.md (S10 create, S11 update/delete, S12 conditional operations,
S13 upsert, S16 binding, S28 duplicate detection, S30 payload errors) and §7 (columns).
"""

# ruff: noqa: S608 - SQL is composed from table/column names of the metadata model (custom
# names are validated against CUSTOM_NAME); every value goes in as a parameter.

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import (
    DataverseError,
    bad_key,
    bad_request,
    invalid_property,
    invalid_status,
    lookup_value_write,
    not_convertible,
    payload_error,
    record_not_found,
    undeclared_property,
    validation,
)
from .model import Caller, Model
from .odata import GUID_RE, fold
from .schema import Column, Table
from .storage import Store

MIN_DATE = "1753-01-01"
_REF = re.compile(r"^(?:.*/api/data/v\d+\.\d+/)?/?([A-Za-z_][\w]*)\(([^)]*)\)$")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Change:
    """What a write did, for webhooks and the caller."""

    message: str  # Create / Update / Delete
    table: Table
    record_id: str
    attributes: dict = field(default_factory=dict)  # column logical name -> stored value
    caller: Caller | None = None
    at: str = ""


@dataclass
class Parsed:
    values: dict  # column logical -> stored value (lookups: id, plus "<name>__type")
    submitted: list[str]  # column logical names the body set (for webhooks' Target)
    record_id: str | None = None
    deep: list = field(default_factory=list)  # (nav, relationship, body or list of bodies)


class Writer:
    def __init__(self, model: Model, store: Store, notify: Callable[[Change], None]) -> None:
        self.model = model
        self.store = store
        self.notify = notify

    # -- body parsing ------------------------------------------------------------------------
    def parse_reference(
        self, text: str, content_ids: dict[str, str] | None = None
    ) -> tuple[Table, str]:
        """'/accounts(<id>)', 'accounts(<id>)', an absolute URL, or '$1' in a change set."""
        if content_ids is not None and text.startswith("$") and text[1:].isdigit():
            if text not in content_ids:
                raise bad_request(
                    f"Content-ID Reference: '{text}' does not exist in the batch context."
                )
            text = content_ids[text]
        match = _REF.match(text.strip())
        if not match:
            raise bad_request(f"The URI '{text}' is not valid for the @odata.bind annotation.")
        table = self.model.table_by_set(match.group(1))
        if table is None:
            raise DataverseError(
                404, "0x8006088a", f"Resource not found for the segment '{match.group(1)}'."
            )
        key = match.group(2).strip()
        if "=" in key:
            name, _, value = key.partition("=")
            if name.strip() != table.pk:
                raise bad_key(table.logical)
            key = value.strip()
        key = key.strip("'{}").lower()
        if not GUID_RE.match(key):
            raise bad_key(table.logical)
        return table, key

    def parse_body(
        self,
        table: Table,
        body: object,
        *,
        creating: bool,
        content_ids: dict[str, str] | None = None,
    ) -> Parsed:
        """Check a JSON body against the table: properties, binds, navigation properties."""
        if not isinstance(body, dict):
            raise payload_error(
                table.entity_set,
                "Microsoft.OData.ODataException: The payload must be a JSON object.",
            )
        props = table.properties()
        parsed = Parsed({}, [])
        bound: dict[str, set[str]] = {}
        for key, value in body.items():
            if key.startswith("@"):
                self._check_type(table, key, value)
                continue
            if "@" in key:
                name, _, annotation = key.partition("@")
                if annotation == "odata.bind":
                    column = self._bind(table, name, value, parsed, content_ids)
                    bound.setdefault(column, set()).add(name)
                continue
            rels = self.model.nav(table, key)
            collection = self.model.collection(table, key)
            if rels is not None or collection is not None:
                self._navigation(table, key, value, rels, collection, parsed, creating=creating)
                continue
            column = props.get(key)
            if column is None:
                raise invalid_property(key, table.logical)
            if column.is_lookup:
                raise lookup_value_write()
            if column.logical == table.pk:
                text = str(value).strip("{}").lower() if value is not None else ""
                if not GUID_RE.match(text):
                    raise not_convertible(table.entity_set, value, "Edm.Guid")
                parsed.record_id = text
                continue
            if not (column.create if creating else column.update):
                # Columns not valid for this operation are ignored, not refused (S20).
                continue
            parsed.values[column.logical] = self.coerce(table, column, value)
            parsed.submitted.append(column.logical)
        for column_name, navs in bound.items():
            if len(navs) > 1:
                if table.logical == "contact":
                    raise DataverseError(
                        400,
                        "0x80040508",
                        "You can either specify a contacts parent contact or its account, "
                        "but not both.",
                    )
                raise bad_request(f"The lookup '{column_name}' was bound twice in one request.")
        return parsed

    @staticmethod
    def _check_type(table: Table, key: str, value: object) -> None:
        if key != "@odata.type" or not isinstance(value, str):
            return
        expected = f"Microsoft.Dynamics.CRM.{table.logical}"
        if value.lstrip("#") != expected:
            raise payload_error(
                table.entity_set,
                f"Microsoft.OData.ODataException: The entity type '{value.lstrip('#')}' is not "
                f"compatible with the base type '{expected}'.",
            )

    def _bind(self, table: Table, name: str, value, parsed: Parsed, content_ids) -> str:
        """<nav>@odata.bind: set a lookup to an existing row (S10, S16); returns the column."""
        rels = self.model.nav(table, name)
        if rels is None:
            raise undeclared_property(table.entity_set, name)
        column = table.columns[rels[0].referencing_attribute]
        if value is None:
            self._set_lookup(parsed.values, column, None, None)
        else:
            if not isinstance(value, str):
                raise payload_error(
                    table.entity_set,
                    f"Microsoft.OData.ODataException: The value of '{name}@odata.bind' must be "
                    "a URI.",
                )
            target, target_id = self.parse_reference(value, content_ids)
            if target.logical not in {r.referenced_entity for r in rels}:
                raise bad_request(
                    f"The navigation property '{name}' can't be bound to an entity of type "
                    f"'Microsoft.Dynamics.CRM.{target.logical}'."
                )
            if not self.store.exists(target, target_id):
                raise record_not_found(target.logical, target_id)
            self._set_lookup(parsed.values, column, target.logical, target_id)
        if column.logical not in parsed.submitted:
            parsed.submitted.append(column.logical)
        return column.logical

    def _navigation(self, table, key, value, rels, collection, parsed: Parsed, *, creating) -> None:
        """A navigation property as a plain key: null clears, objects/arrays deep-insert."""
        if rels is not None:
            column = table.columns[rels[0].referencing_attribute]
            if value is None:
                self._set_lookup(parsed.values, column, None, None)
                parsed.submitted.append(column.logical)
                return
            if isinstance(value, dict) and len(rels) == 1:
                parsed.deep.append((key, rels[0], value))
                return
        elif isinstance(value, list) and creating:
            parsed.deep.append((key, collection, value))
            return
        raise payload_error(
            table.entity_set,
            f"Microsoft.OData.ODataException: Invalid value for navigation property '{key}'.",
        )

    @staticmethod
    def _set_lookup(
        values: dict, column: Column, target: str | None, target_id: str | None
    ) -> None:
        values[column.logical] = target_id
        if column.polymorphic:
            values[f"{column.logical}__type"] = target

    def coerce(self, table: Table, column: Column, value: object) -> object:
        """Validate a JSON value against the column and return what SQLite stores."""
        if value is None:
            if column.required == "SystemRequired":
                raise DataverseError(
                    400, "0x80040200", f"{column.logical} is a required field and cannot be null."
                )
            return None
        edm = column.edm
        kind = column.kind

        def wrong() -> DataverseError:
            return payload_error(
                table.entity_set,
                f"Microsoft.OData.ODataException: Cannot convert the literal '{value}' to the "
                f"expected type '{edm}'.",
            )

        if kind in ("String", "Memo"):
            if not isinstance(value, str):
                raise wrong()
            if column.max_length is not None and len(value) > column.max_length:
                raise validation(
                    f"The length of the '{column.logical}' attribute of the '{table.logical}' "
                    f"entity exceeded the maximum allowed length of '{column.max_length}'."
                )
            return value
        if kind == "Boolean":
            if not isinstance(value, bool):
                raise wrong()
            return int(value)
        if kind in ("Integer", "BigInt", "Picklist", "State", "Status"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise wrong()
            if column.is_choice:
                if column.option(value) is None:
                    raise _out_of_range(table, column, value)
            elif (column.minimum is not None and value < column.minimum) or (
                column.maximum is not None and value > column.maximum
            ):
                raise _out_of_range(table, column, value)
            return value
        if kind in ("Money", "Decimal", "Double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise wrong()
            if (column.minimum is not None and value < column.minimum) or (
                column.maximum is not None and value > column.maximum
            ):
                raise _out_of_range(table, column, value)
            return round(float(value), column.precision if column.precision is not None else 10)
        if kind == "MultiSelectPicklist":
            if not isinstance(value, str):
                raise wrong()
            parts = [p.strip() for p in value.split(",") if p.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit() or column.option(int(part)) is None:
                    raise _out_of_range(table, column, part)
            return ",".join(parts) if parts else None
        if kind == "DateTime":
            if not isinstance(value, str):
                raise wrong()
            return self._date(table, column, value, wrong)
        if kind == "Uniqueidentifier":
            text = str(value).strip("{}").lower()
            if not GUID_RE.match(text):
                raise wrong()
            return text
        raise wrong()

    @staticmethod
    def _date(table: Table, column: Column, value: str, wrong) -> str:
        if column.behavior == "DateOnly" or (
            column.format == "DateOnly" and column.behavior != "UserLocal"
        ):
            match = re.match(r"^(\d{4}-\d{2}-\d{2})(?:T.*)?$", value)
            if not match:
                raise wrong()
            try:
                day = dt.date.fromisoformat(match.group(1))
            except ValueError:
                raise wrong() from None
            result = day.isoformat()
        else:
            try:
                parsed = dt.datetime.fromisoformat(
                    re.sub(r"\.(\d{6})\d+", r".\1", value.replace("Z", "+00:00"))
                )
            except ValueError:
                raise wrong() from None
            if parsed.tzinfo is None:
                # Without an offset the value is stored as UTC as-is (§13.3, S31).
                parsed = parsed.replace(tzinfo=dt.UTC)
            result = parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if result < MIN_DATE:
            raise validation(
                f"The date-time value of the '{column.logical}' attribute of the '{table.logical}' "
                "entity is out of range: dates must be on or after 1/1/1753."
            )
        return result

    # -- derived columns ---------------------------------------------------------------------
    @staticmethod
    def compose(table: Table, row: dict, changes: dict) -> None:
        """Read-only composed columns: fullname from first/last name, address1_composite."""
        merged = {**row, **changes}
        if "fullname" in table.columns and (
            "firstname" in changes or "lastname" in changes or not row
        ):
            full = " ".join(p for p in (merged.get("firstname"), merged.get("lastname")) if p)
            changes["fullname"] = full or None
        address_parts = (
            "address1_line1",
            "address1_line2",
            "address1_line3",
            "address1_city",
            "address1_stateorprovince",
            "address1_postalcode",
            "address1_country",
        )
        if "address1_composite" in table.columns and (
            not row or any(p in changes for p in address_parts)
        ):
            lines = [
                merged.get("address1_line1"),
                merged.get("address1_line2"),
                merged.get("address1_line3"),
            ]
            city = " ".join(
                p
                for p in (
                    ", ".join(
                        x
                        for x in (
                            merged.get("address1_city"),
                            merged.get("address1_stateorprovince"),
                        )
                        if x
                    ),
                    merged.get("address1_postalcode"),
                )
                if p
            )
            parts = [p for p in (*lines, city, merged.get("address1_country")) if p]
            changes["address1_composite"] = "\r\n".join(parts) or None

    # -- state ---------------------------------------------------------------------------------
    def _state(self, table: Table, row: dict, changes: dict, *, creating: bool) -> None:
        state_col = table.columns.get("statecode")
        status_col = table.columns.get("statuscode")
        if state_col is None or status_col is None:
            return
        state = changes.get("statecode")
        status = changes.get("statuscode")
        if status is not None:
            option = status_col.option(status)
            if state is None:
                state = option.state
                changes["statecode"] = state
            elif option.state != state:
                state_label = state_col.option(state).label if state_col.option(state) else state
                raise invalid_status(
                    status, f"{table.schema}State.{state_label}", table.logical, row.get(table.pk)
                )
        elif state is not None:
            changes["statuscode"] = state_col.option(state).default_status
        if (
            table.logical == "opportunity"
            and not creating
            and changes.get("statecode") in (1, 2)
            and changes.get("statecode") != row.get("statecode")
        ):
            target = "Won" if changes["statecode"] == 1 else "Lost"
            message = "WinOpportunity" if target == "Won" else "LoseOpportunity"
            raise DataverseError(
                400,
                "0x80100005",
                f"This message can not be used to set the state of opportunity to {target}. In "
                f"order to set state of opportunity to {target}, use the {message} message "
                "instead.",
            )

    # -- duplicate detection -------------------------------------------------------------------
    def check_duplicates(self, table: Table, record_id: str, row: dict) -> None:
        """The default published rule the sandbox applies: same e-mail address (S28)."""
        email = row.get("emailaddress1")
        if "emailaddress1" not in table.columns or not email:
            return
        duplicate = self.store.query_one(
            f'SELECT "{table.pk}" FROM "{table.sql_table}" WHERE dv_fold("emailaddress1") = ? '
            f'AND "{table.pk}" <> ? LIMIT 1',
            (fold(email), record_id),
        )
        if duplicate is not None:
            # S28's example answers 500 with this code; kept as documented.
            raise DataverseError(
                500,
                "0x80040333",
                "A record was not created or updated because a duplicate of the current record "
                "already exists.",
            )

    # -- operations ------------------------------------------------------------------------------
    def create(
        self,
        table: Table,
        body: object,
        caller: Caller,
        *,
        record_id: str | None = None,
        duplicate_detection: bool = False,
        content_ids: dict[str, str] | None = None,
        key_values: dict | None = None,
    ) -> str:
        parsed = self.parse_body(table, body, creating=True, content_ids=content_ids)
        with self.store.atomic():
            return self._create_parsed(
                table, parsed, caller, record_id, duplicate_detection, content_ids, key_values
            )

    def _create_parsed(
        self,
        table,
        parsed: Parsed,
        caller,
        record_id,
        duplicate_detection,
        content_ids,
        key_values=None,
    ) -> str:
        # On create, body values win over the URL's key (S13).
        new_id = parsed.record_id or record_id or str(uuid.uuid4())
        if self.store.exists(table, new_id):
            raise DataverseError(
                412, "0x80040237", "A record with matching key values already exists."
            )
        now = now_iso()
        row: dict = {table.pk: new_id}
        for column in table.stored_columns():
            if column.default is not None and column.logical not in parsed.values:
                row[column.logical] = column.default
        row.update(
            {
                "createdon": now,
                "modifiedon": now,
                "createdby": caller.user_id,
                "modifiedby": caller.user_id,
            }
        )
        if "ownerid" in table.columns:
            row.update(
                {
                    "ownerid": caller.user_id,
                    "ownerid__type": "systemuser",
                    "owninguser": caller.user_id,
                    "owningbusinessunit": caller.business_unit_id,
                }
            )
        if table.has_money() and "transactioncurrencyid" in table.columns:
            currency = self.store.setting("base_currency")
            if currency:
                row["transactioncurrencyid"] = currency
        for key, value in (key_values or {}).items():
            row[key] = value
        changes = dict(parsed.values)
        overridden = changes.pop("overriddencreatedon", None)
        if overridden:
            row["createdon"] = overridden if "T" in overridden else f"{overridden}T00:00:00Z"
            row["overriddencreatedon"] = row["createdon"]
        if "ownerid" in changes:
            self._owner_fields(changes)
        self._state(table, row, changes, creating=True)
        if table.logical == "opportunity" and changes.get("isrevenuesystemcalculated") == 1:
            changes.pop("estimatedvalue", None)
        self.compose(table, {}, changes)
        row.update(changes)
        if duplicate_detection:
            self.check_duplicates(table, new_id, row)
        version = self.store.log_change(table, new_id, "create", now)
        row["versionnumber"] = version
        self.store.insert(table, {k: v for k, v in row.items() if self._stored(table, k)})
        submitted = {k: row.get(k) for k in parsed.submitted}
        submitted.update(
            {f"{k}__type": row[f"{k}__type"] for k in parsed.submitted if f"{k}__type" in row}
        )
        change = Change("Create", table, new_id, {**submitted, table.pk: new_id}, caller, now)
        self.store.on_commit(lambda: self.notify(change))
        for nav, rel, value in parsed.deep:
            self._deep_insert(table, new_id, nav, rel, value, caller, content_ids)
        return new_id

    def _deep_insert(self, table, parent_id, nav, rel, value, caller, content_ids) -> None:
        """Create related rows given inline (deep insert, S10)."""
        if rel.referencing_entity == table.logical:
            target = self.model.tables[rel.referenced_entity]
            child_id = self.create(target, value, caller, content_ids=content_ids)
            column = table.columns[rel.referencing_attribute]
            changes = {column.logical: child_id}
            if column.polymorphic:
                changes[f"{column.logical}__type"] = target.logical
            self._touch(table, parent_id, changes, caller, message=None)
            return
        child_table = self.model.tables[rel.referencing_entity]
        column = child_table.columns[rel.referencing_attribute]
        for item in value:
            if not isinstance(item, dict):
                raise payload_error(
                    table.entity_set, "Microsoft.OData.ODataException: Invalid deep insert payload."
                )
            child_id = self.create(child_table, item, caller, content_ids=content_ids)
            changes = {column.logical: parent_id}
            if column.polymorphic:
                changes[f"{column.logical}__type"] = table.logical
            self._touch(child_table, child_id, changes, caller, message=None)

    @staticmethod
    def _owner_fields(changes: dict) -> None:
        owner_type = changes.get("ownerid__type", "systemuser")
        changes["owninguser"] = changes["ownerid"] if owner_type == "systemuser" else None
        changes["owningteam"] = changes["ownerid"] if owner_type == "team" else None

    @staticmethod
    def _stored(table: Table, key: str) -> bool:
        name = key[:-6] if key.endswith("__type") else key
        column = table.columns.get(name)
        return column is not None and column.stored

    def update(
        self,
        table: Table,
        record_id: str,
        body: object,
        caller: Caller,
        *,
        if_match: str | None = None,
        duplicate_detection: bool = False,
        content_ids: dict[str, str] | None = None,
    ) -> None:
        parsed = self.parse_body(table, body, creating=False, content_ids=content_ids)
        with self.store.atomic():
            row = self.store.get(table, record_id)
            if row is None:
                raise DataverseError(
                    404, "", f"{table.logical} With Id = {record_id} Does Not Exist"
                )
            self._update_parsed(
                table, row, parsed, caller, if_match, duplicate_detection, content_ids
            )

    def _update_parsed(
        self, table, row, parsed: Parsed, caller, if_match, duplicate_detection, content_ids
    ) -> None:
        record_id = row[table.pk]
        check_etag(row, if_match)
        changes = dict(parsed.values)
        if "ownerid" in changes:
            self._owner_fields(changes)
        self._state(table, row, changes, creating=False)
        if (
            table.logical == "opportunity"
            and {**row, **changes}.get("isrevenuesystemcalculated") == 1
        ):
            changes.pop("estimatedvalue", None)
        self.compose(table, row, changes)
        if duplicate_detection:
            self.check_duplicates(table, record_id, {**row, **changes})
        self._touch(table, record_id, changes, caller, message="Update", submitted=parsed.submitted)
        for nav, rel, value in parsed.deep:
            self._deep_insert(table, record_id, nav, rel, value, caller, content_ids)

    def _touch(
        self,
        table: Table,
        record_id: str,
        changes: dict,
        caller: Caller | None,
        *,
        message: str | None,
        submitted: list[str] | None = None,
    ) -> None:
        """Write changes with a new version; sending unchanged values still counts (S11)."""
        now = now_iso()
        changes = dict(changes)
        changes["modifiedon"] = now
        if caller is not None:
            changes["modifiedby"] = caller.user_id
        version = self.store.log_change(table, record_id, "update", now)
        changes["versionnumber"] = version
        self.store.update(
            table, record_id, {k: v for k, v in changes.items() if self._stored(table, k)}
        )
        if message:
            attrs = {k: changes.get(k) for k in (submitted or []) if k in changes}
            attrs.update(
                {f"{k}__type": changes[f"{k}__type"] for k in attrs if f"{k}__type" in changes}
            )
            attrs.update({table.pk: record_id, "modifiedon": now})
            if caller is not None:
                attrs["modifiedby"] = caller.user_id
            change = Change(message, table, record_id, attrs, caller, now)
            self.store.on_commit(lambda: self.notify(change))

    def upsert(
        self,
        table: Table,
        record_id: str,
        body: object,
        caller: Caller,
        *,
        if_match: str | None,
        if_none_match: str | None,
        duplicate_detection: bool = False,
        content_ids: dict[str, str] | None = None,
    ) -> tuple[bool, str]:
        """PATCH semantics (S11-S13): (created?, id). Key columns in the body are stripped on
        update; on create they win over the URL's key (S13)."""
        with self.store.atomic():
            row = self.store.get(table, record_id)
            if row is None:
                if if_match is not None:
                    # If-Match: * (or an etag) means update only.
                    raise DataverseError(
                        404, "", f"{table.logical} With Id = {record_id} Does Not Exist"
                    )
                parsed = self.parse_body(table, body, creating=True, content_ids=content_ids)
                new_id = self._create_parsed(
                    table, parsed, caller, record_id, duplicate_detection, content_ids
                )
                return True, new_id
            if if_none_match == "*":
                raise DataverseError(412, "", "A record with matching key values already exists.")
            parsed = self.parse_body(table, body, creating=False, content_ids=content_ids)
            self._update_parsed(
                table, row, parsed, caller, if_match, duplicate_detection, content_ids
            )
            return False, record_id

    def delete(
        self, table: Table, record_id: str, caller: Caller, *, if_match: str | None = None
    ) -> None:
        with self.store.atomic():
            row = self.store.get(table, record_id)
            if row is None:
                raise record_not_found(table.logical, record_id)
            check_etag(row, if_match)
            self._delete_row(table, row, caller, depth=0)

    def _delete_row(self, table: Table, row: dict, caller: Caller, depth: int) -> None:
        record_id = row[table.pk]
        if depth > 20:
            raise DataverseError(400, "0x80048103", "Object is not allowed to be deleted")
        for rel in self.model.collections.get(table.logical, {}).values():
            child = self.model.tables[rel.referencing_entity]
            column = child.columns[rel.referencing_attribute]
            where = f'"{column.logical}" = ?'
            params: list = [record_id]
            if column.polymorphic:
                where += f' AND "{column.logical}__type" = ?'
                params.append(table.logical)
            ids = [
                r[0]
                for r in self.store.query(
                    f'SELECT "{child.pk}" FROM "{child.sql_table}" WHERE {where}', params
                )
            ]
            for child_id in ids:
                if child.logical == table.logical and child_id == record_id:
                    continue
                if rel.cascade_delete == "Cascade":
                    child_row = self.store.get(child, child_id)
                    if child_row is not None:
                        self._delete_row(child, child_row, caller, depth + 1)
                else:
                    changes: dict = {column.logical: None}
                    if column.polymorphic:
                        changes[f"{column.logical}__type"] = None
                    self._touch(child, child_id, changes, None, message=None)
        now = now_iso()
        self.store.log_change(table, record_id, "delete", now)
        self.store.delete(table, record_id)
        change = Change("Delete", table, record_id, {}, caller, now)
        self.store.on_commit(lambda: self.notify(change))


def check_etag(row: dict, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    current = f'W/"{row["versionnumber"]}"'
    candidates = [c.strip() for c in if_match.split(",")]
    if current not in candidates and current[2:] not in candidates:
        raise DataverseError(
            412,
            "",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )


def _out_of_range(table: Table, column: Column, value: object) -> DataverseError:
    return DataverseError(
        400,
        "0x8004431a",
        f"A validation error occurred.  The value {value} of '{column.logical}' on record of type "
        f"'{table.logical}' is outside the valid range.",
    )
