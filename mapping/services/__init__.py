"""Data configuration services (S-3): metadata, entities, opportunities.

The page and `syncconfig import` describe what they want as plain inputs (`mapping.inputs`);
`*_problems` say everything wrong with them at once; `*_config_save` validate, then write in one
short transaction and audit. Vendor calls (reading fields, extending the opportunity schema)
happen before any transaction that locks rows, never inside one.
"""

from __future__ import annotations

from ..inputs import (
    CriterionInput,
    EntityInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
    Problem,
)
from .entities import (
    default_entity_input,
    entity_config_save,
    entity_input_from_saved,
    entity_input_normalize,
    entity_problems,
    entity_syncs_ensure,
    entity_write,
    field_options,
    is_match_key,
    option_pair_problems,
)
from .metadata import metadata_ensure, metadata_fetch, metadata_refresh, metadata_store
from .opportunities import (
    OPPORTUNITY_SCHEMA_SLUG,
    OPPORTUNITY_STANDARD_FIELDS,
    opportunity_config_save,
    opportunity_fields_write,
    opportunity_input_from_saved,
    opportunity_problems,
)

__all__ = [
    "OPPORTUNITY_SCHEMA_SLUG",
    "OPPORTUNITY_STANDARD_FIELDS",
    "CriterionInput",
    "EntityInput",
    "MappingInput",
    "OpportunityFieldInput",
    "OpportunityInput",
    "Problem",
    "default_entity_input",
    "entity_config_save",
    "entity_input_from_saved",
    "entity_input_normalize",
    "entity_problems",
    "entity_syncs_ensure",
    "entity_write",
    "field_options",
    "is_match_key",
    "metadata_ensure",
    "metadata_fetch",
    "metadata_refresh",
    "metadata_store",
    "opportunity_config_save",
    "opportunity_fields_write",
    "opportunity_input_from_saved",
    "opportunity_problems",
    "option_pair_problems",
]
