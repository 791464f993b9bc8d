"""Reads for the sync pages and the dashboard: progress of a run, history, a run's records."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from integrations.models import Integration
from mapping.core.standard import ENTITIES

from .models import (
    ENTITY_LABELS,
    RecordLink,
    RunRecord,
    StagedRecord,
    SyncRun,
    SyncSettings,
    WorkUnit,
)

COUNT_NAMES = ("read", "created", "updated", "linked", "skipped", "conflicts", "failed")


@dataclass(frozen=True)
class EntityProgress:
    entity: str
    label: str
    done: int
    total: int
    rate: float | None  # records per second
    seconds_left: float | None

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


@dataclass(frozen=True)
class RunProgress:
    run: SyncRun
    entities: list[EntityProgress]
    step: str  # what the run is doing now, in words
    counts: list[tuple[str, str, dict]]  # (entity label, direction, counts)


def sync_settings_current(*, integration: Integration) -> SyncSettings | None:
    return SyncSettings.objects.filter(integration=integration).first()


def run_active(*, integration: Integration) -> SyncRun | None:
    return (
        SyncRun.objects.filter(integration=integration, status__in=SyncRun.ACTIVE)
        .exclude(trigger__in=SyncRun.INLINE)
        .first()
    )


def run_latest(*, integration: Integration) -> SyncRun | None:
    return (
        SyncRun.objects.filter(integration=integration).exclude(trigger__in=SyncRun.INLINE).first()
    )


def run_progress(*, run: SyncRun) -> RunProgress:
    """Records done / total per entity (live while running), rate and time left."""
    from .services import run_counts

    entities = []
    if run.is_active:
        rows = (
            StagedRecord.objects.filter(run=run)
            .values("entity")
            .annotate(total=Count("id"), done=Count("id", filter=Q(handled=True)))
            .order_by()
        )
        elapsed = (timezone.now() - run.started_at).total_seconds() if run.started_at else 0
        for row in rows:
            done, total = row["done"], row["total"]
            rate = done / elapsed if elapsed > 0 and done else None
            left = (total - done) / rate if rate else None
            entities.append(
                EntityProgress(
                    row["entity"],
                    ENTITY_LABELS.get(row["entity"], row["entity"]),
                    done,
                    total,
                    rate,
                    left,
                )
            )
        counts = run_counts(run)
    else:
        counts = run.counts or {}
        for entity, directions in counts.items():
            read = sum(c.get("read", 0) for c in directions.values())
            entities.append(
                EntityProgress(entity, ENTITY_LABELS.get(entity, entity), read, read, None, None)
            )
    order = {key: index for index, key in enumerate([*ENTITIES, "person"])}
    entities.sort(key=lambda item: order.get(item.entity, 99))
    step = ""
    if run.is_active and run.step_index < len(run.steps):
        from .engine import step_label

        step = step_label(run.steps[run.step_index])
        open_units = WorkUnit.objects.filter(run=run, step=run.step_index)
        if open_units.exists():
            done = open_units.filter(status=WorkUnit.Status.DONE).count()
            step += " " + gettext("(%(done)s of %(total)s batches)") % {
                "done": done,
                "total": open_units.count(),
            }
    rows = []
    for entity in sorted(counts, key=lambda key: order.get(key, 99)):
        for direction in ("push", "pull"):
            if direction in counts[entity]:
                values = {name: counts[entity][direction].get(name, 0) for name in COUNT_NAMES}
                rows.append((ENTITY_LABELS.get(entity, entity), direction, values))
    return RunProgress(run=run, entities=entities, step=step, counts=rows)


def runs_list(*, integration: Integration, limit: int = 100) -> list[SyncRun]:
    return list(
        SyncRun.objects.filter(integration=integration)
        .select_related("actor")
        .annotate(
            failed_records=Count("records", filter=Q(records__outcome=RunRecord.Outcome.FAILED)),
            conflict_records=Count(
                "records", filter=Q(records__outcome=RunRecord.Outcome.CONFLICT)
            ),
        )[:limit]
    )


def run_records(
    *, run: SyncRun, entity: str = "", outcome: str = "", limit: int = 500
) -> QuerySet[RunRecord]:
    records = run.records.all()
    if entity:
        records = records.filter(entity=entity)
    if outcome:
        records = records.filter(outcome=outcome)
    return records[:limit]


@dataclass(frozen=True)
class DashboardSync:
    settings: SyncSettings | None
    last_run: SyncRun | None
    active_run: SyncRun | None

    @property
    def paused_reason(self) -> str:
        return self.settings.paused_reason if self.settings else ""


def dashboard_sync(*, integration: Integration | None) -> DashboardSync | None:
    """The last run and the paused state, for the dashboard card."""
    if integration is None:
        return None
    return DashboardSync(
        settings=sync_settings_current(integration=integration),
        last_run=run_latest(integration=integration),
        active_run=run_active(integration=integration),
    )


# -- the records section (records app): synced people and their history ----------------------
def record_links_synced(*, integration: Integration, entity: str) -> QuerySet[RecordLink]:
    """The entity's records linked to an ActiveCampaign contact."""
    return RecordLink.objects.filter(
        integration=integration, entity=entity, state=RecordLink.State.LINKED
    ).exclude(ac_id="")


def record_link_synced(
    *, integration: Integration, entity: str, dynamics_id: str
) -> RecordLink | None:
    return (
        record_links_synced(integration=integration, entity=entity)
        .filter(dynamics_id=dynamics_id)
        .first()
    )


def record_problems(
    *, integration: Integration, dynamics_id: str, ac_id: str = "", limit: int = 20
) -> list[RunRecord]:
    """A person's failures and conflicts in the run history, newest first (by either id: a
    pulled record may be known by its ActiveCampaign id only)."""
    same = Q(dynamics_id=dynamics_id)
    if ac_id:
        # AC ids are per object type: an account or opportunity with this id is someone else.
        same |= Q(ac_id=ac_id) & ~Q(entity__in=("account", "opportunity"))
    return list(
        RunRecord.objects.filter(
            same,
            run__integration=integration,
            outcome__in=(RunRecord.Outcome.FAILED, RunRecord.Outcome.CONFLICT),
        )
        .select_related("run")
        .order_by("-id")[:limit]
    )
