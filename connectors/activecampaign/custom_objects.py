"""Custom objects (where Dynamics opportunities live): schemas, created or extended, never
shrunk; records upserted and read by external id.

https://developers.activecampaign.com/docs/custom-objects-api-guide
https://developers.activecampaign.com/reference/create-or-update-record
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import ConflictError, NotFoundError

from . import parse
from .api import Api, Resource, int_id, mapping, seg
from .errors import VENDOR
from .records import (
    CustomObjectField,
    CustomObjectRecord,
    CustomObjectSchema,
    CustomObjectSchemaSpec,
)
from .values import encode_record_value

PRIMARY_CONTACT = "primary-contact"
# Keys AC adds to a field that a schema update does not take back.
_SERVER_FIELD_KEYS = frozenset({"createdTimestamp", "updatedTimestamp", "status"})


class CustomObjects(Resource):
    """ActiveCampaignClient.custom_objects. Record values are read by their schema's types,
    remembered per schema id."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self._field_types: dict[str, dict[str, str]] = {}

    # -- schemas ----------------------------------------------------------------------------
    def schemas(self) -> list[CustomObjectSchema]:
        """Every schema, deleted fields included (showFields=all)."""
        return [
            self._known(item)
            for item in self.api.items("customObjects/schemas", "schemas", {"showFields": "all"})
        ]

    def schema(self, schema_id: str) -> CustomObjectSchema:
        body = self.api.get(f"customObjects/schemas/{seg(schema_id)}", {"showFields": "all"})
        return self._known(mapping(mapping(body, "schema").get("schema"), "schema"))

    def ensure_schema(self, spec: CustomObjectSchemaSpec) -> CustomObjectSchema:
        """Create the schema, or extend it with the fields and options it lacks.

        Never deletes: fields and options are only added, and the update sends back every
        field AC holds. Fields are listed with showFields=all first, because a deleted field's
        id is not free again (it shows `marked_for_deletion`): such a clash is a
        ConflictError rather than a resurrected field
        (https://developers.activecampaign.com/reference/delete-a-field-1).
        """
        raw = self._raw_by_slug(spec.slug)
        if raw is None:
            try:
                body = self.api.call(
                    "POST", "customObjects/schemas", json={"schema": _schema_payload(spec)}
                )
                return self._known(mapping(mapping(body, "schema").get("schema"), "schema"))
            except ConflictError:
                raw = self._raw_by_slug(spec.slug)  # created meanwhile
                if raw is None:
                    raise
        return self._extend(raw, spec)

    def _raw_by_slug(self, slug: str) -> Mapping | None:
        for item in self.api.items("customObjects/schemas", "schemas", {"showFields": "all"}):
            if item.get("slug") == slug:
                return item
        return None

    def _extend(self, raw: Mapping, spec: CustomObjectSchemaSpec) -> CustomObjectSchema:
        raw_fields = [field for field in raw.get("fields") or () if isinstance(field, Mapping)]
        by_id = {str(field.get("id")): field for field in raw_fields}
        deleted = {
            key for key, field in by_id.items() if field.get("status") == "marked_for_deletion"
        }
        kept: list[dict[str, Any]] = []
        changed = False
        for field in raw_fields:
            if str(field.get("id")) in deleted:
                continue
            copy = _field_copy(field)
            wanted = next((f for f in spec.fields if f.id == str(field.get("id"))), None)
            if wanted is not None and wanted.options:
                have = {
                    str(option.get("value")) if isinstance(option, Mapping) else str(option)
                    for option in copy.get("options") or ()
                }
                extra = [value for value in wanted.options if value not in have]
                if extra:
                    copy["options"] = [*(copy.get("options") or []), *({"value": v} for v in extra)]
                    changed = True
            kept.append(copy)
        for wanted in spec.fields:
            if wanted.id in deleted:
                raise ConflictError(
                    f"custom object field id {wanted.id!r} belongs to a deleted field of "
                    f"{spec.slug!r} and cannot be reused; choose another key",
                    vendor=VENDOR,
                    field=wanted.id,
                )
            if wanted.id not in by_id:
                kept.append(_field_payload(wanted))
                changed = True
        relationships = [
            dict(relation)
            for relation in raw.get("relationships") or ()
            if isinstance(relation, Mapping)
        ]
        if spec.contact_relationship and not any(
            relation.get("id") == PRIMARY_CONTACT for relation in relationships
        ):
            relationships.append(_primary_contact_relationship())
            changed = True
        if not changed:
            return self._known(raw)
        labels = raw.get("labels") if isinstance(raw.get("labels"), Mapping) else {}
        payload = {
            "schema": {
                "slug": raw.get("slug") or spec.slug,
                "labels": {
                    "singular": labels.get("singular") or spec.label,
                    "plural": labels.get("plural") or spec.plural_label,
                },
                "description": raw.get("description") or spec.description,
                "fields": kept,
                "relationships": relationships,
            }
        }
        body = self.api.call(
            "PUT", f"customObjects/schemas/{seg(str(raw.get('id')))}", json=payload
        )
        return self._known(mapping(mapping(body, "schema").get("schema"), "schema"))

    def _known(self, item: Mapping) -> CustomObjectSchema:
        """Parse a schema and remember its field types, to read its records typed."""
        schema = parse.custom_object_schema(item)
        self._field_types[schema.id] = {field.id: field.type for field in schema.fields}
        return schema

    def _types(self, schema: CustomObjectSchema | str) -> Mapping[str, str]:
        if isinstance(schema, CustomObjectSchema):
            return {field.id: field.type for field in schema.fields}
        if schema not in self._field_types:
            self.schema(schema)
        return self._field_types.get(schema, {})

    # -- records ----------------------------------------------------------------------------
    def upsert(
        self,
        schema: CustomObjectSchema,
        *,
        external_id: str,
        values: Mapping[str, Any],
        contact_id: str | None = None,
    ) -> CustomObjectRecord:
        """Create or update the record with this external id (POST, AC's upsert).

        Only `externalId` is sent, never an `id`: an id with another externalId creates a
        new record. Values given as None are not sent. Idempotent.
        """
        fields = []
        for field_id, value in values.items():
            if value is None:
                continue
            definition = schema.field(field_id)
            if definition is None:
                raise ValueError(f"{schema.slug} has no field {field_id!r}")
            fields.append({"id": field_id, "value": encode_record_value(value, definition.type)})
        record: dict[str, Any] = {"externalId": external_id, "fields": fields}
        if contact_id is not None:
            record["relationships"] = {PRIMARY_CONTACT: [int_id(contact_id)]}
        body = mapping(
            self.api.call(
                "POST",
                f"customObjects/records/{seg(schema.id)}",
                json={"record": record},
                idempotent=True,
            ),
            "record",
        )
        return parse.custom_object_record(
            mapping(body.get("record"), "record"), schema.id, self._types(schema)
        )

    def record(
        self, schema: CustomObjectSchema | str, external_id: str
    ) -> CustomObjectRecord | None:
        """The record with this external id, None if there is none. (The doc page prints the
        path as /records/{schemdId}/external/…, a typo; clients use this one.)

        Values are typed by the schema's fields: pass the schema, or its id (then it is
        read once per client, unless this client has already seen it).
        """
        schema_id = schema.id if isinstance(schema, CustomObjectSchema) else str(schema)
        try:
            body = self.api.get(
                f"customObjects/records/{seg(schema_id)}/external/{seg(external_id)}"
            )
        except NotFoundError:
            return None
        return parse.custom_object_record(
            mapping(mapping(body, "record").get("record"), "record"),
            schema_id,
            self._types(schema),
        )

    def delete(self, schema: CustomObjectSchema | str, external_id: str) -> bool:
        """Delete the record with this external id; False when there was none."""
        schema_id = schema.id if isinstance(schema, CustomObjectSchema) else str(schema)
        return self.api.delete(
            f"customObjects/records/{seg(schema_id)}/external/{seg(external_id)}"
        )


