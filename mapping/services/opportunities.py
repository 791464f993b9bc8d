"""Opportunities (S-3.7 to S-3.11): one way into an ActiveCampaign custom object whose schema
only ever grows."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from connectors.activecampaign.client import ActiveCampaignClient
from connectors.activecampaign.records import (
    CustomObjectField,
    CustomObjectSchema,
    CustomObjectSchemaSpec,
)
from connectors.errors import ConnectorError, user_message
from connectors.types import FieldInfo
from integrations.models import Integration
from integrations.services import audit_record

from ..core.opportunity import (
    OPPORTUNITY_MAX_FIELDS,
    ac_object_field_types_for,
    object_field_id,
)
from ..inputs import OpportunityFieldInput, OpportunityInput, Problem
from ..models import OpportunityField, OpportunitySync
from ..selectors import Metadata, metadata_cached, opportunity_sync

OPPORTUNITY_SCHEMA_SLUG = "d365-opportunity"

# Creates or extends the custom object schema in ActiveCampaign (the client's by default).
SchemaWriter = Callable[[CustomObjectSchemaSpec], CustomObjectSchema]

# The fields every opportunity record carries when opportunities sync; custom field mapping adds
# up to OPPORTUNITY_MAX_FIELDS more (S-3.9).
OPPORTUNITY_STANDARD_FIELDS = (
    "name",
    "estimatedvalue",
    "salesstage",
    "estimatedclosedate",
    "closeprobability",
    "statecode",
)


def opportunity_problems(
    data: OpportunityInput, *, metadata: Metadata, saved: OpportunitySync | None
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(path: str, message: str) -> None:
        problems.append(Problem(f"opportunity.{path}" if path else "opportunity", message))

    if saved is not None and saved.custom_fields_enabled and not data.custom_fields_enabled:
        problem(
            "custom_fields_enabled",
            gettext(
                "Opportunity custom field mapping is permanent once saved; it cannot be turned off."
            ),
        )
    if not data.custom_fields_enabled and data.fields:
        problem("fields", gettext("Turn on opportunity custom field mapping to map custom fields."))
    if len(data.fields) > OPPORTUNITY_MAX_FIELDS:
        problem(
            "fields",
            gettext("At most %(limit)s opportunity fields can be mapped; %(count)s are selected.")
            % {"limit": OPPORTUNITY_MAX_FIELDS, "count": len(data.fields)},
        )
    dv_fields = metadata.dynamics_fields_for("opportunity")
    in_schema = {f.dynamics_key: f for f in saved.fields.all() if f.in_schema} if saved else {}
    seen: set[str] = set()
    for index, item in enumerate(data.fields):
        path = f"fields.{index}"
        if item.dynamics_key in seen:
            problem(path, gettext("%(key)r is selected twice.") % {"key": item.dynamics_key})
        seen.add(item.dynamics_key)
        if item.dynamics_key in OPPORTUNITY_STANDARD_FIELDS:
            problem(
                path,
                gettext("%(key)r is always synced; pick another field.")
                % {"key": item.dynamics_key},
            )
            continue
        kept = in_schema.get(item.dynamics_key)
        if kept is not None:
            if item.ac_type != kept.ac_type or item.required != kept.required:
                problem(
                    path,
                    gettext(
                        "This field is in the ActiveCampaign schema already: its type and "
                        "'required' cannot change."
                    ),
                )
            continue
        dv_field = dv_fields.get(item.dynamics_key)
        if dv_field is None:
            problem(
                path,
                gettext("Dynamics 365 has no opportunity field %(key)r.")
                % {"key": item.dynamics_key},
            )
            continue
        offered = ac_object_field_types_for(dv_field)
        if not offered:
            problem(path, gettext("%(field)s cannot be mapped.") % {"field": dv_field.label})
        elif item.ac_type not in offered:
            problem(
                f"{path}.ac_type",
                gettext("%(field)s can become %(types)s, not %(type)r.")
                % {"field": dv_field.label, "types": ", ".join(offered), "type": item.ac_type},
            )
    for key, kept in in_schema.items():
        if key not in seen:
            problem(
                "fields",
                gettext(
                    "%(field)s is in the ActiveCampaign schema and cannot be removed; switch it "
                    "off instead."
                )
                % {"field": kept.label},
            )
    return problems


def opportunity_config_save(
    *,
    integration: Integration,
    data: OpportunityInput,
    actor,
    metadata: Metadata | None = None,
    schema_writer: SchemaWriter | None = None,
) -> list[Problem]:
    """Validate, then create or extend the ActiveCampaign custom object schema, then save.

    The vendor call comes first, outside any transaction, so a slow answer holds no lock; the
    save then locks the row briefly and checks again against what is saved by then (another
    administrator may have saved meanwhile). The schema only ever grows, so a schema extended
    for a save that is then refused harms nothing (S-3.10).
    """
    metadata = metadata or metadata_cached(integration=integration)
    saved = opportunity_sync(integration=integration)
    problems = opportunity_problems(data, metadata=metadata, saved=saved)
    if problems:
        return problems
    schema = None
    if data.enabled:
        schema, problem = opportunity_schema_ensure(
            integration=integration,
            data=data,
            saved=saved,
            metadata=metadata,
            schema_writer=schema_writer,
        )
        if problem is not None:
            return [problem]
    with transaction.atomic():
        saved = opportunity_sync_locked(integration=integration)
        problems = opportunity_problems(data, metadata=metadata, saved=saved)
        if problems:
            return problems
        changes = opportunity_write(
            integration=integration, data=data, metadata=metadata, schema=schema
        )
        audit_record(
            integration=integration,
            actor=actor,
            action="data.opportunity",
            summary="Saved the Opportunities configuration",
            changes=changes,
        )
    return []


def opportunity_sync_locked(*, integration: Integration) -> OpportunitySync | None:
    """The saved opportunity configuration, its row locked until the transaction ends."""
    return (
        OpportunitySync.objects.select_for_update()
        .filter(integration=integration)
        .prefetch_related("fields")
        .first()
    )


def opportunity_schema_ensure(
    *,
    integration: Integration,
    data: OpportunityInput,
    saved: OpportunitySync | None,
    metadata: Metadata,
    schema_writer: SchemaWriter | None = None,
) -> tuple[CustomObjectSchema | None, Problem | None]:
    """Create or extend the custom object in ActiveCampaign for validated input: a vendor call,
    to be made outside any transaction. (schema, None), or (None, the problem in words)."""
    try:
        writer = schema_writer or _schema_writer(integration)
        return writer(_schema_spec(data, saved=saved, metadata=metadata)), None
    except ConnectorError as error:
        return None, Problem(
            "opportunity",
            gettext("The ActiveCampaign custom object could not be saved: %(reason)s")
            % {"reason": user_message(error)},
        )


def opportunity_write(
    *,
    integration: Integration,
    data: OpportunityInput,
    metadata: Metadata,
    schema: CustomObjectSchema | None,
) -> dict:
    """Write validated input inside the caller's transaction; the changes, for the audit log.

    Which fields are in the ActiveCampaign schema is what the account answered (`schema`),
    never what the input claims.
    """
    opportunity, _ = OpportunitySync.objects.get_or_create(integration=integration)
    before = _opportunity_summary(opportunity)
    rows = opportunity_fields_write(opportunity, data.fields, metadata=metadata)
    opportunity.enabled = data.enabled
    opportunity.custom_fields_enabled = data.custom_fields_enabled
    opportunity.updated_at = timezone.now()
    if schema is not None:
        opportunity.schema_id, opportunity.schema_slug = schema.id, schema.slug
        in_schema = [r.pk for r in rows if schema.field(r.ac_field_id) is not None]
        OpportunityField.objects.filter(pk__in=in_schema).update(in_schema=True)
    opportunity.save()
    after = _opportunity_summary(opportunity)
    return {
        key: {"old": before.get(key), "new": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def opportunity_fields_write(
    opportunity: OpportunitySync, fields: list[OpportunityFieldInput], *, metadata: Metadata
) -> list[OpportunityField]:
    """Replace the opportunity's fields, except those already in the ActiveCampaign schema,
    which only move and switch on or off (S-3.10). Validated input only."""
    kept = {f.dynamics_key: f for f in opportunity.fields.all()}
    dv_fields = metadata.dynamics_fields_for("opportunity")
    opportunity.fields.exclude(in_schema=True).delete()
    rows = []
    for index, item in enumerate(fields):
        old = kept.get(item.dynamics_key)
        if old is not None and old.in_schema:
            old.position, old.enabled = index, item.enabled
            old.save(update_fields=["position", "enabled"])
            rows.append(old)
            continue
        dv_field = dv_fields.get(item.dynamics_key)
        rows.append(
            OpportunityField.objects.create(
                opportunity_sync=opportunity,
                position=index,
                dynamics_key=item.dynamics_key,
                label=dv_field.label if dv_field else item.dynamics_key,
                ac_type=item.ac_type,
                required=item.required,
                enabled=item.enabled,
                ac_field_id=object_field_id(item.dynamics_key),
            )
        )
    return rows


def _opportunity_summary(opportunity: OpportunitySync) -> dict:
    return {
        "enabled": opportunity.enabled,
        "custom_fields_enabled": opportunity.custom_fields_enabled,
        "fields": "; ".join(
            f"{f.dynamics_key}:{f.ac_type}{'' if f.enabled else ' (off)'}"
            for f in opportunity.fields.all()
        ),
    }


def _schema_writer(integration: Integration) -> SchemaWriter:
    return ActiveCampaignClient(integration.activecampaign_config()).custom_objects.ensure_schema


def _schema_spec(
    data: OpportunityInput, *, saved: OpportunitySync | None, metadata: Metadata
) -> CustomObjectSchemaSpec:
    """Every field the custom object must have: the standard ones, then the mapped ones
    (switched-off fields included: they stay in the schema)."""
    dv_fields = metadata.dynamics_fields_for("opportunity")
    labels = {f.dynamics_key: f.label for f in saved.fields.all() if f.in_schema} if saved else {}
    fields = []
    for key in OPPORTUNITY_STANDARD_FIELDS:
        dv_field = dv_fields.get(key)
        if dv_field is None:
            continue
        ac_type = ac_object_field_types_for(dv_field)[0]
        fields.append(
            _object_field(
                object_field_id(key), dv_field.label, ac_type, dv_field, required=key == "name"
            )
        )
    for item in data.fields:
        dv_field = dv_fields.get(item.dynamics_key)
        label = labels.get(item.dynamics_key) or (dv_field.label if dv_field else item.dynamics_key)
        fields.append(
            _object_field(
                object_field_id(item.dynamics_key),
                label,
                item.ac_type,
                dv_field,
                required=item.required,
            )
        )
    return CustomObjectSchemaSpec(
        slug=OPPORTUNITY_SCHEMA_SLUG,
        label="D365 Opportunity",
        plural_label="D365 Opportunities",
        description="Opportunities synced from Dynamics 365 by syncadmin",
        fields=tuple(fields),
        contact_relationship=True,
    )


def _object_field(
    field_id: str, label: str, ac_type: str, dv_field: FieldInfo | None, *, required: bool
) -> CustomObjectField:
    options = ()
    if ac_type in ("dropdown", "multiselect") and dv_field is not None:
        options = tuple(option.label for option in dv_field.options) or ("Yes", "No")
    return CustomObjectField(
        id=field_id,
        label=label,
        plural_label=label,
        type=ac_type,
        required=required,
        options=options,
        scale=0 if ac_type == "number" else None,
    )


def opportunity_input_from_saved(opportunity: OpportunitySync | None) -> OpportunityInput:
    if opportunity is None:
        return OpportunityInput()
    return OpportunityInput(
        enabled=opportunity.enabled,
        custom_fields_enabled=opportunity.custom_fields_enabled,
        fields=[
            OpportunityFieldInput(f.dynamics_key, f.ac_type, f.required, f.enabled)
            for f in opportunity.fields.all()
        ],
    )
