"""Reads of the data configuration and of the cached field metadata (no API calls here)."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.types import FieldInfo, Vendor, field_info_from_dict
from integrations.models import Integration

from .core.standard import ENTITIES
from .models import EntitySync, MetadataSnapshot, OpportunitySync

# Which ActiveCampaign object each Dynamics entity syncs with.
AC_ENTITY = {"lead": "contact", "contact": "contact", "account": "account"}


@dataclass(frozen=True)
class Metadata:
    """Both sides' fields for one integration, keyed by field key, per entity."""

    activecampaign: dict[str, dict[str, FieldInfo]]  # "contact"/"account" -> key -> field
    dynamics: dict[str, dict[str, FieldInfo]]  # "lead"/"contact"/"account"/"opportunity"
    fetched_at: dict[tuple[str, str], object]

    def ac_fields_for(self, entity: str) -> dict[str, FieldInfo]:
        return self.activecampaign.get(AC_ENTITY[entity], {})

    def dynamics_fields_for(self, entity: str) -> dict[str, FieldInfo]:
        return self.dynamics.get(entity, {})

    @property
    def complete(self) -> bool:
        return bool(self.activecampaign) and bool(self.dynamics)


def metadata_cached(*, integration: Integration) -> Metadata:
    """The cached metadata of both sides (one query)."""
    sides: dict[str, dict[str, dict[str, FieldInfo]]] = {
        Vendor.ACTIVECAMPAIGN.value: {},
        Vendor.DYNAMICS.value: {},
    }
    fetched = {}
    for snapshot in MetadataSnapshot.objects.filter(integration=integration):
        fields = [field_info_from_dict(item) for item in snapshot.fields]
        sides.setdefault(snapshot.vendor, {})[snapshot.entity] = {f.key: f for f in fields}
        fetched[(snapshot.vendor, snapshot.entity)] = snapshot.fetched_at
    return Metadata(
        activecampaign=sides[Vendor.ACTIVECAMPAIGN.value],
        dynamics=sides[Vendor.DYNAMICS.value],
        fetched_at=fetched,
    )


def entity_syncs(*, integration: Integration) -> dict[str, EntitySync]:
    """Leads, Contacts, Accounts with their criteria and mappings prefetched (three queries)."""
    rows = EntitySync.objects.filter(integration=integration).prefetch_related(
        "criteria", "field_mappings"
    )
    by_entity = {row.entity: row for row in rows}
    return {key: by_entity[key] for key in ENTITIES if key in by_entity}


def opportunity_sync(*, integration: Integration) -> OpportunitySync | None:
    return (
        OpportunitySync.objects.filter(integration=integration).prefetch_related("fields").first()
    )
