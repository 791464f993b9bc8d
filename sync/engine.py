"""The sync engine: a run's steps, and the work units any worker may take.

A run is a list of steps (`plan_steps`), executed in order by a *driver* (`step_execute`);
an `apply` step splits the records a `collect` step staged into work units (`units_create`)
that any number of workers process (`unit_process`). Per entity, in order accounts, people
(contacts and leads, which share ActiveCampaign contacts), opportunities:

1. collect: read what changed on each side since its checkpoint, one page at a time, into
   StagedRecord rows (bounded memory: never a whole side in memory);
2. apply (push side): each staged Dynamics record is linked, merged with its ActiveCampaign
   counterpart (if that changed too, else with the stored base), created or skipped; writes go
   in batches (AC bulk import for new contacts, Dataverse `$batch` of 1,000);
3. confirm: bulk imports are asynchronous: wait for them, then read the contacts back to
   learn their ids (write-ahead: the link existed before, keyed by e-mail);
4. apply (pull side): ActiveCampaign records that changed alone are merged into Dynamics, or
   created there (write-ahead: the new row's GUID is stored before the `$batch` is sent);
5. finish: checkpoints move, only now that everything they cover is committed.

Decisions are the pure core's (`mapping.core.records`, `mapping.core.merge`); links keep the
base both sides agreed on, so the next run tells its own writes from real changes (no echo).
A record's failure is recorded on the run (RunRecord) and never stops it; a configuration
error stops the run (sync.services turns it into a paused schedule).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.activecampaign.records import (
    Account,
    AccountFieldInput,
    Contact,
    ContactChanges,
    ImportContact,
    ImportOutcome,
)
from connectors.dynamics.records import LookupValue, Outcome, RecordWrite, Row
from connectors.errors import (
    ConfigurationError,
    ConflictError,
    ConnectorError,
    NotFoundError,
    RecordError,
    RetryableError,
    user_message,
)
from mapping.core.directions import Direction
from mapping.core.merge import merge_record
from mapping.core.records import (
    SKIP_TEXT,
    RecordChanges,
    Skip,
    SkipReason,
    ac_values,
    decode_value,
    dynamics_criteria_values,
    dynamics_values,
    dynamics_write_value,
    encode_value,
    encode_values,
    fingerprint,
    record_changes,
)
from mapping.core.snapshot import (
    DELETED_TAG,
    ConfigSnapshot,
    DeletionPolicy,
    EntityConfig,
    FieldPair,
)
from mapping.core.transforms import TransformError, convert

from .clients import DYNAMICS_BATCH_SIZE, DYNAMICS_PAGE_SIZE, Clients
from .models import Checkpoint, RecordLink, RunRecord, StagedRecord, SyncRun, WorkUnit

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


def ac_overlap() -> dt.timedelta:
    """How far before the bookmark an ActiveCampaign read starts.

    `filters[updated_after]` is documented as a date; whether the time part and zone are
    honoured is not (https://developers.activecampaign.com/reference/list-all-contacts). The
    client filters on `udate` itself, so a date-only reading costs reads, never changes.
    """
    return dt.timedelta(minutes=getattr(settings, "SYNC_AC_OVERLAP_MINUTES", 10))


# -- the plan -----------------------------------------------------------------------------------


def plan_steps(snapshot: ConfigSnapshot, *, entity: str = "", initial: bool = False) -> list[dict]:
    """The steps of a run for the enabled entities (or one of them)."""
    wanted = [
        key
        for key in ENTITY_ORDER
        if (not entity or key == entity)
        and (
            (snapshot.entity(key) is not None and snapshot.entity(key).enabled)
            or (key == "opportunity" and snapshot.opportunity.enabled)
        )
    ]
    steps: list[dict] = []
    if "account" in wanted:
        steps += [
            {"kind": "collect", "entity": "account"},
            {"kind": "apply", "entity": "account", "side": DYNAMICS},
            {"kind": "apply", "entity": "account", "side": ACTIVECAMPAIGN},
            {"kind": "finish", "entity": "account"},
        ]
    people = [key for key in PEOPLE if key in wanted]
    if people:
        steps += [{"kind": "collect", "entity": key} for key in people]
        if not initial:
            steps.append({"kind": "collect", "entity": PERSON})
        steps += [{"kind": "apply", "entity": key, "side": DYNAMICS} for key in people]
        steps.append({"kind": "confirm", "entity": PERSON, "initial": initial})
        if not initial:
            steps.append({"kind": "apply", "entity": PERSON, "side": ACTIVECAMPAIGN})
        steps += [{"kind": "finish", "entity": key} for key in people]
        steps.append({"kind": "finish", "entity": PERSON})
    if "opportunity" in wanted:
        steps += [
            {"kind": "collect", "entity": "opportunity"},
            {"kind": "apply", "entity": "opportunity", "side": DYNAMICS},
            {"kind": "finish", "entity": "opportunity"},
        ]
    return steps


def step_label(step: dict) -> str:
    names = {PERSON: "ActiveCampaign contacts"}
    return f"{step['kind']} {names.get(step['entity'], step['entity'])}"


# -- the context of a step ----------------------------------------------------------------------


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


# -- collect ------------------------------------------------------------------------------------


def collect(ctx: Context, step: dict) -> None:
    """Stage what changed on the step's source, page by page, and note the next checkpoint."""
    entity = step["entity"]
    StagedRecord.objects.filter(run=ctx.run, entity=entity).delete()  # a collect restarts whole
    if entity == PERSON:
        _collect_ac_contacts(ctx)
        return
    if entity in ENTITY_ORDER:
        pushes = (
            ctx.snapshot.opportunity.enabled
            if entity == "opportunity"
            else ctx.entity(entity).pushes
        )
        if pushes or entity in PEOPLE:
            # People are read even when only pulled: their e-mails match new AC contacts.
            _collect_dynamics(ctx, entity)
    if entity == "account":
        _collect_ac_accounts(ctx)


def collect_record(ctx: Context, step: dict) -> None:
    """Stage one record (a single-record sync): a Dynamics row, or an ActiveCampaign one."""
    from connectors.dynamics import odata

    entity = step["entity"]
    if step.get("id"):
        dv = ctx.clients.dv
        info = dv.table(entity)
        rows = list(
            dv.rows(entity, _columns(ctx, entity), where=odata.eq(info.primary_id, step["id"]))
        )
        staged = [_stage_row(ctx, entity, row) for row in rows]
        if not rows:
            staged = [
                StagedRecord(
                    run=ctx.run,
                    entity=entity,
                    side=DYNAMICS,
                    record_id=step["id"],
                    payload={"deleted": True},
                )
            ]
        StagedRecord.objects.bulk_create(staged)
        ctx.work.count(entity, "push", "read", len(rows))
        return
    ac = ctx.clients.ac
    try:
        if entity == "account":
            account = ac.account(step["ac_id"])
            config = ctx.entity("account")
            StagedRecord.objects.create(
                run=ctx.run,
                entity="account",
                side=ACTIVECAMPAIGN,
                record_id=account.id,
                email=account.name.strip().lower()[:254],
                payload={
                    "modified": account.updated_at.isoformat() if account.updated_at else None,
                    "values": encode_values(ac_values(account, config.pairs)),
                    "name": account.name,
                },
            )
        else:
            staged = _stage_contact(ctx, ac.contact(step["ac_id"]))
            if entity in PEOPLE:
                staged.payload["prefer"] = entity  # what a new contact should become
            staged.save()
    except NotFoundError:
        ctx.work.record(
            ctx.run,
            entity,
            "pull",
            RunRecord.Outcome.SKIPPED,
            "The ActiveCampaign record does not exist (any more).",
            ac_id=step["ac_id"],
        )
        return
    ctx.work.count(entity if entity == "account" else PERSON, "pull", "read")


def collect_ids(ctx: Context, step: dict) -> None:
    """Stage the records of a retry: Dynamics rows by id, or ActiveCampaign records by id."""
    from connectors.dynamics import odata

    entity = step["entity"]
    StagedRecord.objects.filter(run=ctx.run, entity=entity).delete()
    if step.get("ids"):
        dv = ctx.clients.dv
        info = dv.table(entity)
        found = set()
        for chunk in _chunks(step["ids"], 50):
            where = odata.in_(info.primary_id, chunk)
            rows = list(dv.rows(entity, _columns(ctx, entity), where=where))
            StagedRecord.objects.bulk_create([_stage_row(ctx, entity, row) for row in rows])
            found.update(row.id for row in rows)
        gone = [
            StagedRecord(
                run=ctx.run, entity=entity, side=DYNAMICS, record_id=i, payload={"deleted": True}
            )
            for i in step["ids"]
            if i not in found
        ]
        StagedRecord.objects.bulk_create(gone)
        ctx.work.count(entity, "push", "read", len(found))
        return
    for ac_id in step.get("ac_ids", ()):
        collect_record(ctx, {"entity": step.get("as", entity), "ac_id": ac_id})


def _columns(ctx: Context, entity: str) -> tuple[str, ...]:
    if entity == "opportunity":
        columns = list(ctx.snapshot.opportunity.dynamics_columns())
        columns += ["parentcontactid", "customerid"]
    else:
        columns = list(ctx.entity(entity).dynamics_columns())
        if entity in PEOPLE:
            columns += ["emailaddress1", *MERGE_COLUMNS]
    return tuple(dict.fromkeys(columns))


def _collect_dynamics(ctx: Context, entity: str) -> None:
    dv = ctx.clients.dv
    columns = _columns(ctx, entity)
    checkpoint = Checkpoint.objects.filter(integration=ctx.integration, source=entity).first()
    delta_link = None
    watermark = None
    if checkpoint is not None and ctx.run.trigger != SyncRun.Trigger.INITIAL:
        watermark = checkpoint.watermark
        # A delta link keeps the $select it began with: new columns need a new chain.
        if checkpoint.columns == ",".join(columns):
            delta_link = checkpoint.delta_link or None
    next_link, next_watermark = None, watermark
    read = 0
    for batch in dv.changes(
        entity, columns, delta_link, watermark=watermark, page_size=DYNAMICS_PAGE_SIZE
    ):
        staged = [_stage_row(ctx, entity, row) for row in batch.rows]
        staged += [
            StagedRecord(
                run=ctx.run,
                entity=entity,
                side=DYNAMICS,
                record_id=deletion.id,
                payload={"deleted": True},
            )
            for deletion in batch.deletions
        ]
        StagedRecord.objects.bulk_create(staged, batch_size=1000)
        read += len(batch.rows)
        if batch.delta_link:
            next_link = batch.delta_link
        next_watermark = batch.watermark or next_watermark
        ctx.heartbeat()
    ctx.work.count(entity, "push", "read", read)
    _pending_checkpoint(
        ctx,
        entity,
        delta_link=next_link or "",
        watermark=next_watermark,
        columns=",".join(columns),
    )


def _stage_row(ctx: Context, entity: str, row: Row) -> StagedRecord:
    payload: dict = {"modified": row.modified_on.isoformat() if row.modified_on else None}
    email = ""
    if entity == "opportunity":
        pairs = ctx.snapshot.opportunity.fields
        payload["values"] = {
            pair.ac_field_id: encode_value(_dv_value(row, pair.dynamics)) for pair in pairs
        }
        contact = row.lookup("parentcontactid") or _customer_contact(row)
        payload["contact"] = contact.id if contact else None
        payload["name"] = row.text("name") if "name" in row else None
    else:
        config = ctx.entity(entity)
        values = dynamics_values(row, config.pairs)
        payload["values"] = encode_values(values)
        payload["criteria"] = encode_values(dynamics_criteria_values(row, config))
        if entity in PEOPLE:
            email = (row.text("emailaddress1") or "").strip().lower()
            if row.get("merged") and row.get("masterid") is not None:
                payload["master"] = row.lookup("masterid").id
        else:
            email = (row.text("name") or "").strip().lower() if "name" in row else ""
    return StagedRecord(
        run=ctx.run,
        entity=entity,
        side=DYNAMICS,
        record_id=row.id,
        email=email[:254],
        payload=payload,
    )


def _dv_value(row: Row, info) -> object:
    from mapping.core.records import dynamics_value

    return dynamics_value(row, info) if info.key in row else None


def _customer_contact(row: Row) -> LookupValue | None:
    customer = row.get("customerid")
    if isinstance(customer, LookupValue) and customer.table in ("contact", None):
        return customer
    return None


def _collect_ac_contacts(ctx: Context) -> None:
    checkpoint = Checkpoint.objects.filter(
        integration=ctx.integration, source=AC_CONTACTS_SOURCE
    ).first()
    since = checkpoint.watermark if checkpoint and checkpoint.watermark else ctx.run.started_at
    stream = ctx.clients.ac.contacts_changed_since(since, overlap=ac_overlap())
    read = 0
    for chunk in _chunks(stream, 500):
        StagedRecord.objects.bulk_create([_stage_contact(ctx, contact) for contact in chunk])
        read += len(chunk)
        ctx.heartbeat()
    ctx.work.count(PERSON, "pull", "read", read)
    _pending_checkpoint(ctx, AC_CONTACTS_SOURCE, watermark=ctx.run.started_at)


def _stage_contact(ctx: Context, contact: Contact) -> StagedRecord:
    payload = {
        "modified": contact.updated_at.isoformat() if contact.updated_at else None,
        "values": {
            key: encode_values(ac_values(contact, ctx.entity(key).pairs))
            for key in PEOPLE
            if ctx.snapshot.entity(key) is not None
        },
    }
    return StagedRecord(
        run=ctx.run,
        entity=PERSON,
        side=ACTIVECAMPAIGN,
        record_id=contact.id,
        email=contact.email.strip().lower()[:254],
        payload=payload,
    )


def _collect_ac_accounts(ctx: Context) -> None:
    """Every AC account (the API has no updated-since filter for accounts); those changed
    since the bookmark are to be pulled, the others serve to match names."""
    checkpoint = Checkpoint.objects.filter(
        integration=ctx.integration, source=AC_ACCOUNTS_SOURCE
    ).first()
    since = None
    if checkpoint and checkpoint.watermark and ctx.run.trigger != SyncRun.Trigger.INITIAL:
        since = checkpoint.watermark - ac_overlap()
    config = ctx.entity("account")
    read = 0
    for chunk in _chunks(ctx.clients.ac.accounts(), 500):
        staged = []
        for account in chunk:
            changed = since is not None and (
                account.updated_at is None or account.updated_at >= since
            )
            staged.append(
                StagedRecord(
                    run=ctx.run,
                    entity="account",
                    side=ACTIVECAMPAIGN,
                    record_id=account.id,
                    email=account.name.strip().lower()[:254],
                    payload={
                        "modified": account.updated_at.isoformat() if account.updated_at else None,
                        "values": encode_values(ac_values(account, config.pairs)),
                        "name": account.name,
                    },
                    handled=not changed,
                )
            )
            read += changed
        StagedRecord.objects.bulk_create(staged)
        ctx.heartbeat()
    ctx.work.count("account", "pull", "read", read)
    _pending_checkpoint(ctx, AC_ACCOUNTS_SOURCE, watermark=ctx.run.started_at)


def _pending_checkpoint(ctx: Context, source: str, **values) -> None:
    state = dict(ctx.run.state)
    pending = dict(state.get("checkpoints") or {})
    watermark = values.get("watermark")
    pending[source] = {
        "delta_link": values.get("delta_link", ""),
        "watermark": watermark.isoformat() if watermark else None,
        "columns": values.get("columns", ""),
    }
    state["checkpoints"] = pending
    ctx.run.state = state
    SyncRun.objects.filter(pk=ctx.run.pk).update(state=state)


def finish(ctx: Context, step: dict) -> None:
    """Move the checkpoint of the step's source: everything before it is committed."""
    source = {PERSON: AC_CONTACTS_SOURCE}.get(step["entity"], step["entity"])
    sources = [source] + ([AC_ACCOUNTS_SOURCE] if source == "account" else [])
    pending = dict((ctx.run.state or {}).get("checkpoints") or {})
    if source == AC_CONTACTS_SOURCE and source not in pending and ctx.run.started_at:
        # The initial sync reads no ActiveCampaign changes: the next run reads from its start.
        pending[source] = {
            "delta_link": "",
            "watermark": ctx.run.started_at.isoformat(),
            "columns": "",
        }
    for name in sources:
        values = pending.get(name)
        if values is None:
            continue
        watermark = dt.datetime.fromisoformat(values["watermark"]) if values["watermark"] else None
        Checkpoint.objects.update_or_create(
            integration=ctx.integration,
            source=name,
            defaults={
                "delta_link": values["delta_link"],
                "watermark": watermark,
                "columns": values["columns"],
                "updated_at": timezone.now(),
            },
        )


# -- units --------------------------------------------------------------------------------------


def units_filter(run: SyncRun, step: dict) -> Q:
    side = step.get("side", DYNAMICS)
    return Q(run=run, entity=step["entity"], side=side, unit__isnull=True, handled=False)


def units_create(run: SyncRun, step_index: int, step: dict) -> int:
    """Split the step's staged records into work units; the number of units made."""
    size = PUSH_UNIT_SIZE if step.get("side", DYNAMICS) == DYNAMICS else PULL_UNIT_SIZE
    if step["entity"] == "account":
        size = PULL_UNIT_SIZE
    ids = list(
        StagedRecord.objects.filter(units_filter(run, step))
        .order_by("id")
        .values_list("id", flat=True)
    )
    seq = WorkUnit.objects.filter(run=run, step=step_index).count()
    made = 0
    for chunk in _chunks(ids, size):
        with transaction.atomic():
            unit = WorkUnit.objects.create(run=run, step=step_index, seq=seq + made)
            StagedRecord.objects.filter(id__in=chunk).update(unit=unit)
        made += 1
    return made


def unit_process(ctx: Context, unit: WorkUnit, step: dict) -> None:
    """Do one unit's work; vendor calls first, then one transaction for its results."""
    records = list(StagedRecord.objects.filter(unit=unit, handled=False).order_by("id"))
    entity, side = step["entity"], step.get("side", DYNAMICS)
    if entity == "account" and side == DYNAMICS:
        AccountPush(ctx).process(records)
    elif entity == "account":
        AccountPull(ctx).process(records)
    elif entity == "opportunity":
        OpportunityPush(ctx).process(records)
    elif entity == PERSON:
        PeoplePull(ctx).process(records)
    else:
        PeoplePush(ctx, entity).process(records, unit)


# -- links ----------------------------------------------------------------------------------------


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
    dv_json = {**encode_values(base_dv), **extra_dv}
    ac_json = {**encode_values(base_ac), **extra_ac}
    link.base_dynamics = dv_json
    link.base_ac = ac_json
    link.dynamics_fingerprint = fingerprint(base_dv)
    link.ac_fingerprint = fingerprint(base_ac)
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


# -- accounts -------------------------------------------------------------------------------------


class AccountPush(_Writer):
    """Dynamics accounts → ActiveCampaign accounts, paired by link, else by name."""

    def process(self, records: list[StagedRecord]) -> None:
        entity = self.ctx.entity("account")
        ids = [r.record_id for r in records]
        links = {
            link.dynamics_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, entity="account", dynamics_id__in=ids
            )
        }
        staged_ac = {
            s.record_id: s
            for s in StagedRecord.objects.filter(
                run=self.run,
                entity="account",
                side=ACTIVECAMPAIGN,
                record_id__in=[link.ac_id for link in links.values() if link.ac_id],
            )
        }
        names = {r.email for r in records if r.email}
        by_name = {}
        for s in StagedRecord.objects.filter(
            run=self.run, entity="account", side=ACTIVECAMPAIGN, email__in=names
        ):
            by_name.setdefault(s.email, s)
        dv_writes: list[RecordWrite] = []
        saves: list[tuple[RecordLink, StagedRecord | None]] = []
        for record in records:
            if record.payload.get("deleted"):
                self._deleted(record, links.get(record.record_id))
                continue
            values = _decode(entity, record.payload["values"], DYNAMICS)
            criteria = _decode_criteria(entity, record.payload.get("criteria") or {})
            link = links.get(record.record_id)
            ids = {"dynamics_id": record.record_id, "email": record.email}
            try:
                if link is not None and link.state == RecordLink.State.LINKED and link.ac_id:
                    other = staged_ac.get(link.ac_id)
                    ac_now = (
                        _decode(entity, other.payload["values"], ACTIVECAMPAIGN) if other else None
                    )
                    result = merge_record(
                        entity,
                        base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
                        base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
                        dynamics=values,
                        ac=ac_now,
                        dynamics_changed_at=_dt(record.payload.get("modified")),
                        ac_changed_at=_dt(other.payload.get("modified")) if other else None,
                    )
                    if result.problems:
                        self.fail("account", "; ".join(result.problems), ac_id=link.ac_id, **ids)
                        continue
                    self.conflicts("account", result, ac_id=link.ac_id, **ids)
                    if result.ac_writes:
                        self._update(link.ac_id, result.ac_writes)
                        self.work.count("account", "push", "updated")
                    if result.dynamics_writes:
                        dv_writes.append(
                            RecordWrite.update(
                                "account",
                                record.record_id,
                                _dv_write_values(entity, result.dynamics_writes),
                                ref=record.record_id,
                            )
                        )
                    _link_set_base(link, result.base_dynamics, result.base_ac, {}, {}, entity)
                    saves.append((link, other))
                    continue
                changes = record_changes(values, entity, Direction.PUSH, criteria_values=criteria)
                if isinstance(changes, Skip):
                    self.skip(
                        "account",
                        str(changes),
                        record=changes.reason not in QUIET_SKIPS,
                        **ids,
                    )
                    continue
                name = str(changes.values.get("name") or "").strip()
                if not name:
                    self.skip("account", "the account has no name to match on", **ids)
                    continue
                match = by_name.get(name.lower())
                if (
                    match is not None
                    and not RecordLink.objects.filter(
                        integration=self.ctx.integration,
                        ac_object="account",
                        ac_id=match.record_id,
                        state=RecordLink.State.LINKED,
                    )
                    .exclude(dynamics_id=record.record_id)
                    .exists()
                ):
                    account_id = match.record_id
                    ac_now = _decode(entity, match.payload["values"], ACTIVECAMPAIGN)
                    wanted = {
                        k: v
                        for k, v in changes.values.items()
                        if not _same_ac(entity, k, v, ac_now)
                    }
                    if wanted:
                        self._update(account_id, wanted)
                        self.work.count("account", "push", "updated")
                    self.work.count("account", "push", "linked")
                    base_ac = {**ac_now, **_by_pair(entity, wanted, ACTIVECAMPAIGN)}
                else:
                    created = self._create(name, changes.values)
                    account_id = created.id
                    self.work.count("account", "push", "created")
                    base_ac = ac_values(created, entity.value_pairs)
                link = link or RecordLink(
                    integration=self.ctx.integration,
                    entity="account",
                    ac_object="account",
                    dynamics_id=record.record_id,
                )
                link.ac_id, link.state, link.email = (
                    account_id,
                    RecordLink.State.LINKED,
                    name.lower(),
                )
                _link_set_base(link, values, base_ac, {}, {}, entity)
                saves.append((link, match))
            except RecordError as error:
                self.fail("account", _record_error(error), **ids)
        results = self.dv_write(dv_writes)
        for ref, result in results.items():
            if not result.ok:
                self.fail("account", _record_error(result.error), dynamics_id=str(ref))
        with transaction.atomic():
            for link, other in saves:
                link.save()
                if other is not None:
                    StagedRecord.objects.filter(pk=other.pk).update(handled=True)
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)

    def _create(self, name: str, values: dict) -> Account:
        fields = [
            AccountFieldInput(key, value)
            for key, value in values.items()
            if key not in ("name", "accountUrl")
        ]
        ac = self.ctx.clients.ac
        try:
            # Every AC account was read by the collect step: a name not among them is new.
            return ac.account_create(name, url=values.get("accountUrl"), fields=fields)
        except ConflictError:  # created meanwhile (or by a first try whose answer was lost)
            return ac.account_find_or_create(name, url=values.get("accountUrl"), fields=fields)

    def _update(self, account_id: str, values: dict) -> None:
        fields = [
            AccountFieldInput(key, value)
            for key, value in values.items()
            if key not in ("name", "accountUrl") and value is not None
        ]
        self.ctx.clients.ac.account_update(
            account_id, name=values.get("name"), url=values.get("accountUrl"), fields=fields
        )

    def _deleted(self, record: StagedRecord, link: RecordLink | None) -> None:
        if link is None or link.state == RecordLink.State.DELETED:
            return
        policy = self.ctx.entity("account").deletion_policy
        ids = {"dynamics_id": record.record_id, "ac_id": link.ac_id, "email": link.email}
        if policy is DeletionPolicy.DELETE and link.ac_id:
            with contextlib.suppress(NotFoundError):
                self.ctx.clients.ac.http.request("DELETE", f"accounts/{link.ac_id}")
            reason = "Deleted in Dynamics 365: the ActiveCampaign account was deleted too."
        else:
            reason = "Deleted in Dynamics 365: the ActiveCampaign account was kept."
        link.state, link.note = RecordLink.State.DELETED, reason[:255]
        link.save(update_fields=["state", "note"])
        self.work.count("account", "push", "updated")
        self.work.record(self.run, "account", "push", RunRecord.Outcome.DELETED, reason, **ids)


