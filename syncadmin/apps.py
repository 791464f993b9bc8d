from __future__ import annotations

from django.apps import AppConfig


class SyncadminConfig(AppConfig):
    name = "syncadmin"
    verbose_name = "syncadmin"
