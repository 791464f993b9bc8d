"""Leads, Contacts, Accounts (S-3.1 to S-3.6): validated as a whole, saved in one transaction,
audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from connectors.types import ChoiceOption, FieldInfo, FieldType
from integrations.models import Integration
from integrations.services import audit_record

from ..core.compat import conversion, pair_directions
from ..core.criteria import (
    CriterionError,
    Operator,
    criterion_parse,
    criterion_raw_value,
    operators_for,
)
from ..core.directions import Direction
from ..core.standard import (
    ENTITIES,
    SYNCED_ENTITIES,
    StandardMapping,
    standard_mapping,
    standard_mappings,
)
from ..core.transforms import FALSE, TRUE
from ..inputs import (
    MAX_CRITERIA,
    MAX_MAPPINGS,
    MAX_VALUE_LENGTH,
    CriterionInput,
    EntityInput,
    MappingInput,
    Problem,
    text_problem,
)
from ..models import EntitySync, FieldMapping, SelectionCriterion
from ..selectors import Metadata, metadata_cached

_FIELD_KEY = SelectionCriterion._meta.get_field("field_key").max_length
_OPERATOR = SelectionCriterion._meta.get_field("operator").max_length
_AC_KEY = FieldMapping._meta.get_field("ac_key").max_length
_DV_KEY = FieldMapping._meta.get_field("dynamics_key").max_length
_DIRECTION = FieldMapping._meta.get_field("direction").max_length


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
                entity,
                gettext("Unknown entity %(entity)r; expected one of %(known)s.")
                % {"entity": entity, "known": ", ".join(SYNCED_ENTITIES)},
            )
        ]
    try:
        direction = Direction(data.direction)
    except ValueError:
        problem("direction", gettext("Unknown direction %(value)r.") % {"value": data.direction})
        direction = Direction.BIDIRECTIONAL
    if direction not in ENTITIES[entity].directions:
        problem(
            "direction",
            gettext("%(entity)s cannot sync %(direction)s.")
            % {"entity": gettext(ENTITIES[entity].label), "direction": gettext(direction.label)},
        )
    if data.selection not in EntitySync.Selection.values:
        problem(
            "selection",
            gettext("Unknown record selection %(value)r.") % {"value": data.selection},
        )
    if data.conflict_rule not in EntitySync.ConflictRule.values:
        problem(
            "conflict_rule",
            gettext("Unknown conflict rule %(value)r.") % {"value": data.conflict_rule},
        )
    if data.deletion_policy not in EntitySync.DeletionPolicy.values:
        problem(
            "deletion_policy",
            gettext("Unknown deletion policy %(value)r.") % {"value": data.deletion_policy},
        )

    ac_fields = metadata.ac_fields_for(entity)
    dv_fields = metadata.dynamics_fields_for(entity)
    saved = set(saved)
    sizes = _size_problems(data)
    problems += sizes
    if sizes:
        return problems  # unstorable text: the rules below would only repeat it

    if data.selection == EntitySync.Selection.CRITERIA and not data.criteria:
        problem(
            "criteria",
            gettext("Add at least one criterion, or sync all created or updated records."),
        )
    for index, item in enumerate(data.criteria):
        dv_field = dv_fields.get(item.field_key)
        if dv_field is None:
            problem(
                f"criteria.{index}.field",
                gettext("Dynamics 365 has no %(entity)s field %(key)r.")
                % {"entity": entity, "key": item.field_key},
            )
            continue
        if item.operator not in {o.value for o in operators_for(dv_field)}:
            known = item.operator in Operator.__members__.values()
            problem(
                f"criteria.{index}.operator",
                gettext("“%(operator)s” cannot be used with %(field)s.")
                % {"operator": gettext(Operator(item.operator).label), "field": dv_field.label}
                if known
                else gettext("“%(operator)s” is not a known operator.")
                % {"operator": item.operator},
            )
            continue
        try:
            criterion_parse(dv_field, item.operator, _typed(item.value))
        except CriterionError as error:
            problem(f"criteria.{index}.value", gettext(error.template) % error.params)

    standard_by_ac = {pair.ac_key: pair for pair in standard_mappings(entity)}
    enabled_standard = {m.ac_key for m in data.mappings if m.standard and m.enabled}
    seen_standard: set[str] = set()
    used_ac: set[str] = set()
    used_dv: set[str] = set()
    for index, mapping in enumerate(data.mappings):
        path = f"mappings.{index}"
        if mapping.standard:
            pair = standard_by_ac.get(mapping.ac_key)
            if pair is None or pair.dynamics_key != mapping.dynamics_key:
                problem(
                    path,
                    gettext("%(ac)s ↔ %(dynamics)s is not a standard %(entity)s mapping.")
                    % {
                        "ac": mapping.ac_key,
                        "dynamics": mapping.dynamics_key,
                        "entity": gettext(ENTITIES[entity].label_singular).lower(),
                    },
                )
                continue
            if mapping.ac_key in seen_standard:
                problem(
                    path,
                    gettext("The standard %(name)s mapping is given twice.")
                    % {"name": gettext(pair.name)},
                )
                continue
            seen_standard.add(mapping.ac_key)
            if pair.locked and not mapping.enabled:
                problem(
                    f"{path}.enabled",
                    gettext("The %(name)s mapping is always on.") % {"name": gettext(pair.name)},
                )
            if mapping.clear_when_blank and is_match_key(pair):
                problem(
                    f"{path}.clear_when_blank",
                    gettext("Records are matched by %(name)s: a blank one never clears it.")
                    % {"name": gettext(pair.name).lower()},
                )
        elif mapping.ac_key in standard_by_ac and mapping.ac_key in enabled_standard:
            problem(
                f"{path}.ac_key",
                gettext(
                    "Turn the standard %(name)s mapping off before mapping that field yourself."
                )
                % {"name": gettext(standard_by_ac[mapping.ac_key].name)},
            )
            continue
        if not mapping.enabled:
            continue
        if not mapping.dynamics_key:
            ac_label = ac_fields[mapping.ac_key].label if mapping.ac_key in ac_fields else ""
            problem(
                f"{path}.dynamics_key",
                gettext("Choose the Dynamics 365 field for “%(label)s”.")
                % {"label": ac_label or mapping.ac_key},
            )
            continue
        for used, key, fields, side, name in (
            (used_ac, mapping.ac_key, ac_fields, "ActiveCampaign", "ac_key"),
            (used_dv, mapping.dynamics_key, dv_fields, "Dynamics 365", "dynamics_key"),
        ):
            if key in used:
                label = fields[key].label if key in fields else key
                problem(
                    f"{path}.{name}",
                    gettext("The %(side)s field “%(label)s” is mapped twice.")
                    % {"side": side, "label": label},
                )
            used.add(key)
        # Field-level direction only inside a bidirectional entity (S-3.3).
        field_direction = None
        if mapping.direction:
            try:
                field_direction = Direction(mapping.direction)
            except ValueError:
                problem(
                    f"{path}.direction",
                    gettext("Unknown direction %(value)r.") % {"value": mapping.direction},
                )
                continue
            if direction is not Direction.BIDIRECTIONAL and field_direction is not direction:
                problem(
                    f"{path}.direction",
                    gettext("A field's direction can be set only when the entity syncs both ways."),
                )
                continue
        ac_field = ac_fields.get(mapping.ac_key)
        dv_field = dv_fields.get(mapping.dynamics_key)
        if ac_field is None or dv_field is None:
            if mapping.standard:
                # Part of the product, valid without the account's fields (a fresh
                # installation has read none); the page flags a field the account lacks.
                continue
            if (mapping.ac_key, mapping.dynamics_key) in saved:
                continue  # vanished since it was saved: flagged on the page, kept
            if ac_field is None:
                problem(
                    f"{path}.ac_key",
                    gettext("ActiveCampaign has no field %(key)r.") % {"key": mapping.ac_key},
                )
            else:
                problem(
                    f"{path}.dynamics_key",
                    gettext("Dynamics 365 has no %(entity)s field %(key)r.")
                    % {"entity": entity, "key": mapping.dynamics_key},
                )
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
                for message in option_pair_problems(
                    mapping.value_map.get(flow.value, {}), source, target
                ):
                    problem(f"{path}.value_map.{flow.value}", message)
    for pair in standard_mappings(entity):
        if pair.ac_key not in seen_standard:
            problem(
                "mappings",
                gettext("The standard %(name)s mapping is missing.") % {"name": gettext(pair.name)},
            )
    return problems


def field_options(field: FieldInfo) -> list[ChoiceOption]:
    """A field's options for pairing; a yes/no field without labelled options offers Yes, No."""
    if field.type == FieldType.BOOLEAN and not field.options:
        return [ChoiceOption(TRUE, "Yes"), ChoiceOption(FALSE, "No")]
    return list(field.options)


