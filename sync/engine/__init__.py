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

from django.utils.translation import gettext, gettext_noop

from mapping.core.snapshot import ConfigSnapshot
from mapping.core.standard import ENTITIES

from ..models import StagedRecord, WorkUnit
from .accounts import AccountPull, AccountPush
from .base import (
    ACTIVECAMPAIGN,
    COUNT_NAMES,
    DYNAMICS,
    ENTITY_ORDER,
    PEOPLE,
    PERSON,
    Context,
    Work,
)
from .collect import collect, collect_ids, collect_record, finish, units_create, units_filter
from .opportunities import OpportunityPush
from .people import PeoplePush, confirm
from .people_pull import PeoplePull

__all__ = [
    "ACTIVECAMPAIGN",
    "COUNT_NAMES",
    "DYNAMICS",
    "ENTITY_ORDER",
    "PEOPLE",
    "PERSON",
    "Context",
    "Work",
    "collect",
    "collect_ids",
    "collect_record",
    "confirm",
    "finish",
    "plan_steps",
    "step_label",
    "unit_process",
    "units_create",
    "units_filter",
]


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


_STEP_TEXT = {
    "collect": gettext_noop("reading the changed %(entity)s"),
    "apply": gettext_noop("writing %(entity)s"),
    "confirm": gettext_noop("confirming %(entity)s"),
    "finish": gettext_noop("finishing %(entity)s"),
}


def step_label(step: dict) -> str:
    """What a step does, in words (the language of the request, when there is one)."""
    entity = step["entity"]
    if entity == PERSON:
        name = gettext("ActiveCampaign contacts")
    elif entity in ENTITIES:
        name = gettext(ENTITIES[entity].label).lower()
    else:
        name = entity
    text = _STEP_TEXT.get(step["kind"])
    return gettext(text) % {"entity": name} if text else f"{step['kind']} {name}"


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
