"""The Celery app: configuration comes from Django settings (CELERY_*), tasks from the apps."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from .heartbeat import on_worker_ready, on_worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncadmin.settings.local")

app = Celery("syncadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's heartbeat (syncadmin.heartbeat); beat's comes from its scheduler (syncadmin.beat).
worker_ready.connect(on_worker_ready, weak=False)
worker_shutdown.connect(on_worker_shutdown, weak=False)