def option_pair_problems(value_map: dict, source: FieldInfo, target: FieldInfo) -> list[str]:
    """Option pairs naming an option that is not there, in words.

    An option may stay unpaired: its value is not synced, and the page says so on the row.
    (`mapping.core.transforms.value_map_problems` asks for every option to be paired.)
    """
    sources = {option.value for option in field_options(source)}
    targets = {option.value for option in field_options(target)}
    problems = []
    for key, value in value_map.items():
        if key not in sources:
            problems.append(
                gettext("“%(option)s” is not an option of %(field)s.")
                % {"option": key, "field": source.label}
            )
        if value not in targets:
            problems.append(
                gettext("“%(option)s” is not an option of %(field)s.")
                % {"option": value, "field": target.label}
            )
    return problems


def _size_problems(data: EntityInput) -> list[Problem]:
    """Counts, lengths and characters the database could not store."""
    problems: list[Problem] = []
    entity = data.entity
    if len(data.criteria) > MAX_CRITERIA:
        problems.append(
            Problem(
                f"{entity}.criteria",
                gettext("At most %(limit)s criteria can be set.") % {"limit": MAX_CRITERIA},
            )
        )
    if len(data.mappings) > MAX_MAPPINGS:
        problems.append(
            Problem(
                f"{entity}.mappings",
                gettext("At most %(limit)s fields can be mapped.") % {"limit": MAX_MAPPINGS},
            )
        )

    def check(path: str, value, max_length: int, what: str) -> None:
        message = text_problem(str(value), max_length=max_length)
        if message:
            problems.append(
                Problem(
                    f"{entity}.{path}",
                    gettext("%(what)s %(problem)s.") % {"what": gettext(what), "problem": message},
                )
            )

    for index, item in enumerate(data.criteria[:MAX_CRITERIA]):
        check(f"criteria.{index}.field", item.field_key, _FIELD_KEY, gettext_noop("The field name"))
        check(f"criteria.{index}.operator", item.operator, _OPERATOR, gettext_noop("The operator"))
        values = item.value if isinstance(item.value, list) else [item.value or ""]
        if len(values) > MAX_MAPPINGS:
            problems.append(
                Problem(f"{entity}.criteria.{index}.value", gettext("Too many values."))
            )
        for value in values[:MAX_MAPPINGS]:
            check(f"criteria.{index}.value", value, MAX_VALUE_LENGTH, gettext_noop("The value"))
    for index, mapping in enumerate(data.mappings[:MAX_MAPPINGS]):
        check(
            f"mappings.{index}.ac_key",
            mapping.ac_key,
            _AC_KEY,
            gettext_noop("The ActiveCampaign field"),
        )
        check(
            f"mappings.{index}.dynamics_key",
            mapping.dynamics_key,
            _DV_KEY,
            gettext_noop("The field"),
        )
        check(
            f"mappings.{index}.direction",
            mapping.direction,
            _DIRECTION,
            gettext_noop("The direction"),
        )
        for flow, pairs in mapping.value_map.items():
            if flow not in (Direction.PUSH.value, Direction.PULL.value) or not isinstance(
                pairs, dict
            ):
                problems.append(
                    Problem(
                        f"{entity}.mappings.{index}.value_map",
                        gettext("Unknown flow %(value)r.") % {"value": flow},
                    )
                )
                continue
            for source, target in pairs.items():
                for value in (flow, source, target):
                    check(
                        f"mappings.{index}.value_map.{flow}", value, MAX_VALUE_LENGTH, "An option"
                    )
    return problems