class AccountPull(_Writer):
    """ActiveCampaign accounts that changed alone → Dynamics accounts."""

    direction = "pull"

    def process(self, records: list[StagedRecord]) -> None:
        entity = self.ctx.entity("account")
        links = {
            link.ac_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                ac_object="account",
                ac_id__in=[r.record_id for r in records],
                state__in=[RecordLink.State.LINKED, RecordLink.State.PENDING],
            )
        }
        writes, saves = [], []
        for record in records:
            values = _decode(entity, record.payload["values"], ACTIVECAMPAIGN)
            link = links.get(record.record_id)
            ids = {"ac_id": record.record_id, "email": record.email}
            if link is not None and link.state == RecordLink.State.LINKED:
                result = merge_record(
                    entity,
                    base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
                    base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
                    dynamics=None,
                    ac=values,
                )
                if result.problems:
                    self.fail(
                        "account", "; ".join(result.problems), dynamics_id=link.dynamics_id, **ids
                    )
                    continue
                if result.dynamics_writes:
                    writes.append(
                        RecordWrite.update(
                            "account",
                            link.dynamics_id,
                            _dv_write_values(entity, result.dynamics_writes),
                            ref=link.dynamics_id,
                        )
                    )
                    self.work.count("account", "pull", "updated")
                _link_set_base(link, result.base_dynamics, result.base_ac, {}, {}, entity)
                saves.append(link)
                continue
            if not entity.pulls:
                continue
            changes = record_changes(values, entity, Direction.PULL)
            if isinstance(changes, Skip):
                self.skip("account", str(changes), record=changes.reason not in QUIET_SKIPS, **ids)
                continue
            if link is None:
                link = RecordLink(
                    integration=self.ctx.integration,
                    entity="account",
                    ac_object="account",
                    dynamics_id=str(uuid.uuid4()),
                    ac_id=record.record_id,
                    email=record.email,
                    state=RecordLink.State.PENDING,
                )
                link.save()  # write-ahead: the GUID is known before the create is sent
            writes.append(
                RecordWrite.create(
                    "account",
                    _dv_write_values(entity, dict(changes.values)),
                    id=link.dynamics_id,
                    ref=link.dynamics_id,
                )
            )
            link.state = RecordLink.State.LINKED
            base_dv = {pair.key: None for pair in entity.value_pairs}
            base_dv.update(_by_pair(entity, changes.values, DYNAMICS))
            _link_set_base(link, base_dv, values, {}, {}, entity)
            saves.append(link)
        results = self.dv_write(writes)
        failed = set()
        for ref, result in results.items():
            if not result.ok:
                failed.add(ref)
                self.fail("account", _record_error(result.error), dynamics_id=str(ref))
            elif result.outcome in (Outcome.CREATED, Outcome.ALREADY_EXISTS):
                self.work.count("account", "pull", "created")
        with transaction.atomic():
            for link in saves:
                if link.dynamics_id in failed:
                    continue
                link.save()
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)