def _primary_contact_relationship() -> dict[str, Any]:
    return {
        "id": PRIMARY_CONTACT,
        "labels": {"singular": "Contact", "plural": "Contacts"},
        "description": "The contact this record belongs to",
        "namespace": "contacts",
        "hasMany": False,
    }


def _field_payload(field: CustomObjectField) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": field.id,
        "labels": {"singular": field.label, "plural": field.plural_label or field.label},
        "type": field.type,
        "isRequired": field.required,
    }
    if field.description:
        payload["description"] = field.description
    if field.scale is not None:
        payload["scale"] = field.scale
    if field.options:
        payload["options"] = [{"value": value} for value in field.options]
    if field.default_currency:
        payload["defaultCurrency"] = field.default_currency
    return payload


def _field_copy(field: Mapping) -> dict[str, Any]:
    """An existing field as AC gave it, for the update body: sent back unchanged."""
    copy = {key: value for key, value in field.items() if key not in _SERVER_FIELD_KEYS}
    if "options" in copy and isinstance(copy["options"], list):
        copy["options"] = [dict(o) if isinstance(o, Mapping) else o for o in copy["options"]]
    return copy


def _schema_payload(spec: CustomObjectSchemaSpec) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "slug": spec.slug,
        "labels": {"singular": spec.label, "plural": spec.plural_label},
        "description": spec.description,
        "fields": [_field_payload(field) for field in spec.fields],
    }
    if spec.contact_relationship:
        payload["relationships"] = [_primary_contact_relationship()]
    return payload
