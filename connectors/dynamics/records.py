"""Typed records at the boundary of the Dataverse connector.

No raw vendor dict leaves connectors/dynamics/: rows are `Row`s (annotations stripped, lookups
turned into `LookupValue`s, values read through typed accessors), and everything else is a
frozen dataclass of its own.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from connectors.errors import ConnectorError
from connectors.types import FieldInfo

# -- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """What it takes to address one table: names from its EntityDefinition."""

    logical_name: str  # "contact"
    entity_set: str  # "contacts" (case-sensitive URL segment)
    primary_id: str  # "contactid"
    primary_name: str  # "fullname"
    change_tracking: bool | None = None  # None: not read from metadata yet


# The tables the product syncs, plus systemuser for the user picker. Their names are fixed by
# Dataverse (https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/).
LEAD = TableInfo("lead", "leads", "leadid", "fullname")
CONTACT = TableInfo("contact", "contacts", "contactid", "fullname")
ACCOUNT = TableInfo("account", "accounts", "accountid", "name")
OPPORTUNITY = TableInfo("opportunity", "opportunities", "opportunityid", "name")
SYSTEMUSER = TableInfo("systemuser", "systemusers", "systemuserid", "fullname")
TEAM = TableInfo("team", "teams", "teamid", "name")
STANDARD_TABLES: Mapping[str, TableInfo] = MappingProxyType(
    {t.logical_name: t for t in (LEAD, CONTACT, ACCOUNT, OPPORTUNITY, SYSTEMUSER, TEAM)}
)


@dataclass(frozen=True)
class TableSchema:
    """A table's definition, normalized: what the mapping UI and the writes need."""

    table: TableInfo
    # Mappable columns (the mapping-UI filter applied), in the order Dataverse lists them.
    fields: tuple[FieldInfo, ...]
    # Every lookup column (hidden ones such as createdby too) -> the tables it may point at.
    lookups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # (lookup column, target table) -> the single-valued navigation property used to bind it,
    # exact case: ("parentcustomerid", "account") -> "parentcustomerid_account".
    bind_names: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Target table logical name -> entity set, for the `@odata.bind` values.
    target_sets: Mapping[str, str] = field(default_factory=dict)

    def field(self, key: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.key == key), None)


# -- rows ------------------------------------------------------------------------------------


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def canonical_guid(value: object) -> str:
    """A GUID in Dataverse's own form (lower case, hyphens), or ValueError."""
    text = str(value)
    if _GUID.match(text):
        return text.lower()
    return str(uuid.UUID(text))  # braces, no hyphens, …; raises ValueError if not a GUID


@dataclass(frozen=True)
class LookupValue:
    """A reference to another row: a lookup column's value, read or written."""

    table: str | None  # logical name ("account"); None when Dataverse did not say (see Row)
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", canonical_guid(self.id))


Scalar = str | int | float | bool | None
Value = Scalar | LookupValue


def _parse_datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Row:
    """One Dataverse row: its id, version (etag) and the selected columns.

    `values` is keyed by column logical name. A lookup column `parentcustomerid` (read from the
    API as `_parentcustomerid_value`) holds a `LookupValue`; its `table` comes from the
    `lookuplogicalname` annotation, or from the column's only target, and is None for a
    polymorphic lookup read through change tracking (annotations are not requested there,
    because they have been reported to suppress the delta link).
    """

    table: str
    id: str
    values: Mapping[str, Value]
    etag: str | None = None
    modified_on: dt.datetime | None = None

    def __contains__(self, column: str) -> bool:
        return column in self.values

    def get(self, column: str, default: Value = None) -> Value:
        return self.values.get(column, default)

    def text(self, column: str) -> str | None:
        value = self.values.get(column)
        if value is None:
            return None
        if isinstance(value, LookupValue):
            raise TypeError(f"{column} is a lookup")
        return value if isinstance(value, str) else str(value)

    def integer(self, column: str) -> int | None:
        value = self.values.get(column)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"{column} is not a number: {value!r}")
        return int(value)

    def decimal(self, column: str) -> Decimal | None:
        value = self.values.get(column)
        if value is None:
            return None
        if isinstance(value, bool | LookupValue):
            raise TypeError(f"{column} is not a number: {value!r}")
        try:
            # str(float) keeps what JSON said (0.1 stays 0.1, not 0.1000000000000000055…).
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise TypeError(f"{column} is not a number: {value!r}") from exc

    def boolean(self, column: str) -> bool | None:
        value = self.values.get(column)
        if value is None or isinstance(value, bool):
            return value
        raise TypeError(f"{column} is not a yes/no value: {value!r}")

    def datetime(self, column: str) -> dt.datetime | None:
        """A DateTime column (UTC, timezone-aware)."""
        value = self.values.get(column)
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{column} is not a date and time: {value!r}")
        return _parse_datetime(value)

    def date(self, column: str) -> dt.date | None:
        """A DateOnly column (`YYYY-MM-DD`; a full timestamp is cut to its date)."""
        value = self.values.get(column)
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{column} is not a date: {value!r}")
        return dt.date.fromisoformat(value[:10])

    def choice(self, column: str) -> int | None:
        """A Choice/State/Status column's integer value."""
        value = self.values.get(column)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{column} is not a choice: {value!r}")
        return value

    def choices(self, column: str) -> tuple[int, ...]:
        """A multi-select choice column: Dataverse sends the values as a string "1,3"."""
        value = self.values.get(column)
        if value is None or value == "":
            return ()
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
        if not isinstance(value, str):
            raise TypeError(f"{column} is not a multi-select choice: {value!r}")
        return tuple(int(part) for part in value.split(",") if part.strip())

    def lookup(self, column: str) -> LookupValue | None:
        value = self.values.get(column)
        if value is None or isinstance(value, LookupValue):
            return value
        raise TypeError(f"{column} is not a lookup: {value!r}")