# -- people: pushes -------------------------------------------------------------------------------


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


@dataclass
class _NewContact:
    record: StagedRecord
    link: RecordLink
    changes: RecordChanges
    values: dict
    account_id: str = ""  # the AC account to put the contact on
    account_name: str = ""  # … or its name, for a bulk import
    rel_ac: str = ""  # the base of the account relationship on the AC side
    job_title: str | None = None


class PeoplePush(_Writer):
    """Dynamics leads or contacts → ActiveCampaign contacts (one unit)."""

    def __init__(self, ctx: Context, entity_key: str) -> None:
        super().__init__(ctx)
        self.key = entity_key
        self.entity = ctx.entity(entity_key)
        self.ac = ctx.clients.ac
        self.account_pair = next((pair for pair in self.entity.pairs if pair.relationship), None)
        self.job_pair = self.entity.pair(JOB_TITLE_KEY)
        self._accounts_by_name: dict[str, str] = {}
        self._account_links: dict[str, RecordLink | None] = {}
        self._owners: dict[str, list[RecordLink]] = {}  # e-mail -> links owning an AC contact

    def process(self, records: list[StagedRecord], unit: WorkUnit) -> None:
        integration = self.ctx.integration
        # Merges first: a merged record's link moves to its survivor before the survivor
        # itself is looked at (it then pushes its own values to the moved contact).
        merged = [r for r in records if r.payload.get("master") and not r.payload.get("deleted")]
        for record in merged:
            self._merged(
                record,
                RecordLink.objects.filter(
                    integration=integration, entity=self.key, dynamics_id=record.record_id
                ).first(),
            )
        if merged:
            StagedRecord.objects.filter(pk__in=[r.pk for r in merged]).update(handled=True)
            records = [r for r in records if r not in merged]
        links = {
            link.dynamics_id: link
            for link in RecordLink.objects.filter(
                integration=integration,
                entity=self.key,
                dynamics_id__in=[r.record_id for r in records],
            )
        }
        staged_ac = {
            s.record_id: s
            for s in StagedRecord.objects.filter(
                run=self.run,
                entity=PERSON,
                side=ACTIVECAMPAIGN,
                record_id__in=[link.ac_id for link in links.values() if link.ac_id],
            )
        }
        if self.key == "contact" and self.account_pair is not None:
            wanted = {
                r.payload.get("values", {}).get(self.account_pair.key)
                for r in records
                if not r.payload.get("deleted")
            } - {None, ""}
            wanted -= set(self._account_links)
            found = {
                link.dynamics_id: link
                for link in RecordLink.objects.filter(
                    integration=integration,
                    entity="account",
                    dynamics_id__in=list(wanted),
                    state=RecordLink.State.LINKED,
                )
            }
            for value in wanted:
                self._account_links[value] = found.get(value)
        self._owners = {}
        for owner in RecordLink.objects.filter(
            integration=integration,
            ac_object="contact",
            email__in=[r.email for r in records if r.email],
            state__in=[RecordLink.State.LINKED, RecordLink.State.PENDING],
        ):
            self._owners.setdefault(owner.email, []).append(owner)
        new: list[_NewContact] = []
        dv_writes: list[RecordWrite] = []
        saves: list[RecordLink] = []
        handled_ac: list[int] = []
        for record in records:
            link = links.get(record.record_id)
            ids = {"dynamics_id": record.record_id, "email": record.email}
            if record.payload.get("deleted"):
                self._deleted(record, link)
                continue
            values = _decode(self.entity, record.payload["values"], DYNAMICS)
            criteria = _decode_criteria(self.entity, record.payload.get("criteria") or {})
            try:
                if link is not None and link.state == RecordLink.State.LINKED and link.ac_id:
                    other = staged_ac.get(link.ac_id)
                    if other is not None:
                        handled_ac.append(other.pk)
                    self._update(record, link, values, criteria, other, dv_writes)
                    saves.append(link)
                    continue
                item = self._new(record, link, values, criteria)
                if item is not None:
                    new.append(item)
            except RecordError as error:
                self.fail(self.key, _record_error(error), ac_id=link.ac_id if link else "", **ids)
        self._create(new, unit, saves)
        results = self.dv_write(dv_writes)
        for ref, result in results.items():
            if not result.ok:
                self.fail(self.key, _record_error(result.error), dynamics_id=str(ref))
        with transaction.atomic():
            for link in saves:
                link.save()
            StagedRecord.objects.filter(pk__in=handled_ac).update(handled=True)
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)

    # - linked records -
    def _update(self, record, link, values, criteria, other, dv_writes) -> None:
        entity = self.entity
        ids = {"dynamics_id": record.record_id, "ac_id": link.ac_id, "email": record.email}
        if entity.criteria and not _criteria_ok(entity, criteria):
            # Left the selection: no longer synced, nothing deleted.
            self.skip(self.key, str(Skip(SkipReason.CRITERIA)), record=False, **ids)
            return
        ac_now = None
        if other is not None:
            ac_now = _decode(entity, other.payload["values"].get(self.key, {}), ACTIVECAMPAIGN)
        result = merge_record(
            entity,
            base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
            base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
            dynamics=values,
            ac=ac_now,
            dynamics_changed_at=_dt(record.payload.get("modified")),
            ac_changed_at=_dt(other.payload.get("modified")) if other else None,
        )
        if result.problems:
            self.fail(self.key, "; ".join(result.problems), **ids)
            return
        self.conflicts(self.key, result, **ids)
        ac_writes = dict(result.ac_writes)
        job_title = ac_writes.pop(JOB_TITLE_KEY, None) if JOB_TITLE_KEY in ac_writes else None
        rel_dv, rel_ac = self._relationship(record, link)
        if ac_writes:
            try:
                self.ac.contact_update(link.ac_id, _ac_changes(ac_writes))
            except NotFoundError:
                self._ac_gone(record, link)
                return
            self.work.count(self.key, "push", "updated")
        if rel_ac is not None or job_title is not None:
            self._account_link(link.ac_id, rel_ac, job_title)
        if result.dynamics_writes:
            dv_writes.append(
                RecordWrite.update(
                    self.key,
                    record.record_id,
                    _dv_write_values(entity, result.dynamics_writes),
                    ref=record.record_id,
                )
            )
            self.work.count(self.key, "pull", "updated")
        link.email = record.email
        extra_dv = {ACCOUNT_LINK: rel_dv} if rel_dv is not None else {}
        extra_ac = {ACCOUNT_LINK: rel_ac} if rel_ac is not None else {}
        extra_dv = {
            **{k: v for k, v in link.base_dynamics.items() if k == ACCOUNT_LINK},
            **extra_dv,
        }
        extra_ac = {**{k: v for k, v in link.base_ac.items() if k == ACCOUNT_LINK}, **extra_ac}
        _link_set_base(link, result.base_dynamics, result.base_ac, extra_dv, extra_ac, entity)

    def _relationship(self, record: StagedRecord, link: RecordLink | None):
        """(Dynamics value, AC account id) of the account link when it changed, else (v, None)."""
        if self.account_pair is None or not self.account_pair.pushes:
            return None, None
        value = record.payload["values"].get(self.account_pair.key)
        if link is not None and link.base_dynamics.get(ACCOUNT_LINK) == value:
            return value, None
        if not value:
            return value, None
        if self.key == "lead":
            return value, str(value)  # a lead's AC side is the account's name: no call yet
        return value, self._ac_account(value)

    def _ac_account(self, value: str) -> str | None:
        """The AC account for a contact's parent account id, or a lead's company name."""
        if self.key == "contact":
            if value not in self._account_links:
                self._account_links[value] = RecordLink.objects.filter(
                    integration=self.ctx.integration,
                    entity="account",
                    dynamics_id=value,
                    state=RecordLink.State.LINKED,
                ).first()
            link = self._account_links[value]
            return link.ac_id if link else None
        name = value.strip()
        key = name.lower()
        if key in self._accounts_by_name:
            return self._accounts_by_name[key]
        linked = RecordLink.objects.filter(
            integration=self.ctx.integration,
            ac_object="account",
            email=key,
            state=RecordLink.State.LINKED,
        ).first()
        staged = StagedRecord.objects.filter(
            run=self.run, entity="account", side=ACTIVECAMPAIGN, email=key
        ).first()
        if linked is not None:
            found = linked.ac_id
        elif staged is not None:
            found = staged.record_id
        else:
            found = self.ac.account_find_or_create(name).id
        self._accounts_by_name[key] = found
        return found

    def _account_link(self, contact_id: str, account_id: str | None, job_title) -> None:
        if account_id is not None and self.key == "lead":
            account_id = self._ac_account(account_id)  # the company name, as an account
        if account_id is None:
            current = self.ac.account_contact(contact_id)
            if current is None:
                return  # the job title lives on the account link: nothing to put it on
            account_id = current.account_id
        self.ac.account_contact_link(contact_id, account_id, job_title=job_title or None)

    # - new records -
    def _new(self, record, link, values, criteria) -> _NewContact | None:
        ids = {"dynamics_id": record.record_id, "email": record.email}
        changes = record_changes(values, self.entity, Direction.PUSH, criteria_values=criteria)
        if isinstance(changes, Skip):
            quiet = changes.reason in QUIET_SKIPS
            self.skip(self.key, str(changes), record=not quiet, **ids)
            self._remember(record, link, changes)
            return None
        email = record.email
        owner = next(
            (
                other
                for other in self._owners.get(email, ())
                if not (other.entity == self.key and other.dynamics_id == record.record_id)
            ),
            None,
        )
        if owner is not None:
            if self.key == "lead" or owner.entity == "contact":
                reason = (
                    f"shares the ActiveCampaign contact of Dynamics {owner.entity} "
                    f"{owner.dynamics_id} (one contact per e-mail)"
                )
                self.skip(self.key, reason, **ids)
                self._remember(record, link, Skip(SkipReason.NOTHING_TO_WRITE, reason))
                return None
            # A contact takes over the AC contact of a lead with its e-mail (a qualified
            # lead): the link and the tags move.
            self._take_over(owner)
        link = link or RecordLink(
            integration=self.ctx.integration,
            entity=self.key,
            ac_object="contact",
            dynamics_id=record.record_id,
        )
        link.email = email
        item = _NewContact(record=record, link=link, changes=changes, values=values)
        self._owners.setdefault(email, []).append(link)  # a twin in this unit shares it
        rel_dv, rel_ac = self._relationship(record, None)
        if self.job_pair is not None and JOB_TITLE_KEY in changes.values:
            item.job_title = changes.values[JOB_TITLE_KEY]
        if self.key == "lead" and rel_ac:
            item.account_name = rel_ac.strip()
            if item.job_title:
                item.account_id = self._ac_account(rel_ac) or ""
        else:
            item.account_id = rel_ac or ""
            if item.account_id and not item.job_title:
                # Bulk import puts a contact on an account by its exact name: no extra call.
                account_link = RecordLink.objects.filter(
                    integration=self.ctx.integration, ac_object="account", ac_id=item.account_id
                ).first()
                if account_link is not None:
                    item.account_name = str(account_link.base_ac.get("name|name") or "")
        item.rel_ac = rel_ac or ""
        item.link.base_dynamics = {ACCOUNT_LINK: rel_dv} if rel_dv is not None else {}
        return item

    def _remember(self, record, link, why: Skip) -> None:
        """An unsynced person keeps a row: its e-mail matches contacts coming from AC."""
        link = link or RecordLink(
            integration=self.ctx.integration,
            entity=self.key,
            ac_object="contact",
            dynamics_id=record.record_id,
        )
        if link.state in (RecordLink.State.LINKED, RecordLink.State.PENDING):
            return
        link.email, link.state, link.note = record.email, RecordLink.State.UNLINKED, str(why)[:255]
        link.save()

    def _take_over(self, lead_link: RecordLink) -> None:
        ac_id = lead_link.ac_id
        lead_link.state = RecordLink.State.UNLINKED
        lead_link.note = "qualified: its contact now owns the ActiveCampaign contact"
        lead_link.ac_id = ""
        lead_link.save(update_fields=["state", "note", "ac_id"])
        if ac_id:
            with contextlib.suppress(NotFoundError):
                self.ac.contact_tag_remove(ac_id, ENTITY_TAGS["lead"])

    def _create(self, new: list[_NewContact], unit: WorkUnit, saves: list) -> None:
        if not new:
            return
        tags = (ENTITY_TAGS[self.key], TAG_PUSHED)
        if len(new) >= BULK_IMPORT_MIN:
            self._bulk(new, unit, tags)
            return
        for item in new:
            ids = {"dynamics_id": item.record.record_id, "email": item.link.email}
            try:
                result = self.ac.contact_sync(_ac_changes(dict(item.changes.values)))
            except RecordError as error:
                self.fail(self.key, _record_error(error), **ids)
                continue
            contact = result.contact
            for tag in tags:
                self.ac.contact_tag_add(contact.id, tag)
            account_id = item.account_id
            if not account_id and item.account_name:
                account_id = self._ac_account(item.account_name) or ""
            if account_id:
                self.ac.account_contact_link(
                    contact.id, account_id, job_title=item.job_title or None
                )
            self.work.count(self.key, "push", "created" if result.created else "linked")
            item.link.ac_id, item.link.state = contact.id, RecordLink.State.LINKED
            rel = item.link.base_dynamics
            _link_set_base(
                item.link,
                item.values,
                ac_values(contact, self.entity.value_pairs),
                rel,
                {ACCOUNT_LINK: item.rel_ac} if item.rel_ac else {},
                self.entity,
            )
            saves.append(item.link)

    def _bulk(self, new: list[_NewContact], unit: WorkUnit, tags) -> None:
        contacts = []
        for item in new:
            changes = _ac_changes(dict(item.changes.values))
            contacts.append(
                ImportContact(
                    email=changes.email or item.link.email,
                    first_name=changes.first_name,
                    last_name=changes.last_name,
                    phone=changes.phone,
                    account_name=item.account_name or None,
                    tags=tags,
                    field_values=dict(changes.field_values),
                )
            )
        # Write-ahead: the links exist (PENDING, keyed by e-mail) before the import is sent;
        # an import is idempotent by e-mail, so a unit done twice imports nothing twice.
        with transaction.atomic():
            for item in new:
                item.link.state = RecordLink.State.PENDING
                item.link.ac_id = ""
                pending_ac = {
                    **item.link.base_dynamics,
                    "@pending": {
                        "values": encode_values(
                            _by_pair(self.entity, dict(item.changes.values), ACTIVECAMPAIGN)
                        ),
                        "account": item.account_id if not item.account_name else "",
                        "rel": item.rel_ac,
                        "job_title": item.job_title or "",
                        "entity": self.key,
                    },
                }
                item.link.base_ac = pending_ac
                item.link.base_dynamics = {
                    **encode_values(item.values),
                    **{k: v for k, v in item.link.base_dynamics.items() if k == ACCOUNT_LINK},
                }
            _links_save([item.link for item in new])
        result = self.ac.bulk_import(contacts, wait=0, poll_interval=1)
        pending_batches = set()
        for outcome in result.results:
            item = new[outcome.index]
            ids = {"dynamics_id": item.record.record_id, "email": item.link.email}
            if outcome.outcome in (ImportOutcome.REJECTED, ImportOutcome.FAILED):
                self.fail(self.key, f"ActiveCampaign refused the import: {outcome.reason}", **ids)
                RecordLink.objects.filter(pk=item.link.pk).update(
                    state=RecordLink.State.UNLINKED, note=outcome.reason[:255]
                )
            elif outcome.batch_id and outcome.outcome is ImportOutcome.PENDING:
                pending_batches.add(outcome.batch_id)
        state = dict(unit.state)
        state["batches"] = sorted(set(state.get("batches", [])) | pending_batches)
        state["imported"] = sorted(set(result.batch_ids))
        unit.state = state
        WorkUnit.objects.filter(pk=unit.pk).update(state=state)

    # - deletions and merges -
    def _deleted(self, record: StagedRecord, link: RecordLink | None) -> None:
        if link is None or link.state not in (RecordLink.State.LINKED, RecordLink.State.PENDING):
            if link is not None:
                link.delete()
            return
        policy = self.entity.deletion_policy
        ids = {"dynamics_id": record.record_id, "ac_id": link.ac_id, "email": link.email}
        if policy is DeletionPolicy.DELETE and link.ac_id:
            with contextlib.suppress(NotFoundError):
                self.ac.http.request("DELETE", f"contacts/{link.ac_id}")
            reason = "Deleted in Dynamics 365: the ActiveCampaign contact was deleted too."
        elif policy is DeletionPolicy.TAG and link.ac_id:
            with contextlib.suppress(NotFoundError):
                self.ac.contact_tag_add(link.ac_id, DELETED_TAG)
            reason = (
                f"Deleted in Dynamics 365: the ActiveCampaign contact was tagged “{DELETED_TAG}”."
            )
        else:
            reason = "Deleted in Dynamics 365: the ActiveCampaign contact was kept as it is."
        link.state, link.note = RecordLink.State.DELETED, reason[:255]
        link.save(update_fields=["state", "note"])
        self.work.count(self.key, "push", "updated")
        self.work.record(self.run, self.key, "push", RunRecord.Outcome.DELETED, reason, **ids)

    def _ac_gone(self, record: StagedRecord, link: RecordLink) -> None:
        reason = "The ActiveCampaign contact was deleted; the Dynamics record was kept."
        link.state, link.note = RecordLink.State.DELETED, reason
        link.save(update_fields=["state", "note"])
        self.work.record(
            self.run,
            self.key,
            "push",
            RunRecord.Outcome.DELETED,
            reason,
            dynamics_id=record.record_id,
            ac_id=link.ac_id,
            email=record.email,
        )

    def _merged(self, record: StagedRecord, link: RecordLink | None) -> bool:
        """A record merged into another (its master): the link moves to the survivor."""
        master = record.payload["master"]
        if link is None or link.state != RecordLink.State.LINKED:
            if link is not None:
                link.delete()  # the merged record is gone for good; its e-mail too
            return True
        survivor = RecordLink.objects.filter(
            integration=self.ctx.integration, entity=self.key, dynamics_id=master
        ).first()
        if survivor is None or survivor.state != RecordLink.State.LINKED:
            if survivor is not None:
                survivor.delete()
            RecordLink.objects.filter(pk=link.pk).update(dynamics_id=master)
            reason = f"Merged in Dynamics 365 into {master}: the link moved to it."
        else:
            reason = f"Merged in Dynamics 365 into {master}, which has its own contact."
            link.state, link.note = RecordLink.State.DELETED, reason[:255]
            link.save(update_fields=["state", "note"])
        self.work.record(
            self.run,
            self.key,
            "push",
            RunRecord.Outcome.DELETED,
            reason,
            dynamics_id=record.record_id,
            ac_id=link.ac_id,
            email=record.email,
        )
        return True


