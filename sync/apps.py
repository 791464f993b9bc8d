from __future__ import annotations

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from .models import SyncSettings

        # The beat entry follows the settings whoever saves them (the page, or a configuration
        # file imported by `syncconfig import`).
        post_save.connect(_schedule_follows, sender=SyncSettings, dispatch_uid="sync-schedule")


def _schedule_follows(sender, instance, **kwargs) -> None:
    from .services import schedule_sync

    if kwargs.get("raw"):
        return
    schedule_sync(settings=instance)
