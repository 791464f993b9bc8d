"""Metadata: EntityDefinitions, their Attributes (with type casts and option sets),
ManyToOne/OneToMany relationships, GlobalOptionSetDefinitions, creating custom columns, and
the CSDL $metadata document.

Facts: §8 of README.md (S19 query-metadata-web-api, S20, S21 AttributeTypeCode, S22),
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from .api import Answer, Call
from .errors import DataverseError, bad_request, payload_error, segment_not_found
from .odata import evaluate, parse_expand, parse_filter, parse_select
from .schema import CUSTOM_NAME, KINDS, Column, Option, Relationship, Table, stable_id

NS = "Microsoft.Dynamics.CRM."
BASE_ATTRIBUTE_PROPS = (
    "MetadataId",
    "HasChanged",
    "AttributeOf",
    "AttributeType",
    "ColumnNumber",
    "Description",
    "DisplayName",
    "EntityLogicalName",
    "IsCustomAttribute",
    "IsPrimaryId",
    "IsPrimaryName",
    "IsValidForCreate",
    "IsValidForRead",
    "IsValidForUpdate",
    "IsValidODataAttribute",
    "IsLogical",
    "IsSearchable",
    "IsManaged",
    "LogicalName",
    "SchemaName",
    "SourceType",
    "RequiredLevel",
    "AttributeTypeName",
    "IntroducedVersion",
)
CASTS = {
    "StringAttributeMetadata": {"String"},
    "MemoAttributeMetadata": {"Memo"},
    "IntegerAttributeMetadata": {"Integer"},
    "BigIntAttributeMetadata": {"BigInt"},
    "DecimalAttributeMetadata": {"Decimal"},
    "DoubleAttributeMetadata": {"Double"},
    "MoneyAttributeMetadata": {"Money"},
    "DateTimeAttributeMetadata": {"DateTime"},
    "BooleanAttributeMetadata": {"Boolean"},
    "PicklistAttributeMetadata": {"Picklist"},
    "MultiSelectPicklistAttributeMetadata": {"MultiSelectPicklist"},
    "StateAttributeMetadata": {"State"},
    "StatusAttributeMetadata": {"Status"},
    "LookupAttributeMetadata": {"Lookup", "Customer", "Owner"},
    "UniqueIdentifierAttributeMetadata": {"Uniqueidentifier"},
    "EntityNameAttributeMetadata": {"EntityName"},
}
ENUM_CASTS = {
    "PicklistAttributeMetadata",
    "MultiSelectPicklistAttributeMetadata",
    "StateAttributeMetadata",
    "StatusAttributeMetadata",
    "BooleanAttributeMetadata",
}


def label(text: str | None, owner: str) -> dict:
    if text is None:
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    localized = {
        "Label": text,
        "LanguageCode": 1033,
        "IsManaged": True,
        "MetadataId": stable_id("label", owner, text),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def _managed(value: bool, name: str) -> dict:
    return {"Value": value, "CanBeChanged": True, "ManagedPropertyLogicalName": name}


class Metadata:
    def __init__(self, app) -> None:
        self.app = app
        self.model = app.model

    # -- JSON builders -------------------------------------------------------------------------
    def entity_json(self, table: Table) -> dict:
        return {
            "@odata.type": f"#{NS}EntityMetadata",
            "MetadataId": table.metadata_id,
            "HasChanged": None,
            "LogicalName": table.logical,
            "SchemaName": table.schema,
            "EntitySetName": table.entity_set,
            "LogicalCollectionName": table.entity_set,
            "CollectionSchemaName": table.schema + "s",
            "ObjectTypeCode": table.object_type_code,
            "PrimaryIdAttribute": table.pk,
            "PrimaryNameAttribute": table.primary_name,
            "PrimaryImageAttribute": None,
            "ChangeTrackingEnabled": table.change_tracking,
            "IsOptimisticConcurrencyEnabled": True,
            "IsCustomEntity": table.is_custom,
            "IsManaged": not table.is_custom,
            "IsActivity": False,
            "IsIntersect": False,
            "IsValidForAdvancedFind": True,
            "HasActivities": table.ownership == "UserOwned",
            "HasNotes": True,
            "OwnershipType": table.ownership,
            "IntroducedVersion": "5.0.0.0",
            "DisplayName": label(table.label, table.logical),
            "DisplayCollectionName": label(table.label_plural, table.logical + "s"),
            "Description": label(table.description, table.logical + "-d"),
            "CanChangeTrackingBeEnabled": _managed(True, "canchangetrackingbeenabled"),
            "IsCustomizable": _managed(True, "iscustomizable"),
            "IsAuditEnabled": _managed(False, "canmodifyauditsettings"),
        }

    def attribute_json(self, table: Table, column: Column) -> dict:
        kind = column.kind
        data: dict = {
            "@odata.type": f"#{NS}{KINDS[kind][4]}",
            "MetadataId": stable_id("attribute", table.logical, column.logical),
            "HasChanged": None,
            "AttributeOf": column.attribute_of,
            "AttributeType": column.attribute_type,
            "ColumnNumber": list(table.columns).index(column.logical) + 1,
            "Description": label(column.description, f"{table.logical}.{column.logical}.d"),
            "DisplayName": label(column.label, f"{table.logical}.{column.logical}"),
            "EntityLogicalName": table.logical,
            "IsCustomAttribute": column.custom,
            "IsPrimaryId": column.logical == table.pk,
            "IsPrimaryName": column.logical == table.primary_name,
            "IsValidForCreate": column.create,
            "IsValidForRead": column.read,
            "IsValidForUpdate": column.update,
            "IsValidODataAttribute": column.odata,
            "IsLogical": not column.stored,
            "IsSearchable": column.is_string,
            "IsManaged": not column.custom,
            "LogicalName": column.logical,
            "SchemaName": column.schema,
            "SourceType": 0,
            "RequiredLevel": {
                "Value": column.required,
                "CanBeChanged": column.required != "SystemRequired",
                "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
            },
            "AttributeTypeName": {"Value": column.type_name},
            "IntroducedVersion": "1.0" if column.custom else "5.0.0.0",
        }
        if kind in ("String", "Memo"):
            data["MaxLength"] = column.max_length
            data["DatabaseLength"] = (column.max_length or 0) * 2
            data["Format"] = column.format or "Text"
            data["FormatName"] = {"Value": column.format or "Text"}
            data["IsLocalizable"] = False
        elif kind in ("Integer", "BigInt"):
            data["MinValue"] = column.minimum
            data["MaxValue"] = column.maximum
            if kind == "Integer":
                data["Format"] = "None"
        elif kind in ("Decimal", "Double", "Money"):
            data["MinValue"] = column.minimum
            data["MaxValue"] = column.maximum
            data["Precision"] = column.precision
            if kind == "Money":
                data["PrecisionSource"] = 2
                data["IsBaseCurrency"] = False
        elif kind == "DateTime":
            data["Format"] = "DateOnly" if column.format == "DateOnly" else "DateAndTime"
            data["DateTimeBehavior"] = {"Value": column.behavior or "UserLocal"}
            data["CanChangeDateTimeBehavior"] = _managed(column.custom, "canchangedatetimebehavior")
        elif kind == "Boolean":
            data["DefaultValue"] = bool(column.default)
        elif kind in ("Picklist", "MultiSelectPicklist"):
            data["DefaultFormValue"] = column.default if column.default is not None else -1
        elif kind in ("Lookup", "Customer", "Owner"):
            data["Targets"] = list(column.targets)
            data["Format"] = "None"
        elif kind == "State":
            data["DefaultFormValue"] = column.default
        return data

    def _option_json(self, column: Column, option: Option, owner: str) -> dict:
        data: dict = {
            "Value": option.value,
            "Color": None,
            "IsManaged": not column.custom,
            "ExternalValue": None,
            "ParentValues": [],
            "Tag": None,
            "MetadataId": None,
            "HasChanged": None,
            "Label": label(option.label, f"{owner}.{option.value}"),
            "Description": label(None, ""),
        }
        if column.kind == "State":
            data = {
                "@odata.type": f"#{NS}StateOptionMetadata",
                **data,
                "DefaultStatus": option.default_status,
                "InvariantName": option.invariant,
            }
        elif column.kind == "Status":
            data = {
                "@odata.type": f"#{NS}StatusOptionMetadata",
                **data,
                "State": option.state,
                "TransitionData": None,
            }
        return data

    def optionset_json(self, table: Table, column: Column) -> dict:
        owner = column.global_optionset or f"{table.logical}_{column.logical}"
        base = {
            "MetadataId": stable_id("optionset", owner),
            "HasChanged": None,
            "IsCustomOptionSet": column.custom,
            "IsGlobal": column.global_optionset is not None,
            "IsManaged": not column.custom,
            "Name": owner,
            "ExternalTypeName": None,
            "IntroducedVersion": "5.0.0.0",
            "Description": label(None, ""),
            "DisplayName": label(column.label, owner),
        }
        if column.kind == "Boolean":
            return {
                **base,
                "OptionSetType": "Boolean",
                "TrueOption": self._option_json(column, Option(1, column.true_label), owner),
                "FalseOption": self._option_json(column, Option(0, column.false_label), owner),
            }
        kind = {"State": "State", "Status": "Status"}.get(column.kind, "Picklist")
        # The declared type of OptionSet on these casts is the concrete one: no @odata.type.
        return {
            **base,
            "OptionSetType": kind,
            "Options": [self._option_json(column, o, owner) for o in column.options],
        }

    def relationship_json(self, rel: Relationship) -> dict:
        referencing = self.model.tables[rel.referencing_entity]
        custom = referencing.columns[rel.referencing_attribute].custom
        return {
            "@odata.type": f"#{NS}OneToManyRelationshipMetadata",
            "MetadataId": rel.metadata_id,
            "HasChanged": None,
            "SchemaName": rel.schema,
            "RelationshipType": "OneToManyRelationship",
            "IsCustomRelationship": custom,
            "IsManaged": not custom,
            "IsValidForAdvancedFind": True,
            "IsHierarchical": rel.referencing_entity == rel.referenced_entity,
            "ReferencedAttribute": rel.referenced_attribute,
            "ReferencedEntity": rel.referenced_entity,
            "ReferencingAttribute": rel.referencing_attribute,
            "ReferencingEntity": rel.referencing_entity,
            "ReferencedEntityNavigationPropertyName": rel.collection_nav,
            "ReferencingEntityNavigationPropertyName": rel.nav,
            "RelationshipBehavior": 1 if rel.cascade_delete == "Cascade" else 0,
            "CascadeConfiguration": {
                "Assign": "Cascade" if rel.cascade_delete == "Cascade" else "NoCascade",
                "Delete": rel.cascade_delete,
                "Archive": "NoCascade",
                "Merge": "Cascade" if rel.cascade_delete == "Cascade" else "NoCascade",
                "Reparent": "Cascade" if rel.cascade_delete == "Cascade" else "NoCascade",
                "Share": "NoCascade",
                "Unshare": "NoCascade",
                "RollupView": "NoCascade",
            },
        }

    # -- query helpers --------------------------------------------------------------------------
    @staticmethod
    def _project(
        obj: dict, select: list[str] | None, allowed: set[str] | None, type_name: str
    ) -> dict:
        if select is None:
            return dict(obj)
        out = {"@odata.type": obj["@odata.type"]} if "@odata.type" in obj else {}
        for name in select:
            if name not in obj and (allowed is None or name not in allowed):
                raise bad_request(
                    f"Could not find a property named '{name}' on type '{NS}{type_name}'."
                )
            if name in obj:
                out[name] = obj[name]
        out["MetadataId"] = obj.get("MetadataId")
        return out

    @staticmethod
    def _filter(items: list[dict], text: str | None) -> list[dict]:
        if not text:
            return items
        node = parse_filter(text)
        return [i for i in items if evaluate(node, i)]

    def _table(self, key: str) -> Table:
        match = re.fullmatch(r"\s*LogicalName\s*=\s*'([^']*)'\s*", key)
        if match:
            table = self.model.tables.get(match.group(1))
            if table is None:
                raise DataverseError(
                    404, "0x80040217", f"Could not find entity with name '{match.group(1)}'."
                )
            return table
        metadata_id = key.strip().strip("'").lower()
        for table in self.model.tables.values():
            if table.metadata_id == metadata_id:
                return table
        raise DataverseError(
            404, "0x80040217", f"Could not find entity with MetadataId '{metadata_id}'."
        )

    # -- routing ----------------------------------------------------------------------------------
    def handle(self, call: Call, segments: list[tuple[str, str | None]]) -> Answer:
        name, key = segments[0]
        if name == "GlobalOptionSetDefinitions":
            return self._global_optionsets(call, key)
        if name == "RelationshipDefinitions":
            return self._relationship_definitions(call, key)
        if key is None:
            if len(segments) > 1:
                raise segment_not_found(segments[1][0])
            if call.method != "GET":
                raise DataverseError(
                    501,
                    "0x0",
                    "The sandbox does not create tables; add columns to the existing ones.",
                )
            return self._entities(call)
        table = self._table(key)
        if len(segments) == 1:
            if call.method != "GET":
                raise DataverseError(
                    405,
                    "0x80060888",
                    "Only GET is supported on an entity definition in the sandbox.",
                )
            return self._entity(call, table, key)
        sub, sub_key = segments[1]
        if sub == "Attributes":
            return self._attributes(call, table, key, sub_key, segments[2:])
        if sub in ("ManyToOneRelationships", "OneToManyRelationships"):
            if call.method != "GET":
                raise DataverseError(405, "0x80060888", "Only GET is supported here.")
            return self._relationships(call, table, key, sub, sub_key)
        raise segment_not_found(sub)

    def _entities(self, call: Call) -> Answer:
        items = [self.entity_json(t) for t in self.model.tables.values()]
        items = self._filter(items, call.args.get("$filter"))
        select = parse_select(call.args.get("$select"))
        expands = parse_expand(call.args.get("$expand"))
        values = []
        for item in items:
            table = self.model.tables[item["LogicalName"]]
            out = self._project(item, select, None, "EntityMetadata")
            self._expand_entity(out, table, expands)
            values.append(out)
        ctx = f"{call.base}/$metadata#EntityDefinitions" + (
            f"({','.join(select)})" if select else ""
        )
        return Answer(200, {"@odata.context": ctx, "value": values})

    def _entity(self, call: Call, table: Table, key: str) -> Answer:
        select = parse_select(call.args.get("$select"))
        out = self._project(self.entity_json(table), select, None, "EntityMetadata")
        self._expand_entity(out, table, parse_expand(call.args.get("$expand")))
        ctx = (
            f"{call.base}/$metadata#EntityDefinitions"
            + (f"({','.join(select)})" if select else "")
            + "/$entity"
        )
        return Answer(200, {"@odata.context": ctx, **out})

    def _expand_entity(self, out: dict, table: Table, expands) -> None:
        for item in expands:
            select = parse_select(item.options.get("$select"))
            if item.nav == "Attributes":
                attrs = [self.attribute_json(table, c) for c in table.columns.values()]
                attrs = self._filter(attrs, item.options.get("$filter"))
                out["Attributes"] = [
                    self._project(a, select, None, "AttributeMetadata") for a in attrs
                ]
            elif item.nav in ("ManyToOneRelationships", "OneToManyRelationships"):
                rels = self._rels(table, item.nav)
                rels = self._filter(rels, item.options.get("$filter"))
                out[item.nav] = [
                    self._project(r, select, None, "OneToManyRelationshipMetadata") for r in rels
                ]
            elif item.nav == "Keys":
                out["Keys"] = []
            else:
                raise bad_request(
                    f"Could not find a property named '{item.nav}' on type '{NS}EntityMetadata'."
                )

    def _rels(self, table: Table, kind: str) -> list[dict]:
        if kind == "ManyToOneRelationships":
            rels = [r for r in self.model.relationships if r.referencing_entity == table.logical]
        else:
            rels = [r for r in self.model.relationships if r.referenced_entity == table.logical]
        return [self.relationship_json(r) for r in rels]

    def _relationships(
        self, call: Call, table: Table, key: str, kind: str, sub_key: str | None
    ) -> Answer:
        items = self._rels(table, kind)
        if sub_key is not None:
            wanted = sub_key.strip().strip("'").lower()
            match = [
                r
                for r in items
                if r["MetadataId"] == wanted or f"SchemaName='{r['SchemaName']}'" == sub_key
            ]
            if not match:
                raise DataverseError(404, "0x80040217", "Could not find the relationship.")
            return Answer(
                200,
                {
                    "@odata.context": (
                        f"{call.base}/$metadata#EntityDefinitions({key})/{kind}/$entity"
                    ),
                    **match[0],
                },
            )
        items = self._filter(items, call.args.get("$filter"))
        select = parse_select(call.args.get("$select"))
        values = [self._project(r, select, None, "OneToManyRelationshipMetadata") for r in items]
        ctx = f"{call.base}/$metadata#EntityDefinitions({key})/{kind}" + (
            f"({','.join(select)})" if select else ""
        )
        return Answer(200, {"@odata.context": ctx, "value": values})

    def _attributes(self, call: Call, table: Table, key: str, attr_key: str | None, rest) -> Answer:
        if call.method == "POST" and attr_key is None and not rest:
            return self._create_attribute(call, table, key)
        if call.method != "GET":
            raise DataverseError(
                405,
                "0x80060888",
                "Only GET and POST (create) are supported on Attributes in the sandbox.",
            )
        cast = None
        tail = list(rest)
        if tail and tail[0][0].startswith(NS):
            cast = tail.pop(0)[0][len(NS) :]
            if cast not in CASTS:
                raise segment_not_found(NS + cast)
        columns = list(table.columns.values())
        if attr_key is not None:
            match = re.fullmatch(r"\s*LogicalName\s*=\s*'([^']*)'\s*", attr_key)
            wanted = match.group(1) if match else None
            wanted_id = None if match else attr_key.strip().strip("'").lower()
            columns = [
                c
                for c in columns
                if c.logical == wanted
                or stable_id("attribute", table.logical, c.logical) == wanted_id
            ]
            if not columns:
                raise DataverseError(
                    404,
                    "0x80040217",
                    f"Could not find attribute {attr_key} on entity {table.logical}.",
                )
        if cast is not None:
            columns = [c for c in columns if c.kind in CASTS[cast]]
            if attr_key is not None and not columns:
                raise bad_request(f"The attribute is not of type {NS}{cast}.")
        if tail:
            segment = tail[0][0]
            if (
                attr_key is None
                or segment not in ("OptionSet", "GlobalOptionSet")
                or cast not in ENUM_CASTS
            ):
                raise segment_not_found(segment)
            column = columns[0]
            optionset = self._optionset_for(table, column, segment)
            if optionset is None:
                return Answer(204)
            select = parse_select(call.args.get("$select"))
            out = self._project(
                optionset, select, {"Options", "TrueOption", "FalseOption"}, "OptionSetMetadataBase"
            )
            return Answer(
                200,
                {
                    "@odata.context": (
                        f"{call.base}/$metadata#EntityDefinitions({key})/Attributes({attr_key})"
                        f"/{NS}{cast}/{segment}/$entity"
                    ),
                    **out,
                },
            )
        pairs = [(c, self.attribute_json(table, c)) for c in columns]
        if call.args.get("$filter"):
            node = parse_filter(call.args["$filter"])
            pairs = [(c, j) for c, j in pairs if evaluate(node, j)]
        select = parse_select(call.args.get("$select"))
        if select is not None and cast is None:
            for name in select:
                if name not in BASE_ATTRIBUTE_PROPS:
                    raise bad_request(
                        f"Could not find a property named '{name}' on type '{NS}AttributeMetadata'."
                    )
        expands = parse_expand(call.args.get("$expand"))
        for item in expands:
            if item.nav not in ("OptionSet", "GlobalOptionSet") or cast not in ENUM_CASTS:
                raise bad_request(
                    f"Could not find a property named '{item.nav}' on type "
                    f"'{NS}{cast or 'AttributeMetadata'}'."
                )
        values = []
        for column, item in pairs:
            out = self._project(item, select, None, cast or "AttributeMetadata")
            for expand in expands:
                optionset = self._optionset_for(table, column, expand.nav)
                if optionset is not None:
                    optionset = self._project(
                        optionset,
                        parse_select(expand.options.get("$select")),
                        {"Options", "TrueOption", "FalseOption"},
                        "OptionSetMetadataBase",
                    )
                out[expand.nav] = optionset
            values.append(out)
        path = f"EntityDefinitions({key})/Attributes"
        if cast:
            path += f"/{NS}{cast}"
        if attr_key is not None:
            ctx = (
                f"{call.base}/$metadata#{path}"
                + (f"({','.join(select)})" if select else "")
                + "/$entity"
            )
            return Answer(200, {"@odata.context": ctx, **values[0]})
        ctx = f"{call.base}/$metadata#{path}" + (f"({','.join(select)})" if select else "")
        return Answer(200, {"@odata.context": ctx, "value": values})

    def _optionset_for(self, table: Table, column: Column, segment: str) -> dict | None:
        if column.kind not in ("Picklist", "MultiSelectPicklist", "State", "Status", "Boolean"):
            return None
        is_global = column.global_optionset is not None
        # Local choices answer in OptionSet, global ones in GlobalOptionSet (§8).
        if (segment == "GlobalOptionSet") != is_global:
            return None
        return self.optionset_json(table, column)

    def _global_optionsets(self, call: Call, key: str | None) -> Answer:
        sets: dict[str, dict] = {}
        for table in self.model.tables.values():
            for column in table.columns.values():
                if column.global_optionset and column.global_optionset not in sets:
                    sets[column.global_optionset] = self.optionset_json(table, column)
        if key is not None:
            match = re.fullmatch(r"\s*Name\s*=\s*'([^']*)'\s*", key)
            name = match.group(1) if match else None
            found = [
                s
                for s in sets.values()
                if s["Name"] == name or s["MetadataId"] == key.strip("'").lower()
            ]
            if not found:
                raise DataverseError(404, "0x80040217", f"Could not find optionset {key}.")
            return Answer(
                200,
                {
                    "@odata.context": f"{call.base}/$metadata#GlobalOptionSetDefinitions/$entity",
                    **found[0],
                },
            )
        select = parse_select(call.args.get("$select"))
        values = [
            self._project(
                s, select, {"Options", "TrueOption", "FalseOption"}, "OptionSetMetadataBase"
            )
            for s in sets.values()
        ]
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}/$metadata#GlobalOptionSetDefinitions",
                "value": values,
            },
        )

    def _relationship_definitions(self, call: Call, key: str | None) -> Answer:
        items = [self.relationship_json(r) for r in self.model.relationships]
        if key is not None:
            match = re.fullmatch(r"\s*SchemaName\s*=\s*'([^']*)'\s*", key)
            found = [
                r
                for r in items
                if (match and r["SchemaName"] == match.group(1))
                or r["MetadataId"] == key.strip("'").lower()
            ]
            if not found:
                raise DataverseError(404, "0x80040217", f"Could not find relationship {key}.")
            return Answer(
                200,
                {
                    "@odata.context": f"{call.base}/$metadata#RelationshipDefinitions/$entity",
                    **found[0],
                },
            )
        items = self._filter(items, call.args.get("$filter"))
        select = parse_select(call.args.get("$select"))
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}/$metadata#RelationshipDefinitions",
                "value": [
                    self._project(r, select, None, "RelationshipMetadataBase") for r in items
                ],
            },
        )

    # -- creating columns ------------------------------------------------------------------------
    def _create_attribute(self, call: Call, table: Table, key: str) -> Answer:
        """POST EntityDefinitions(LogicalName='x')/Attributes with a *AttributeMetadata body."""
        body = call.json("EntityDefinitions")
        if not isinstance(body, dict):
            raise payload_error(
                "EntityDefinitions",
                "Microsoft.OData.ODataException: The payload must be a JSON object.",
            )
        odata_type = str(body.get("@odata.type", "")).lstrip("#")
        kinds = {
            f"{NS}StringAttributeMetadata": "String",
            f"{NS}MemoAttributeMetadata": "Memo",
            f"{NS}IntegerAttributeMetadata": "Integer",
            f"{NS}DecimalAttributeMetadata": "Decimal",
            f"{NS}DoubleAttributeMetadata": "Double",
            f"{NS}MoneyAttributeMetadata": "Money",
            f"{NS}BooleanAttributeMetadata": "Boolean",
            f"{NS}DateTimeAttributeMetadata": "DateTime",
            f"{NS}PicklistAttributeMetadata": "Picklist",
            f"{NS}MultiSelectPicklistAttributeMetadata": "MultiSelectPicklist",
        }
        if odata_type not in kinds:
            raise bad_request(f"The sandbox cannot create attributes of type '{odata_type}'.")
        schema = body.get("SchemaName")
        if not isinstance(schema, str):
            raise bad_request("SchemaName is required.")
        display = _label_text(body.get("DisplayName")) or schema
        spec: dict = {
            "logical_name": schema.lower(),
            "schema_name": schema,
            "type": kinds[odata_type],
            "display_name": display,
            "required_level": (body.get("RequiredLevel") or {}).get("Value", "None"),
            "description": _label_text(body.get("Description")),
        }
        for prop, name in (
            ("MaxLength", "max_length"),
            ("MinValue", "min_value"),
            ("MaxValue", "max_value"),
            ("Precision", "precision"),
        ):
            if prop in body:
                spec[name] = body[prop]
        if "FormatName" in body and isinstance(body["FormatName"], dict):
            spec["format"] = body["FormatName"].get("Value")
        elif "Format" in body:
            spec["format"] = body["Format"]
        if isinstance(body.get("DateTimeBehavior"), dict):
            spec["behavior"] = body["DateTimeBehavior"].get("Value")
        optionset = body.get("OptionSet")
        if isinstance(optionset, dict):
            if kinds[odata_type] == "Boolean":
                spec["true_label"] = (
                    _label_text((optionset.get("TrueOption") or {}).get("Label")) or "Yes"
                )
                spec["false_label"] = (
                    _label_text((optionset.get("FalseOption") or {}).get("Label")) or "No"
                )
            else:
                spec["options"] = {
                    int(o["Value"]): _label_text(o.get("Label")) or str(o["Value"])
                    for o in optionset.get("Options", [])
                }
                if optionset.get("IsGlobal"):
                    spec["global_optionset"] = optionset.get("Name")
        column = self.app.attribute_add(table.logical, **spec)
        metadata_id = stable_id("attribute", table.logical, column.logical)
        return Answer(
            204,
            headers={
                "OData-EntityId": (
                    f"{call.base}/EntityDefinitions({table.metadata_id})/Attributes({metadata_id})"
                )
            },
        )

    # -- CSDL ------------------------------------------------------------------------------------
    def csdl(self, call: Call) -> Answer:
        if call.method != "GET":
            raise DataverseError(405, "0x80060888", "The $metadata document is read-only.")
        annotations = (call.args.get("annotations") or "").lower() == "true"
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
            "<edmx:DataServices>",
            '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
            '<EntityType Name="crmbaseentity" Abstract="true"/>',
            '<EntityType Name="principal" BaseType="mscrm.crmbaseentity" Abstract="true"/>',
        ]
        for table in self.model.tables.values():
            base = (
                "mscrm.principal"
                if table.logical in ("systemuser", "team")
                else "mscrm.crmbaseentity"
            )
            out.append(f'<EntityType Name="{table.logical}" BaseType="{base}">')
            out.append(f'<Key><PropertyRef Name="{table.pk}"/></Key>')
            for prop, column in table.properties().items():
                out.append(f'<Property Name="{escape(prop)}" Type="{column.edm}"/>')
            for name, rels in self.model.navs.get(table.logical, {}).items():
                target = (
                    "mscrm.principal" if len(rels) > 1 else f"mscrm.{rels[0].referenced_entity}"
                )
                out.append(f'<NavigationProperty Name="{name}" Type="{target}"/>')
            for name, rel in self.model.collections.get(table.logical, {}).items():
                out.append(
                    f'<NavigationProperty Name="{name}" '
                    f'Type="Collection(mscrm.{rel.referencing_entity})" Partner="{rel.nav}"/>'
                )
            out.append("</EntityType>")
        out.append(
            '<ComplexType Name="WhoAmIResponse">'
            '<Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false"/>'
            '<Property Name="UserId" Type="Edm.Guid" Nullable="false"/>'
            '<Property Name="OrganizationId" Type="Edm.Guid" Nullable="false"/></ComplexType>'
        )
        out.append(
            '<Function Name="WhoAmI">'
            '<ReturnType Type="mscrm.WhoAmIResponse" Nullable="false"/></Function>'
        )
        out.append(
            '<Action Name="QualifyLead" IsBound="true">'
            '<Parameter Name="entity" Type="mscrm.lead" Nullable="false"/>'
            '<Parameter Name="CreateAccount" Type="Edm.Boolean" Nullable="false"/>'
            '<Parameter Name="CreateContact" Type="Edm.Boolean" Nullable="false"/>'
            '<Parameter Name="CreateOpportunity" Type="Edm.Boolean" Nullable="false"/>'
            '<Parameter Name="OpportunityCurrencyId" Type="mscrm.transactioncurrency"/>'
            '<Parameter Name="OpportunityCustomerId" Type="mscrm.crmbaseentity"/>'
            '<Parameter Name="SourceCampaignId" Type="mscrm.crmbaseentity"/>'
            '<Parameter Name="Status" Type="Edm.Int32" Nullable="false"/>'
            '<Parameter Name="SuppressDuplicateDetection" Type="Edm.Boolean"/>'
            '<ReturnType Type="Collection(mscrm.crmbaseentity)" Nullable="false"/></Action>'
        )
        out.append(
            '<Action Name="Merge">'
            '<Parameter Name="Target" Type="mscrm.crmbaseentity" Nullable="false"/>'
            '<Parameter Name="Subordinate" Type="mscrm.crmbaseentity" Nullable="false"/>'
            '<Parameter Name="UpdateContent" Type="mscrm.crmbaseentity"/>'
            '<Parameter Name="PerformParentingChecks" Type="Edm.Boolean" Nullable="false"/>'
            "</Action>"
        )
        out.append('<EntityContainer Name="System">')
        for table in self.model.tables.values():
            out.append(f'<EntitySet Name="{table.entity_set}" EntityType="mscrm.{table.logical}">')
            if annotations and table.change_tracking:
                out.append(
                    '<Annotation Term="Org.OData.Capabilities.V1.ChangeTracking"><Record>'
                    '<PropertyValue Property="Supported" Bool="true"/></Record></Annotation>'
                )
            out.append("</EntitySet>")
        out.append('<FunctionImport Name="WhoAmI" Function="mscrm.WhoAmI"/>')
        out.append('<ActionImport Name="Merge" Action="mscrm.Merge"/>')
        out.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
        return Answer(200, text="".join(out), content_type="application/xml")


def _label_text(value: object) -> str | None:
    if isinstance(value, dict):
        localized = value.get("LocalizedLabels") or []
        if localized and isinstance(localized[0], dict):
            return localized[0].get("Label")
        user = value.get("UserLocalizedLabel")
        if isinstance(user, dict):
            return user.get("Label")
    if isinstance(value, str):
        return value
    return None


def column_from_spec(
    *,
    logical_name: str,
    type: str,
    display_name: str | None = None,
    schema_name: str | None = None,
    max_length: int | None = None,
    format: str | None = None,
    behavior: str | None = None,
    required_level: str = "None",
    options: dict[int, str] | None = None,
    global_optionset: str | None = None,
    targets: list[str] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    precision: int | None = None,
    true_label: str = "Yes",
    false_label: str = "No",
    description: str | None = None,
) -> Column:
    """A custom column from a plain spec (the sandbox control route and Python helper)."""
    if not CUSTOM_NAME.match(logical_name):
        raise bad_request(
            f"'{logical_name}' is not a valid custom column name: use the publisher prefix and an "
            "underscore, lowercase (e.g. new_acscore)."
        )
    kinds = {
        "String": "String",
        "Memo": "Memo",
        "Integer": "Integer",
        "BigInt": "BigInt",
        "Decimal": "Decimal",
        "Double": "Double",
        "Money": "Money",
        "Boolean": "Boolean",
        "DateTime": "DateTime",
        "Picklist": "Picklist",
        "MultiSelectPicklist": "MultiSelectPicklist",
        "Lookup": "Lookup",
    }
    if type not in kinds:
        raise bad_request(f"Unsupported column type '{type}'. Use one of {sorted(kinds)}.")
    if required_level not in ("None", "SystemRequired", "ApplicationRequired", "Recommended"):
        raise bad_request(f"Unsupported required level '{required_level}'.")
    kwargs: dict = {
        "schema": schema_name or logical_name,
        "custom": True,
        "required": "None" if required_level == "SystemRequired" else required_level,
        "description": description,
    }
    kind = kinds[type]
    if kind in ("String", "Memo"):
        kwargs["max_length"] = int(max_length or (100 if kind == "String" else 2000))
        kwargs["format"] = format or ("Text" if kind == "String" else "TextArea")
    elif kind in ("Integer", "BigInt"):
        kwargs["minimum"] = int(min_value if min_value is not None else -2147483648)
        kwargs["maximum"] = int(max_value if max_value is not None else 2147483647)
    elif kind in ("Decimal", "Double", "Money"):
        kwargs["minimum"] = float(min_value if min_value is not None else -100000000000)
        kwargs["maximum"] = float(max_value if max_value is not None else 100000000000)
        kwargs["precision"] = int(precision if precision is not None else 2)
    elif kind == "DateTime":
        date_only = (format or behavior) == "DateOnly"
        kwargs["format"] = "DateOnly" if date_only else "DateAndTime"
        kwargs["behavior"] = behavior or ("DateOnly" if date_only else "UserLocal")
    elif kind == "Boolean":
        kwargs["true_label"] = true_label
        kwargs["false_label"] = false_label
        kwargs["default"] = False
    elif kind in ("Picklist", "MultiSelectPicklist"):
        if not options:
            raise bad_request("A choice column needs options: {value: label}.")
        kwargs["options"] = tuple(Option(int(v), str(t)) for v, t in options.items())
        kwargs["global_optionset"] = global_optionset
    elif kind == "Lookup":
        if not targets:
            raise bad_request("A lookup column needs targets (table logical names).")
        kwargs["targets"] = tuple(targets)
    return Column(logical_name, kind, display_name or logical_name, **kwargs)
