"""Turn the Data configuration page's POST into service inputs (rows are numbered freely:
`criteria-<n>-field`, `mappings-<n>-ac_key`, `fields-<n>-dynamics_key`; gaps are normal, since
rows are added and removed in the browser)."""

from __future__ import annotations

import re

from django.http import QueryDict

from .inputs import (
    CriterionInput,
    EntityInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
)

_ROW = re.compile(r"^(?P<group>criteria|mappings|fields)-(?P<index>\d{1,6})-(?P<name>.+)$")
# An option pair of a mapping row: `map-<push|pull>-<source option value>`; anything else that
# a browser would not send is ignored, as Django forms ignore fields they do not declare.
_OPTION_PAIR = re.compile(r"^map-(?P<flow>push|pull)-(?P<source>.+)$", re.S)


def _rows(post: QueryDict, group: str) -> list[dict]:
    rows: dict[int, dict] = {}
    for key in post:
        match = _ROW.match(key)
        if match and match["group"] == group:
            values = post.getlist(key)
            rows.setdefault(int(match["index"]), {})[match["name"]] = (
                values if key.endswith("-value") and len(values) > 1 else values[-1]
            )
    return [rows[index] for index in sorted(rows)]


def _checked(value) -> bool:
    return value in ("on", "1", "true", True)


def entity_input_from_post(entity: str, post: QueryDict) -> EntityInput:
    criteria = [
        CriterionInput(row.get("field", ""), row.get("operator", ""), row.get("value"))
        for row in _rows(post, "criteria")
    ]
    mappings = []
    for row in _rows(post, "mappings"):
        value_map: dict[str, dict[str, str]] = {}
        for name, value in row.items():
            pair = _OPTION_PAIR.match(name)
            if pair and value and isinstance(value, str):
                value_map.setdefault(pair["flow"], {})[pair["source"]] = value
        mappings.append(
            MappingInput(
                ac_key=row.get("ac_key", ""),
                dynamics_key=row.get("dynamics_key", ""),
                standard=_checked(row.get("standard")),
                enabled=_checked(row.get("enabled")),
                direction=row.get("direction", ""),
                value_map=value_map,
                clear_when_blank=_checked(row.get("clear_when_blank")),
            )
        )
    return EntityInput(
        entity=entity,
        enabled=_checked(post.get("enabled")),
        direction=post.get("direction", ""),
        selection=post.get("selection", ""),
        conflict_rule=post.get("conflict_rule", ""),
        deletion_policy=post.get("deletion_policy", ""),
        criteria=criteria,
        mappings=mappings,
    )


def opportunity_input_from_post(post: QueryDict) -> OpportunityInput:
    return OpportunityInput(
        enabled=_checked(post.get("enabled")),
        custom_fields_enabled=_checked(post.get("custom_fields_enabled")),
        fields=[
            OpportunityFieldInput(
                row.get("dynamics_key", ""),
                row.get("ac_type", ""),
                _checked(row.get("required")),
                _checked(row.get("enabled")),
            )
            for row in _rows(post, "fields")
        ],
    )
