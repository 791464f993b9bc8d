"""Sync runs: started, driven, claimed, finished; sync settings and their beat schedule.

Who calls what:
- pages and the CLI: `sync_settings_save`, `run_start` (Sync now, initial sync), `run_retry`;
- Celery tasks (sync.tasks, thin): `run_advance`, `unit_run`, `runs_resume` (every minute),
  `scheduled_run_start` (the integration's own beat entry);
- other apps: `record_sync` (one record through the same decisions and links).

A run's driver holds a lease on the run row (a conditional UPDATE); work units are claimed
the same way. A process that dies leaves a lease that expires: `runs_resume` (beat, every
minute) hands the run or unit to whoever comes next, so neither a killed worker nor a
flushed Redis queue loses anything, and nothing runs twice at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from connectors.errors import ConfigurationError, ConnectorError, RetryableError, user_message
from integrations.models import Integration
from mapping.core.standard import ENTITIES
from mapping.selectors import config_snapshot
from observability.logs import bind, log_context

from . import engine
from .clients import Clients
from .models import RunRecord, StagedRecord, SyncRun, SyncSettings, WorkUnit

logger = logging.getLogger(__name__)

SCHEDULE_TASK = "sync.scheduled_run"


def lease_seconds() -> float:
    return float(getattr(settings, "SYNC_LEASE_SECONDS", 120))


# The field that matches records, as the refusal names it.
_KEY_FIELD_WORDS = {"name": gettext_noop("name"), "email": gettext_noop("email")}


class RunRefused(Exception):
    """A run cannot start now; `message` says why (another run is going, sync is off…)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- settings -------------------------------------------------------------------------------------


def sync_settings_get(*, integration: Integration) -> SyncSettings:
    return SyncSettings.objects.get_or_create(integration=integration)[0]


@dataclass(frozen=True)
class SettingsSaved:
    settings: SyncSettings
    initial_run: SyncRun | None


def sync_settings_save(
    *, integration: Integration, enabled: bool, schedule_hours: int, actor=None
) -> SettingsSaved:
    """Save global sync and the frequency; keep the beat entry in step; the first time sync
    is on (and connected), start the initial sync (S-4.2)."""
    from integrations.services import audit_record

    with transaction.atomic():
        current = SyncSettings.objects.select_for_update().get_or_create(integration=integration)[0]
        before = {"enabled": current.enabled, "schedule_hours": current.schedule_hours}
        current.enabled = enabled
        current.schedule_hours = schedule_hours
        if enabled:
            current.paused_reason, current.paused_at = "", None  # saved again: try again
        current.save()
        schedule_sync(settings=current)
        after = {"enabled": enabled, "schedule_hours": schedule_hours}
        if before != after:
            audit_record(
                integration=integration,
                actor=actor,
                action="sync.settings",
                summary="Saved the sync settings",
                changes={k: {"old": before[k], "new": v} for k, v in after.items()},
            )
    initial = None
    if enabled and current.initial_sync_at is None and integration.is_connected:
        try:
            initial = run_start(
                integration=integration, trigger=SyncRun.Trigger.INITIAL, actor=actor
            )
        except RunRefused:
            initial = None
    return SettingsSaved(settings=current, initial_run=initial)


def schedule_name(integration: Integration) -> str:
    return f"Sync: integration {integration.pk}"


