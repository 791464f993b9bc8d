"""What every step and unit of a run shares: counts, records, links, value helpers."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.utils import timezone

from connectors.activecampaign.records import (
    ContactChanges,
)
from connectors.dynamics.records import RecordWrite
from connectors.errors import (
    ConnectorError,
    user_message,
)
from mapping.core.directions import Direction
from mapping.core.records import (
    SkipReason,
    decode_value,
    dynamics_write_value,
    encode_value,
    encode_values,
    fingerprint_encoded,
)
from mapping.core.snapshot import (
    ConfigSnapshot,
    EntityConfig,
    FieldPair,
)
from mapping.core.transforms import TransformError

from ..clients import DYNAMICS_BATCH_SIZE, Clients
from ..models import RecordLink, RunRecord, SyncRun

logger = logging.getLogger(__name__)


DYNAMICS = "dynamics"


ACTIVECAMPAIGN = "activecampaign"


PEOPLE = ("contact", "lead")


PERSON = "person"  # the staged entity of ActiveCampaign contacts (shared by leads and contacts)


ENTITY_ORDER = ("account", "contact", "lead", "opportunity")


ENTITY_TAGS = {"lead": "D365: Lead", "contact": "D365: Contact"}


TAG_PUSHED = "D365: Pushed from Dynamics"


TAG_PULLED = "D365: Pulled from ActiveCampaign"


AC_CONTACTS_SOURCE = "ac_contact"


AC_ACCOUNTS_SOURCE = "ac_account"


# Records per work unit: a bulk import takes 250 contacts, a $batch 1,000 operations.
PUSH_UNIT_SIZE = 250


PULL_UNIT_SIZE = DYNAMICS_BATCH_SIZE


# From this many new contacts in a unit on, bulk import; below, contact/sync per contact
# (ActiveCampaign's advice for up to 10: https://developers.activecampaign.com/reference/bulk-import-contacts).
BULK_IMPORT_MIN = 10


# Extra columns read on people: a merged record names its survivor.
MERGE_COLUMNS = ("merged", "masterid")


ACCOUNT_LINK = "@account"  # the base key of a person's account relationship


JOB_TITLE_KEY = "jobTitle"


COUNT_NAMES = ("read", "created", "updated", "linked", "skipped", "conflicts", "failed")


# Skips that are the configuration working as meant: counted, not listed record by record.
QUIET_SKIPS = frozenset({SkipReason.CRITERIA, SkipReason.DIRECTION})


@dataclass
class Work:
    """What a step or a unit did: counts and the records to show on the run."""

    counts: Counter = field(default_factory=Counter)  # (entity, direction, name) -> n
    records: list[RunRecord] = field(default_factory=list)

    def count(self, entity: str, direction: str, name: str, n: int = 1) -> None:
        self.counts[(entity, direction, name)] += n

    def record(
        self,
        run: SyncRun,
        entity: str,
        direction: str,
        outcome: str,
        reason: str,
        *,
        dynamics_id: str = "",
        ac_id: str = "",
        email: str = "",
        before: dict | None = None,
        after: dict | None = None,
    ) -> None:
        self.records.append(
            RunRecord(
                run=run,
                entity=entity,
                direction=direction,
                outcome=outcome,
                reason=reason[:2000],
                dynamics_id=dynamics_id or "",
                ac_id=ac_id or "",
                email=(email or "")[:254],
                before=_json_safe(before or {}),
                after=_json_safe(after or {}),
            )
        )

    def counts_json(self) -> dict:
        nested: dict = {}
        for (entity, direction, name), n in self.counts.items():
            nested.setdefault(entity, {}).setdefault(direction, {})
            nested[entity][direction][name] = nested[entity][direction].get(name, 0) + n
        return nested

    def save(self) -> None:
        if self.records:
            RunRecord.objects.bulk_create(self.records, batch_size=500)
            self.records = []


@dataclass
class Context:
    run: SyncRun
    snapshot: ConfigSnapshot
    clients: Clients
    heartbeat: Callable[[], None] = lambda: None
    work: Work = field(default_factory=Work)

    @property
    def integration(self):
        return self.run.integration

    def entity(self, key: str) -> EntityConfig:
        config = self.snapshot.entity(key)
        if config is None:
            raise KeyError(key)
        return config


def _json_safe(values: dict) -> dict:
    safe = {}
    for key, value in values.items():
        try:
            safe[str(key)] = encode_value(value)
        except TypeError:
            safe[str(key)] = str(value)
    return safe


def _decode(entity: EntityConfig, data: dict, side: str) -> dict[str, object]:
    values = {}
    for pair in entity.value_pairs:
        if pair.key in data:
            info = pair.dynamics if side == DYNAMICS else pair.ac
            try:
                values[pair.key] = decode_value(data[pair.key], info.type)
            except (TypeError, ValueError, ArithmeticError):
                values[pair.key] = None
    return values


def _fill_unloaded(entity: EntityConfig, base_dv: dict, base_ac: dict) -> None:
    """A value one side never shows on its records (the AC job title lives on the account
    link) is based on what was written there, so that the next run sees no change."""
    for pair in entity.value_pairs:
        if pair.key in base_dv and pair.key not in base_ac and pair.pushes:
            try:
                base_ac[pair.key] = convert_pair_safe(pair, base_dv[pair.key], Direction.PUSH)
            except TransformError:
                base_ac[pair.key] = None
        elif pair.key in base_ac and pair.key not in base_dv and pair.pulls:
            try:
                base_dv[pair.key] = convert_pair_safe(pair, base_ac[pair.key], Direction.PULL)
            except TransformError:
                base_dv[pair.key] = None


def convert_pair_safe(pair: FieldPair, value: object, flow: Direction) -> object:
    from mapping.core.records import convert_pair

    return convert_pair(pair, value, flow)


def _link_set_base(
    link: RecordLink,
    base_dv: dict,
    base_ac: dict,
    extra_dv: dict,
    extra_ac: dict,
    entity: EntityConfig | None = None,
) -> None:
    base_dv, base_ac = dict(base_dv), dict(base_ac)
    if entity is not None:
        _fill_unloaded(entity, base_dv, base_ac)
    encoded_dv, encoded_ac = encode_values(base_dv), encode_values(base_ac)
    link.base_dynamics = {**encoded_dv, **extra_dv}
    link.base_ac = {**encoded_ac, **extra_ac}
    link.dynamics_fingerprint = fingerprint_encoded(encoded_dv)
    link.ac_fingerprint = fingerprint_encoded(encoded_ac)
    link.last_synced_at = timezone.now()


LINK_FIELDS = (
    "ac_id",
    "email",
    "state",
    "note",
    "base_dynamics",
    "base_ac",
    "dynamics_fingerprint",
    "ac_fingerprint",
    "last_synced_at",
    "dynamics_id",
)


def _links_save(links: list[RecordLink]) -> None:
    """Save many links in two statements (inside the caller's transaction)."""
    new = [link for link in links if link.pk is None]
    old = [link for link in links if link.pk is not None]
    RecordLink.objects.bulk_create(new, batch_size=500)
    if not old:
        return
    # One UPDATE statement run for every row (executemany): Django's bulk_update builds a
    # CASE expression per field and row, which costs milliseconds of CPU per link.
    from django.db import connection

    fields = [RecordLink._meta.get_field(name) for name in LINK_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = (
        f"UPDATE {quote(RecordLink._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(RecordLink._meta.pk.column)} = %s"
    )
    rows = [
        [field.get_db_prep_save(getattr(link, field.attname), connection) for field in fields]
        + [link.pk]
        for link in old
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _email_of(values: dict, entity: EntityConfig) -> str:
    pair = entity.email_pair
    value = values.get(pair.key) if pair else None
    return str(value).strip().lower() if value else ""


def _ac_changes(values: dict, clears: Iterable[str] = ()) -> ContactChanges:
    standard = {"email": "email", "firstName": "first_name", "lastName": "last_name"}
    standard["phone"] = "phone"
    kwargs: dict = {}
    fields: dict = {}
    for key, value in values.items():
        if key in standard:
            kwargs[standard[key]] = value
        elif key != JOB_TITLE_KEY and key != "account":
            fields[key] = value
    clear = {key for key in clears if key not in (JOB_TITLE_KEY, "account", "email")}
    for key, value in values.items():
        if value is None and key not in (JOB_TITLE_KEY, "account", "email"):
            clear.add(key)
    return ContactChanges(field_values=fields, clear=frozenset(clear), **kwargs)


def _dv_write_values(entity: EntityConfig, values: dict) -> dict:
    by_key = {pair.dynamics.key: pair.dynamics for pair in entity.value_pairs}
    return {key: dynamics_write_value(by_key[key], value) for key, value in values.items()}


def _record_error(error: ConnectorError) -> str:
    return user_message(error)


class _Writer:
    """Shared plumbing of the unit processors."""

    direction = "push"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.run = ctx.run
        self.work = ctx.work

    def fail(self, entity: str, reason: str, **ids) -> None:
        self.work.count(entity, self.direction, "failed")
        self.work.record(self.run, entity, self.direction, RunRecord.Outcome.FAILED, reason, **ids)

    def skip(self, entity: str, reason: str, *, record: bool = True, **ids) -> None:
        self.work.count(entity, self.direction, "skipped")
        if record:
            self.work.record(
                self.run, entity, self.direction, RunRecord.Outcome.SKIPPED, reason, **ids
            )

    def conflicts(self, entity: str, result, **ids) -> None:
        for conflict in result.conflicts:
            self.work.count(entity, self.direction, "conflicts")
            winner = {DYNAMICS: "Dynamics 365", ACTIVECAMPAIGN: "ActiveCampaign"}.get(
                conflict.winner, "neither"
            )
            self.work.record(
                self.run,
                entity,
                self.direction,
                RunRecord.Outcome.CONFLICT,
                f"{conflict.label} changed on both sides; {winner} won "
                f"({self.ctx.entity(entity).conflict_rule.value} rule).",
                before={
                    "Dynamics 365": conflict.dynamics_value,
                    "ActiveCampaign": conflict.ac_value,
                },
                after={"winner": winner},
                **ids,
            )

    def dv_write(self, writes: list[RecordWrite]) -> dict:
        """Send Dataverse writes in $batches of 1,000; results by write ref."""
        if not writes:
            return {}
        results = {}
        for result in self.ctx.clients.dv.write(writes, batch_size=DYNAMICS_BATCH_SIZE):
            results[result.ref] = result
        self.ctx.heartbeat()
        return results


def _decode_criteria(entity: EntityConfig, data: dict) -> dict:
    values = {}
    for info in entity.criteria_fields:
        try:
            values[info.key] = decode_value(data.get(info.key), info.type)
        except (TypeError, ValueError, ArithmeticError):
            values[info.key] = None
    return values


def _by_pair(entity: EntityConfig, values: dict, side: str) -> dict:
    """Target-keyed values (AC field keys or Dynamics columns) → pair-keyed values."""
    out = {}
    for pair in entity.value_pairs:
        key = pair.ac.key if side == ACTIVECAMPAIGN else pair.dynamics.key
        if key in values:
            out[pair.key] = values[key]
    return out


def _same_ac(entity: EntityConfig, ac_key: str, value: object, ac_now: dict) -> bool:
    from mapping.core.records import same_value

    pair = entity.pair(ac_key)
    return pair is not None and pair.key in ac_now and same_value(value, ac_now[pair.key])


def _criteria_ok(entity: EntityConfig, criteria: dict) -> bool:
    from mapping.core.criteria import criteria_match

    return criteria_match(entity.criteria, criteria)
