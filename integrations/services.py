"""Integration setup: create, connect (S-1), switch; the audit log every change goes to."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connectors.services import ConnectionCheck, connection_check

from .models import (
    CONNECTION_FIELDS,
    SECRET_FIELDS,
    AuditEntry,
    Integration,
    activecampaign_config,
    dynamics_config,
)
from .selectors import endpoint_changes, secrets_to_retype

logger = logging.getLogger(__name__)


class SecretRequired(ValueError):
    """A side's endpoint changed but its secret was not typed again: nothing was sent."""

    def __init__(self, secrets: Mapping[str, tuple[str, ...]]) -> None:
        super().__init__(f"type the secret again for a changed endpoint: {', '.join(secrets)}")
        self.secrets = dict(secrets)


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


def _labels(fields) -> str:
    return ", ".join(str(Integration._meta.get_field(f).verbose_name) for f in fields)


@sensitive_variables("values", "merged")
def integration_connect(*, integration: Integration, values: dict, actor) -> ConnectOutcome:
    """Check both sides with the new values; save them only if both succeed.

    values holds CONNECTION_FIELDS; a blank secret keeps the stored one, but only while its
    side's endpoint and identity fields stay as saved: a stored secret never goes to a host
    that was just typed (SecretRequired, before any request).
    """
    retype = secrets_to_retype(integration=integration, values=values)
    if retype:
        raise SecretRequired(retype)
    # Endpoints that were set and now point elsewhere (a first connect moves nothing).
    moved = [
        f
        for f in endpoint_changes(integration=integration, values=values)
        if getattr(integration, f)
    ]
    merged = {}
    for field in CONNECTION_FIELDS:
        value = values.get(field)
        if field in SECRET_FIELDS and not value:
            value = getattr(integration, field)  # the stored secret, decrypted for this use
        elif field not in values:
            value = getattr(integration, field)
        merged[field] = value
    check = connection_check(
        activecampaign=activecampaign_config(merged), dynamics=dynamics_config(merged)
    )
    if not check.ok:
        logger.info("integration %s: connect failed (%s)", integration.pk, check.failed_sides())
        if moved:
            # Someone tried to point a side elsewhere: worth a line even though nothing changed.
            audit_record(
                integration=integration,
                actor=actor,
                action="integration.connect_failed",
                summary=f"Connect failed, nothing saved (tried a new {_labels(moved)})",
                changes={f: {"old": getattr(integration, f), "new": merged[f]} for f in moved},
            )
        return ConnectOutcome(check=check, saved=False)
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        old = {f: getattr(locked, f) for f in CONNECTION_FIELDS if f not in SECRET_FIELDS}
        changes = changes_between(old, {f: merged[f] for f in old})
        for field in SECRET_FIELDS:
            if values.get(field):
                changes[field] = "(changed)" if locked.has_secret(field) else "(set)"
        for field, value in merged.items():
            setattr(locked, field, value)
        locked.status = Integration.Status.CONNECTED
        locked.connected_at = timezone.now()
        locked.ac_identity = check.activecampaign.identity[:255]
        locked.dynamics_identity = check.dynamics.identity[:255]
        locked.save()
        if moved:
            audit_record(
                integration=locked,
                actor=actor,
                action="integration.endpoint_change",
                summary=f"Changed {_labels(moved)}",
                changes={f: changes[f] for f in moved if f in changes},
            )
        audit_record(
            integration=locked,
            actor=actor,
            action="integration.connect",
            summary="Connected ActiveCampaign and Dynamics 365",
            changes=changes,
        )
    return ConnectOutcome(check=check, saved=True)
