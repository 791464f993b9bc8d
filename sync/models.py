from __future__ import annotations

from django.db import models

from integrations.models import Integration


class SyncSettings(models.Model):
    """Sync settings of an integration (S-4): the global switch and the job schedule."""

    class Schedule(models.IntegerChoices):
        EVERY_HOUR = 1, "Every hour"
        EVERY_2_HOURS = 2, "Every 2 hours"
        EVERY_4_HOURS = 4, "Every 4 hours"
        EVERY_6_HOURS = 6, "Every 6 hours"
        EVERY_8_HOURS = 8, "Every 8 hours"
        EVERY_12_HOURS = 12, "Every 12 hours"
        DAILY = 24, "Once a day"

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="sync_settings"
    )
    # On by default (S-4.1); off pauses all syncing in both directions.
    enabled = models.BooleanField(default=True)
    schedule_hours = models.PositiveSmallIntegerField(
        choices=Schedule.choices, default=Schedule.EVERY_HOUR
    )

    def __str__(self) -> str:
        return f"{self.integration}: sync {'on' if self.enabled else 'off'}"