def _criteria_ok(entity: EntityConfig, criteria: dict) -> bool:
    from mapping.core.criteria import criteria_match

    return criteria_match(entity.criteria, criteria)


# -- people: confirming bulk imports --------------------------------------------------------------


def confirm(ctx: Context, step: dict) -> None:
    """Wait for this run's bulk imports, then learn the new contacts' ids by e-mail."""
    pending = RecordLink.objects.filter(
        integration=ctx.integration, ac_object="contact", state=RecordLink.State.PENDING
    )
    if not pending.exists():
        return
    ac = ctx.clients.ac
    batches = set()
    for state in WorkUnit.objects.filter(run=ctx.run).values_list("state", flat=True):
        batches.update(state.get("batches", []))
    waited = 0.0
    limit = getattr(settings, "SYNC_IMPORT_WAIT_SECONDS", 600)
    interval = getattr(settings, "SYNC_IMPORT_POLL_SECONDS", 2.0)
    while batches and waited <= limit:
        for batch_id in sorted(batches):
            if ac.bulk_import_status(batch_id).completed:
                batches.discard(batch_id)
        if batches:
            ctx.heartbeat()
            ac._sleep(interval)
            waited += interval
    initial = step.get("initial")
    stream = (
        ac.contacts()
        if initial
        else ac.contacts_changed_since(ctx.run.started_at, overlap=ac_overlap())
    )
    for chunk in _chunks(stream, 500):
        _confirm_chunk(ctx, chunk)
        ctx.heartbeat()
    # Whatever is still pending was not imported.
    for link in RecordLink.objects.filter(
        integration=ctx.integration, ac_object="contact", state=RecordLink.State.PENDING
    ):
        entity = (link.base_ac.get("@pending") or {}).get("entity", link.entity)
        ctx.work.count(entity, "push", "failed")
        ctx.work.record(
            ctx.run,
            entity,
            "push",
            RunRecord.Outcome.FAILED,
            "ActiveCampaign did not import this contact (the import skipped it).",
            dynamics_id=link.dynamics_id,
            email=link.email,
        )
        link.state, link.note = RecordLink.State.UNLINKED, "not imported by ActiveCampaign"
        link.base_ac = {}
        link.save(update_fields=["state", "note", "base_ac"])


