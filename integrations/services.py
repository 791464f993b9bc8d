"""Integration setup: create, connect (S-1), switch; the audit log every change goes to."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connectors.config import ActiveCampaignConfig, DynamicsConfig
from connectors.services import ConnectionCheck, connection_check

from .models import AuditEntry, Integration

logger = logging.getLogger(__name__)

SECRET_FIELDS = frozenset({"ac_api_key", "dynamics_client_secret"})
CONNECTION_FIELDS = (
    "ac_api_url",
    "ac_api_key",
    "ac_budget_share",
    "dynamics_org_url",
    "dynamics_tenant_id",
    "dynamics_client_id",
    "dynamics_client_secret",
    "dynamics_authority_host",
    "dynamics_budget_share",
)


def audit_record(
    *,
    integration: Integration | None,
    actor,
    action: str,
    summary: str,
    changes: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        integration=integration,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        summary=summary[:255],
        changes=changes or {},
    )


def changes_between(old: dict, new: dict) -> dict:
    """{field: {"old", "new"}} for fields that changed; secrets only as "(changed)"."""
    changes = {}
    for field, value in new.items():
        if old.get(field) == value:
            continue
        if field in SECRET_FIELDS:
            changes[field] = "(changed)" if old.get(field) else "(set)"
        else:
            changes[field] = {"old": old.get(field), "new": value}
    return changes


@transaction.atomic
def integration_create(*, name: str, actor) -> Integration:
    integration = Integration.objects.create(name=name)
    audit_record(
        integration=integration,
        actor=actor,
        action="integration.create",
        summary=f"Added integration {name}",
    )
    return integration


@dataclass(frozen=True)
class ConnectOutcome:
    check: ConnectionCheck
    saved: bool


def integration_connect(*, integration: Integration, values: dict, actor) -> ConnectOutcome:
    """Check both sides with the new values; save them only if both succeed.

    values holds CONNECTION_FIELDS; a blank secret keeps the stored one.
    """
    merged = {field: getattr(integration, field) for field in CONNECTION_FIELDS}
    for field, value in values.items():
        if field in SECRET_FIELDS and not value:
            continue
        merged[field] = value
    check = connection_check(
        activecampaign=ActiveCampaignConfig(
            api_url=merged["ac_api_url"],
            api_key=merged["ac_api_key"],
            budget_share=merged["ac_budget_share"] / 100,
        ),
        dynamics=DynamicsConfig(
            org_url=merged["dynamics_org_url"],
            tenant_id=merged["dynamics_tenant_id"],
            client_id=merged["dynamics_client_id"],
            client_secret=merged["dynamics_client_secret"],
            authority_host=merged["dynamics_authority_host"],
            budget_share=merged["dynamics_budget_share"] / 100,
        ),
    )
    if not check.ok:
        logger.info("integration %s: connect failed (%s)", integration.pk, check.failed_sides())
        return ConnectOutcome(check=check, saved=False)
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        old = {field: getattr(locked, field) for field in CONNECTION_FIELDS}
        for field, value in merged.items():
            setattr(locked, field, value)
        locked.status = Integration.Status.CONNECTED
        locked.connected_at = timezone.now()
        locked.ac_identity = check.activecampaign.identity[:255]
        locked.dynamics_identity = check.dynamics.identity[:255]
        locked.save()
        audit_record(
            integration=locked,
            actor=actor,
            action="integration.connect",
            summary="Connected ActiveCampaign and Dynamics 365",
            changes=changes_between(old, merged),
        )
    return ConnectOutcome(check=check, saved=True)
