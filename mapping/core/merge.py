"""The three-way merge of a linked pair of records (S-5.4), pure.

The base is what both sides held after the last sync (per field pair, each side's own
canonical value, so that a lossy conversion never looks like a change). Per pair:

- changed on one side only → copied to the other, if the pair flows that way;
- changed on both → if they now agree, nothing to write; otherwise a **conflict**, decided by
  the entity's rule: NEWEST (the side whose record changed last; a tie goes to Dynamics 365),
  DYNAMICS or ACTIVECAMPAIGN. A winner whose flow the pair does not allow gives way to the
  other side's value when that flow is allowed, else nothing is written;
- a pair with no base yet (a new mapping, a new link): each side counts as changed when it
  holds a value;
- a blank never overwrites a value unless the pair says `clear_when_blank`;
- nothing is written to a side that already holds the target value (no echo);
- a value that was not loaded (absent from the side's values) counts as unchanged.

The result says what to write on each side and the new base after those writes. A value
that cannot cross (`TransformError`) is a problem of the record: the engine then writes
nothing for it, so that a record is never half written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mapping.core.directions import Direction
from mapping.core.records import convert_pair, same_value
from mapping.core.snapshot import ConflictRule, EntityConfig, FieldPair
from mapping.core.transforms import TransformError

DYNAMICS = "dynamics"
ACTIVECAMPAIGN = "activecampaign"


@dataclass(frozen=True)
class Conflict:
    pair_key: str
    label: str  # the Dynamics field's label, for people
    dynamics_value: object
    ac_value: object
    winner: str  # DYNAMICS or ACTIVECAMPAIGN; "" when neither value could be written


@dataclass(frozen=True)
class MergeResult:
    # Target field keys -> canonical values (None = clear it).
    ac_writes: Mapping[str, object] = field(default_factory=dict)
    dynamics_writes: Mapping[str, object] = field(default_factory=dict)
    # pair key -> canonical value each side holds once the writes are done.
    base_dynamics: Mapping[str, object] = field(default_factory=dict)
    base_ac: Mapping[str, object] = field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def writes_anything(self) -> bool:
        return bool(self.ac_writes) or bool(self.dynamics_writes)


def merge_record(
    entity: EntityConfig,
    *,
    base_dynamics: Mapping[str, object],
    base_ac: Mapping[str, object],
    dynamics: Mapping[str, object] | None,
    ac: Mapping[str, object] | None,
    dynamics_changed_at: datetime | None = None,
    ac_changed_at: datetime | None = None,
) -> MergeResult:
    """Decide every value pair of a linked record; `dynamics` / `ac` None = not read (as base)."""
    ac_writes: dict[str, object] = {}
    dv_writes: dict[str, object] = {}
    new_dv = dict(base_dynamics)
    new_ac = dict(base_ac)
    conflicts: list[Conflict] = []
    problems: list[str] = []
    for pair in entity.value_pairs:
        key = pair.key
        has_base = key in base_dynamics and key in base_ac
        dv_loaded = dynamics is not None and key in dynamics
        ac_loaded = ac is not None and key in ac
        dv_now = dynamics[key] if dv_loaded else base_dynamics.get(key)
        ac_now = ac[key] if ac_loaded else base_ac.get(key)
        if has_base:
            dv_changed = dv_loaded and not same_value(dv_now, base_dynamics[key])
            ac_changed = ac_loaded and not same_value(ac_now, base_ac[key])
        else:
            dv_changed = dv_loaded and dv_now is not None
            ac_changed = ac_loaded and ac_now is not None
            if not dv_loaded and not ac_loaded:
                continue
        if dv_loaded:
            new_dv[key] = dv_now
        if ac_loaded:
            new_ac[key] = ac_now
        if not dv_changed and not ac_changed:
            continue
        try:
            source = _source(
                pair,
                entity,
                dv_now,
                ac_now,
                dv_changed,
                ac_changed,
                conflicts,
                dynamics_changed_at,
                ac_changed_at,
            )
            if source is None:
                continue
            if source == DYNAMICS:
                value = convert_pair(pair, dv_now, Direction.PUSH)
                if _writes(pair, value, ac_now):
                    ac_writes[pair.ac.key] = value
                    new_ac[key] = value
            else:
                value = convert_pair(pair, ac_now, Direction.PULL)
                if _writes(pair, value, dv_now):
                    dv_writes[pair.dynamics.key] = value
                    new_dv[key] = value
        except TransformError as error:
            problems.append(error.message)
    if problems:
        return MergeResult(
            base_dynamics=dict(base_dynamics),
            base_ac=dict(base_ac),
            conflicts=tuple(conflicts),
            problems=tuple(problems),
        )
    return MergeResult(
        ac_writes=ac_writes,
        dynamics_writes=dv_writes,
        base_dynamics=new_dv,
        base_ac=new_ac,
        conflicts=tuple(conflicts),
    )


def _source(
    pair: FieldPair,
    entity: EntityConfig,
    dv_now: object,
    ac_now: object,
    dv_changed: bool,
    ac_changed: bool,
    conflicts: list[Conflict],
    dynamics_changed_at: datetime | None,
    ac_changed_at: datetime | None,
) -> str | None:
    """Which side's value goes across for this pair, or None."""
    if dv_changed and not ac_changed:
        return DYNAMICS if pair.pushes else None
    if ac_changed and not dv_changed:
        return ACTIVECAMPAIGN if pair.pulls else None
    # Both changed: agreeing now is not a conflict.
    if _agree(pair, dv_now, ac_now):
        return None
    winner = _winner(entity.conflict_rule, dynamics_changed_at, ac_changed_at)
    allowed = {DYNAMICS: pair.pushes, ACTIVECAMPAIGN: pair.pulls}
    source = winner if allowed[winner] else next((s for s, ok in allowed.items() if ok), None)
    if source == DYNAMICS and dv_now is None and not pair.clear_when_blank:
        source = ACTIVECAMPAIGN if allowed[ACTIVECAMPAIGN] else None
    elif source == ACTIVECAMPAIGN and ac_now is None and not pair.clear_when_blank:
        source = DYNAMICS if allowed[DYNAMICS] else None
    conflicts.append(
        Conflict(
            pair_key=pair.key,
            label=pair.dynamics.label,
            dynamics_value=dv_now,
            ac_value=ac_now,
            winner=source or "",
        )
    )
    return source


def _agree(pair: FieldPair, dv_now: object, ac_now: object) -> bool:
    for flow, value, other in (
        (Direction.PUSH, dv_now, ac_now),
        (Direction.PULL, ac_now, dv_now),
    ):
        try:
            if same_value(convert_pair(pair, value, flow), other):
                return True
        except TransformError:
            continue
    return False


def _winner(rule: ConflictRule, dv_at: datetime | None, ac_at: datetime | None) -> str:
    if rule is ConflictRule.DYNAMICS:
        return DYNAMICS
    if rule is ConflictRule.ACTIVECAMPAIGN:
        return ACTIVECAMPAIGN
    if ac_at is not None and (dv_at is None or ac_at > dv_at):
        return ACTIVECAMPAIGN
    return DYNAMICS


def _writes(pair: FieldPair, value: object, current: object) -> bool:
    """Write `value` over `current`? Not when equal (no echo), not a blank over a value."""
    if same_value(value, current):
        return False
    return not (value is None and current is not None and not pair.clear_when_blank)
