"""The fields both services offer, read from the vendors and cached (MetadataSnapshot)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connectors.activecampaign.client import ActiveCampaignClient
from connectors.dynamics.client import DynamicsClient
from connectors.errors import ConnectorError, user_message
from connectors.types import FieldInfo, Vendor, field_info_to_dict
from integrations.models import Integration

from ..core.standard import SYNCED_ENTITIES
from ..models import MetadataSnapshot
from ..selectors import Metadata, metadata_cached

Fetched = dict[tuple[str, str], list[FieldInfo]]  # (vendor, entity) -> fields


def metadata_fetch(*, integration: Integration) -> Fetched:
    """Read both sides' fields from the vendors; no database access, so no lock is held."""
    ac = ActiveCampaignClient(integration.activecampaign_config())
    dv = DynamicsClient(integration.dynamics_config())
    fetched: Fetched = {
        (Vendor.ACTIVECAMPAIGN.value, "contact"): ac.fields("contact"),
        (Vendor.ACTIVECAMPAIGN.value, "account"): ac.fields("account"),
    }
    for table in (*SYNCED_ENTITIES, "opportunity"):
        fetched[(Vendor.DYNAMICS.value, table)] = dv.fields(table)
    return fetched


def metadata_of(fetched: Fetched) -> Metadata:
    """The fetched fields as the selectors' Metadata, without caching them."""
    sides: dict[str, dict[str, dict[str, FieldInfo]]] = {v.value: {} for v in Vendor}
    for (vendor, entity), fields in fetched.items():
        sides[vendor][entity] = {f.key: f for f in fields}
    return Metadata(
        activecampaign=sides[Vendor.ACTIVECAMPAIGN.value],
        dynamics=sides[Vendor.DYNAMICS.value],
        fetched_at={},
    )


def metadata_store(*, integration: Integration, fetched: Fetched) -> Metadata:
    """Cache what `metadata_fetch` read (one short transaction) and return it as cached."""
    now = timezone.now()
    with transaction.atomic():
        for (vendor, entity), fields in fetched.items():
            MetadataSnapshot.objects.update_or_create(
                integration=integration,
                vendor=vendor,
                entity=entity,
                defaults={"fields": [field_info_to_dict(f) for f in fields], "fetched_at": now},
            )
    return metadata_cached(integration=integration)


def metadata_refresh(*, integration: Integration) -> Metadata:
    """Read both sides' fields from the vendors and cache them (the page's Refresh button)."""
    return metadata_store(integration=integration, fetched=metadata_fetch(integration=integration))


def metadata_ensure(*, integration: Integration) -> tuple[Metadata, str | None]:
    """Cached metadata, fetched once if nothing is cached yet; (metadata, problem in words)."""
    metadata = metadata_cached(integration=integration)
    if metadata.complete or not integration.is_connected:
        return metadata, None
    try:
        return metadata_refresh(integration=integration), None
    except ConnectorError as error:
        return metadata, user_message(error)
