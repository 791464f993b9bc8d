"""SQLite storage for the Dataverse sandbox: one SQL table per Dataverse table, a change log
with a monotonically increasing version (row versions, ETags and change-tracking tokens all
come from it), and the sandbox's own settings (custom columns, per-table flags).
"""

# ruff: noqa: S608 - SQL is composed from table/column names of the metadata model (custom
# names are validated against CUSTOM_NAME); every value goes in as a parameter.

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict

from sandbox.store import Database

from .odata import SQL_FUNCTIONS
from .schema import Column, Option, Table, shadow_columns

# Indexed columns: keyset paging on (modifiedon, pk) / (createdon, pk), change tracking on
# versionnumber, the lookups that expansions, cascades and filters follow.
_INDEXED_LOOKUPS = (
    "parentcustomerid",
    "customerid",
    "parentaccountid",
    "parentcontactid",
    "primarycontactid",
    "ownerid",
    "originatingleadid",
    "applicationid",
)


class Store:
    def __init__(self, db: Database, tables: dict[str, Table]) -> None:
        self.db = db
        self.tables = tables
        self._local = threading.local()
        with db.transaction() as conn:
            for name, (arity, func) in SQL_FUNCTIONS.items():
                conn.create_function(name, arity, func, deterministic=True)
        self.db.script(
            """
            CREATE TABLE IF NOT EXISTS dv_changelog (
                version INTEGER PRIMARY KEY AUTOINCREMENT,
                entity TEXT NOT NULL,
                id TEXT NOT NULL,
                op TEXT NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS dv_changelog_entity ON dv_changelog (entity, op, version);
            CREATE TABLE IF NOT EXISTS dv_meta_columns (
                entity TEXT NOT NULL,
                logical TEXT NOT NULL,
                definition TEXT NOT NULL,
                PRIMARY KEY (entity, logical)
            );
            CREATE TABLE IF NOT EXISTS dv_meta_tables (
                entity TEXT PRIMARY KEY,
                change_tracking INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS dv_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        for row in self.db.execute("SELECT entity, logical, definition FROM dv_meta_columns"):
            table = tables.get(row["entity"])
            if table is not None:
                column = column_from_json(json.loads(row["definition"]))
                table.add(column)
                for shadow in shadow_columns(column):
                    table.columns.setdefault(shadow.logical, shadow)
        for row in self.db.execute("SELECT entity, change_tracking FROM dv_meta_tables"):
            if row["entity"] in tables:
                tables[row["entity"]].change_tracking = bool(row["change_tracking"])
        for table in tables.values():
            self._ensure_table(table)

    # -- schema ----------------------------------------------------------------------------
    @staticmethod
    def sql_columns(column: Column) -> list[tuple[str, str]]:
        cols = [(column.logical, column.sql_type)]
        if column.polymorphic:
            cols.append((f"{column.logical}__type", "TEXT"))
        return cols

    def _ensure_table(self, table: Table) -> None:
        defs = []
        for column in table.stored_columns():
            for name, sql_type in self.sql_columns(column):
                if name == table.pk:
                    defs.append(f'"{name}" TEXT NOT NULL PRIMARY KEY')
                else:
                    defs.append(f'"{name}" {sql_type}')
        self.db.script(f'CREATE TABLE IF NOT EXISTS "{table.sql_table}" ({", ".join(defs)});')
        existing = {r["name"] for r in self.db.execute(f'PRAGMA table_info("{table.sql_table}")')}
        for column in table.stored_columns():
            for name, sql_type in self.sql_columns(column):
                if name not in existing:
                    self.db.execute(
                        f'ALTER TABLE "{table.sql_table}" ADD COLUMN "{name}" {sql_type}'
                    )
        statements = [
            f'CREATE INDEX IF NOT EXISTS "{table.sql_table}_version" '
            f'ON "{table.sql_table}" (versionnumber)'
        ]
        for key in ("modifiedon", "createdon"):
            if key in table.columns:
                statements.append(
                    f'CREATE INDEX IF NOT EXISTS "{table.sql_table}_{key}" '
                    f'ON "{table.sql_table}" ("{key}", "{table.pk}")'
                )
        for key in _INDEXED_LOOKUPS:
            if key in table.columns and table.columns[key].stored:
                statements.append(
                    f'CREATE INDEX IF NOT EXISTS "{table.sql_table}_{key}" '
                    f'ON "{table.sql_table}" ("{key}")'
                )
        if "emailaddress1" in table.columns:
            # Duplicate detection and e-mail lookups compare folded text (see odata.fold).
            statements.append(
                f'CREATE INDEX IF NOT EXISTS "{table.sql_table}_email_ci" '
                f'ON "{table.sql_table}" (dv_fold("emailaddress1"))'
            )
        self.db.script(";\n".join(statements) + ";")

    def column_add(self, table: Table, column: Column) -> None:
        with self.atomic() as conn:
            conn.execute(
                "INSERT INTO dv_meta_columns (entity, logical, definition) VALUES (?, ?, ?)",
                (table.logical, column.logical, json.dumps(column_to_json(column))),
            )
            for name, sql_type in self.sql_columns(column):
                conn.execute(f'ALTER TABLE "{table.sql_table}" ADD COLUMN "{name}" {sql_type}')
        table.add(column)
        for shadow in shadow_columns(column):
            table.columns.setdefault(shadow.logical, shadow)

    def change_tracking_set(self, table: Table, enabled: bool) -> None:
        self.db.execute(
            "INSERT INTO dv_meta_tables (entity, change_tracking) VALUES (?, ?) "
            "ON CONFLICT(entity) DO UPDATE SET change_tracking = excluded.change_tracking",
            (table.logical, int(enabled)),
        )
        table.change_tracking = enabled

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute_one("SELECT value FROM dv_settings WHERE key = ?", (key,))
        return row["value"] if row else default

    def setting_set(self, key: str, value: str) -> None:
        self._exec(
            "INSERT INTO dv_settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def atomic(self) -> Iterator:
        """One transaction; nested calls become savepoints (a $batch change set is one).

        Callbacks registered with on_commit run after the outermost commit only, so a rolled
        back change set sends no webhook.
        """
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            with self.db.transaction() as conn:
                local.conn = conn
                local.depth = 1
                local.callbacks = [[]]
                try:
                    yield conn
                finally:
                    local.depth = 0
                    callbacks = local.callbacks
                    local.callbacks = [[]]
                    local.conn = None
            for callback in callbacks[0]:
                callback()
            return
        conn = local.conn
        name = f"sp{depth}"
        conn.execute(f"SAVEPOINT {name}")
        local.depth = depth + 1
        local.callbacks.append([])
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            local.callbacks.pop()
            local.depth = depth
            raise
        conn.execute(f"RELEASE {name}")
        done = local.callbacks.pop()
        local.callbacks[-1].extend(done)
        local.depth = depth

    def on_commit(self, callback: Callable[[], None]) -> None:
        local = self._local
        if getattr(local, "depth", 0):
            local.callbacks[-1].append(callback)
        else:
            callback()

    def _exec(self, sql: str, params: Sequence | dict = ()) -> list:
        if getattr(self._local, "depth", 0):
            return self._local.conn.execute(sql, params).fetchall()
        return self.db.execute(sql, params)

    def query(self, sql: str, params: Sequence | dict = ()) -> list:
        return self._exec(sql, params)

    def query_one(self, sql: str, params: Sequence | dict = ()):
        rows = self._exec(sql, params)
        return rows[0] if rows else None

    # -- versions ----------------------------------------------------------------------------
    def log_change(self, table: Table, record_id: str, op: str, at: str) -> int:
        """Append to the change log; the new version is the row's versionnumber / ETag."""
        rows = self._exec(
            "INSERT INTO dv_changelog (entity, id, op, at) VALUES (?, ?, ?, ?) RETURNING version",
            (table.logical, record_id, op, at),
        )
        return int(rows[0][0])

    def current_version(self) -> int:
        row = self.query_one("SELECT MAX(version) FROM dv_changelog")
        return int(row[0] or 0)

    # -- rows --------------------------------------------------------------------------------
    def insert(self, table: Table, row: dict) -> None:
        names = list(row)
        marks = ", ".join("?" for _ in names)
        cols = ", ".join(f'"{n}"' for n in names)
        self._exec(
            f'INSERT INTO "{table.sql_table}" ({cols}) VALUES ({marks})', [row[n] for n in names]
        )

    def insert_many(self, table: Table, names: list[str], rows: list[Sequence]) -> None:
        marks = ", ".join("?" for _ in names)
        cols = ", ".join(f'"{n}"' for n in names)
        sql = f'INSERT INTO "{table.sql_table}" ({cols}) VALUES ({marks})'
        if getattr(self._local, "depth", 0):
            self._local.conn.executemany(sql, rows)
        else:
            self.db.executemany(sql, rows)

    def update(self, table: Table, record_id: str, changes: dict) -> None:
        if not changes:
            return
        sets = ", ".join(f'"{n}" = ?' for n in changes)
        self._exec(
            f'UPDATE "{table.sql_table}" SET {sets} WHERE "{table.pk}" = ?',
            [*changes.values(), record_id],
        )

    def delete(self, table: Table, record_id: str) -> None:
        self._exec(f'DELETE FROM "{table.sql_table}" WHERE "{table.pk}" = ?', (record_id,))

    def get(self, table: Table, record_id: str) -> dict | None:
        row = self.query_one(
            f'SELECT * FROM "{table.sql_table}" WHERE "{table.pk}" = ?', (record_id,)
        )
        return dict(row) if row is not None else None

    def exists(self, table: Table, record_id: str) -> bool:
        return (
            self.query_one(
                f'SELECT 1 FROM "{table.sql_table}" WHERE "{table.pk}" = ?', (record_id,)
            )
            is not None
        )

    def count(self, table: Table) -> int:
        return int(self.query_one(f'SELECT COUNT(*) FROM "{table.sql_table}"')[0])


def column_to_json(column: Column) -> dict:
    data = asdict(column)
    data["options"] = [asdict(o) for o in column.options]
    data["targets"] = list(column.targets)
    return data


def column_from_json(data: dict) -> Column:
    data = dict(data)
    data["options"] = tuple(Option(**o) for o in data.get("options", []))
    data["targets"] = tuple(data.get("targets", []))
    return Column(**data)
