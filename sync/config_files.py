"""Configuration as code: the data configuration and sync settings of an integration as a
JSON or YAML document (never a secret), and back.

An import is validated completely first (by the same rules as the page) and applied in one
transaction; a broken file changes nothing and every problem is reported with its path in the
file ("entities.lead.mappings[3].dynamics"). The document carries the definitions of the fields
it references, so that it can be checked on a database that has not read the services yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml
from django.db import transaction

from connectors.types import Vendor, field_info_from_dict, field_info_to_dict
from integrations.models import Integration
from integrations.services import audit_record
from mapping.core.standard import SYNCED_ENTITIES
from mapping.models import EntitySync, MetadataSnapshot, OpportunitySync
from mapping.selectors import AC_ENTITY, Metadata, entity_syncs, metadata_cached, opportunity_sync
from mapping.services import (
    CriterionInput,
    EntityInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
    Problem,
    entity_input_from_saved,
    entity_problems,
    entity_syncs_ensure,
    entity_write,
    normalized_criteria,
    opportunity_fields_write,
    opportunity_problems,
)
from sync.models import SyncSettings

FORMAT_VERSION = 1
_FIELD_NAMES = {
    "ac_key": "activecampaign",
    "dynamics_key": "dynamics",
    "field": "field",
    "value": "value",
    "direction": "direction",
    "enabled": "enabled",
    "ac_type": "type",
    "custom_fields_enabled": "custom_fields",
}


class ConfigFileError(Exception):
    """The document cannot be imported; `problems` lists everything wrong, by path."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# -- export ----------------------------------------------------------------------------------
def configuration_export(*, integration: Integration) -> dict:
    entity_syncs_ensure(integration=integration)
    metadata = metadata_cached(integration=integration)
    entities = {}
    referenced: dict[tuple[str, str], set[str]] = {}
    for entity, row in entity_syncs(integration=integration).items():
        data = entity_input_from_saved(row)
        entities[entity] = {
            "enabled": data.enabled,
            "direction": data.direction,
            "selection": data.selection,
            "conflict_rule": data.conflict_rule,
            "deletion_policy": data.deletion_policy,
            "criteria": [
                {"field": c.field_key, "operator": c.operator, "value": c.value}
                for c in data.criteria
            ],
            "mappings": [_mapping_out(m) for m in data.mappings],
        }
        dv = referenced.setdefault((Vendor.DYNAMICS.value, entity), set())
        ac = referenced.setdefault((Vendor.ACTIVECAMPAIGN.value, AC_ENTITY[entity]), set())
        dv.update(c.field_key for c in data.criteria)
        dv.update(m.dynamics_key for m in data.mappings)
        ac.update(m.ac_key for m in data.mappings)
    opportunity = opportunity_sync(integration=integration)
    opportunities = {"enabled": False, "custom_fields": False, "schema": None, "fields": []}
    if opportunity is not None:
        opportunities = {
            "enabled": opportunity.enabled,
            "custom_fields": opportunity.custom_fields_enabled,
            "schema": (
                {"id": opportunity.schema_id, "slug": opportunity.schema_slug}
                if opportunity.schema_id
                else None
            ),
            "fields": [
                {
                    "dynamics": f.dynamics_key,
                    "label": f.label,
                    "type": f.ac_type,
                    "required": f.required,
                    "enabled": f.enabled,
                    "in_schema": f.in_schema,
                }
                for f in opportunity.fields.all()
            ],
        }
        referenced.setdefault((Vendor.DYNAMICS.value, "opportunity"), set()).update(
            f.dynamics_key for f in opportunity.fields.all()
        )
    settings_row = SyncSettings.objects.filter(integration=integration).first()
    sync = {
        "enabled": settings_row.enabled if settings_row else True,
        "schedule_hours": settings_row.schedule_hours
        if settings_row
        else SyncSettings.Schedule.EVERY_HOUR.value,
    }
    sides = {
        Vendor.ACTIVECAMPAIGN.value: metadata.activecampaign,
        Vendor.DYNAMICS.value: metadata.dynamics,
    }
    fields: dict[str, dict[str, list]] = {}
    for (vendor, entity), keys in sorted(referenced.items()):
        known = sides[vendor].get(entity, {})
        found = [field_info_to_dict(known[key]) for key in sorted(keys) if key in known]
        if found:
            fields.setdefault(vendor, {})[entity] = found
    return {
        "syncadmin": FORMAT_VERSION,
        "integration": integration.name,
        "entities": entities,
        "opportunities": opportunities,
        "sync": sync,
        "fields": fields,
    }