def schedule_sync(*, settings: SyncSettings) -> None:
    """The integration's django-celery-beat entry: created, changed, or removed (sync off)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    name = schedule_name(settings.integration)
    if not settings.enabled:
        PeriodicTask.objects.filter(name=name).delete()
        return
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=settings.schedule_hours, period=IntervalSchedule.HOURS
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": SCHEDULE_TASK,
            "interval": interval,
            "args": f"[{settings.integration.pk}]",
            "enabled": True,
            "description": f"Scheduled sync of {settings.integration.name}",
        },
    )


def sync_pause(*, integration: Integration, reason: str) -> None:
    """A configuration error stops the schedule until someone fixes it and saves or syncs."""
    SyncSettings.objects.update_or_create(
        integration=integration,
        defaults={"paused_reason": reason, "paused_at": timezone.now()},
    )


# -- starting runs --------------------------------------------------------------------------------


def run_start(
    *,
    integration: Integration,
    trigger: str = SyncRun.Trigger.MANUAL,
    entity: str = "",
    actor=None,
    retry_of: SyncRun | None = None,
    enqueue: bool = True,
    steps: list[dict] | None = None,
) -> SyncRun:
    """Create a run (queued) and hand it to a worker; RunRefused when it cannot start."""
    if not integration.is_connected:
        raise RunRefused(gettext("Connect ActiveCampaign and Dynamics 365 in Settings first."))
    current = sync_settings_get(integration=integration)
    if not current.enabled:
        raise RunRefused(gettext("Global sync is off: turn it on in Sync settings first."))
    snapshot = _snapshot_ready(integration)
    if entity and (
        entity not in engine.ENTITY_ORDER
        or not (
            (snapshot.entity(entity) and snapshot.entity(entity).enabled)
            or (entity == "opportunity" and snapshot.opportunity.enabled)
        )
    ):
        raise RunRefused(
            gettext("%(entity)s is not synced: switch it on first.")
            % {"entity": gettext(ENTITIES[entity].label) if entity in ENTITIES else entity}
            if entity
            else gettext("That entity is not synced: switch it on first.")
        )
    initial = trigger == SyncRun.Trigger.INITIAL
    steps = steps or engine.plan_steps(snapshot, entity=entity, initial=initial)
    if not steps:
        raise RunRefused(gettext("Nothing to sync: every entity is switched off."))
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                integration=integration,
                trigger=trigger,
                entity=entity,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                retry_of=retry_of,
                steps=steps,
            )
            if initial:
                SyncSettings.objects.filter(pk=current.pk).update(initial_sync_at=timezone.now())
            if trigger in (SyncRun.Trigger.MANUAL, SyncRun.Trigger.RETRY):
                SyncSettings.objects.filter(pk=current.pk).update(paused_reason="", paused_at=None)
            if enqueue:
                transaction.on_commit(lambda: _enqueue_advance(run.pk))
    except IntegrityError:
        raise RunRefused(
            gettext("A sync is already running for this integration; it was not started twice.")
        ) from None
    return run


def _snapshot_ready(integration: Integration):
    """The configuration a run can start with: the default one if none was saved yet, field
    lists read once if none are cached, and the key mappings present (RunRefused if not)."""
    from mapping.services import entity_syncs_ensure, metadata_ensure

    entity_syncs_ensure(integration=integration)
    metadata, problem = metadata_ensure(integration=integration)
    if not metadata.complete:
        raise RunRefused(
            problem
            or gettext(
                "The field lists of the two services are not known yet: press Refresh fields "
                "on the Data configuration page."
            )
        )
    snapshot = config_snapshot(integration=integration)
    for key, config in snapshot.entities.items():
        key_field = "name" if key == "account" else "email"
        if config.enabled and config.pair(key_field) is None:
            details = "; ".join(config.problems)
            text = gettext("%(entity)s cannot sync without their %(field)s mapping") % {
                "entity": gettext(ENTITIES[key].label) if key in ENTITIES else key,
                "field": gettext(_KEY_FIELD_WORDS[key_field]),
            }
            raise RunRefused(f"{text} ({details})" if details else f"{text}.")
    return snapshot


@log_context()  # the ids it binds for the log end when it returns
def scheduled_run_start(*, integration_id: int) -> SyncRun | None:
    """The beat tick of one integration: a run unless sync is off, paused, not yet initially
    synced, or already running (then nothing: the tick is a no-op)."""
    bind(integration=integration_id)
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return None
    current = sync_settings_get(integration=integration)
    if not current.enabled or current.paused_reason or current.initial_sync_at is None:
        return None
    try:
        return run_start(integration=integration, trigger=SyncRun.Trigger.SCHEDULE)
    except RunRefused as refused:
        logger.info("scheduled sync of %s not started: %s", integration, refused.message)
        return None


def run_retry(*, run: SyncRun, actor=None, enqueue: bool = True) -> SyncRun:
    """Sync again the records that failed in `run`: each is read again by its id (from the
    side it was going from) and goes through the same decisions; checkpoints do not move."""
    failed = run.records.filter(outcome=RunRecord.Outcome.FAILED, retried=False)
    if not failed.exists():
        raise RunRefused(gettext("This run has no failed records left to retry."))
    pushes: dict[str, set[str]] = {}
    pulls: dict[str, set[str]] = {}
    for record in failed:
        if record.direction == "pull" and record.ac_id:
            pulls.setdefault(record.entity, set()).add(record.ac_id)
        elif record.dynamics_id:
            pushes.setdefault(record.entity, set()).add(record.dynamics_id)
    steps: list[dict] = []
    for entity in engine.ENTITY_ORDER:
        if entity in pushes:
            steps.append({"kind": "collect_ids", "entity": entity, "ids": sorted(pushes[entity])})
            steps.append({"kind": "apply", "entity": entity, "side": engine.DYNAMICS})
            if entity in engine.PEOPLE:
                steps.append({"kind": "confirm", "entity": engine.PERSON})
    people = sorted(set().union(*(pulls.get(key, set()) for key in engine.PEOPLE)))
    if people:
        steps.append(
            {"kind": "collect_ids", "entity": engine.PERSON, "ac_ids": people, "as": "contact"}
        )
        steps.append({"kind": "apply", "entity": engine.PERSON, "side": engine.ACTIVECAMPAIGN})
    if pulls.get("account"):
        steps.append(
            {"kind": "collect_ids", "entity": "account", "ac_ids": sorted(pulls["account"])}
        )
        steps.append({"kind": "apply", "entity": "account", "side": engine.ACTIVECAMPAIGN})
    if not steps:
        raise RunRefused("The failed records cannot be found again to retry them.")
    retry = run_start(
        integration=run.integration,
        trigger=SyncRun.Trigger.RETRY,
        actor=actor,
        retry_of=run,
        steps=steps,
        enqueue=enqueue,
    )
    failed.update(retried=True)
    return retry


def _enqueue_advance(run_id: int, countdown: float = 0) -> None:
    from .tasks import run_advance_task

    run_advance_task.apply_async((run_id,), countdown=countdown)


def _enqueue_unit(unit_id: int, countdown: float = 0) -> None:
    from .tasks import unit_run_task

    unit_run_task.apply_async((unit_id,), countdown=countdown)


# -- the driver -----------------------------------------------------------------------------------


_snapshots: dict[int, object] = {}


def _snapshot(run: SyncRun):
    """The configuration snapshot of a run, read once per run in each process."""
    snapshot = _snapshots.get(run.pk)
    if snapshot is None:
        if len(_snapshots) > 32:
            _snapshots.clear()
        snapshot = _snapshots[run.pk] = config_snapshot(integration=run.integration)
    return snapshot


class _Lease:
    """A driver's hold on a run: claimed, extended and released only while it is its own.

    The lease is the run's `lease_until`; each write checks the value this driver last set,
    so a driver that was too slow (its lease expired and another took over) never clears or
    extends the other's lease, and never moves the run a step.
    """

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.until: dt.datetime | None = None

    def claim(self) -> bool:
        now = timezone.now()
        until = now + dt.timedelta(seconds=lease_seconds())
        claimed = SyncRun.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            pk=self.run_id,
            status__in=SyncRun.ACTIVE,
        ).update(lease_until=until, status=SyncRun.Status.RUNNING)
        if not claimed:
            return False
        self.until = until
        SyncRun.objects.filter(pk=self.run_id, started_at__isnull=True).update(started_at=now)
        return True

    def mine(self):
        return SyncRun.objects.filter(pk=self.run_id, lease_until=self.until)

    def extend(self) -> None:
        until = timezone.now() + dt.timedelta(seconds=lease_seconds())
        if not self.mine().update(lease_until=until):
            raise _LeaseLost()
        self.until = until

    def release(self) -> None:
        if self.until is not None:
            self.mine().update(lease_until=None)
            self.until = None


class _LeaseLost(Exception):
    """Another driver took the run over (this one was silent longer than the lease)."""


@log_context()  # the ids it binds for the log end when it returns
def run_advance(*, run_id: int, inline: bool = False, progress: Callable | None = None) -> str:
    """Drive a run as far as it can go now: "done", "waiting" (units out), "busy", "retry".

    inline: process the work units here too (the CLI, single-record syncs, tests).
    """
    lease = _Lease(run_id)
    if not lease.claim():
        return "busy"
    run = SyncRun.objects.select_related("integration").get(pk=run_id)
    bind(integration=run.integration_id, run=run.pk)
    clients = Clients(run.integration)
    try:
        while True:
            run.refresh_from_db()
            if run.status not in SyncRun.ACTIVE:
                return "done"
            current = SyncSettings.objects.filter(integration=run.integration).first()
            if current is not None and not current.enabled and run.trigger not in SyncRun.INLINE:
                _run_end(run, SyncRun.Status.FAILED, "Stopped: global sync was turned off.")
                return "done"
            if run.step_index >= len(run.steps):
                _run_end(run, SyncRun.Status.SUCCEEDED, "")
                return "done"
            step = run.steps[run.step_index]
            if progress:
                progress(run, step)
            if step["kind"] == "apply":
                engine.units_create(run, run.step_index, step)
                open_units = WorkUnit.objects.filter(run=run, step=run.step_index).exclude(
                    status=WorkUnit.Status.DONE
                )
                if open_units.exists():
                    if inline:
                        for unit_id in list(open_units.values_list("pk", flat=True)):
                            unit_run(unit_id=unit_id, extend=lease.extend)
                        continue
                    lease.release()
                    for unit_id in list(open_units.values_list("pk", flat=True)):
                        transaction.on_commit(lambda u=unit_id: _enqueue_unit(u))
                    # A unit that finished while this driver held the run found it busy when
                    # it handed it back: then go on here rather than wait for the next tick.
                    if not open_units.exists() and lease.claim():
                        continue
                    return "waiting"
            else:
                ctx = engine.Context(
                    run=run, snapshot=_snapshot(run), clients=clients, heartbeat=lease.extend
                )
                handlers = {
                    "collect": engine.collect,
                    "collect_record": engine.collect_record,
                    "collect_ids": engine.collect_ids,
                    "confirm": engine.confirm,
                    "finish": engine.finish,
                }
                handlers[step["kind"]](ctx, step)
                _driver_work_save(run, ctx.work)
            if (
                not lease.mine()
                .filter(step_index=run.step_index)
                .update(step_index=run.step_index + 1)
            ):
                raise _LeaseLost()
            lease.extend()
    except _LeaseLost:
        logger.warning("run %s: another worker took over its driver", run_id)
        return "busy"
    except ConfigurationError as error:
        _run_stop(run, user_message(error))
        return "done"
    except RetryableError as error:
        logger.warning("run %s: %s; retried later", run_id, error)
        return "retry"
    except ConnectorError as error:
        # Not about one record (those are handled inside): the run cannot go on as set up.
        _run_stop(run, user_message(error))
        return "done"
    finally:
        lease.release()


def _driver_work_save(run: SyncRun, work: engine.Work) -> None:
    work.save()
    if not work.counts:
        return
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().get(pk=run.pk)
        state = dict(locked.state)
        state["driver_counts"] = _merge_counts(state.get("driver_counts") or {}, work.counts_json())
        locked.state = state
        locked.save(update_fields=["state"])
    run.state = state
    work.counts.clear()


def _merge_counts(left: dict, right: dict) -> dict:
    out = {entity: {d: dict(c) for d, c in dirs.items()} for entity, dirs in left.items()}
    for entity, dirs in right.items():
        for direction, counts in dirs.items():
            target = out.setdefault(entity, {}).setdefault(direction, {})
            for name, n in counts.items():
                target[name] = target.get(name, 0) + n
    return out


def run_counts(run: SyncRun) -> dict:
    """Counts so far: the driver's and every finished unit's."""
    counts = dict((run.state or {}).get("driver_counts") or {})
    for unit_counts in (
        WorkUnit.objects.filter(run=run).exclude(counts={}).values_list("counts", flat=True)
    ):
        counts = _merge_counts(counts, unit_counts)
    return counts


def _run_end(run: SyncRun, status: str, message: str) -> None:
    counts = run_counts(run)
    SyncRun.objects.filter(pk=run.pk).update(
        status=status, message=message, finished_at=timezone.now(), counts=counts, lease_until=None
    )
    StagedRecord.objects.filter(run=run).delete()
    logger.info("sync run %s %s%s", run.pk, status, f": {message}" if message else "")
    _snapshots.pop(run.pk, None)


def _run_stop(run: SyncRun, message: str) -> None:
    """A configuration error: the run stops with one message and the schedule pauses."""
    logger.warning("run %s stopped: %s", run.pk, message)
    _run_end(run, SyncRun.Status.FAILED, message)
    if run.trigger not in SyncRun.INLINE:
        sync_pause(integration=run.integration, reason=message)


# -- units ----------------------------------------------------------------------------------------


MAX_UNIT_ATTEMPTS = 5


@log_context()  # the ids it binds for the log end when it returns
def unit_run(*, unit_id: int, extend: Callable[[], None] | None = None) -> str:
    """Claim one work unit and do it: "done", "busy" (someone has it), "retry"."""
    now = timezone.now()
    lease = dt.timedelta(seconds=lease_seconds())
    claimed = WorkUnit.objects.filter(
        Q(status=WorkUnit.Status.PENDING) | Q(status=WorkUnit.Status.CLAIMED, lease_until__lt=now),
        pk=unit_id,
        run__status=SyncRun.Status.RUNNING,
    ).update(status=WorkUnit.Status.CLAIMED, lease_until=now + lease)
    if not claimed:
        return "busy"
    WorkUnit.objects.filter(pk=unit_id).update(attempts=models_f("attempts") + 1)
    unit = WorkUnit.objects.select_related("run__integration").get(pk=unit_id)
    run = unit.run
    bind(integration=run.integration_id, run=run.pk, unit=unit.pk)
    step = run.steps[unit.step]

    def heartbeat() -> None:
        WorkUnit.objects.filter(pk=unit_id).update(lease_until=timezone.now() + lease)
        if extend:
            extend()

    ctx = engine.Context(
        run=run, snapshot=_snapshot(run), clients=Clients(run.integration), heartbeat=heartbeat
    )
    try:
        engine.unit_process(ctx, unit, step)
    except ConfigurationError as error:
        _unit_done(unit, ctx.work, error=user_message(error))
        _run_stop(run, user_message(error))
        return "done"
    except RetryableError as error:
        if unit.attempts + 1 >= MAX_UNIT_ATTEMPTS:
            _unit_give_up(unit, ctx, user_message(error))
            return "done"
        WorkUnit.objects.filter(pk=unit_id).update(
            status=WorkUnit.Status.PENDING, lease_until=None, error=user_message(error)
        )
        ctx.work.save()
        return "retry"
    except ConnectorError as error:
        _unit_give_up(unit, ctx, user_message(error))
        return "done"
    _unit_done(unit, ctx.work)
    return "done"


def models_f(name: str):
    from django.db.models import F

    return F(name)


def _unit_done(unit: WorkUnit, work: engine.Work, error: str = "") -> None:
    with transaction.atomic():
        # Units finishing together take turns here, so the last one sees the others done
        # and hands the run back to its driver.
        SyncRun.objects.select_for_update().filter(pk=unit.run_id).first()
        work.save()
        WorkUnit.objects.filter(pk=unit.pk).update(
            status=WorkUnit.Status.DONE,
            counts=work.counts_json(),
            finished_at=timezone.now(),
            lease_until=None,
            error=error,
        )
        left = (
            WorkUnit.objects.filter(run_id=unit.run_id, step=unit.step)
            .exclude(status=WorkUnit.Status.DONE)
            .exists()
        )
        if not left:
            transaction.on_commit(lambda: _enqueue_advance(unit.run_id))


def _unit_give_up(unit: WorkUnit, ctx: engine.Context, message: str) -> None:
    """A unit that keeps failing: its records fail (with the reason), the run goes on."""
    step = unit.run.steps[unit.step]
    entity = step["entity"]
    direction = "push" if step.get("side", engine.DYNAMICS) == engine.DYNAMICS else "pull"
    records = StagedRecord.objects.filter(unit=unit, handled=False)
    for staged in records:
        ctx.work.count(entity, direction, "failed")
        ctx.work.record(
            unit.run,
            entity,
            direction,
            RunRecord.Outcome.FAILED,
            message,
            dynamics_id=staged.record_id
            if step.get("side", engine.DYNAMICS) == engine.DYNAMICS
            else "",
            ac_id=staged.record_id if step.get("side") == engine.ACTIVECAMPAIGN else "",
            email=staged.email,
        )
    records.update(handled=True)
    _unit_done(unit, ctx.work, error=message)


# -- resuming -------------------------------------------------------------------------------------


def runs_resume() -> dict:
    """Every minute (beat): hand stalled runs, units and webhook deliveries to a worker again.

    A run whose driver lease expired (its worker died, or Redis lost the message) is advanced
    again; a unit left pending (lost message) or claimed by a dead worker is queued again.
    Duplicates are harmless: whoever claims second finds nothing to claim.
    """
    now = timezone.now()
    resumed = Counter()
    # A single-record sync runs inside its caller: if that process died, the run is over.
    for run in SyncRun.objects.filter(
        status__in=SyncRun.ACTIVE, trigger__in=SyncRun.INLINE, lease_until__lt=now
    ):
        _run_end(run, SyncRun.Status.FAILED, "Interrupted: the process syncing it stopped.")
    for run in SyncRun.objects.filter(status__in=SyncRun.ACTIVE).exclude(
        trigger__in=SyncRun.INLINE
    ):
        if run.lease_until is not None and run.lease_until > now:
            continue
        open_units = WorkUnit.objects.filter(run=run, step=run.step_index).exclude(
            status=WorkUnit.Status.DONE
        )
        stale = open_units.filter(
            Q(status=WorkUnit.Status.PENDING)
            | Q(status=WorkUnit.Status.CLAIMED, lease_until__lt=now)
        )
        if open_units.exists():
            for unit_id in stale.values_list("pk", flat=True):
                _enqueue_unit(unit_id)
                resumed["units"] += 1
            continue
        _enqueue_advance(run.pk)
        resumed["runs"] += 1
    from .webhooks.services import webhook_deliveries_prune, webhook_deliveries_resume

    if webhooks := webhook_deliveries_resume():
        resumed["webhooks"] = webhooks
    webhook_deliveries_prune()
    return dict(resumed)


# -- inline runs (CLI, tests) ---------------------------------------------------------------------


def run_inline(*, run: SyncRun, progress: Callable | None = None, retries: int = 5) -> SyncRun:
    """Drive a run to its end in this process (no worker needed)."""
    for attempt in range(retries + 1):
        outcome = run_advance(run_id=run.pk, inline=True, progress=progress)
        if outcome in ("done", "busy"):
            break
        time.sleep(min(30, 2**attempt))
    run.refresh_from_db()
    return run


# -- one record -----------------------------------------------------------------------------------


@log_context()  # the ids it binds for the log end when it returns
def record_sync(
    *,
    integration: Integration,
    entity: str,
    dynamics_id: str | None = None,
    ac_id: str | None = None,
    actor=None,
    trigger: str = SyncRun.Trigger.RECORD,
) -> SyncRun:
    """Sync one record now, through the same decisions and links as a run.

    entity: "lead", "contact" or "account" (the Dynamics entity; for an ActiveCampaign contact
    not linked yet, the one it should become). Give the Dynamics id, the ActiveCampaign id, or
    both. Returns the finished run (trigger "record"), whose counts and records say what
    happened. Raises RunRefused when the integration cannot sync. trigger: RECORD (a page's
    "Sync now") or WEBHOOK (an ActiveCampaign webhook delivery, sync.webhooks).
    """
    bind(integration=integration.pk, entity=entity, record=dynamics_id or ac_id)
    if not integration.is_connected:
        raise RunRefused(gettext("Connect ActiveCampaign and Dynamics 365 in Settings first."))
    if not sync_settings_get(integration=integration).enabled:
        raise RunRefused("Global sync is off.")
    snapshot = _snapshot_ready(integration)
    config = snapshot.entity(entity)
    if config is None or not config.enabled:
        raise RunRefused(f"{entity} is not synced: switch it on first.")
    if not dynamics_id and not ac_id:
        raise RunRefused("Name the record: a Dynamics 365 id or an ActiveCampaign id.")
    steps = []
    if dynamics_id:
        steps.append({"kind": "collect_record", "entity": entity, "id": dynamics_id})
        steps.append({"kind": "apply", "entity": entity, "side": engine.DYNAMICS})
        if entity in engine.PEOPLE:
            steps.append({"kind": "confirm", "entity": engine.PERSON})
    if ac_id:
        steps.append({"kind": "collect_record", "entity": entity, "ac_id": ac_id})
        steps.append(
            {
                "kind": "apply",
                "entity": engine.PERSON if entity in engine.PEOPLE else entity,
                "side": engine.ACTIVECAMPAIGN,
            }
        )
    run = SyncRun.objects.create(
        integration=integration,
        trigger=trigger,
        entity=entity,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        steps=steps,
    )
    try:
        return run_inline(run=run)
    except Exception:
        # Its driver released the lease: nothing would ever end the run (runs_resume ends
        # only inline runs whose lease expired).
        _run_end(run, SyncRun.Status.FAILED, "Stopped by an unexpected error.")
        raise
