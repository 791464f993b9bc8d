"""Reading a configuration document (`sync.config_files`) into the data configuration's inputs:
types, sizes and keys checked, every problem collected with its place in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from connectors.types import FieldType, Vendor
from integrations.models import Integration
from mapping.core.standard import SYNCED_ENTITIES
from mapping.inputs import (
    MAX_MAPPINGS,
    MAX_VALUE_LENGTH,
    CriterionInput,
    EntityInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
)
from mapping.models import EntitySync, FieldMapping, OpportunityField, SelectionCriterion
from mapping.selectors import AC_ENTITY
from sync.models import SyncSettings

FORMAT_VERSION = 2
MAX_ITEMS = MAX_MAPPINGS  # the longest list a file may carry

_ENTITY_KEYS = (
    "enabled",
    "direction",
    "selection",
    "conflict_rule",
    "deletion_policy",
    "criteria",
    "standard_mappings",
    "custom_mappings",
)
_MAPPING_KEYS = (
    "activecampaign_field",
    "dynamics_field",
    "enabled",
    "direction",
    "value_map",
    "clear_when_blank",
)
FIELD_ENTITIES = {
    Vendor.ACTIVECAMPAIGN.value: tuple(dict.fromkeys(AC_ENTITY.values())),
    Vendor.DYNAMICS.value: (*SYNCED_ENTITIES, "opportunity"),
}


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


INTEGRATION_NAME_LENGTH = _max_length(Integration, "name")


class ConfigFileError(Exception):
    """The document cannot be imported; `problems` lists everything wrong, by place."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _StrictLoader(yaml.SafeLoader):
    """YAML (a superset of JSON) that refuses a key given twice in one mapping, which a plain
    load would settle silently by keeping the last."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be plain text", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def configuration_loads(text: str) -> object:
    """Parse JSON or YAML; a syntax error names its line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or error
        raise ConfigFileError([f"(file): not valid JSON or YAML{where}: {reason}"]) from error


class DocumentReader:
    """Reads the document with a place for every value, collecting problems instead of stopping.

    Every reader returns a usable default after a problem, so that the rest is still checked.
    """

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def section(self, value, path: str, keys) -> dict:
        """A mapping with only the given keys (None reads as empty)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping (key: value), found {_kind(value)}")
            return {}
        for key in value:
            if key not in keys:
                self.problem(
                    f"{path}.{key}", f"unknown key (expected one of: {', '.join(sorted(keys))})"
                )
        return value

    def entry(self, value, path: str, keys) -> dict | None:
        """One entry of a list: a mapping with only the given keys, or None (reported)."""
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping (key: value), found {_kind(value)}")
            return None
        return self.section(value, path, keys)

    def items(self, value, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"expected a list, found {_kind(value)}")
            return []
        if len(value) > MAX_ITEMS:
            self.problem(path, f"at most {MAX_ITEMS} items, found {len(value)}")
            return value[:MAX_ITEMS]
        return value

    def text(
        self,
        value,
        path: str,
        *,
        max_length: int,
        default: str | None = None,
        numbers: bool = False,
    ) -> str:
        """Text; None is missing unless there is a default. `numbers`: a whole number is read as
        its digits (ActiveCampaign field ids, option values)."""
        if value is None:
            if default is None:
                self.problem(path, "is missing")
                return ""
            return default
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            # YAML reads an unquoted yes/no/on/off/true/false as a boolean.
            hint = " (put text such as yes or on in quotes)" if isinstance(value, bool) else ""
            self.problem(path, f"expected text, found {_kind(value)}{hint}")
            return ""
        if "\x00" in value:
            self.problem(path, "contains a NUL character")
            return ""
        if len(value) > max_length:
            self.problem(path, f"at most {max_length} characters, found {len(value)}")
            return ""
        return value

    def flag(self, value, path: str, *, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, f"expected true or false, found {_kind(value)}")
            return default
        return value

    def choice(self, value, path: str, *, choices: list[str], default: str | None = None) -> str:
        text = self.text(value, path, max_length=max(len(c) for c in choices), default=default)
        if text and text not in choices:
            self.problem(path, f"expected one of {', '.join(choices)}, found {text!r}")
            return ""
        return text


def _kind(value) -> str:
    """What a parsed value is, in the words of the file."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return {"list": "a list", "dict": "a mapping"}.get(type(value).__name__, type(value).__name__)


@dataclass
class ReadDocument:
    """What a document asks for, before any rule of the page is applied."""

    reader: DocumentReader  # its problems so far
    integration_name: str
    entities: list[EntityInput]
    opportunity: OpportunityInput
    sync: dict
    file_fields: dict[tuple[str, str], dict[str, dict]]  # (vendor, entity) -> key -> label, type
    places: dict[str, str] = field(default_factory=dict)  # services path -> place in the file