def _typed(value) -> str | list[str]:
    """A criterion's value as `criterion_parse` takes it: text, or a list of texts."""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return "" if value is None else str(value)


def is_match_key(pair: StandardMapping) -> bool:
    """The locked value pairs (Email; an account's name) are how records are matched."""
    return pair.locked and not pair.is_relationship


def _unsupported(ac_field, dv_field, wanted, supported) -> str:
    if not supported:
        return gettext(
            "%(ac)s (%(ac_type)s) and %(dynamics)s (%(dynamics_type)s) are not compatible."
        ) % {
            "ac": ac_field.label,
            "ac_type": ac_field.type.value,
            "dynamics": dv_field.label,
            "dynamics_type": dv_field.type.value,
        }
    only = next(iter(supported - {Direction.BIDIRECTIONAL}))
    return gettext(
        "%(ac)s and %(dynamics)s can sync only one way: set this field to %(direction)s."
    ) % {"ac": ac_field.label, "dynamics": dv_field.label, "direction": gettext(only.label)}


# -- saving ----------------------------------------------------------------------------------
def entity_write(integration: Integration, data: EntityInput) -> EntitySync:
    entity_sync, _ = EntitySync.objects.update_or_create(
        integration=integration,
        entity=data.entity,
        defaults={
            "enabled": data.enabled,
            "direction": data.direction,
            "selection": data.selection,
            "conflict_rule": data.conflict_rule,
            "deletion_policy": data.deletion_policy,
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
                clear_when_blank=m.clear_when_blank,
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
        conflict_rule=entity_sync.conflict_rule,
        deletion_policy=entity_sync.deletion_policy,
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
                clear_when_blank=m.clear_when_blank,
            )
            for m in entity_sync.field_mappings.all()
        ],
    )