def _confirm_chunk(ctx: Context, contacts: list[Contact]) -> None:
    by_email = {c.email.strip().lower(): c for c in contacts}
    links = list(
        RecordLink.objects.filter(
            integration=ctx.integration,
            ac_object="contact",
            state=RecordLink.State.PENDING,
            email__in=list(by_email),
        )
    )
    if not links:
        return
    ac = ctx.clients.ac
    taken = set(
        RecordLink.objects.filter(
            integration=ctx.integration,
            ac_object="contact",
            state=RecordLink.State.LINKED,
            ac_id__in=[c.id for c in by_email.values()],
        ).values_list("ac_id", flat=True)
    )
    # Two Dynamics records with one e-mail (sent by units side by side) share one contact:
    # a contact owns it before a lead, then the older record.
    links.sort(key=lambda item: (item.entity != "contact", item.created_at, item.pk))
    twins = []
    for link in links:
        if by_email[link.email].id in taken:
            twins.append(link)
        else:
            taken.add(by_email[link.email].id)
    for link in twins:
        link.state, link.ac_id, link.base_ac = RecordLink.State.UNLINKED, "", {}
        link.note = "shares the ActiveCampaign contact of another record with its e-mail"
    links = [link for link in links if link not in twins]
    for link in links:
        contact = by_email[link.email]
        entity = ctx.entity(link.entity)
        pending = link.base_ac.get("@pending") or {}
        if pending.get("account") or pending.get("job_title"):
            with contextlib.suppress(RecordError):
                account_id = pending.get("account") or None
                if account_id is None:
                    current = ac.account_contact(contact.id)
                    account_id = current.account_id if current else None
                if account_id:
                    ac.account_contact_link(
                        contact.id, account_id, job_title=pending.get("job_title") or None
                    )
        existed = contact.created_at is not None and contact.created_at < ctx.run.started_at
        ctx.work.count(link.entity, "push", "linked" if existed else "created")
        base_dv = _decode(entity, link.base_dynamics, DYNAMICS)
        extra_dv = {k: v for k, v in link.base_dynamics.items() if k == ACCOUNT_LINK}
        account = pending.get("rel") or pending.get("account")
        link.ac_id, link.state, link.note = contact.id, RecordLink.State.LINKED, ""
        _link_set_base(
            link,
            base_dv,
            ac_values(contact, entity.value_pairs),
            extra_dv,
            {ACCOUNT_LINK: account} if account else {},
            entity,
        )
    with transaction.atomic():
        _links_save([*twins, *links])