def document_read(document: object) -> ReadDocument:
    """Read a parsed document; raises ConfigFileError when it is not even a mapping."""
    r = DocumentReader()
    root = r.section(
        document,
        "(file)",
        ("syncadmin", "integration", "entities", "opportunities", "sync", "fields"),
    )
    if document is not None and not isinstance(document, dict):
        raise ConfigFileError(r.problems)
    version = root.get("syncadmin")
    if version != FORMAT_VERSION or isinstance(version, bool):
        r.problem(
            "syncadmin",
            f"expected format version {FORMAT_VERSION}, found {_kind(version)}"
            + (" (export the configuration again with this version)" if version == 1 else ""),
        )
    name = r.text(root.get("integration"), "integration", max_length=INTEGRATION_NAME_LENGTH)
    places: dict[str, str] = {"opportunity": "opportunities"}
    return ReadDocument(
        reader=r,
        integration_name=name,
        entities=_read_entities(r, root.get("entities"), places),
        opportunity=_read_opportunity(r, root.get("opportunities"), places),
        sync=_read_sync(r, root.get("sync")),
        file_fields=_read_fields(r, root.get("fields")),
        places=places,
    )


def _read_entities(r: DocumentReader, raw, places: dict[str, str]) -> list[EntityInput]:
    raw_entities = r.section(raw, "entities", SYNCED_ENTITIES)
    entities = []
    for entity in SYNCED_ENTITIES:
        path = f"entities.{entity}"
        places[entity] = path
        if raw_entities.get(entity) is None:
            r.problem(path, "is missing")
            continue
        raw = r.section(raw_entities[entity], path, _ENTITY_KEYS)
        data = EntityInput(
            entity=entity,
            enabled=r.flag(raw.get("enabled"), f"{path}.enabled", default=True),
            direction=r.text(raw.get("direction"), f"{path}.direction", max_length=20),
            selection=r.text(
                raw.get("selection"),
                f"{path}.selection",
                max_length=20,
                default=EntitySync.Selection.ALL.value,
            ),
            conflict_rule=r.text(
                raw.get("conflict_rule"),
                f"{path}.conflict_rule",
                max_length=20,
                default=EntitySync.ConflictRule.NEWEST.value,
            ),
            deletion_policy=r.text(
                raw.get("deletion_policy"),
                f"{path}.deletion_policy",
                max_length=20,
                default=EntitySync.DeletionPolicy.TAG.value,
            ),
        )
        for index, item in enumerate(r.items(raw.get("criteria"), f"{path}.criteria")):
            item_path = f"{path}.criteria[{index}]"
            item = r.entry(item, item_path, ("dynamics_field", "operator", "value"))
            if item is None:
                continue
            places[f"{entity}.criteria.{len(data.criteria)}"] = item_path
            data.criteria.append(
                CriterionInput(
                    r.text(
                        item.get("dynamics_field"),
                        f"{item_path}.dynamics_field",
                        max_length=_max_length(SelectionCriterion, "field_key"),
                    ),
                    r.text(
                        item.get("operator"),
                        f"{item_path}.operator",
                        max_length=_max_length(SelectionCriterion, "operator"),
                    ),
                    _criterion_value(r, item.get("value"), f"{item_path}.value"),
                )
            )
        for group, standard in (("standard_mappings", True), ("custom_mappings", False)):
            for index, item in enumerate(r.items(raw.get(group), f"{path}.{group}")):
                item_path = f"{path}.{group}[{index}]"
                item = r.entry(item, item_path, _MAPPING_KEYS)
                if item is None:
                    continue
                places[f"{entity}.mappings.{len(data.mappings)}"] = item_path
                data.mappings.append(_read_mapping(r, item, item_path, standard=standard))
        places[f"{entity}.mappings"] = f"{path}.standard_mappings"
        entities.append(data)
    return entities


