"""The Celery app: configuration comes from Django settings (CELERY_*), tasks from the apps."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncadmin.settings.local")

app = Celery("syncadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
