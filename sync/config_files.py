"""Configuration as code: an integration's data configuration and sync settings as a YAML or
JSON document (never a secret, never an account's ids), and back.

The document (format 2)::

    syncadmin: 2
    integration: Default
    entities:
      lead:                       # lead, contact, account: all three
        enabled: true
        direction: bidirectional  # push, pull
        selection: all            # criteria
        conflict_rule: newest     # dynamics, activecampaign
        deletion_policy: tag      # nothing, delete
        criteria:                 # on Dynamics 365 fields, ANDed
          - {dynamics_field: leadsourcecode, operator: in, value: ["4", "8"]}
        standard_mappings:        # every standard pair of the entity, on or off
          - {activecampaign_field: email, dynamics_field: emailaddress1, enabled: true,
             clear_when_blank: false}
        custom_mappings:
          - {activecampaign_field: "14", dynamics_field: leadsourcecode, direction: pull,
             value_map: {pull: {Web: "8"}}, clear_when_blank: false}
    opportunities:
      enabled: false
      custom_fields: false
      fields: [{dynamics_field: new_region, type: text, required: false, enabled: true}]
    sync: {enabled: true, schedule_hours: 1}
    fields: {}                    # what the fields named above were where the file came from

Import rules:

- The whole document is checked before anything is written, and every problem is reported at
  once with its place in the file (`entities.lead.custom_mappings[3].dynamics_field: …`): types
  (a boolean is never read as a number or as text), sizes as the models allow, unknown keys,
  then the same rules as the Data configuration page. A broken file changes nothing.
- Standard mappings are part of the product: they are checked without the services' fields, so
  a fresh installation (not connected) imports a fresh installation's export.
- Custom mappings, criteria and opportunity fields name fields of an account, and are checked
  against that account's fields (read once if the integration is connected and has not read them
  yet). Where the fields cannot be read (not connected), such entries are refused with one
  message saying so, rather than accepted unchecked: an ActiveCampaign custom field id names a
  different field in another account, and a mapping accepted on trust would sync the wrong data.
- The `fields` section is never trusted over the account: it only lets the import notice that
  an id names a different field in this account ("14" is "Birthday" here, "Source" in the file).
  Which opportunity fields are in ActiveCampaign's custom object is asked of ActiveCampaign.
- An unknown integration name is an error naming the existing ones, unless `create` is asked.
- Vendor calls (reading fields, extending the opportunity custom object) happen before the one
  transaction that writes, never inside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml
from django.db import transaction

from connectors.errors import ConnectorError, user_message
from connectors.types import FieldInfo, Vendor
from integrations.models import Integration
from integrations.services import audit_record
from mapping.inputs import (
    EntityInput,
    MappingInput,
    OpportunityInput,
    Problem,
)
from mapping.models import EntitySync
from mapping.selectors import AC_ENTITY, Metadata, entity_syncs, metadata_cached, opportunity_sync
from mapping.services import (
    entity_input_from_saved,
    entity_input_normalize,
    entity_problems,
    entity_syncs_ensure,
    entity_write,
    metadata_fetch,
    opportunity_problems,
)
from mapping.services.metadata import Fetched, metadata_of, metadata_store
from mapping.services.opportunities import (
    SchemaWriter,
    opportunity_schema_ensure,
    opportunity_sync_locked,
    opportunity_write,
)
from sync.config_reader import (
    FORMAT_VERSION,
    INTEGRATION_NAME_LENGTH,
    ConfigFileError,
    DocumentReader,
    configuration_loads,
    document_read,
)
from sync.models import SyncSettings

__all__ = [
    "ConfigFileError",
    "configuration_dumps",
    "configuration_export",
    "configuration_import",
    "configuration_loads",
    "configuration_plan",
]


# The services' input names as the file spells them.
_FILE_NAMES = {
    "ac_key": "activecampaign_field",
    "dynamics_key": "dynamics_field",
    "field": "dynamics_field",
    "custom_fields_enabled": "custom_fields",
    "ac_type": "type",
}
_SIDE_NAMES = {Vendor.ACTIVECAMPAIGN.value: "ActiveCampaign", Vendor.DYNAMICS.value: "Dynamics 365"}


# -- export ----------------------------------------------------------------------------------
def configuration_export(*, integration: Integration) -> dict:
    """The integration's configuration as a document (plain dicts and lists)."""
    entity_syncs_ensure(integration=integration)
    metadata = metadata_cached(integration=integration)
    entities = {}
    named: dict[tuple[str, str], set[str]] = {}
    for entity, row in entity_syncs(integration=integration).items():
        data = entity_input_from_saved(row)
        entities[entity] = {
            "enabled": data.enabled,
            "direction": data.direction,
            "selection": data.selection,
            "conflict_rule": data.conflict_rule,
            "deletion_policy": data.deletion_policy,
            "criteria": [
                {"dynamics_field": c.field_key, "operator": c.operator, "value": c.value}
                for c in data.criteria
            ],
            "standard_mappings": [_mapping_out(m) for m in data.mappings if m.standard],
            "custom_mappings": [_mapping_out(m) for m in data.mappings if not m.standard],
        }
        dv = named.setdefault((Vendor.DYNAMICS.value, entity), set())
        ac = named.setdefault((Vendor.ACTIVECAMPAIGN.value, AC_ENTITY[entity]), set())
        dv.update(c.field_key for c in data.criteria)
        dv.update(m.dynamics_key for m in data.mappings)
        ac.update(m.ac_key for m in data.mappings)
    opportunity = opportunity_sync(integration=integration)
    opportunities: dict = {"enabled": False, "custom_fields": False, "fields": []}
    if opportunity is not None:
        opportunities = {
            "enabled": opportunity.enabled,
            "custom_fields": opportunity.custom_fields_enabled,
            "fields": [
                {
                    "dynamics_field": f.dynamics_key,
                    "type": f.ac_type,
                    "required": f.required,
                    "enabled": f.enabled,
                }
                for f in opportunity.fields.all()
            ],
        }
        named.setdefault((Vendor.DYNAMICS.value, "opportunity"), set()).update(
            f.dynamics_key for f in opportunity.fields.all()
        )
    settings_row = SyncSettings.objects.filter(integration=integration).first() or SyncSettings()
    sides = {
        Vendor.ACTIVECAMPAIGN.value: metadata.activecampaign,
        Vendor.DYNAMICS.value: metadata.dynamics,
    }
    fields: dict[str, dict[str, list]] = {}
    for (vendor, entity), keys in sorted(named.items()):
        known = sides[vendor].get(entity, {})
        found = [_field_out(known[key]) for key in sorted(keys) if key in known]
        if found:
            fields.setdefault(vendor, {})[entity] = found
    return {
        "syncadmin": FORMAT_VERSION,
        "integration": integration.name,
        "entities": entities,
        "opportunities": opportunities,
        "sync": {
            "enabled": bool(settings_row.enabled),
            "schedule_hours": int(settings_row.schedule_hours),
        },
        "fields": fields,
    }


