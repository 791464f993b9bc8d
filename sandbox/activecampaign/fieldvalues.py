"""Custom field values of contacts (§3.2, §3.3): storage and representation.

Shared by the contact writes (inline `fieldValues`), `/fieldValues` and the bulk import.
"""

from __future__ import annotations

import sqlite3

from .formats import AccountTime, text


def normalized(value: object) -> str:
    """A value as stored: text as sent; a JSON list becomes AC's `||a||b||` multi-value (§3.3).

    Values are stored as given otherwise: AC stores or rejects non-option values
    inconsistently (§3.3, INF), so the sandbox does not second-guess them.
    """
    if isinstance(value, list):
        return "||" + "||".join(text(v) for v in value) + "||" if value else ""
    return text(value)


def value_set(
    conn: sqlite3.Connection, tenant: int, contact: int, field: int, value: object, now: int
) -> tuple[int, bool] | None:
    """Create or update the (contact, field) value; (id, changed), or None for an unknown field.

    An unknown field id is skipped, as AC skips it (it answers the write without it).
    """
    known = conn.execute(
        "SELECT 1 FROM fields WHERE id = ? AND tenant = ?", (field, tenant)
    ).fetchone()
    if known is None:
        return None
    stored = normalized(value)
    row = conn.execute(
        "SELECT id, value FROM field_values WHERE contact = ? AND field = ?", (contact, field)
    ).fetchone()
    if row is None:
        value_id = conn.execute(
            "INSERT INTO field_values (tenant, contact, field, value, cdate, udate) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (tenant, contact, field, stored, now, now),
        ).lastrowid
        return value_id, True
    if row["value"] == stored:
        return row["id"], False
    conn.execute(
        "UPDATE field_values SET value = ?, udate = ? WHERE id = ?", (stored, now, row["id"])
    )
    return row["id"], True


def rows_for_contact(db, contact: int) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM field_values WHERE contact = ? ORDER BY id", (contact,))


def value_json(time: AccountTime, row: sqlite3.Row, base: str) -> dict:
    value_id = row["id"]
    return {
        "contact": str(row["contact"]),
        "field": str(row["field"]),
        "value": row["value"],
        "cdate": time.iso(row["cdate"]),
        "udate": time.iso(row["udate"]),
        "created_by": None,
        "updated_by": None,
        "links": {
            "owner": f"{base}/api/3/fieldValues/{value_id}/owner",
            "field": f"{base}/api/3/fieldValues/{value_id}/field",
        },
        "id": str(value_id),
        "owner": str(row["contact"]),
    }
