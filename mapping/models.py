"""The data configuration of an integration (S-3): what syncs, which way, and how fields pair."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.models import Integration

from .core.directions import Direction
from .core.standard import ENTITIES, SYNCED_ENTITIES

# Choices come from the pure definitions, so there is one list of entities and directions.
ENTITY_CHOICES = [(key, _(ENTITIES[key].label)) for key in SYNCED_ENTITIES]
DIRECTION_CHOICES = [(direction.value, _(direction.label)) for direction in Direction]


class EntitySync(models.Model):
    """One of Leads, Contacts, Accounts for one integration (S-3.1 to S-3.4)."""

    class Selection(models.TextChoices):
        ALL = "all", _("All created or updated records")
        CRITERIA = "criteria", _("Records matching criteria")

    class ConflictRule(models.TextChoices):
        """Which side wins a field changed on both sides since the last sync (S-5.4)."""

        NEWEST = "newest", _("Most recent change wins")
        DYNAMICS = "dynamics", _("Dynamics 365 wins")
        ACTIVECAMPAIGN = "activecampaign", _("ActiveCampaign wins")

    class DeletionPolicy(models.TextChoices):
        """What the sync does in ActiveCampaign when a synced Dynamics 365 record is deleted."""

        NOTHING = "nothing", _("Do nothing")
        TAG = "tag", _("Tag the ActiveCampaign contact")
        DELETE = "delete", _("Delete in ActiveCampaign")

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="entity_syncs"
    )
    entity = models.CharField(max_length=20, choices=ENTITY_CHOICES)
    # On unless switched off: a newly syncable entity starts syncing at once (S-4.4).
    enabled = models.BooleanField(default=True)
    direction = models.CharField(
        max_length=20, choices=DIRECTION_CHOICES, default=Direction.BIDIRECTIONAL.value
    )
    selection = models.CharField(max_length=20, choices=Selection.choices, default=Selection.ALL)
    conflict_rule = models.CharField(
        max_length=20, choices=ConflictRule.choices, default=ConflictRule.NEWEST
    )
    # Never a silent divergence: by default the contact is tagged, not deleted, not left alone.
    deletion_policy = models.CharField(
        max_length=20, choices=DeletionPolicy.choices, default=DeletionPolicy.TAG
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "entity"], name="one_entity_sync_per_entity"
            )
        ]
        ordering = ["integration", "entity"]

    def __str__(self) -> str:
        return f"{self.integration}: {self.get_entity_display()}"


class SelectionCriterion(models.Model):
    """field + operator + value on a Dynamics 365 field; the rows are ANDed (S-3.4)."""

    entity_sync = models.ForeignKey(EntitySync, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    field_key = models.CharField(max_length=100)
    operator = models.CharField(max_length=30)
    # The canonical value as JSON: a string, number, ISO date, or a list for "is one of".
    value = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["entity_sync", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.field_key} {self.operator} {self.value!r}"


class FieldMapping(models.Model):
    """One ActiveCampaign field paired with one Dynamics 365 field (S-3.5, S-3.6).

    A standard mapping has `standard` set to its name and may be switched off (except the
    locked Email and Account); a custom mapping has `standard` empty.
    """

    entity_sync = models.ForeignKey(
        EntitySync, on_delete=models.CASCADE, related_name="field_mappings"
    )
    position = models.PositiveSmallIntegerField(default=0)
    standard = models.CharField(max_length=50, blank=True)
    ac_key = models.CharField(max_length=100)
    dynamics_key = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    # Empty = follows the entity; PUSH/PULL narrows one field of a bidirectional entity (S-3.3).
    direction = models.CharField(max_length=20, choices=DIRECTION_CHOICES, blank=True)
    # Choice pairs: {source option value: target option value}, per direction.
    value_map = models.JSONField(default=dict, blank=True)
    # A blank never overwrites a value on the other side unless the mapping says so.
    clear_when_blank = models.BooleanField(default=False)

    class Meta:
        ordering = ["entity_sync", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.ac_key} ↔ {self.dynamics_key}"


class OpportunitySync(models.Model):
    """Opportunities: one way, Dynamics 365 → an ActiveCampaign custom object (S-3.7 to S-3.11)."""

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="opportunity_sync"
    )
    enabled = models.BooleanField(default=False)
    # Permanent once saved on (S-3.8): the service refuses to turn it off.
    custom_fields_enabled = models.BooleanField(default=False)
    # The ActiveCampaign custom object schema, once created.
    schema_id = models.CharField(max_length=64, blank=True)
    schema_slug = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.integration}: opportunities"


class OpportunityField(models.Model):
    """A Dynamics 365 opportunity field mirrored into the custom object schema (S-3.9, S-3.10)."""

    opportunity_sync = models.ForeignKey(
        OpportunitySync, on_delete=models.CASCADE, related_name="fields"
    )
    position = models.PositiveSmallIntegerField(default=0)
    dynamics_key = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    ac_type = models.CharField(max_length=30)
    required = models.BooleanField(default=False)
    # Once in the schema a field cannot be removed, only switched off (it stays, unsynced).
    enabled = models.BooleanField(default=True)
    ac_field_id = models.CharField(max_length=100)
    in_schema = models.BooleanField(default=False)

    class Meta:
        ordering = ["opportunity_sync", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity_sync", "dynamics_key"], name="one_field_per_dynamics_column"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dynamics_key} → {self.ac_field_id}"


class MetadataSnapshot(models.Model):
    """The fields one side offers for one entity, read from the vendor and cached here so that
    pages render without API calls; refreshed on demand."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="metadata_snapshots"
    )
    vendor = models.CharField(max_length=20)
    entity = models.CharField(max_length=20)
    fields = models.JSONField(default=list)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "vendor", "entity"], name="one_snapshot_per_side_and_entity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration}: {self.vendor} {self.entity} ({len(self.fields)} fields)"