def _mapping_out(mapping: MappingInput) -> dict:
    out: dict = {
        "activecampaign_field": mapping.ac_key,
        "dynamics_field": mapping.dynamics_key,
    }
    if mapping.standard or not mapping.enabled:
        out["enabled"] = mapping.enabled
    if mapping.direction:
        out["direction"] = mapping.direction
    if mapping.value_map:
        out["value_map"] = mapping.value_map
    out["clear_when_blank"] = mapping.clear_when_blank
    return out


def _field_out(info: FieldInfo) -> dict:
    out: dict = {"key": info.key, "label": info.label, "type": info.type.value}
    if info.options:
        out["options"] = [[option.value, option.label] for option in info.options]
    return out


def configuration_dumps(document: dict, *, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# -- import ----------------------------------------------------------------------------------
@dataclass
class ImportPlan:
    """A checked document: what to write, where."""

    integration: Integration | None  # None: created on import (`create`)
    integration_name: str
    entities: list[EntityInput]
    opportunity: OpportunityInput
    sync: dict
    metadata: Metadata
    fetched: Fetched | None  # fields read from the services for this import, to cache
    places: dict[str, str] = field(default_factory=dict)  # service path -> place in the file


def configuration_plan(
    document: object,
    *,
    integration_name: str | None = None,
    create: bool = False,
    fetch: Callable[..., Fetched] = metadata_fetch,
) -> ImportPlan:
    """Check the whole document; return what to write, or raise ConfigFileError with every
    problem. May read the services' fields (a vendor call); writes nothing."""
    read = document_read(document)
    r = read.reader
    name, name_path = read.integration_name, "integration"
    if integration_name is not None:
        name, name_path = integration_name, "--integration"
        r.text(name, name_path, max_length=INTEGRATION_NAME_LENGTH)
    integration = Integration.objects.filter(name=name).first() if name else None
    if name and integration is None and not create:
        existing = ", ".join(Integration.objects.order_by("name").values_list("name", flat=True))
        r.problem(
            name_path,
            f"no integration is named {name!r} (existing: {existing or 'none'}); "
            "pass --create to create it",
        )
    entities, opportunity, places = read.entities, read.opportunity, read.places

    metadata = Metadata(activecampaign={}, dynamics={}, fetched_at={})
    fetched = None
    read_failed = False
    if integration is not None:
        metadata = metadata_cached(integration=integration)
        if integration.is_connected and not metadata.complete:
            try:
                fetched = fetch(integration=integration)
                metadata = metadata_of(fetched)
            except ConnectorError as error:
                read_failed = True
                r.problem(
                    "integration", f"could not read the services' fields: {user_message(error)}"
                )

    structural = list(r.problems)
    unchecked = _unchecked_places(entities, opportunity, metadata, places)
    if unchecked and (integration is not None or create) and not read_failed:
        shown = ", ".join(unchecked[:3]) + (", …" if len(unchecked) > 3 else "")
        r.problem(
            "integration",
            f"{name} has not read the fields of ActiveCampaign and Dynamics 365 (connect it in "
            f"Settings, then import again), so {len(unchecked)} entries that name their fields "
            f"cannot be checked: {shown}. Standard mappings need no fields.",
        )
    if opportunity.enabled and integration is not None and not integration.is_connected:
        r.problem(
            "opportunities.enabled",
            "opportunities sync into a custom object in ActiveCampaign: connect the "
            "integration in Settings first",
        )
    if opportunity.enabled and integration is None and create:
        r.problem(
            "opportunities.enabled",
            "opportunities sync into a custom object in ActiveCampaign: import with "
            "opportunities off, connect the new integration, then turn them on",
        )
    _identity_problems(r, entities, opportunity, metadata, read.file_fields, places)
    r.problems += _rule_problems(
        entities, opportunity, metadata, integration, places, skip=[*structural, *unchecked]
    )
    if r.problems:
        raise ConfigFileError(r.problems)
    return ImportPlan(
        integration, name, entities, opportunity, read.sync, metadata, fetched, places
    )


def _unchecked_places(
    entities: list[EntityInput],
    opportunity: OpportunityInput,
    metadata: Metadata,
    places: dict[str, str],
) -> list[str]:
    """Places of entries that name an account's fields where those fields were not read."""
    unchecked = []
    for data in entities:
        ac_read = bool(metadata.ac_fields_for(data.entity))
        dv_read = bool(metadata.dynamics_fields_for(data.entity))
        if not dv_read:
            unchecked += [places[f"{data.entity}.criteria.{i}"] for i in range(len(data.criteria))]
        for index, mapping in enumerate(data.mappings):
            if not mapping.standard and not (ac_read and dv_read):
                unchecked.append(places[f"{data.entity}.mappings.{index}"])
    if not metadata.dynamics_fields_for("opportunity"):
        unchecked += [places[f"opportunity.fields.{i}"] for i in range(len(opportunity.fields))]
    return unchecked


def _identity_problems(
    r: DocumentReader,
    entities: list[EntityInput],
    opportunity: OpportunityInput,
    metadata: Metadata,
    file_fields: dict[tuple[str, str], dict[str, dict]],
    places: dict[str, str],
) -> None:
    """A field the file describes must be the same field in this account: ActiveCampaign custom
    field ids are numbers per account, so "14" may be another field here."""

    def check(vendor: str, entity: str, key: str, place: str) -> None:
        described = file_fields.get((vendor, entity), {}).get(key)
        account = (
            metadata.activecampaign if vendor == Vendor.ACTIVECAMPAIGN.value else metadata.dynamics
        )
        here = account.get(entity, {}).get(key)
        if described is None or here is None:
            return
        same_label = here.label.casefold() == described["label"].casefold()
        if here.type.value != described["type"] or (
            vendor == Vendor.ACTIVECAMPAIGN.value and not same_label
        ):
            r.problem(
                place,
                f"{_SIDE_NAMES[vendor]} field {key!r} is “{here.label}” ({here.type.value}) in "
                f"this account, but “{described['label']}” ({described['type']}) in the file: "
                "the file may come from another account; name this account's field",
            )

    for data in entities:
        for index, mapping in enumerate(data.mappings):
            if mapping.standard:
                continue
            place = places[f"{data.entity}.mappings.{index}"]
            check(
                Vendor.ACTIVECAMPAIGN.value,
                AC_ENTITY[data.entity],
                mapping.ac_key,
                f"{place}.activecampaign_field",
            )
            check(
                Vendor.DYNAMICS.value, data.entity, mapping.dynamics_key, f"{place}.dynamics_field"
            )
    for index, item in enumerate(opportunity.fields):
        place = places[f"opportunity.fields.{index}"]
        check(Vendor.DYNAMICS.value, "opportunity", item.dynamics_key, f"{place}.dynamics_field")


def _rule_problems(
    entities: list[EntityInput],
    opportunity: OpportunityInput,
    metadata: Metadata,
    integration: Integration | None,
    places: dict[str, str],
    *,
    skip: list[str] = (),
    locked: bool = False,
) -> list[str]:
    """The page's rules on the whole document, by place in the file; a rule problem where the
    file already has a problem of its own (or an entry that could not be checked) is left out,
    since it would only repeat it."""
    saved_rows = entity_syncs(integration=integration) if integration else {}
    problems: list[Problem] = []
    for data in entities:
        saved = saved_rows.get(data.entity)
        pairs = (
            {(m.ac_key, m.dynamics_key) for m in entity_input_from_saved(saved).mappings}
            if saved
            else set()
        )
        problems += entity_problems(data, metadata=metadata, saved=pairs)
    if integration is None:
        saved_opportunity = None
    elif locked:
        saved_opportunity = opportunity_sync_locked(integration=integration)
    else:
        saved_opportunity = opportunity_sync(integration=integration)
    problems += opportunity_problems(opportunity, metadata=metadata, saved=saved_opportunity)
    covered = [item.split(": ", 1)[0] for item in skip]
    found = []
    for problem in problems:
        place = _place(problem.path, places)
        if not any(_overlaps(place, other) for other in covered):
            found.append(f"{place}: {problem.message}")
    return found


def _overlaps(place: str, covered: str) -> bool:
    """A rule problem at `place` says nothing new after a problem at `covered`: the same
    place, a part of it, or the entry (a list item) that a part belongs to."""

    def under(inner: str, outer: str) -> bool:
        return inner.startswith((f"{outer}.", f"{outer}["))

    return (
        place == covered or under(place, covered) or (place.endswith("]") and under(covered, place))
    )


def _place(path: str, places: dict[str, str]) -> str:
    """A services path ("lead.mappings.7.dynamics_key") as a place in the file
    ("entities.lead.custom_mappings[1].dynamics_field")."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in places:
            rest = [_FILE_NAMES.get(part, part) for part in parts[end:]]
            return ".".join([places[prefix], *rest])
    return path


@transaction.atomic
def _write(plan: ImportPlan, *, actor, schema) -> Integration:
    integration = plan.integration or Integration.objects.create(name=plan.integration_name)
    if plan.fetched is not None:
        metadata_store(integration=integration, fetched=plan.fetched)
    # Lock what is saved and check again: another administrator may have saved meanwhile.
    list(EntitySync.objects.select_for_update().filter(integration=integration))
    again = _rule_problems(
        plan.entities, plan.opportunity, plan.metadata, integration, plan.places, locked=True
    )
    if again:
        raise ConfigFileError(again)
    for data in plan.entities:
        entity_input_normalize(data, plan.metadata)
        entity_write(integration, data)
    opportunity_write(
        integration=integration, data=plan.opportunity, metadata=plan.metadata, schema=schema
    )
    SyncSettings.objects.update_or_create(integration=integration, defaults=plan.sync)
    audit_record(
        integration=integration,
        actor=actor,
        action="data.import",
        summary="Imported the data configuration and sync settings from a file",
    )
    return integration


def configuration_import(
    *,
    document: object,
    integration_name: str | None = None,
    create: bool = False,
    actor=None,
    dry_run: bool = False,
    fetch: Callable[..., Fetched] = metadata_fetch,
    schema_writer: SchemaWriter | None = None,
) -> ImportPlan:
    """Check the whole document, then (unless dry_run) write it in one transaction.

    Raises ConfigFileError with every problem; nothing is written then. With opportunities on,
    ActiveCampaign's custom object is created or extended first (outside the transaction; it
    only ever grows, so a later refusal leaves nothing wrong there).
    """
    plan = configuration_plan(
        document, integration_name=integration_name, create=create, fetch=fetch
    )
    if dry_run:
        return plan
    schema = None
    if plan.opportunity.enabled and plan.integration is not None:
        schema, problem = opportunity_schema_ensure(
            integration=plan.integration,
            data=plan.opportunity,
            saved=opportunity_sync(integration=plan.integration),
            metadata=plan.metadata,
            schema_writer=schema_writer,
        )
        if problem is not None:
            raise ConfigFileError([f"opportunities: {problem.message}"])
    plan.integration = _write(plan, actor=actor, schema=schema)
    return plan
