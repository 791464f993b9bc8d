"""Reading what changed on each side into staged records; units; checkpoints."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.activecampaign.records import (
    Contact,
)
from connectors.dynamics.records import LookupValue, Row
from connectors.errors import (
    NotFoundError,
)
from mapping.core.records import (
    ac_values,
    dynamics_criteria_values,
    dynamics_values,
    encode_value,
    encode_values,
)

from ..clients import DYNAMICS_PAGE_SIZE
from ..models import Checkpoint, RecordLink, RunRecord, StagedRecord, SyncRun, WorkUnit
from .base import (
    AC_ACCOUNTS_SOURCE,
    AC_CONTACTS_SOURCE,
    ACTIVECAMPAIGN,
    DYNAMICS,
    ENTITY_ORDER,
    MERGE_COLUMNS,
    PEOPLE,
    PERSON,
    PULL_UNIT_SIZE,
    PUSH_UNIT_SIZE,
    Context,
    _chunks,
)


def ac_overlap() -> dt.timedelta:
    """How far before the bookmark an ActiveCampaign read starts.

    `filters[updated_after]` is documented as a date; whether the time part and zone are
    honoured is not (https://developers.activecampaign.com/reference/list-all-contacts). The
    client filters on `udate` itself, so a date-only reading costs reads, never changes.
    """
    return dt.timedelta(minutes=getattr(settings, "SYNC_AC_OVERLAP_MINUTES", 10))


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
            account = ac.accounts.get(step["ac_id"])
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
            staged = _stage_contact(ctx, ac.contacts.get(step["ac_id"]))
            if entity in PEOPLE:
                staged.payload["prefer"] = entity  # what a new contact should become
                _people_seen(ctx, staged.email)
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


def _people_seen(ctx: Context, email: str) -> None:
    """The Dynamics leads and contacts with this e-mail get their row, as a run's collect
    would have given them: a single-record sync of an ActiveCampaign contact reads nothing
    else of Dynamics, and its pull must link such a record, not create a second one."""
    if not email:
        return
    seen = set(
        RecordLink.objects.filter(
            integration=ctx.integration, entity__in=PEOPLE, email=email
        ).values_list("entity", "dynamics_id")
    )
    for entity in PEOPLE:
        config = ctx.snapshot.entity(entity)
        if config is None or not config.enabled:
            continue
        for row in ctx.clients.dv.find_by_email(entity, email, ("emailaddress1",)):
            if (entity, row.id) not in seen:
                RecordLink.objects.get_or_create(
                    integration=ctx.integration,
                    entity=entity,
                    dynamics_id=row.id,
                    defaults={
                        "ac_object": "contact",
                        "email": email,
                        "state": RecordLink.State.UNLINKED,
                        "note": "found by e-mail for a single-record sync",
                    },
                )


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
    stream = ctx.clients.ac.contacts.changed_since(since, overlap=ac_overlap())
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
    for chunk in _chunks(ctx.clients.ac.accounts.all(), 500):
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