# -- people: pulls --------------------------------------------------------------------------------


class PeoplePull(_Writer):
    """ActiveCampaign contacts that changed alone → their Dynamics lead or contact."""

    direction = "pull"

    def process(self, records: list[StagedRecord]) -> None:
        integration = self.ctx.integration
        links = {
            link.ac_id: link
            for link in RecordLink.objects.filter(
                integration=integration,
                ac_object="contact",
                ac_id__in=[r.record_id for r in records],
                state__in=[RecordLink.State.LINKED, RecordLink.State.PENDING],
            )
        }
        gone = set(
            RecordLink.objects.filter(
                integration=integration,
                ac_object="contact",
                ac_id__in=[r.record_id for r in records if r.record_id not in links],
                state=RecordLink.State.DELETED,
            ).values_list("ac_id", flat=True)
        )
        unlinked = [r for r in records if r.record_id not in links]
        known = {}
        for link in RecordLink.objects.filter(
            integration=integration,
            ac_object="contact",
            email__in=[r.email for r in unlinked if r.email],
        ).exclude(state=RecordLink.State.DELETED):
            known.setdefault(link.email, []).append(link)
        writes: list[RecordWrite] = []
        saves: list[RecordLink] = []
        new_ids: list[tuple[RecordLink, str]] = []
        for record in records:
            link = links.get(record.record_id)
            ids = {"ac_id": record.record_id, "email": record.email}
            if record.record_id in gone:
                # Its Dynamics record was deleted (and the deletion policy applied): a change
                # in ActiveCampaign does not bring it back.
                self.skip(
                    "contact",
                    "its Dynamics 365 record was deleted; it is not created again",
                    record=False,
                    **ids,
                )
                continue
            if link is not None:
                if link.state != RecordLink.State.LINKED:
                    continue
                self._update(record, link, writes, saves)
                continue
            entity_key = self._target(record, known.get(record.email, []))
            if entity_key is None:
                continue
            entity = self.ctx.entity(entity_key)
            values = _decode(entity, record.payload["values"].get(entity_key, {}), ACTIVECAMPAIGN)
            changes = record_changes(values, entity, Direction.PULL)
            if isinstance(changes, Skip):
                self.skip(
                    entity_key,
                    str(changes),
                    record=changes.reason not in QUIET_SKIPS,
                    **ids,
                )
                continue
            existing = next(
                (item for item in known.get(record.email, []) if item.entity == entity_key),
                None,
            )
            if existing is not None and existing.note.startswith(SKIP_TEXT[SkipReason.CRITERIA]):
                # It exists in Dynamics and the criteria leave it out: not synced either way.
                self.skip(entity_key, str(Skip(SkipReason.CRITERIA)), record=False, **ids)
                continue
            if existing is not None:
                # A Dynamics record with this e-mail exists but was not synced: link it and
                # write AC's values into it (the AC contact is the one that changed).
                link = existing
                link.ac_id, link.state = record.record_id, RecordLink.State.LINKED
                writes.append(
                    RecordWrite.update(
                        entity_key,
                        link.dynamics_id,
                        _dv_write_values(entity, dict(changes.values)),
                        ref=link.dynamics_id,
                    )
                )
                self.work.count(entity_key, "pull", "linked")
            else:
                link = RecordLink(
                    integration=integration,
                    entity=entity_key,
                    ac_object="contact",
                    dynamics_id=str(uuid.uuid4()),
                    ac_id=record.record_id,
                    email=record.email,
                    state=RecordLink.State.PENDING,
                )
                link.save()  # write-ahead: the GUID is stored before the create is sent
                writes.append(
                    RecordWrite.create(
                        entity_key,
                        _dv_write_values(entity, dict(changes.values)),
                        id=link.dynamics_id,
                        ref=link.dynamics_id,
                    )
                )
                new_ids.append((link, entity_key))
                link.state = RecordLink.State.LINKED
            base_dv = {pair.key: None for pair in entity.value_pairs}
            base_dv.update(_by_pair(entity, dict(changes.values), DYNAMICS))
            _link_set_base(link, base_dv, values, {}, {}, entity)
            saves.append(link)
        results = self.dv_write(writes)
        failed = set()
        for ref, result in results.items():
            entity_key = result.write.table
            if not result.ok:
                failed.add(ref)
                link = next((item for item in saves if item.dynamics_id == ref), None)
                self.fail(
                    entity_key,
                    _record_error(result.error),
                    dynamics_id=str(ref),
                    ac_id=link.ac_id if link else "",
                    email=link.email if link else "",
                )
            elif result.outcome in (Outcome.CREATED, Outcome.ALREADY_EXISTS):
                self.work.count(entity_key, "pull", "created")
        tagged = [link for link, _ in new_ids if link.dynamics_id not in failed]
        self._tag(tagged)
        with transaction.atomic():
            for link in saves:
                if link.dynamics_id in failed:
                    if (
                        link.pk
                        and link.state == RecordLink.State.LINKED
                        and any(link is new for new, _ in new_ids)
                    ):
                        RecordLink.objects.filter(pk=link.pk).delete()
                    continue
                link.save()
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)

    def _target(self, record: StagedRecord, known: list[RecordLink]) -> str | None:
        """Which Dynamics entity a new AC contact becomes: contact if contacts pull, else lead
        (or the one a single-record sync asked for)."""
        prefer = record.payload.get("prefer")
        preferred = self.ctx.snapshot.entity(prefer) if prefer in PEOPLE else None
        if (
            preferred is not None
            and preferred.pulls
            and (not known or any(link.entity == prefer for link in known))
        ):
            return prefer
        for key in PEOPLE:
            config = self.ctx.snapshot.entity(key)
            if (
                config is not None
                and config.pulls
                and (not known or any(link.entity == key for link in known))
            ):
                return key
        return None

    def _update(self, record, link, writes, saves) -> None:
        entity = self.ctx.entity(link.entity)
        values = _decode(entity, record.payload["values"].get(link.entity, {}), ACTIVECAMPAIGN)
        ids = {"ac_id": record.record_id, "dynamics_id": link.dynamics_id, "email": record.email}
        result = merge_record(
            entity,
            base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
            base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
            dynamics=None,
            ac=values,
        )
        if result.problems:
            self.fail(link.entity, "; ".join(result.problems), **ids)
            return
        if result.dynamics_writes:
            writes.append(
                RecordWrite.update(
                    link.entity,
                    link.dynamics_id,
                    _dv_write_values(entity, result.dynamics_writes),
                    ref=link.dynamics_id,
                )
            )
            self.work.count(link.entity, "pull", "updated")
        link.email = record.email
        keep_dv = {k: v for k, v in link.base_dynamics.items() if k == ACCOUNT_LINK}
        keep_ac = {k: v for k, v in link.base_ac.items() if k == ACCOUNT_LINK}
        _link_set_base(link, result.base_dynamics, result.base_ac, keep_dv, keep_ac, entity)
        saves.append(link)

    def _tag(self, links: list[RecordLink]) -> None:
        """Tag the contacts pulled into Dynamics: by bulk import (tags by name) when many."""
        if not links:
            return
        ac = self.ctx.clients.ac
        if len(links) >= BULK_IMPORT_MIN:
            contacts = [
                ImportContact(email=link.email, tags=(ENTITY_TAGS[link.entity], TAG_PULLED))
                for link in links
            ]
            ac.bulk_import(contacts, wait=0, poll_interval=1)
            return
        for link in links:
            for tag in (ENTITY_TAGS[link.entity], TAG_PULLED):
                with contextlib.suppress(RecordError):
                    ac.contact_tag_add(link.ac_id, tag)


