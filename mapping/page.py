"""What the Data configuration page shows: the saved (or submitted) configuration joined with
both sides' cached fields, row by row. Read-only; no queries beyond those of the selectors."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext

from connectors.types import FieldInfo, FieldType

from .core.compat import CompatibleTarget, compatible_targets, conversion, pair_directions
from .core.criteria import Operator, operators_for
from .core.directions import Direction, field_direction_choices
from .core.opportunity import OPPORTUNITY_MAX_FIELDS, ac_object_field_types_for
from .core.standard import ENTITIES, standard_mapping
from .core.transforms import default_value_map
from .models import EntitySync
from .selectors import Metadata
from .services import (
    OPPORTUNITY_STANDARD_FIELDS,
    EntityInput,
    OpportunityInput,
    Problem,
    field_options,
    is_match_key,
)


@dataclass
class ValueMapRow:
    flow: str  # "push" or "pull"
    source_value: str
    source_label: str
    selected: str
    choices: list[tuple[str, str]]  # target (value, label)


@dataclass
class CriterionRow:
    index: int
    field_key: str
    operator: str
    value: object
    field: FieldInfo | None
    operators: list[Operator]
    errors: list[str]

    @property
    def field_label(self) -> str:
        return self.field.label if self.field else self.field_key

    @property
    def arity(self) -> str:
        try:
            return Operator(self.operator).arity.value
        except ValueError:
            return "one"

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list | tuple):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]


@dataclass
class MappingRow:
    index: int
    ac_key: str
    dynamics_key: str
    standard: bool
    locked: bool
    name: str
    enabled: bool
    direction: str
    ac_field: FieldInfo | None
    dynamics_field: FieldInfo | None
    targets: list[CompatibleTarget]
    direction_choices: list[Direction]
    value_maps: list[ValueMapRow]
    errors: list[str]
    clear_when_blank: bool = False
    match_key: bool = False  # Email / an account's name: a blank never clears it

    @property
    def vanished(self) -> str:
        """Which side lost a field since the mapping was saved ("" when both exist)."""
        if self.ac_field is None:
            return gettext("The ActiveCampaign field %(key)r no longer exists.") % {
                "key": self.ac_key
            }
        if self.dynamics_field is None and self.dynamics_key:
            return gettext("The Dynamics 365 field %(key)r no longer exists.") % {
                "key": self.dynamics_key
            }
        return ""

    @property
    def unpaired(self) -> list[ValueMapRow]:
        """Options left without a pair: their values are not synced."""
        return [pair for pair in self.value_maps if not pair.selected]

    @property
    def paired_count(self) -> int:
        return len(self.value_maps) - len(self.unpaired)

    @property
    def one_way(self) -> str:
        for target in self.targets:
            if (
                target.field.key == self.dynamics_key
                and Direction.BIDIRECTIONAL not in target.directions
            ):
                return gettext(next(iter(target.directions)).label)
        return ""


@dataclass
class EntityPage:
    entity: str
    label: str
    data: EntityInput
    criteria: list[CriterionRow]
    standard_rows: list[MappingRow]
    custom_rows: list[MappingRow]
    criteria_fields: list[FieldInfo]
    pickable_ac_fields: list[FieldInfo]
    problem_lines: list[str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def bidirectional(self) -> bool:
        return self.data.direction == Direction.BIDIRECTIONAL.value

    @property
    def label_singular(self) -> str:
        return gettext(ENTITIES[self.entity].label_singular)

    @property
    def pushes(self) -> bool:
        """Dynamics 365 records flow to ActiveCampaign (a deletion there has a policy)."""
        return self.data.direction in (Direction.BIDIRECTIONAL.value, Direction.PUSH.value)

    @property
    def directions(self) -> list[Direction]:
        return list(ENTITIES[self.entity].directions)

    @property
    def conflict_rules(self) -> list[tuple[str, str]]:
        return list(EntitySync.ConflictRule.choices)

    @property
    def deletion_policies(self) -> list[tuple[str, str]]:
        return list(EntitySync.DeletionPolicy.choices)

    @property
    def next_index(self) -> int:
        rows = self.criteria + self.standard_rows + self.custom_rows
        return max((row.index for row in rows), default=-1) + 1


def _problem_lines(problems, *, prefix: str, named: dict[str, str]) -> list[str]:
    """Every problem for the summary above the form, naming its row by labels ("Mapping of
    “Lead source”: …"), never by an internal row number."""
    lines = []
    for problem in problems:
        path = problem.path[len(prefix) :] if problem.path.startswith(prefix) else ""
        row = ".".join(path.split(".")[:2])
        lines.append(f"{named[row]}: {problem.message}" if row in named else problem.message)
    return lines


def errors_by_path(problems: list[Problem]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        errors[problem.path].append(problem.message)
    return errors


def _row_errors(errors: dict[str, list[str]], prefix: str) -> list[str]:
    return [
        message
        for path, messages in errors.items()
        if path == prefix or path.startswith(prefix + ".")
        for message in messages
    ]


def criterion_row(
    index: int, field_key: str, operator: str, value, *, dv_fields, errors=()
) -> CriterionRow:
    dv_field = dv_fields.get(field_key)
    operators = operators_for(dv_field) if dv_field else []
    if dv_field and operator not in {o.value for o in operators}:
        operator = operators[0].value if operators else ""
    return CriterionRow(index, field_key, operator, value, dv_field, operators, list(errors))


def mapping_row(
    index: int,
    *,
    entity: str,
    direction: Direction,
    ac_key: str,
    dynamics_key: str,
    standard: bool,
    enabled: bool,
    field_direction: str,
    value_map: dict,
    metadata: Metadata,
    clear_when_blank: bool = False,
    errors=(),
) -> MappingRow:
    ac_fields = metadata.ac_fields_for(entity)
    dv_fields = metadata.dynamics_fields_for(entity)
    ac_field, dv_field = ac_fields.get(ac_key), dv_fields.get(dynamics_key)
    pair = _standard_pair(entity, ac_key) if standard else None
    targets = (
        []
        if standard or ac_field is None
        else compatible_targets(ac_field, dv_fields.values(), direction)
    )
    supported = (
        pair_directions(ac_field, dv_field)
        if ac_field and dv_field and not (pair and pair.is_relationship)
        else direction.flows | {direction}
    )
    choices = field_direction_choices(direction, frozenset(supported))
    value_maps = []
    if ac_field and dv_field and not (pair and pair.is_relationship):
        flows = _direction_or(field_direction, direction).flows
        for flow in (Direction.PUSH, Direction.PULL):
            if flow not in flows or flow not in supported:
                continue
            source, target = (
                (dv_field, ac_field) if flow is Direction.PUSH else (ac_field, dv_field)
            )
            rule = conversion(source.type, target.type)
            if rule is None or not rule.needs_value_map:
                continue
            for option in field_options(source):
                value_maps.append(
                    ValueMapRow(
                        flow.value,
                        option.value,
                        option.label,
                        str(value_map.get(flow.value, {}).get(option.value, "")),
                        [(o.value, o.label) for o in field_options(target)],
                    )
                )
    return MappingRow(
        index=index,
        ac_key=ac_key,
        dynamics_key=dynamics_key,
        standard=standard,
        locked=bool(pair and pair.locked),
        name=gettext(pair.name) if pair else (ac_field.label if ac_field else ac_key),
        enabled=enabled,
        direction=field_direction,
        ac_field=ac_field,
        dynamics_field=dv_field,
        targets=targets,
        direction_choices=choices,
        value_maps=value_maps,
        errors=list(errors),
        clear_when_blank=clear_when_blank,
        match_key=bool(pair and is_match_key(pair)),
    )


def proposed_mapping_row(
    index: int,
    *,
    entity: str,
    direction: Direction,
    ac_key: str,
    dynamics_key: str,
    field_direction: str,
    metadata: Metadata,
) -> MappingRow:
    """A new custom mapping row, for a person to complete.

    No Dynamics field is chosen for them ("Choose a field…"): a guess that a hurried person saves
    is a wrong mapping. Once one is chosen, a pair that syncs only one way in a bidirectional
    entity gets that one way as its field direction, and options with the same label are paired.
    """
    ac_field = metadata.ac_fields_for(entity).get(ac_key)
    dv_fields = metadata.dynamics_fields_for(entity)
    targets = compatible_targets(ac_field, dv_fields.values(), direction) if ac_field else []
    chosen = next((t for t in targets if t.field.key == dynamics_key), None)
    if (
        chosen
        and direction is Direction.BIDIRECTIONAL
        and not field_direction
        and Direction.BIDIRECTIONAL not in chosen.directions
    ):
        field_direction = next(iter(chosen.directions)).value
    dv_field = dv_fields.get(dynamics_key)
    value_map = {}
    if ac_field is not None and dv_field is not None:
        for flow, source, target in (("push", dv_field, ac_field), ("pull", ac_field, dv_field)):
            if conversion(source.type, target.type) is not None:
                value_map[flow] = default_value_map(source, target)
    return mapping_row(
        index,
        entity=entity,
        direction=direction,
        ac_key=ac_key,
        dynamics_key=dynamics_key,
        standard=False,
        enabled=True,
        field_direction=field_direction,
        value_map=value_map,
        metadata=metadata,
    )


def _direction_or(value: str, default: Direction) -> Direction:
    """A posted direction, or `default` for none or one that is not a direction (the
    service refuses it; the page still renders)."""
    try:
        return Direction(value) if value else default
    except ValueError:
        return default


def _standard_pair(entity: str, ac_key: str):
    """The standard pair, or None for a posted row that names no standard pair."""
    try:
        return standard_mapping(entity, ac_key)
    except KeyError:
        return None


def criteria_fields(dv_fields: dict[str, FieldInfo]) -> list[FieldInfo]:
    """The Dynamics fields a criterion can test, by label."""
    return sorted(
        (f for f in dv_fields.values() if operators_for(f)), key=lambda f: f.label.lower()
    )


def entity_page(
    data: EntityInput, *, metadata: Metadata, problems: list[Problem] = ()
) -> EntityPage:
    entity = data.entity
    errors = errors_by_path(list(problems))
    prefix = f"{entity}."
    local = {
        path[len(prefix) :]: messages
        for path, messages in errors.items()
        if path.startswith(prefix)
    }
    dv_fields = metadata.dynamics_fields_for(entity)
    try:
        direction = Direction(data.direction)
    except ValueError:
        direction = Direction.BIDIRECTIONAL
    criteria = [
        criterion_row(
            i,
            c.field_key,
            c.operator,
            c.value,
            dv_fields=dv_fields,
            errors=_row_errors(local, f"criteria.{i}"),
        )
        for i, c in enumerate(data.criteria)
    ]
    rows = [
        mapping_row(
            i,
            entity=entity,
            direction=direction,
            ac_key=m.ac_key,
            dynamics_key=m.dynamics_key,
            standard=m.standard,
            enabled=m.enabled,
            field_direction=m.direction,
            value_map=m.value_map,
            metadata=metadata,
            clear_when_blank=m.clear_when_blank,
            errors=_row_errors(local, f"mappings.{i}"),
        )
        for i, m in enumerate(data.mappings)
    ]
    enabled_standard = {m.ac_key for m in data.mappings if m.standard and m.enabled}
    mapped = {m.ac_key for m in data.mappings if not m.standard}
    pickable = [
        f
        for f in metadata.ac_fields_for(entity).values()
        if f.type != FieldType.LOOKUP and f.key not in enabled_standard and f.key not in mapped
    ]
    named = {
        **{
            f"criteria.{row.index}": gettext("Criterion on “%(field)s”")
            % {"field": row.field_label}
            for row in criteria
        },
        **{
            f"mappings.{row.index}": (
                gettext("Standard mapping “%(name)s”") % {"name": row.name}
                if row.standard
                else gettext("Mapping of “%(name)s”") % {"name": row.name}
            )
            for row in rows
        },
    }
    return EntityPage(
        entity=entity,
        label=gettext(ENTITIES[entity].label),
        data=data,
        criteria=criteria,
        standard_rows=[r for r in rows if r.standard],
        custom_rows=[r for r in rows if not r.standard],
        criteria_fields=criteria_fields(dv_fields),
        pickable_ac_fields=sorted(pickable, key=lambda f: (f.custom, f.label.lower())),
        problem_lines=_problem_lines(problems, prefix=prefix, named=named),
        errors=dict(local),
    )


@dataclass
class OpportunityRow:
    index: int
    dynamics_key: str
    label: str
    ac_type: str
    required: bool
    enabled: bool
    in_schema: bool
    ac_types: list[str]
    errors: list[str]


@dataclass
class OpportunityPage:
    data: OpportunityInput
    saved_custom_fields: bool
    rows: list[OpportunityRow]
    pickable: list[FieldInfo]
    standard_labels: list[str]
    problem_lines: list[str]
    max_fields: int = OPPORTUNITY_MAX_FIELDS

    @property
    def next_index(self) -> int:
        return max((row.index for row in self.rows), default=-1) + 1


def opportunity_row(
    index: int,
    *,
    dynamics_key: str,
    ac_type: str,
    required: bool,
    enabled: bool,
    in_schema: bool,
    label: str,
    metadata: Metadata,
    errors=(),
) -> OpportunityRow:
    dv_field = metadata.dynamics_fields_for("opportunity").get(dynamics_key)
    ac_types = ac_object_field_types_for(dv_field) if dv_field else [ac_type]
    return OpportunityRow(
        index,
        dynamics_key,
        dv_field.label if dv_field else label,
        ac_type or (ac_types[0] if ac_types else ""),
        required,
        enabled,
        in_schema,
        ac_types,
        list(errors),
    )


def opportunity_page(
    data: OpportunityInput, *, saved, metadata: Metadata, problems: list[Problem] = ()
) -> OpportunityPage:
    errors = errors_by_path(list(problems))
    local = {
        path[len("opportunity.") :]: m
        for path, m in errors.items()
        if path.startswith("opportunity.")
    }
    in_schema = {f.dynamics_key: f for f in saved.fields.all() if f.in_schema} if saved else {}
    rows = [
        opportunity_row(
            i,
            dynamics_key=f.dynamics_key,
            ac_type=f.ac_type,
            required=f.required,
            enabled=f.enabled,
            in_schema=f.dynamics_key in in_schema,
            label=in_schema[f.dynamics_key].label
            if f.dynamics_key in in_schema
            else f.dynamics_key,
            metadata=metadata,
            errors=_row_errors(local, f"fields.{i}"),
        )
        for i, f in enumerate(data.fields)
    ]
    dv_fields = metadata.dynamics_fields_for("opportunity")
    chosen = {f.dynamics_key for f in data.fields}
    pickable = sorted(
        (
            f
            for f in dv_fields.values()
            if f.key not in chosen
            and f.key not in OPPORTUNITY_STANDARD_FIELDS
            and ac_object_field_types_for(f)
        ),
        key=lambda f: f.label.lower(),
    )
    return OpportunityPage(
        data=data,
        saved_custom_fields=bool(saved and saved.custom_fields_enabled),
        rows=rows,
        pickable=pickable,
        standard_labels=[dv_fields[k].label for k in OPPORTUNITY_STANDARD_FIELDS if k in dv_fields],
        problem_lines=_problem_lines(
            problems,
            prefix="opportunity.",
            named={
                f"fields.{row.index}": gettext("Opportunity field “%(field)s”")
                % {"field": row.label}
                for row in rows
            },
        ),
    )