@dataclass(frozen=True)
class Deletion:
    """A row reported deleted by change tracking (`$deletedEntity`)."""

    table: str
    id: str
    reason: str = "deleted"


class ChangeMode(StrEnum):
    DELTA = "delta"  # followed a delta link: only changes since it, deletions included
    INITIAL = "initial"  # a new change-tracking chain: every row, then the first delta link
    POLLING = "polling"  # modifiedon >= watermark - overlap: changes only, deletions invisible


class FallbackReason(StrEnum):
    TRACKING_DISABLED = "tracking_disabled"  # the table has change tracking off
    # The delta link was too old (or the table's schema changed since it was issued).
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - not a password


@dataclass(frozen=True)
class ChangeBatch:
    """One page of changes. Persist `delta_link` / `watermark` only after processing it."""

    table: str
    mode: ChangeMode
    rows: tuple[Row, ...]
    deletions: tuple[Deletion, ...] = ()
    # Set on the last batch of a tracked read (DELTA / INITIAL) only: the next delta link.
    delta_link: str | None = None
    # The highest modifiedon seen so far in this read (or the watermark given): the next
    # polling watermark. Never beyond what the server stamped, so never past the run's start.
    watermark: dt.datetime | None = None
    last: bool = False
    fallback: FallbackReason | None = None


# -- writes ----------------------------------------------------------------------------------


class WriteKind(StrEnum):
    CREATE = "create"  # PATCH <set>(<new guid>) + If-None-Match: * (idempotent create)
    UPDATE = "update"  # PATCH <set>(<id>) + If-Match: * (or the row's etag): never creates
    UPSERT = "upsert"  # PATCH <set>(<id>) without preconditions: create or update
    DELETE = "delete"  # DELETE <set>(<id>)


@dataclass(frozen=True)
class RecordWrite:
    """One write for `DynamicsClient.write`.

    values: column logical name -> value. A lookup is set with a `LookupValue(table, id)` under
    the column's name (`parentcustomerid`), cleared with None; the client turns it into the
    right `<navigation>@odata.bind`. Datetimes must be timezone-aware; dates are DateOnly;
    Decimal is sent exactly; a tuple of ints is a multi-select choice.
    ref: the caller's own key, handed back on the result.
    """

    kind: WriteKind
    table: str
    id: str | None = None
    values: Mapping[str, object] = field(default_factory=dict)
    etag: str | None = None  # UPDATE/DELETE: If-Match this version instead of "*"
    ref: Hashable = None

    @classmethod
    def create(
        cls, table: str, values: Mapping[str, object], *, id: str | None = None, ref=None
    ) -> RecordWrite:
        # The id is generated here when not given, so that a retried request (or a caller
        # that stored it before sending) never creates a second row.
        return cls(
            WriteKind.CREATE,
            table,
            canonical_guid(id) if id else str(uuid.uuid4()),
            values,
            None,
            ref,
        )

    @classmethod
    def update(
        cls,
        table: str,
        id: str,
        values: Mapping[str, object],
        *,
        etag: str | None = None,
        ref=None,
    ) -> RecordWrite:
        return cls(WriteKind.UPDATE, table, canonical_guid(id), values, etag, ref)

    @classmethod
    def upsert(cls, table: str, id: str, values: Mapping[str, object], *, ref=None) -> RecordWrite:
        return cls(WriteKind.UPSERT, table, canonical_guid(id), values, None, ref)

    @classmethod
    def delete(cls, table: str, id: str, *, etag: str | None = None, ref=None) -> RecordWrite:
        return cls(WriteKind.DELETE, table, canonical_guid(id), {}, etag, ref)


class Outcome(StrEnum):
    CREATED = "created"
    ALREADY_EXISTS = "already_exists"  # a create whose id exists: an earlier attempt made it
    UPDATED = "updated"
    UPSERTED = "upserted"  # created or updated: Dataverse answers 204 for both
    DELETED = "deleted"
    ALREADY_DELETED = "already_deleted"  # a delete answered 404: the row is gone either way
    FAILED = "failed"


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one operation of a `$batch`, in the order of the writes given."""

    write: RecordWrite
    outcome: Outcome
    status: int
    id: str | None = None  # the row's GUID (from OData-EntityId, else the id written)
    error: ConnectorError | None = None  # a classified error when outcome is FAILED

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED

    @property
    def ref(self) -> Hashable:
        return self.write.ref


# -- users and the organization --------------------------------------------------------------


@dataclass(frozen=True)
class WhoAmI:
    user_id: str
    business_unit_id: str
    organization_id: str


@dataclass(frozen=True)
class SystemUser:
    id: str
    full_name: str
    email: str | None
    domain_name: str | None
    disabled: bool
    access_mode: int | None
    azure_ad_object_id: str | None = None


@dataclass(frozen=True)
class OrgInfo:
    """What `check()` learnt: the connection works, as which user, in which organization."""

    org_url: str
    organization_id: str
    user_id: str  # the application user: recognise (and skip) the integration's own changes
    business_unit_id: str
    readable_tables: tuple[str, ...]
