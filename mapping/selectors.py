"""Reads of the data configuration and of the cached field metadata (no API calls here)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from connectors.types import ChoiceOption, FieldInfo, Vendor, field_info_from_dict
from integrations.models import Integration

from .core.compat import pair_directions
from .core.criteria import Criterion, CriterionError, criterion_parse
from .core.directions import Direction, effective_direction
from .core.opportunity import AC_OBJECT_FIELD_TYPES, ac_object_field_types_for, object_field_id
from .core.snapshot import (
    ConfigSnapshot,
    ConflictRule,
    DeletionPolicy,
    EntityConfig,
    FieldPair,
    OpportunityConfig,
    OpportunityFieldPair,
)
from .core.standard import ENTITIES, standard_mappings
from .models import EntitySync, MetadataSnapshot, OpportunitySync

# The fields every opportunity record carries (mapping.services names them for the schema).
OPPORTUNITY_STANDARD_FIELDS = (
    "name",
    "estimatedvalue",
    "salesstage",
    "estimatedclosedate",
    "closeprobability",
    "statecode",
)

# Which ActiveCampaign object each Dynamics entity syncs with.
AC_ENTITY = {"lead": "contact", "contact": "contact", "account": "account"}


@dataclass(frozen=True)
class Metadata:
    """Both sides' fields for one integration, keyed by field key, per entity."""

    activecampaign: dict[str, dict[str, FieldInfo]]  # "contact"/"account" -> key -> field
    dynamics: dict[str, dict[str, FieldInfo]]  # "lead"/"contact"/"account"/"opportunity"
    fetched_at: dict[tuple[str, str], object]

    def ac_fields_for(self, entity: str) -> dict[str, FieldInfo]:
        return self.activecampaign.get(AC_ENTITY[entity], {})

    def dynamics_fields_for(self, entity: str) -> dict[str, FieldInfo]:
        return self.dynamics.get(entity, {})

    @property
    def complete(self) -> bool:
        return bool(self.activecampaign) and bool(self.dynamics)


def metadata_cached(*, integration: Integration) -> Metadata:
    """The cached metadata of both sides (one query)."""
    sides: dict[str, dict[str, dict[str, FieldInfo]]] = {
        Vendor.ACTIVECAMPAIGN.value: {},
        Vendor.DYNAMICS.value: {},
    }
    fetched = {}
    for snapshot in MetadataSnapshot.objects.filter(integration=integration):
        fields = [field_info_from_dict(item) for item in snapshot.fields]
        sides.setdefault(snapshot.vendor, {})[snapshot.entity] = {f.key: f for f in fields}
        fetched[(snapshot.vendor, snapshot.entity)] = snapshot.fetched_at
    return Metadata(
        activecampaign=sides[Vendor.ACTIVECAMPAIGN.value],
        dynamics=sides[Vendor.DYNAMICS.value],
        fetched_at=fetched,
    )


def entity_syncs(*, integration: Integration) -> dict[str, EntitySync]:
    """Leads, Contacts, Accounts with their criteria and mappings prefetched (three queries)."""
    rows = EntitySync.objects.filter(integration=integration).prefetch_related(
        "criteria", "field_mappings"
    )
    by_entity = {row.entity: row for row in rows}
    return {key: by_entity[key] for key in ENTITIES if key in by_entity}


def opportunity_sync(*, integration: Integration) -> OpportunitySync | None:
    return (
        OpportunitySync.objects.filter(integration=integration).prefetch_related("fields").first()
    )


def config_snapshot(*, integration: Integration) -> ConfigSnapshot:
    """The integration's data configuration as one immutable snapshot (four queries).

    Read once per sync run (`mapping.core.snapshot`); mappings that cannot sync are left out
    and named in each entity's `problems`.
    """
    metadata = metadata_cached(integration=integration)
    entities = {
        key: _entity_config(row, metadata)
        for key, row in entity_syncs(integration=integration).items()
    }
    return ConfigSnapshot(
        integration_id=integration.pk,
        entities=entities,
        opportunity=_opportunity_config(opportunity_sync(integration=integration), metadata),
    )