def _mapping_out(mapping: MappingInput) -> dict:
    out = {"activecampaign": mapping.ac_key, "dynamics": mapping.dynamics_key}
    if mapping.standard:
        out["standard"] = True
    out["enabled"] = mapping.enabled
    if mapping.direction:
        out["direction"] = mapping.direction
    if mapping.value_map:
        out["value_map"] = mapping.value_map
    out["clear_when_blank"] = mapping.clear_when_blank
    return out


def configuration_dumps(document: dict, *, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# -- import --------------------------------------------------------------------------------
def configuration_loads(text: str) -> object:
    """Parse JSON or YAML (YAML is a superset of JSON); a syntax error names its line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigFileError(
            [f"(file): not valid JSON or YAML{where}: {getattr(error, 'problem', None) or error}"]
        ) from error


@dataclass
class ImportPlan:
    integration_name: str
    entities: list[EntityInput]
    opportunity: OpportunityInput
    opportunity_extra: list[dict]  # per field: label, in_schema
    schema: dict | None
    sync: dict
    metadata: Metadata
    file_fields: dict


class _Reader:
    """Reads the document with a path for every value, collecting problems instead of stopping."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value, path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping (key: value), found {type(value).__name__}")
            return {}
        return value

    def items(self, value, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"expected a list, found {type(value).__name__}")
            return []
        return value

    def text(self, value, path: str, *, required: bool = True, default: str = "") -> str:
        if value is None:
            if required:
                self.problem(path, "is missing")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(path, f"expected text, found {type(value).__name__}")
            return default
        return str(value)

    def flag(self, value, path: str, *, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, "expected true or false")
            return default
        return value

    def unknown_keys(self, value: dict, allowed: set[str], path: str) -> None:
        for key in value:
            if key not in allowed:
                self.problem(
                    f"{path}.{key}", f"unknown key (expected one of: {', '.join(sorted(allowed))})"
                )