def entity_input_normalize(data: EntityInput, metadata: Metadata) -> None:
    """Validated input in the form it is stored: criteria values canonical (option labels become
    option values), option pairs kept only for the flows of a pair that has options."""
    dv_fields = metadata.dynamics_fields_for(data.entity)
    ac_fields = metadata.ac_fields_for(data.entity)
    for item in data.criteria:
        dv_field = dv_fields.get(item.field_key)
        if dv_field is not None:
            item.value = criterion_raw_value(
                criterion_parse(dv_field, item.operator, _typed(item.value))
            )
    for mapping in data.mappings:
        ac_field, dv_field = ac_fields.get(mapping.ac_key), dv_fields.get(mapping.dynamics_key)
        if ac_field is None or dv_field is None:
            continue  # a field the account lacks: what was saved stays as it is
        kept = {}
        for flow, (source, target) in (
            (Direction.PUSH.value, (dv_field, ac_field)),
            (Direction.PULL.value, (ac_field, dv_field)),
        ):
            rule = conversion(source.type, target.type)
            if rule is not None and rule.needs_value_map and flow in mapping.value_map:
                kept[flow] = mapping.value_map[flow]
        mapping.value_map = kept


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
        entity_input_normalize(data, metadata)
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
            "conflict_rule": data.conflict_rule,
            "deletion_policy": data.deletion_policy,
            "criteria": "; ".join(f"{c.field_key} {c.operator} {c.value}" for c in data.criteria),
            "mappings": "; ".join(
                f"{m.ac_key}↔{m.dynamics_key}{'' if m.enabled else ' (off)'}"
                f"{f' [{m.direction}]' if m.direction else ''}"
                f"{' (blank clears)' if m.clear_when_blank else ''}"
                for m in data.mappings
            ),
        }

    old, new = summary(before), summary(after)
    return {
        key: {"old": old.get(key), "new": value}
        for key, value in new.items()
        if old.get(key) != value
    }