# -- opportunities --------------------------------------------------------------------------------


class OpportunityPush(_Writer):
    """Dynamics opportunities → records of the ActiveCampaign custom object, on the contact."""

    def process(self, records: list[StagedRecord]) -> None:
        config = self.ctx.snapshot.opportunity
        ac = self.ctx.clients.ac
        schema = ac.custom_object_schema(config.schema_id)
        contacts = {
            link.dynamics_id: link.ac_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                entity="contact",
                state=RecordLink.State.LINKED,
                dynamics_id__in=[
                    r.payload.get("contact") for r in records if r.payload.get("contact")
                ],
            )
        }
        links = {
            link.dynamics_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                entity="opportunity",
                dynamics_id__in=[r.record_id for r in records],
            )
        }
        saves = []
        for record in records:
            ids = {"dynamics_id": record.record_id}
            link = links.get(record.record_id)
            if record.payload.get("deleted"):
                if link is not None:
                    link.state = RecordLink.State.DELETED
                    saves.append(link)
                continue
            contact_id = contacts.get(record.payload.get("contact") or "")
            if not contact_id:
                self.skip(
                    "opportunity",
                    "its contact is not synced with ActiveCampaign (opportunities sync only "
                    "with a synced contact)",
                    **ids,
                )
                continue
            values = {}
            problems = []
            for pair in config.fields:
                raw = record.payload["values"].get(pair.ac_field_id)
                try:
                    value = decode_value(raw, pair.dynamics.type)
                    values[pair.ac_field_id] = convert(
                        value, source=pair.dynamics, target=pair.ac, value_map=_label_map(pair)
                    )
                except (TransformError, ValueError, TypeError) as error:
                    problems.append(getattr(error, "message", str(error)))
            if problems:
                self.fail("opportunity", "; ".join(problems), **ids)
                continue
            digest = fingerprint(values)
            if link is not None and link.ac_fingerprint == digest and link.ac_id:
                continue  # no change since the last write: no echo
            try:
                written = ac.custom_object_record_upsert(
                    schema, external_id=record.record_id, values=values, contact_id=contact_id
                )
            except RecordError as error:
                self.fail("opportunity", _record_error(error), **ids)
                continue
            self.work.count("opportunity", "push", "updated" if link else "created")
            link = link or RecordLink(
                integration=self.ctx.integration,
                entity="opportunity",
                ac_object="opportunity",
                dynamics_id=record.record_id,
            )
            link.ac_id, link.state = written.id, RecordLink.State.LINKED
            link.ac_fingerprint = digest
            link.email = (record.payload.get("name") or "")[:254]
            link.last_synced_at = timezone.now()
            saves.append(link)
        with transaction.atomic():
            for link in saves:
                link.save()
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)


def _label_map(pair) -> dict[str, str]:
    """Choice options become the custom object's options, which are the option labels."""
    return {option.value: option.label for option in pair.dynamics.options} | {
        "true": "Yes",
        "false": "No",
    }


def is_configuration_error(error: BaseException) -> bool:
    return isinstance(error, ConfigurationError)


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, RetryableError)


__all__ = [
    "ACTIVECAMPAIGN",
    "COUNT_NAMES",
    "DYNAMICS",
    "PERSON",
    "Context",
    "FieldPair",
    "Work",
    "collect",
    "confirm",
    "finish",
    "plan_steps",
    "unit_process",
    "units_create",
]