def configuration_plan(document: object, *, integration: Integration | None) -> ImportPlan:
    """Check the document completely; return what to apply or raise ConfigFileError."""
    r = _Reader()
    root = r.mapping(document, "(file)")
    r.unknown_keys(
        root, {"syncadmin", "integration", "entities", "opportunities", "sync", "fields"}, "(file)"
    )
    if root.get("syncadmin") != FORMAT_VERSION:
        r.problem("syncadmin", f"expected format version {FORMAT_VERSION}")
    name = r.text(root.get("integration"), "integration")
    file_fields = _file_fields(r, root.get("fields"))
    metadata = _plan_metadata(integration, file_fields)

    entities = []
    raw_entities = r.mapping(root.get("entities"), "entities")
    for key in raw_entities:
        if key not in SYNCED_ENTITIES:
            r.problem(f"entities.{key}", f"unknown entity (expected {', '.join(SYNCED_ENTITIES)})")
    for entity in SYNCED_ENTITIES:
        path = f"entities.{entity}"
        raw = r.mapping(raw_entities.get(entity), path)
        if not raw:
            r.problem(path, "is missing")
            continue
        r.unknown_keys(
            raw,
            {
                "enabled",
                "direction",
                "selection",
                "conflict_rule",
                "deletion_policy",
                "criteria",
                "mappings",
            },
            path,
        )
        data = EntityInput(
            entity=entity,
            enabled=r.flag(raw.get("enabled"), f"{path}.enabled", default=True),
            direction=r.text(raw.get("direction"), f"{path}.direction"),
            selection=r.text(
                raw.get("selection"), f"{path}.selection", required=False, default="all"
            ),
            conflict_rule=r.text(
                raw.get("conflict_rule"),
                f"{path}.conflict_rule",
                required=False,
                default=EntitySync.ConflictRule.NEWEST.value,
            ),
            deletion_policy=r.text(
                raw.get("deletion_policy"),
                f"{path}.deletion_policy",
                required=False,
                default=EntitySync.DeletionPolicy.TAG.value,
            ),
        )
        for index, item in enumerate(r.items(raw.get("criteria"), f"{path}.criteria")):
            item_path = f"{path}.criteria[{index}]"
            item = r.mapping(item, item_path)
            r.unknown_keys(item, {"field", "operator", "value"}, item_path)
            value = item.get("value")
            if isinstance(value, list):
                value = [str(v) for v in value]
            elif value is not None:
                value = str(value)
            data.criteria.append(
                CriterionInput(
                    r.text(item.get("field"), f"{item_path}.field"),
                    r.text(item.get("operator"), f"{item_path}.operator"),
                    value,
                )
            )
        for index, item in enumerate(r.items(raw.get("mappings"), f"{path}.mappings")):
            item_path = f"{path}.mappings[{index}]"
            item = r.mapping(item, item_path)
            r.unknown_keys(
                item,
                {
                    "activecampaign",
                    "dynamics",
                    "standard",
                    "enabled",
                    "direction",
                    "value_map",
                    "clear_when_blank",
                },
                item_path,
            )
            value_map = r.mapping(item.get("value_map"), f"{item_path}.value_map")
            data.mappings.append(
                MappingInput(
                    ac_key=r.text(item.get("activecampaign"), f"{item_path}.activecampaign"),
                    dynamics_key=r.text(item.get("dynamics"), f"{item_path}.dynamics"),
                    standard=r.flag(item.get("standard"), f"{item_path}.standard", default=False),
                    enabled=r.flag(item.get("enabled"), f"{item_path}.enabled", default=True),
                    clear_when_blank=r.flag(
                        item.get("clear_when_blank"),
                        f"{item_path}.clear_when_blank",
                        default=False,
                    ),
                    direction=r.text(
                        item.get("direction"), f"{item_path}.direction", required=False
                    ),
                    value_map={
                        str(flow): {
                            str(k): str(v)
                            for k, v in r.mapping(pairs, f"{item_path}.value_map.{flow}").items()
                        }
                        for flow, pairs in value_map.items()
                    },
                )
            )
        entities.append(data)

    raw_opp = r.mapping(root.get("opportunities"), "opportunities")
    r.unknown_keys(raw_opp, {"enabled", "custom_fields", "schema", "fields"}, "opportunities")
    opportunity = OpportunityInput(
        enabled=r.flag(raw_opp.get("enabled"), "opportunities.enabled", default=False),
        custom_fields_enabled=r.flag(
            raw_opp.get("custom_fields"), "opportunities.custom_fields", default=False
        ),
    )
    extra = []
    for index, item in enumerate(r.items(raw_opp.get("fields"), "opportunities.fields")):
        item_path = f"opportunities.fields[{index}]"
        item = r.mapping(item, item_path)
        r.unknown_keys(
            item,
            {"dynamics", "label", "type", "required", "enabled", "in_schema", "target"},
            item_path,
        )
        if item.get("target", "custom_object") != "custom_object":
            r.problem(
                f"{item_path}.target",
                "opportunity fields go to the opportunity custom "
                "object, never to ActiveCampaign deal fields",
            )
        opportunity.fields.append(
            OpportunityFieldInput(
                r.text(item.get("dynamics"), f"{item_path}.dynamics"),
                r.text(item.get("type"), f"{item_path}.type"),
                r.flag(item.get("required"), f"{item_path}.required", default=False),
                r.flag(item.get("enabled"), f"{item_path}.enabled", default=True),
            )
        )
        extra.append(
            {
                "label": r.text(item.get("label"), f"{item_path}.label", required=False),
                "in_schema": r.flag(item.get("in_schema"), f"{item_path}.in_schema", default=False),
            }
        )
    schema = raw_opp.get("schema")
    if schema is not None:
        schema = r.mapping(schema, "opportunities.schema")
        r.unknown_keys(schema, {"id", "slug"}, "opportunities.schema")
        schema = {
            "id": r.text(schema.get("id"), "opportunities.schema.id"),
            "slug": r.text(schema.get("slug"), "opportunities.schema.slug"),
        }

    raw_sync = r.mapping(root.get("sync"), "sync")
    r.unknown_keys(raw_sync, {"enabled", "schedule_hours"}, "sync")
    hours = raw_sync.get("schedule_hours", SyncSettings.Schedule.EVERY_HOUR.value)
    if hours not in SyncSettings.Schedule.values:
        r.problem("sync.schedule_hours", f"expected one of {SyncSettings.Schedule.values}")
    sync = {
        "enabled": r.flag(raw_sync.get("enabled"), "sync.enabled", default=True),
        "schedule_hours": hours,
    }

    # The same rules as the page, on the whole document.
    if not r.problems:
        saved_rows = entity_syncs(integration=integration) if integration else {}
        for data in entities:
            saved = saved_rows.get(data.entity)
            pairs = (
                {(m.ac_key, m.dynamics_key) for m in entity_input_from_saved(saved).mappings}
                if saved
                else set()
            )
            for problem in entity_problems(data, metadata=metadata, saved=pairs):
                r.problems.append(_file_path(problem))
        saved_opp = opportunity_sync(integration=integration) if integration else None
        for problem in opportunity_problems(opportunity, metadata=metadata, saved=saved_opp):
            r.problems.append(_file_path(problem))
    if r.problems:
        raise ConfigFileError(r.problems)
    return ImportPlan(name, entities, opportunity, extra, schema, sync, metadata, file_fields)


