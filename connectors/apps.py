from __future__ import annotations

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from .i18n import translator_set

        # Messages for people in the language of the request (connectors/i18n.py).
        translator_set(gettext)