def _read_mapping(r: DocumentReader, item: dict, path: str, *, standard: bool) -> MappingInput:
    value_map: dict[str, dict[str, str]] = {}
    raw_map = r.section(item.get("value_map"), f"{path}.value_map", ("push", "pull"))
    for flow, pairs in raw_map.items():
        if flow not in ("push", "pull"):
            continue
        flow_path = f"{path}.value_map.{flow}"
        if pairs is not None and not isinstance(pairs, dict):
            r.problem(flow_path, f"expected a mapping (option: option), found {_kind(pairs)}")
            continue
        value_map[flow] = {
            r.text(
                source, f"{flow_path}.{source}", max_length=MAX_VALUE_LENGTH, numbers=True
            ): r.text(target, f"{flow_path}.{source}", max_length=MAX_VALUE_LENGTH, numbers=True)
            for source, target in (pairs or {}).items()
        }
    return MappingInput(
        ac_key=r.text(
            item.get("activecampaign_field"),
            f"{path}.activecampaign_field",
            max_length=_max_length(FieldMapping, "ac_key"),
            numbers=True,
        ),
        dynamics_key=r.text(
            item.get("dynamics_field"),
            f"{path}.dynamics_field",
            max_length=_max_length(FieldMapping, "dynamics_key"),
        ),
        standard=standard,
        enabled=r.flag(item.get("enabled"), f"{path}.enabled", default=True),
        direction=r.text(item.get("direction"), f"{path}.direction", max_length=20, default=""),
        value_map=value_map,
        clear_when_blank=r.flag(
            item.get("clear_when_blank"), f"{path}.clear_when_blank", default=False
        ),
    )


def _criterion_value(r: DocumentReader, value, path: str):
    """Text, a number written as text, or a list of them ("is one of"); absent is empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            r.problem(path, f"at most {MAX_ITEMS} items, found {len(value)}")
        return [
            _criterion_value(r, item, f"{path}[{index}]")
            for index, item in enumerate(value[:MAX_ITEMS])
        ]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return r.text(value, path, max_length=MAX_VALUE_LENGTH)


def _read_opportunity(r: DocumentReader, raw, places: dict[str, str]) -> OpportunityInput:
    raw = r.section(raw, "opportunities", ("enabled", "custom_fields", "fields"))
    opportunity = OpportunityInput(
        enabled=r.flag(raw.get("enabled"), "opportunities.enabled", default=False),
        custom_fields_enabled=r.flag(
            raw.get("custom_fields"), "opportunities.custom_fields", default=False
        ),
    )
    for index, item in enumerate(r.items(raw.get("fields"), "opportunities.fields")):
        path = f"opportunities.fields[{index}]"
        item = r.entry(item, path, ("dynamics_field", "type", "required", "enabled"))
        if item is None:
            continue
        places[f"opportunity.fields.{len(opportunity.fields)}"] = path
        opportunity.fields.append(
            OpportunityFieldInput(
                r.text(
                    item.get("dynamics_field"),
                    f"{path}.dynamics_field",
                    max_length=_max_length(OpportunityField, "dynamics_key"),
                ),
                r.text(
                    item.get("type"),
                    f"{path}.type",
                    max_length=_max_length(OpportunityField, "ac_type"),
                ),
                r.flag(item.get("required"), f"{path}.required", default=False),
                r.flag(item.get("enabled"), f"{path}.enabled", default=True),
            )
        )
    return opportunity


def _read_sync(r: DocumentReader, raw) -> dict:
    raw = r.section(raw, "sync", ("enabled", "schedule_hours"))
    hours = raw.get("schedule_hours", SyncSettings.Schedule.EVERY_HOUR.value)
    allowed = SyncSettings.Schedule.values
    if isinstance(hours, bool) or not isinstance(hours, int) or hours not in allowed:
        r.problem(
            "sync.schedule_hours",
            f"expected a number of hours, one of {', '.join(map(str, allowed))}; "
            f"found {_kind(hours)}",
        )
        hours = SyncSettings.Schedule.EVERY_HOUR.value
    return {
        "enabled": r.flag(raw.get("enabled"), "sync.enabled", default=True),
        "schedule_hours": hours,
    }


def _read_fields(r: DocumentReader, raw) -> dict[tuple[str, str], dict[str, dict]]:
    """{(vendor, entity): {key: {label, type}}} from the `fields` section."""
    found: dict[tuple[str, str], dict[str, dict]] = {}
    for vendor, entities in r.section(raw, "fields", tuple(FIELD_ENTITIES)).items():
        if vendor not in FIELD_ENTITIES:
            continue
        sides = r.section(entities, f"fields.{vendor}", FIELD_ENTITIES[vendor])
        for entity, items in sides.items():
            if entity not in FIELD_ENTITIES[vendor]:
                continue
            for index, item in enumerate(r.items(items, f"fields.{vendor}.{entity}")):
                path = f"fields.{vendor}.{entity}[{index}]"
                item = r.entry(item, path, ("key", "label", "type", "options"))
                if item is None:
                    continue
                key = r.text(item.get("key"), f"{path}.key", max_length=100, numbers=True)
                label = r.text(item.get("label"), f"{path}.label", max_length=MAX_VALUE_LENGTH)
                kind = r.choice(item.get("type"), f"{path}.type", choices=list(FieldType))
                r.items(item.get("options"), f"{path}.options")
                if key:
                    found.setdefault((vendor, entity), {})[key] = {"label": label, "type": kind}
    return found