def _file_fields(r: _Reader, raw) -> dict:
    """{(vendor, entity): [FieldInfo dicts]} from the document's `fields` section."""
    result = {}
    for vendor, entities in r.mapping(raw, "fields").items():
        if vendor not in {v.value for v in Vendor}:
            r.problem(f"fields.{vendor}", "unknown service")
            continue
        for entity, items in r.mapping(entities, f"fields.{vendor}").items():
            checked = []
            for index, item in enumerate(r.items(items, f"fields.{vendor}.{entity}")):
                try:
                    field_info_from_dict(
                        {**r.mapping(item, "x"), "vendor": vendor, "entity": entity}
                    )
                    checked.append({**item, "vendor": vendor, "entity": entity})
                except (KeyError, ValueError, TypeError) as error:
                    r.problem(
                        f"fields.{vendor}.{entity}[{index}]", f"not a field definition ({error})"
                    )
            result[(vendor, entity)] = checked
    return result


def _plan_metadata(integration: Integration | None, file_fields: dict) -> Metadata:
    """What the services reported, where this installation has read it; else the document's."""
    cached = metadata_cached(integration=integration) if integration else None
    sides = {Vendor.ACTIVECAMPAIGN.value: {}, Vendor.DYNAMICS.value: {}}
    if cached is not None:
        sides[Vendor.ACTIVECAMPAIGN.value].update(cached.activecampaign)
        sides[Vendor.DYNAMICS.value].update(cached.dynamics)
    for (vendor, entity), items in file_fields.items():
        if entity not in sides[vendor]:
            infos = [field_info_from_dict(item) for item in items]
            sides[vendor][entity] = {f.key: f for f in infos}
    return Metadata(
        activecampaign=sides[Vendor.ACTIVECAMPAIGN.value],
        dynamics=sides[Vendor.DYNAMICS.value],
        fetched_at={},
    )


def _file_path(problem: Problem) -> str:
    """lead.mappings.3.dynamics_key -> entities.lead.mappings[3].dynamics"""
    parts = problem.path.split(".")
    out = ["opportunities"] if parts[0] == "opportunity" else ["entities", parts[0]]
    rest = parts[1:]
    i = 0
    while i < len(rest):
        part = rest[i]
        if i + 1 < len(rest) and rest[i + 1].isdigit():
            out.append(f"{part}[{rest[i + 1]}]")
            i += 2
            continue
        out.append(_FIELD_NAMES.get(part, part))
        i += 1
    return f"{'.'.join(out)}: {problem.message}"


@transaction.atomic
def configuration_import(
    *, document: object, integration_name: str | None = None, actor=None, dry_run: bool = False
) -> ImportPlan:
    """Validate the whole document, then (unless dry_run) apply it in one transaction."""
    name = integration_name or (document.get("integration") if isinstance(document, dict) else None)
    integration = Integration.objects.filter(name=name).first() if isinstance(name, str) else None
    plan = configuration_plan(document, integration=integration)
    if dry_run:
        transaction.set_rollback(True)
        return plan
    if integration is None:
        integration = Integration.objects.create(name=integration_name or plan.integration_name)
    for (vendor, entity), items in plan.file_fields.items():
        # A fresh installation gets the document's field definitions until it reads the
        # services itself; what it has read already is kept.
        MetadataSnapshot.objects.get_or_create(
            integration=integration, vendor=vendor, entity=entity, defaults={"fields": items}
        )
    for data in plan.entities:
        normalized_criteria(data, plan.metadata)
        entity_write(integration, data)
    _opportunity_write(integration, plan)
    SyncSettings.objects.update_or_create(integration=integration, defaults=plan.sync)
    audit_record(
        integration=integration,
        actor=actor,
        action="data.import",
        summary="Imported the data configuration and sync settings from a file",
    )
    return plan


def _opportunity_write(integration: Integration, plan: ImportPlan) -> None:
    opportunity, _ = OpportunitySync.objects.get_or_create(integration=integration)
    opportunity.enabled = plan.opportunity.enabled
    opportunity.custom_fields_enabled = plan.opportunity.custom_fields_enabled
    if plan.schema:
        opportunity.schema_id, opportunity.schema_slug = plan.schema["id"], plan.schema["slug"]
    opportunity.save()
    rows = opportunity_fields_write(opportunity, plan.opportunity.fields, metadata=plan.metadata)
    for row, extra in zip(rows, plan.opportunity_extra, strict=True):
        row.label = extra["label"] or row.label
        row.in_schema = extra["in_schema"] and bool(plan.schema)
        row.save(update_fields=["label", "in_schema"])
