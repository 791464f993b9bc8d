"""Sync directions: for a whole entity (S-3.2) and, narrowed, for one field (S-3.3).

A direction is one of three settings; underneath it is a set of *flows*, PUSH and PULL.
BIDIRECTIONAL is both flows, so narrowing is an intersection of flows.
"""

from __future__ import annotations

from enum import StrEnum

from mapping.core.words import gettext_noop


class Direction(StrEnum):
    BIDIRECTIONAL = "bidirectional"
    PUSH = "push"  # Dynamics 365 → ActiveCampaign (outbound)
    PULL = "pull"  # ActiveCampaign → Dynamics 365 (inbound)

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def flows(self) -> frozenset[Direction]:
        """The one-way flows this setting means: {PUSH}, {PULL} or {PUSH, PULL}."""
        if self is Direction.BIDIRECTIONAL:
            return frozenset({Direction.PUSH, Direction.PULL})
        return frozenset({self})

    @classmethod
    def from_flows(cls, flows: frozenset[Direction] | set[Direction]) -> Direction | None:
        """The setting for a set of flows (BIDIRECTIONAL counts as both); None when empty."""
        flows = frozenset().union(*(direction.flows for direction in flows))
        if flows == {cls.PUSH, cls.PULL}:
            return cls.BIDIRECTIONAL
        if flows:
            return next(iter(flows))
        return None


_LABELS = {
    Direction.BIDIRECTIONAL: gettext_noop("Bidirectional"),
    Direction.PUSH: gettext_noop("Push only (Dynamics 365 → ActiveCampaign)"),
    Direction.PULL: gettext_noop("Pull only (ActiveCampaign → Dynamics 365)"),
}


def effective_direction(entity: Direction, field: Direction) -> Direction | None:
    """What one field really syncs: its own setting narrowed by its entity's.

    None means the field does not sync at all under the entity's current setting (a field left
    pull-only after its entity was switched to push only).
    """
    return Direction.from_flows(entity.flows & field.flows)


def field_direction_choices(entity: Direction, supported: frozenset[Direction]) -> list[Direction]:
    """The directions a field mapping may be given, best first.

    Field-level direction can be chosen only inside a bidirectional entity (S-3.3); otherwise the
    field follows its entity. `supported` is what the field pair allows
    (`mapping.core.compat.pair_directions`). An empty list means the pair cannot be mapped here.
    """
    if entity is not Direction.BIDIRECTIONAL:
        return [entity] if entity in supported else []
    return [d for d in (Direction.BIDIRECTIONAL, Direction.PUSH, Direction.PULL) if d in supported]
