"""The pure core of the data configuration: typed values in, typed values out.

No ORM, no settings, no HTTP, no Django: the sync engine and the pages both stand on it.

- `directions`: Direction (bidirectional / push / pull) and field-level narrowing.
- `compat`: THE compatibility table (`conversion`), pair directions, offered targets.
- `transforms`: value conversion on canonical values, value maps.
- `criteria`: record selection rows (field + operator + value, ANDed).
- `standard`: the synced entities and their standard mappings.
- `opportunity`: opportunity fields → ActiveCampaign custom-object schema fields.
- `snapshot`: one integration's data configuration, frozen for a sync run.
- `records`: one record's canonical values per field pair, and what it writes on the other
  side (or why it is skipped).
- `merge`: the three-way merge of a linked pair of records (conflicts, no echo).
"""

from __future__ import annotations

from mapping.core.compat import (
    CompatibilityRow,
    CompatibleTarget,
    Conversion,
    ConversionKind,
    compatibility_rows,
    compatible_targets,
    conversion,
    pair_directions,
)
from mapping.core.criteria import (
    Arity,
    Criterion,
    CriterionError,
    Operator,
    criteria_match,
    criterion_describe,
    criterion_parse,
    criterion_raw_value,
    operators_for,
)
from mapping.core.directions import Direction, effective_direction, field_direction_choices
from mapping.core.opportunity import (
    AC_OBJECT_FIELD_TYPES,
    OPPORTUNITY_MAX_FIELDS,
    ac_object_field_types_for,
    deal_field_refusal,
    object_field_id,
    opportunity_fields_problems,
)
from mapping.core.standard import (
    ENTITIES,
    SYNCED_ENTITIES,
    Entity,
    StandardMapping,
    standard_mapping,
    standard_mappings,
)
from mapping.core.transforms import (
    FALSE,
    TRUE,
    TransformError,
    convert,
    default_value_map,
    value_map_problems,
)

__all__ = [
    "AC_OBJECT_FIELD_TYPES",
    "ENTITIES",
    "FALSE",
    "OPPORTUNITY_MAX_FIELDS",
    "SYNCED_ENTITIES",
    "TRUE",
    "Arity",
    "CompatibilityRow",
    "CompatibleTarget",
    "Conversion",
    "ConversionKind",
    "Criterion",
    "CriterionError",
    "Direction",
    "Entity",
    "Operator",
    "StandardMapping",
    "TransformError",
    "ac_object_field_types_for",
    "compatibility_rows",
    "compatible_targets",
    "conversion",
    "convert",
    "criteria_match",
    "criterion_describe",
    "criterion_parse",
    "criterion_raw_value",
    "deal_field_refusal",
    "default_value_map",
    "effective_direction",
    "field_direction_choices",
    "object_field_id",
    "operators_for",
    "opportunity_fields_problems",
    "pair_directions",
    "standard_mapping",
    "standard_mappings",
    "value_map_problems",
]
