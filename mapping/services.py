"""Data configuration (S-3): validated as a whole, saved in one transaction, audited.

The page and `syncconfig import` describe what they want as plain inputs (EntityInput,
OpportunityInput); `*_problems` say everything wrong with them at once, each problem with a
path ("lead.mappings.3.dynamics_key") the page shows next to the row and the importer prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connectors.errors import ConnectorError, user_message
from connectors.types import FieldInfo, Vendor, field_info_to_dict
from integrations.models import Integration
from integrations.services import audit_record

from .core.compat import conversion, pair_directions
from .core.criteria import CriterionError, criterion_parse, criterion_raw_value
from .core.directions import Direction
from .core.opportunity import (
    OPPORTUNITY_MAX_FIELDS,
    ac_object_field_types_for,
    object_field_id,
)
from .core.standard import ENTITIES, SYNCED_ENTITIES, standard_mapping, standard_mappings
from .core.transforms import value_map_problems
from .models import (
    EntitySync,
    FieldMapping,
    MetadataSnapshot,
    OpportunityField,
    OpportunitySync,
    SelectionCriterion,
)
from .selectors import Metadata, metadata_cached

OPPORTUNITY_SCHEMA_SLUG = "d365-opportunity"


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigurationRejected(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class CriterionInput:
    field_key: str
    operator: str
    value: object = None  # a string, or a list of strings for "is one of"


@dataclass
class MappingInput:
    ac_key: str
    dynamics_key: str
    standard: bool = False  # one of the entity's standard pairs (S-3.5)
    enabled: bool = True
    direction: str = ""  # "" follows the entity; push/pull narrows (bidirectional entity only)
    # Choice pairs: {"push": {dynamics value: ac value}, "pull": {ac value: dynamics value}}
    value_map: dict = field(default_factory=dict)


@dataclass
class EntityInput:
    entity: str
    enabled: bool = True
    direction: str = Direction.BIDIRECTIONAL.value
    selection: str = EntitySync.Selection.ALL.value
    criteria: list[CriterionInput] = field(default_factory=list)
    mappings: list[MappingInput] = field(default_factory=list)


@dataclass
class OpportunityFieldInput:
    dynamics_key: str
    ac_type: str = ""
    required: bool = False
    enabled: bool = True


@dataclass
class OpportunityInput:
    enabled: bool = False
    custom_fields_enabled: bool = False
    fields: list[OpportunityFieldInput] = field(default_factory=list)


# -- metadata ----------------------------------------------------------------------------------
def metadata_refresh(*, integration: Integration) -> Metadata:
    """Read both sides' fields from the vendors and cache them (the page's Refresh button)."""
    from connectors.activecampaign.client import ActiveCampaignClient
    from connectors.dynamics.client import DynamicsClient

    ac = ActiveCampaignClient(integration.activecampaign_config())
    dv = DynamicsClient(integration.dynamics_config())
    fetched = {
        (Vendor.ACTIVECAMPAIGN.value, "contact"): ac.fields("contact"),
        (Vendor.ACTIVECAMPAIGN.value, "account"): ac.fields("account"),
    }
    for table in (*SYNCED_ENTITIES, "opportunity"):
        fetched[(Vendor.DYNAMICS.value, table)] = dv.fields(table)
    now = timezone.now()
    with transaction.atomic():
        for (vendor, entity), fields in fetched.items():
            MetadataSnapshot.objects.update_or_create(
                integration=integration,
                vendor=vendor,
                entity=entity,
                defaults={"fields": [field_info_to_dict(f) for f in fields], "fetched_at": now},
            )
    return metadata_cached(integration=integration)


def metadata_ensure(*, integration: Integration) -> tuple[Metadata, str | None]:
    """Cached metadata, fetched once if nothing is cached yet; (metadata, problem in words)."""
    metadata = metadata_cached(integration=integration)
    if metadata.complete or not integration.is_connected:
        return metadata, None
    try:
        return metadata_refresh(integration=integration), None
    except ConnectorError as error:
        return metadata, user_message(error)


# -- defaults ------------------------------------------------------------------------------------
def default_entity_input(entity: str) -> EntityInput:
    return EntityInput(
        entity=entity,
        mappings=[
            MappingInput(ac_key=pair.ac_key, dynamics_key=pair.dynamics_key, standard=True)
            for pair in standard_mappings(entity)
        ],
    )


@transaction.atomic
def entity_syncs_ensure(*, integration: Integration) -> None:
    """Leads, Contacts and Accounts exist with their defaults (on, bidirectional, all records,
    standard mappings on): a newly syncable entity syncs unless switched off (S-4.4)."""
    existing = set(
        EntitySync.objects.filter(integration=integration).values_list("entity", flat=True)
    )
    for entity in SYNCED_ENTITIES:
        if entity not in existing:
            entity_write(integration, default_entity_input(entity))


# -- validation ----------------------------------------------------------------------------------
def entity_problems(
    data: EntityInput, *, metadata: Metadata, saved: Iterable[tuple[str, str]] = ()
) -> list[Problem]:
    """Everything wrong with one entity's configuration.

    saved: (ac_key, dynamics_key) pairs already saved: a saved mapping whose field vanished
    from a side is kept and flagged on the page, not refused.
    """
    entity = data.entity
    problems: list[Problem] = []

    def problem(path: str, message: str) -> None:
        problems.append(Problem(f"{entity}.{path}" if path else entity, message))

    if entity not in SYNCED_ENTITIES:
        return [
            Problem(
                entity, f"Unknown entity {entity!r}; expected one of {', '.join(SYNCED_ENTITIES)}."
            )
        ]
    try:
        direction = Direction(data.direction)
    except ValueError:
        problem("direction", f"Unknown direction {data.direction!r}.")
        direction = Direction.BIDIRECTIONAL
    if direction not in ENTITIES[entity].directions:
        problem("direction", f"{ENTITIES[entity].label} cannot sync {direction.label}.")
    if data.selection not in EntitySync.Selection.values:
        problem("selection", f"Unknown record selection {data.selection!r}.")

    ac_fields = metadata.ac_fields_for(entity)
    dv_fields = metadata.dynamics_fields_for(entity)
    saved = set(saved)

    if data.selection == EntitySync.Selection.CRITERIA and not data.criteria:
        problem("criteria", "Add at least one criterion, or sync all created or updated records.")
    for index, item in enumerate(data.criteria):
        dv_field = dv_fields.get(item.field_key)
        if dv_field is None:
            problem(
                f"criteria.{index}.field", f"Dynamics 365 has no {entity} field {item.field_key!r}."
            )
            continue
        try:
            criterion_parse(dv_field, item.operator, item.value)
        except CriterionError as error:
            problem(f"criteria.{index}.value", str(error))

    standard_by_ac = {pair.ac_key: pair for pair in standard_mappings(entity)}
    enabled_standard = {m.ac_key for m in data.mappings if m.standard and m.enabled}
    seen_standard: set[str] = set()
    used_ac: dict[str, int] = {}
    used_dv: dict[str, int] = {}
    for index, mapping in enumerate(data.mappings):
        path = f"mappings.{index}"
        if mapping.standard:
            pair = standard_by_ac.get(mapping.ac_key)
            if pair is None or pair.dynamics_key != mapping.dynamics_key:
                problem(
                    path,
                    f"{mapping.ac_key} ↔ {mapping.dynamics_key} is not a standard "
                    f"{ENTITIES[entity].label_singular.lower()} mapping.",
                )
                continue
            seen_standard.add(mapping.ac_key)
            if pair.locked and not mapping.enabled:
                problem(f"{path}.enabled", f"The {pair.name} mapping is always on.")
        elif mapping.ac_key in standard_by_ac and mapping.ac_key in enabled_standard:
            problem(
                f"{path}.ac_key",
                f"Turn the standard {standard_by_ac[mapping.ac_key].name} "
                "mapping off before mapping that field yourself.",
            )
            continue
        if not mapping.enabled:
            continue
        for used, key, side in (
            (used_ac, mapping.ac_key, "ActiveCampaign"),
            (used_dv, mapping.dynamics_key, "Dynamics 365"),
        ):
            if key in used:
                problem(
                    f"{path}.{'ac_key' if used is used_ac else 'dynamics_key'}",
                    f"The {side} field {key!r} is mapped twice (also row {used[key] + 1}).",
                )
            used[key] = index
        # Field-level direction only inside a bidirectional entity (S-3.3).
        field_direction = None
        if mapping.direction:
            try:
                field_direction = Direction(mapping.direction)
            except ValueError:
                problem(f"{path}.direction", f"Unknown direction {mapping.direction!r}.")
                continue
            if direction is not Direction.BIDIRECTIONAL and field_direction is not direction:
                problem(
                    f"{path}.direction",
                    "A field's direction can be set only when the entity syncs both ways.",
                )
                continue
        ac_field = ac_fields.get(mapping.ac_key)
        dv_field = dv_fields.get(mapping.dynamics_key)
        if ac_field is None or dv_field is None:
            if (mapping.ac_key, mapping.dynamics_key) in saved:
                continue  # vanished since it was saved: flagged on the page, kept
            missing = (
                f"ActiveCampaign has no field {mapping.ac_key!r}"
                if ac_field is None
                else f"Dynamics 365 has no {entity} field {mapping.dynamics_key!r}"
            )
            problem(path, f"{missing}.")
            continue
        if mapping.standard and standard_by_ac[mapping.ac_key].is_relationship:
            continue  # the account link is resolved by the sync engine, not converted
        wanted = (field_direction or direction).flows
        supported = pair_directions(ac_field, dv_field)
        if not wanted <= supported:
            problem(f"{path}.dynamics_key", _unsupported(ac_field, dv_field, wanted, supported))
            continue
        for flow in wanted:
            source, target = (
                (dv_field, ac_field) if flow is Direction.PUSH else (ac_field, dv_field)
            )
            if conversion(source.type, target.type).needs_value_map:
                for message in value_map_problems(
                    mapping.value_map.get(flow.value, {}), source, target
                ):
                    problem(f"{path}.value_map.{flow.value}", message)
    for pair in standard_mappings(entity):
        if pair.ac_key not in seen_standard:
            problem("mappings", f"The standard {pair.name} mapping is missing.")
    return problems


def _unsupported(ac_field, dv_field, wanted, supported) -> str:
    if not supported:
        return (
            f"{ac_field.label} ({ac_field.type.value}) and {dv_field.label} "
            f"({dv_field.type.value}) are not compatible."
        )
    only = next(iter(supported - {Direction.BIDIRECTIONAL}))
    return (
        f"{ac_field.label} and {dv_field.label} can sync only one way: set this field to "
        f"{only.label}."
    )


# -- saving ----------------------------------------------------------------------------------
def entity_write(integration: Integration, data: EntityInput) -> EntitySync:
    entity_sync, _ = EntitySync.objects.update_or_create(
        integration=integration,
        entity=data.entity,
        defaults={
            "enabled": data.enabled,
            "direction": data.direction,
            "selection": data.selection,
            "updated_at": timezone.now(),
        },
    )
    entity_sync.criteria.all().delete()
    entity_sync.field_mappings.all().delete()
    SelectionCriterion.objects.bulk_create(
        [
            SelectionCriterion(
                entity_sync=entity_sync,
                position=index,
                field_key=item.field_key,
                operator=item.operator,
                value=item.value,
            )
            for index, item in enumerate(data.criteria)
        ]
    )
    FieldMapping.objects.bulk_create(
        [
            FieldMapping(
                entity_sync=entity_sync,
                position=index,
                standard=_standard_name(data.entity, m) if m.standard else "",
                ac_key=m.ac_key,
                dynamics_key=m.dynamics_key,
                enabled=m.enabled,
                direction=m.direction,
                value_map=m.value_map,
            )
            for index, m in enumerate(data.mappings)
        ]
    )
    return entity_sync


def _standard_name(entity: str, mapping: MappingInput) -> str:
    return standard_mapping(entity, mapping.ac_key).name  # validated: it is a standard pair


def entity_input_from_saved(entity_sync: EntitySync) -> EntityInput:
    return EntityInput(
        entity=entity_sync.entity,
        enabled=entity_sync.enabled,
        direction=entity_sync.direction,
        selection=entity_sync.selection,
        criteria=[
            CriterionInput(c.field_key, c.operator, c.value) for c in entity_sync.criteria.all()
        ],
        mappings=[
            MappingInput(
                m.ac_key,
                m.dynamics_key,
                standard=bool(m.standard),
                enabled=m.enabled,
                direction=m.direction,
                value_map=m.value_map or {},
            )
            for m in entity_sync.field_mappings.all()
        ],
    )


def normalized_criteria(data: EntityInput, metadata: Metadata) -> None:
    """Store criteria values in their canonical raw form (labels become option values)."""
    dv_fields = metadata.dynamics_fields_for(data.entity)
    for item in data.criteria:
        dv_field = dv_fields.get(item.field_key)
        if dv_field is not None:
            item.value = criterion_raw_value(criterion_parse(dv_field, item.operator, item.value))


def entity_config_save(
    *, integration: Integration, data: EntityInput, actor, metadata: Metadata | None = None
) -> list[Problem]:
    """Validate one entity's configuration as a whole; save it (and audit) only if valid.

    Turning a standard mapping back on drops the custom mapping that took its ActiveCampaign
    field (S-3.5).
    """
    metadata = metadata or metadata_cached(integration=integration)
    with transaction.atomic():
        current = (
            EntitySync.objects.select_for_update()
            .filter(integration=integration, entity=data.entity)
            .first()
        )
        saved_pairs = set()
        before = None
        if current is not None:
            before = entity_input_from_saved(current)
            saved_pairs = {(m.ac_key, m.dynamics_key) for m in before.mappings}
        _drop_custom_for_reenabled_standard(data, before)
        problems = entity_problems(data, metadata=metadata, saved=saved_pairs)
        if problems:
            return problems
        normalized_criteria(data, metadata)
        entity_write(integration, data)
        audit_record(
            integration=integration,
            actor=actor,
            action="data.entity",
            summary=f"Saved the {ENTITIES[data.entity].label} configuration",
            changes=_entity_changes(before, data),
        )
    return []


def _drop_custom_for_reenabled_standard(data: EntityInput, before: EntityInput | None) -> None:
    """A standard mapping turned back on takes its ActiveCampaign field back (S-3.5)."""
    if before is None:
        return
    was_off = {m.ac_key for m in before.mappings if m.standard and not m.enabled}
    back_on = {m.ac_key for m in data.mappings if m.standard and m.enabled} & was_off
    data.mappings = [m for m in data.mappings if m.standard or m.ac_key not in back_on]


def _entity_changes(before: EntityInput | None, after: EntityInput) -> dict:
    def summary(data: EntityInput | None) -> dict:
        if data is None:
            return {}
        return {
            "enabled": data.enabled,
            "direction": data.direction,
            "selection": data.selection,
            "criteria": "; ".join(f"{c.field_key} {c.operator} {c.value}" for c in data.criteria),
            "mappings": "; ".join(
                f"{m.ac_key}↔{m.dynamics_key}{'' if m.enabled else ' (off)'}"
                f"{f' [{m.direction}]' if m.direction else ''}"
                for m in data.mappings
            ),
        }

    old, new = summary(before), summary(after)
    return {
        key: {"old": old.get(key), "new": value}
        for key, value in new.items()
        if old.get(key) != value
    }


# -- opportunities -------------------------------------------------------------------------
# The fields every opportunity record carries when opportunities sync; custom field mapping adds
# up to OPPORTUNITY_MAX_FIELDS more (S-3.9).
OPPORTUNITY_STANDARD_FIELDS = (
    "name",
    "estimatedvalue",
    "salesstage",
    "estimatedclosedate",
    "closeprobability",
    "statecode",
)


def opportunity_problems(
    data: OpportunityInput, *, metadata: Metadata, saved: OpportunitySync | None
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(path: str, message: str) -> None:
        problems.append(Problem(f"opportunity.{path}" if path else "opportunity", message))

    if saved is not None and saved.custom_fields_enabled and not data.custom_fields_enabled:
        problem(
            "custom_fields_enabled",
            "Opportunity custom field mapping is permanent once saved; it cannot be turned off.",
        )
    if not data.custom_fields_enabled and data.fields:
        problem("fields", "Turn on opportunity custom field mapping to map custom fields.")
    if len(data.fields) > OPPORTUNITY_MAX_FIELDS:
        problem(
            "fields",
            f"At most {OPPORTUNITY_MAX_FIELDS} opportunity fields can be mapped; "
            f"{len(data.fields)} are selected.",
        )
    dv_fields = metadata.dynamics_fields_for("opportunity")
    in_schema = {f.dynamics_key: f for f in saved.fields.all() if f.in_schema} if saved else {}
    seen: set[str] = set()
    for index, item in enumerate(data.fields):
        path = f"fields.{index}"
        if item.dynamics_key in seen:
            problem(path, f"{item.dynamics_key!r} is selected twice.")
        seen.add(item.dynamics_key)
        if item.dynamics_key in OPPORTUNITY_STANDARD_FIELDS:
            problem(path, f"{item.dynamics_key!r} is always synced; pick another field.")
            continue
        kept = in_schema.get(item.dynamics_key)
        if kept is not None:
            if item.ac_type != kept.ac_type or item.required != kept.required:
                problem(
                    path,
                    "This field is in the ActiveCampaign schema already: its type and "
                    "'required' cannot change.",
                )
            continue
        dv_field = dv_fields.get(item.dynamics_key)
        if dv_field is None:
            problem(path, f"Dynamics 365 has no opportunity field {item.dynamics_key!r}.")
            continue
        offered = ac_object_field_types_for(dv_field)
        if not offered:
            problem(path, f"{dv_field.label} cannot be mapped.")
        elif item.ac_type not in offered:
            problem(
                f"{path}.ac_type",
                f"{dv_field.label} can become {', '.join(offered)}, not {item.ac_type!r}.",
            )
    for key, kept in in_schema.items():
        if key not in seen:
            problem(
                "fields",
                f"{kept.label} is in the ActiveCampaign schema and cannot be "
                "removed; switch it off instead.",
            )
    return problems


def opportunity_config_save(
    *,
    integration: Integration,
    data: OpportunityInput,
    actor,
    metadata: Metadata | None = None,
    schema_writer=None,
) -> list[Problem]:
    """Validate, then create or extend the ActiveCampaign custom object schema, then save.

    schema_writer(spec) -> schema, default the ActiveCampaign client: the schema only ever
    grows; a field switched off stays in it and stops syncing (S-3.10).
    """
    metadata = metadata or metadata_cached(integration=integration)
    with transaction.atomic():
        saved = (
            OpportunitySync.objects.select_for_update()
            .filter(integration=integration)
            .prefetch_related("fields")
            .first()
        )
        problems = opportunity_problems(data, metadata=metadata, saved=saved)
        if problems:
            return problems
        opportunity, _ = OpportunitySync.objects.get_or_create(integration=integration)
        before = _opportunity_summary(opportunity)
        rows = opportunity_fields_write(opportunity, data.fields, metadata=metadata)
        opportunity.enabled = data.enabled
        opportunity.custom_fields_enabled = data.custom_fields_enabled
        opportunity.updated_at = timezone.now()
        if data.enabled:
            try:
                schema = (schema_writer or _schema_writer(integration))(
                    _schema_spec(rows, metadata)
                )
            except ConnectorError as error:
                transaction.set_rollback(True)
                return [
                    Problem(
                        "opportunity",
                        "The ActiveCampaign custom object could not be "
                        f"saved: {user_message(error)}",
                    )
                ]
            opportunity.schema_id, opportunity.schema_slug = schema.id, schema.slug
            OpportunityField.objects.filter(pk__in=[r.pk for r in rows]).update(in_schema=True)
        opportunity.save()
        audit_record(
            integration=integration,
            actor=actor,
            action="data.opportunity",
            summary="Saved the Opportunities configuration",
            changes={
                k: {"old": before.get(k), "new": v}
                for k, v in _opportunity_summary(opportunity).items()
                if before.get(k) != v
            },
        )
    return []


def opportunity_fields_write(
    opportunity: OpportunitySync,
    fields: list[OpportunityFieldInput],
    *,
    metadata: Metadata,
    labels: list[str] | None = None,
    in_schema: list[bool] | None = None,
) -> list[OpportunityField]:
    """Replace the opportunity's fields, except those already in the ActiveCampaign schema,
    which only move and switch on or off (S-3.10). Validated input only."""
    kept = {f.dynamics_key: f for f in opportunity.fields.all()}
    dv_fields = metadata.dynamics_fields_for("opportunity")
    opportunity.fields.exclude(in_schema=True).delete()
    rows = []
    for index, item in enumerate(fields):
        old = kept.get(item.dynamics_key)
        if old is not None and old.in_schema:
            old.position, old.enabled = index, item.enabled
            old.save(update_fields=["position", "enabled"])
            rows.append(old)
            continue
        dv_field = dv_fields.get(item.dynamics_key)
        label = (labels[index] if labels else "") or (
            dv_field.label if dv_field else item.dynamics_key
        )
        rows.append(
            OpportunityField.objects.create(
                opportunity_sync=opportunity,
                position=index,
                dynamics_key=item.dynamics_key,
                label=label,
                ac_type=item.ac_type,
                required=item.required,
                enabled=item.enabled,
                ac_field_id=object_field_id(item.dynamics_key),
                in_schema=bool(in_schema and in_schema[index]),
            )
        )
    return rows


def _opportunity_summary(opportunity: OpportunitySync) -> dict:
    return {
        "enabled": opportunity.enabled,
        "custom_fields_enabled": opportunity.custom_fields_enabled,
        "fields": "; ".join(
            f"{f.dynamics_key}:{f.ac_type}{'' if f.enabled else ' (off)'}"
            for f in opportunity.fields.all()
        ),
    }


def _schema_writer(integration: Integration):
    from connectors.activecampaign.client import ActiveCampaignClient

    return ActiveCampaignClient(integration.activecampaign_config()).custom_objects.ensure_schema


def _schema_spec(rows: list[OpportunityField], metadata: Metadata):
    from connectors.activecampaign.records import CustomObjectSchemaSpec

    dv_fields = metadata.dynamics_fields_for("opportunity")
    fields = []
    for key in OPPORTUNITY_STANDARD_FIELDS:
        dv_field = dv_fields.get(key)
        if dv_field is None:
            continue
        ac_type = ac_object_field_types_for(dv_field)[0]
        fields.append(
            _object_field(
                object_field_id(key), dv_field.label, ac_type, dv_field, required=key == "name"
            )
        )
    for row in rows:
        fields.append(
            _object_field(
                row.ac_field_id,
                row.label,
                row.ac_type,
                dv_fields.get(row.dynamics_key),
                required=row.required,
            )
        )
    return CustomObjectSchemaSpec(
        slug=OPPORTUNITY_SCHEMA_SLUG,
        label="D365 Opportunity",
        plural_label="D365 Opportunities",
        description="Opportunities synced from Dynamics 365 by syncadmin",
        fields=tuple(fields),
        contact_relationship=True,
    )


def _object_field(
    field_id: str, label: str, ac_type: str, dv_field: FieldInfo | None, *, required: bool
):
    from connectors.activecampaign.records import CustomObjectField

    options = ()
    if ac_type in ("dropdown", "multiselect") and dv_field is not None:
        options = tuple(option.label for option in dv_field.options) or ("Yes", "No")
    return CustomObjectField(
        id=field_id,
        label=label,
        plural_label=label,
        type=ac_type,
        required=required,
        options=options,
        scale=0 if ac_type == "number" else None,
    )


def opportunity_input_from_saved(opportunity: OpportunitySync | None) -> OpportunityInput:
    if opportunity is None:
        return OpportunityInput()
    return OpportunityInput(
        enabled=opportunity.enabled,
        custom_fields_enabled=opportunity.custom_fields_enabled,
        fields=[
            OpportunityFieldInput(f.dynamics_key, f.ac_type, f.required, f.enabled)
            for f in opportunity.fields.all()
        ],
    )
