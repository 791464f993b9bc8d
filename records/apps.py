from __future__ import annotations

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Record views and sales actions (S-6): synced leads and contacts for sales users."""

    name = "records"
