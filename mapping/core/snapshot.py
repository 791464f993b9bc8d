"""An immutable snapshot of one integration's data configuration, as the sync engine reads it.

Plain frozen dataclasses, built once per run by `mapping.selectors.config_snapshot` (outside
this pure package) from the saved configuration and the cached field metadata, then handed to
the record-level functions (`mapping.core.records`) and the merge (`mapping.core.merge`). A run
never reads the configuration again: a change saved mid-run applies from the next run on.

Each mapping becomes a `FieldPair` whose direction is already the effective one (the field's
own narrowed by its entity's, `mapping.core.directions.effective_direction`); a mapping that
cannot sync (switched off, a field gone from the metadata, a direction the pair cannot take)
is left out and named in `EntityConfig.problems`, so a run can show why a field is not synced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from connectors.types import FieldInfo
from mapping.core.criteria import Criterion
from mapping.core.directions import Direction


class ConflictRule(StrEnum):
    """Who wins a field changed on both sides since the last sync (S-5.4)."""

    NEWEST = "newest"  # the side whose record changed most recently
    DYNAMICS = "dynamics"
    ACTIVECAMPAIGN = "activecampaign"


class DeletionPolicy(StrEnum):
    """What a deletion on one side does to the linked record on the other."""

    NOTHING = "nothing"  # the link ends; the other record stays as it is (recorded)
    TAG = "tag"  # the ActiveCampaign contact is tagged, nothing is deleted
    DELETE = "delete"  # the linked record is deleted too


DELETED_TAG = "D365: Deleted in Dynamics"


@dataclass(frozen=True)
class FieldPair:
    """One mapping, resolved: both fields' metadata, its effective direction, its value maps."""

    ac: FieldInfo
    dynamics: FieldInfo
    direction: Direction  # effective: never wider than the entity's
    push_map: Mapping[str, str] = field(default_factory=dict)  # dynamics value -> AC value
    pull_map: Mapping[str, str] = field(default_factory=dict)  # AC value -> dynamics value
    standard: str = ""  # the standard mapping's name; "" for a custom mapping
    relationship: bool = False  # the Account link (resolved by the engine, not converted)
    clear_when_blank: bool = False  # a blank overwrites a value on the other side

    @cached_property  # read for every value of every record a run handles
    def key(self) -> str:
        """Stable within an integration: the two field keys."""
        return f"{self.ac.key}|{self.dynamics.key}"

    @property
    def pushes(self) -> bool:
        return Direction.PUSH in self.direction.flows

    @property
    def pulls(self) -> bool:
        return Direction.PULL in self.direction.flows


@dataclass(frozen=True)
class EntityConfig:
    """Leads, Contacts or Accounts of one integration."""

    entity: str  # "lead", "contact", "account"
    enabled: bool
    direction: Direction
    criteria: tuple[Criterion, ...] = ()  # empty: all created or updated records
    pairs: tuple[FieldPair, ...] = ()
    conflict_rule: ConflictRule = ConflictRule.NEWEST
    deletion_policy: DeletionPolicy = DeletionPolicy.TAG
    # Criteria read these Dynamics fields (metadata), so the engine selects them.
    criteria_fields: tuple[FieldInfo, ...] = ()
    problems: tuple[str, ...] = ()  # mappings left out, in words

    @property
    def pushes(self) -> bool:
        return self.enabled and Direction.PUSH in self.direction.flows

    @property
    def pulls(self) -> bool:
        return self.enabled and Direction.PULL in self.direction.flows

    @cached_property  # read several times per record a run handles
    def value_pairs(self) -> tuple[FieldPair, ...]:
        """The pairs whose values are converted (not the Account relationship)."""
        return tuple(pair for pair in self.pairs if not pair.relationship)

    def pair(self, ac_key: str) -> FieldPair | None:
        return next((pair for pair in self.pairs if pair.ac.key == ac_key), None)

    @property
    def email_pair(self) -> FieldPair | None:
        return self.pair("email")

    def dynamics_columns(self) -> tuple[str, ...]:
        """Every Dynamics column a run must read: mapped fields and criteria fields."""
        columns = [pair.dynamics.key for pair in self.pairs]
        columns += [info.key for info in self.criteria_fields]
        return tuple(dict.fromkeys(columns))


@dataclass(frozen=True)
class OpportunityFieldPair:
    """A Dynamics opportunity field and the custom-object field it fills."""

    dynamics: FieldInfo
    ac_field_id: str  # the schema field id ("d365-estimatedvalue")
    ac: FieldInfo  # the custom-object field as a FieldInfo (entity "opportunity")
    required: bool = False


@dataclass(frozen=True)
class OpportunityConfig:
    enabled: bool
    schema_id: str = ""
    fields: tuple[OpportunityFieldPair, ...] = ()

    def dynamics_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(pair.dynamics.key for pair in self.fields))


@dataclass(frozen=True)
class ConfigSnapshot:
    """One integration's data configuration at the start of a run."""

    integration_id: int
    entities: Mapping[str, EntityConfig]
    opportunity: OpportunityConfig = OpportunityConfig(enabled=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entities", MappingProxyType(dict(self.entities)))

    def entity(self, entity: str) -> EntityConfig | None:
        return self.entities.get(entity)

    @property
    def enabled_entities(self) -> tuple[str, ...]:
        return tuple(key for key, config in self.entities.items() if config.enabled)
