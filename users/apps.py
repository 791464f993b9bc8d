from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from . import signals  # noqa: F401
