"""The sync engine's state: settings, runs and their work, links between records, checkpoints.

The database is the record of work (nothing lives only in a Celery message): a run, its work
units and the records it staged are rows; a worker claims a unit with a conditional UPDATE, so
a duplicate delivery or a lost queue costs nothing but time, and any process may die at any
moment (see sync.engine).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.models import Integration
from mapping.core.standard import ENTITIES


class SyncSettings(models.Model):
    """Sync settings of an integration (S-4): the global switch and the job schedule."""

    class Schedule(models.IntegerChoices):
        EVERY_HOUR = 1, _("Every hour")
        EVERY_2_HOURS = 2, _("Every 2 hours")
        EVERY_4_HOURS = 4, _("Every 4 hours")
        EVERY_6_HOURS = 6, _("Every 6 hours")
        EVERY_8_HOURS = 8, _("Every 8 hours")
        EVERY_12_HOURS = 12, _("Every 12 hours")
        DAILY = 24, _("Once a day")

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="sync_settings"
    )
    # On by default (S-4.1); off pauses all syncing in both directions.
    enabled = models.BooleanField(default=True)
    schedule_hours = models.PositiveSmallIntegerField(
        choices=Schedule.choices, default=Schedule.EVERY_HOUR
    )
    # When the initial sync (S-4.2) was started; it runs once, the first time sync is on.
    initial_sync_at = models.DateTimeField(null=True, blank=True)
    # A configuration error (revoked key, missing field…) stops the schedule until fixed.
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.integration}: sync {'on' if self.enabled else 'off'}"


# An entity key of a run, a record or a count ("person": the ActiveCampaign side of leads and
# contacts) in words; translated when shown.
ENTITY_LABELS = {
    **{key: _(entity.label) for key, entity in ENTITIES.items()},
    "person": _("ActiveCampaign contacts"),
}


def entity_label(key: str) -> str:
    return str(ENTITY_LABELS.get(key, key))


class SyncRun(models.Model):
    """One execution of the sync for an integration (the whole of it, or one entity)."""

    class Trigger(models.TextChoices):
        INITIAL = "initial", _("Initial sync")
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Sync now")
        RETRY = "retry", _("Retry of failed records")
        RECORD = "record", _("One record")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Stopped by an error")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    # Runs of one record, driven inside their caller (a page, a webhook's task): they run
    # beside the integration's run and say nothing about the integration as a whole.
    INLINE = (Trigger.RECORD, Trigger.WEBHOOK)

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    entity = models.CharField(max_length=20, blank=True)  # "" = every enabled entity
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)  # a configuration error, in words
    # The plan: the steps of this run, in order, and how far the driver got.
    steps = models.JSONField(default=list)
    step_index = models.PositiveSmallIntegerField(default=0)
    # State the driver carries between steps: pending checkpoints, import batches…
    state = models.JSONField(default=dict)
    # Counts per entity and direction, summed from the units and the driver when finished.
    counts = models.JSONField(default=dict)
    # The driver's lease: another process takes over the run only after it has expired.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run at a time per integration (a beat tick during a run is a no-op).
            models.UniqueConstraint(
                fields=["integration"],
                condition=Q(status__in=["queued", "running"])
                & ~Q(trigger__in=["record", "webhook"]),
                name="one_active_run_per_integration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration} run {self.pk} ({self.trigger}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def entity_label(self) -> str:
        return entity_label(self.entity) if self.entity else ""

    @property
    def duration(self):
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class WorkUnit(models.Model):
    """A slice of a run's work (a page or batch of staged records) that any worker may take."""

    class Status(models.TextChoices):
        PENDING = "pending"
        CLAIMED = "claimed"
        DONE = "done"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="units")
    step = models.PositiveSmallIntegerField()  # index into run.steps
    seq = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    counts = models.JSONField(default=dict)  # {entity: {direction: {count: n}}}
    state = models.JSONField(default=dict)  # e.g. bulk import batch ids to confirm
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "step", "seq"]
        indexes = [models.Index(fields=["run", "step", "status"])]

    def __str__(self) -> str:
        return f"run {self.run_id} step {self.step} unit {self.seq} ({self.status})"