def _entity_config(row: EntitySync, metadata: Metadata) -> EntityConfig:
    entity = row.entity
    direction = Direction(row.direction)
    ac_fields = metadata.ac_fields_for(entity)
    dv_fields = metadata.dynamics_fields_for(entity)
    standard = {pair.ac_key: pair for pair in standard_mappings(entity)}
    problems: list[str] = []
    pairs: list[FieldPair] = []
    for mapping in row.field_mappings.all():
        if not mapping.enabled:
            continue
        ac_field, dv_field = ac_fields.get(mapping.ac_key), dv_fields.get(mapping.dynamics_key)
        if ac_field is None or dv_field is None:
            problems.append(
                gettext(
                    "%(ac)s ↔ %(dynamics)s: a field is missing from the field lists (refresh the "
                    "fields on the Data configuration page)."
                )
                % {"ac": mapping.ac_key, "dynamics": mapping.dynamics_key}
            )
            continue
        pair_standard = standard.get(mapping.ac_key) if mapping.standard else None
        relationship = bool(pair_standard and pair_standard.is_relationship)
        wanted = (
            effective_direction(direction, Direction(mapping.direction))
            if mapping.direction
            else direction
        )
        if wanted is None:
            problems.append(
                gettext("%(field)s: its direction does not sync under %(direction)s.")
                % {"field": dv_field.label, "direction": gettext(direction.label)}
            )
            continue
        if not relationship:
            supported = pair_directions(ac_field, dv_field)
            flows = frozenset(d for d in wanted.flows if d in supported)
            wanted = Direction.from_flows(flows)
            if wanted is None:
                problems.append(
                    gettext("%(field)s: the two field types do not convert.")
                    % {"field": dv_field.label}
                )
                continue
        value_map = mapping.value_map or {}
        pairs.append(
            FieldPair(
                ac=ac_field,
                dynamics=dv_field,
                direction=wanted,
                push_map=dict(value_map.get(Direction.PUSH.value) or {}),
                pull_map=dict(value_map.get(Direction.PULL.value) or {}),
                standard=pair_standard.name if pair_standard else "",
                relationship=relationship,
                clear_when_blank=mapping.clear_when_blank,
            )
        )
    criteria: list[Criterion] = []
    criteria_fields: list[FieldInfo] = []
    if row.selection == EntitySync.Selection.CRITERIA:
        for item in row.criteria.all():
            info = dv_fields.get(item.field_key)
            if info is None:
                problems.append(
                    gettext("Criterion on %(field)s: the field is missing.")
                    % {"field": item.field_key}
                )
                continue
            raw = item.value if isinstance(item.value, list) else str(item.value or "")
            try:
                criteria.append(criterion_parse(info, item.operator, raw))
            except CriterionError as error:
                problems.append(
                    gettext("Criterion on %(field)s: %(problem)s")
                    % {"field": info.label, "problem": gettext(error.template) % error.params}
                )
                continue
            criteria_fields.append(info)
    return EntityConfig(
        entity=entity,
        enabled=row.enabled,
        direction=direction,
        criteria=tuple(criteria),
        pairs=tuple(pairs),
        conflict_rule=ConflictRule(row.conflict_rule),
        deletion_policy=DeletionPolicy(row.deletion_policy),
        criteria_fields=tuple(criteria_fields),
        problems=tuple(problems),
    )


def _opportunity_config(row: OpportunitySync | None, metadata: Metadata) -> OpportunityConfig:
    if row is None or not row.enabled or not row.schema_id:
        return OpportunityConfig(enabled=False)
    dv_fields = metadata.dynamics_fields_for("opportunity")
    wanted = [
        (key, object_field_id(key), ac_object_field_types_for(dv_fields[key])[0], key == "name")
        for key in OPPORTUNITY_STANDARD_FIELDS
        if key in dv_fields and ac_object_field_types_for(dv_fields[key])
    ]
    if row.custom_fields_enabled:
        wanted += [
            (f.dynamics_key, f.ac_field_id, f.ac_type, f.required)
            for f in row.fields.all()
            if f.enabled and f.in_schema and f.dynamics_key in dv_fields
        ]
    pairs = []
    for dynamics_key, field_id, ac_type, required in dict(
        (item[0], item) for item in wanted
    ).values():
        dv_field = dv_fields[dynamics_key]
        options = ()
        if ac_type in ("dropdown", "multiselect"):
            labels = [option.label for option in dv_field.options] or ["Yes", "No"]
            options = tuple(ChoiceOption(label, label) for label in labels)
        pairs.append(
            OpportunityFieldPair(
                dynamics=dv_field,
                ac_field_id=field_id,
                ac=FieldInfo(
                    vendor=Vendor.ACTIVECAMPAIGN,
                    entity="opportunity",
                    key=field_id,
                    label=dv_field.label,
                    type=AC_OBJECT_FIELD_TYPES[ac_type],
                    vendor_type=ac_type,
                    options=options,
                    custom=True,
                ),
                required=required,
            )
        )
    return OpportunityConfig(enabled=True, schema_id=row.schema_id, fields=tuple(pairs))