class StagedRecord(models.Model):
    """A record a run read from one side, kept until the run has handled it."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="staged")
    entity = models.CharField(max_length=20)
    side = models.CharField(max_length=20)  # "dynamics" or "activecampaign"
    record_id = models.CharField(max_length=64)
    email = models.CharField(max_length=254, blank=True)  # lower case
    payload = models.JSONField(default=dict)
    unit = models.ForeignKey(
        WorkUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    handled = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["run", "entity", "side", "record_id"]),
            models.Index(fields=["run", "side", "email"]),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.entity} {self.record_id}"


class RecordLink(models.Model):
    """A Dynamics record and its ActiveCampaign counterpart, and what both held last time.

    Every Dynamics person the engine has seen gets a row (linked or not), so that a contact
    coming from ActiveCampaign is matched by e-mail without asking Dynamics.
    """

    class State(models.TextChoices):
        LINKED = "linked", _("Linked")
        PENDING = "pending", _("Being created")  # the create was sent; the other id is not known
        UNLINKED = "unlinked", _("Not synced")  # seen, not synced (criteria, no e-mail, shared)
        DELETED = "deleted", _("Deleted")

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="record_links"
    )
    entity = models.CharField(max_length=20)  # lead, contact, account, opportunity
    ac_object = models.CharField(max_length=20)  # contact, account, opportunity
    dynamics_id = models.CharField(max_length=36)
    ac_id = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254, blank=True, db_index=True)  # lower case; account name
    state = models.CharField(max_length=10, choices=State.choices)
    note = models.CharField(max_length=255, blank=True)  # why unlinked or deleted
    # What each side held after the last sync, per field pair (canonical values as JSON).
    base_dynamics = models.JSONField(default=dict)
    base_ac = models.JSONField(default=dict)
    dynamics_fingerprint = models.CharField(max_length=40, blank=True)
    ac_fingerprint = models.CharField(max_length=40, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "entity", "dynamics_id"], name="one_link_per_record"
            ),
            models.UniqueConstraint(
                fields=["integration", "ac_object", "ac_id"],
                condition=Q(state__in=["linked", "pending"]) & ~Q(ac_id=""),
                name="one_link_per_ac_record",
            ),
        ]
        indexes = [models.Index(fields=["integration", "ac_object", "ac_id"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.dynamics_id} ↔ {self.ac_object} {self.ac_id or '?'}"


class Checkpoint(models.Model):
    """Where the next run reads from, per integration and source (moved after a commit)."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="sync_checkpoints"
    )
    # A Dynamics table ("lead", "contact"…) or an ActiveCampaign stream ("ac_contact").
    source = models.CharField(max_length=30)
    delta_link = models.TextField(blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    columns = models.TextField(blank=True)  # the $select the delta link was started with
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "source"], name="one_checkpoint")
        ]

    def __str__(self) -> str:
        return f"{self.integration}: {self.source}"


class RunRecord(models.Model):
    """A record a run could not sync as asked: failed, conflicting, or skipped with a reason."""

    class Outcome(models.TextChoices):
        FAILED = "failed", _("Failed")
        CONFLICT = "conflict", _("Conflict")
        SKIPPED = "skipped", _("Skipped")
        DELETED = "deleted", _("Deletion")

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="records")
    entity = models.CharField(max_length=20)
    direction = models.CharField(max_length=10)  # push / pull
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    dynamics_id = models.CharField(max_length=36, blank=True)
    ac_id = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254, blank=True)
    reason = models.TextField()
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    retried = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "outcome"])]

    def __str__(self) -> str:
        return f"{self.outcome} {self.entity} {self.dynamics_id or self.ac_id}"

    @property
    def entity_label(self) -> str:
        return entity_label(self.entity)


class WebhookEndpoint(models.Model):
    """An integration's inbound ActiveCampaign webhook URL (S-6.4).

    The URL carries a long random secret; only its SHA-256 digest is stored, so neither the
    database nor a backup gives the URL away. It is shown once, when created or rotated.
    """

    class Entity(models.TextChoices):
        CONTACT = "contact", _("Contact")
        LEAD = "lead", _("Lead")

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="webhook_endpoint"
    )
    secret_hash = models.CharField(max_length=64, unique=True)  # SHA-256, hex
    # What a new ActiveCampaign contact becomes in Dynamics 365 (`?entity=` may say otherwise).
    entity = models.CharField(max_length=20, choices=Entity.choices, default=Entity.CONTACT)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.integration}: webhook"


class WebhookDelivery(models.Model):
    """One webhook POST from ActiveCampaign, stored before it is processed.

    Processing claims the row with a conditional UPDATE (a duplicate task does nothing); a
    delivery that failed keeps its error and can be processed again (retry).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Processed")
        SKIPPED = "skipped", _("Not synced")
        FAILED = "failed", _("Failed")

    RETRYABLE = (Status.FAILED, Status.SKIPPED)

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=40)  # the payload's `type`: update, subscribe…
    contact_id = models.CharField(max_length=64, blank=True)  # contact[id]
    email = models.CharField(max_length=254, blank=True)  # contact[email], lower case
    entity = models.CharField(max_length=20)  # lead or contact: what a new contact becomes
    payload = models.JSONField(default=dict)  # the form, brackets unfolded
    # SHA-256 of the body's fields and the entity: ActiveCampaign delivers at least once, and
    # a repeated delivery is the same body (its `date_time` included).
    dedupe_key = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)  # while a worker processes it
    processed_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedupe_key"], name="one_delivery_per_payload"
            )
        ]
        indexes = [models.Index(fields=["integration", "status"])]

    def __str__(self) -> str:
        return f"{self.integration}: {self.event} {self.email or self.contact_id} ({self.status})"
