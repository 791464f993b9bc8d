"""The Celery app: configuration comes from Django settings (CELERY_*), tasks from the apps."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import (
    beat_init,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_ready,
    worker_shutdown,
)

from .heartbeat import on_worker_ready, on_worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncadmin.settings.local")

app = Celery("syncadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's heartbeat (syncadmin.heartbeat); beat's comes from its scheduler (syncadmin.beat).
worker_ready.connect(on_worker_ready, weak=False)
worker_shutdown.connect(on_worker_shutdown, weak=False)


# Logs: Celery keeps the project's LOGGING (observability/logs.py) instead of replacing the root
# logger's handler with its own format; lines name the process and the task they come from.
@setup_logging.connect(weak=False)
def _logging_from_settings(**kwargs) -> None:
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_init.connect(weak=False)
def _name_worker(**kwargs) -> None:
    from observability.logs import set_service

    set_service("worker")


@beat_init.connect(weak=False)
def _name_beat(**kwargs) -> None:
    from observability.logs import set_service

    set_service("beat")


_task_log_tokens: dict[str, object] = {}


@task_prerun.connect(weak=False)
def _task_log_context(task_id=None, task=None, **kwargs) -> None:
    from observability.logs import bind

    _task_log_tokens[task_id] = bind(task=getattr(task, "name", None), task_id=task_id)


@task_postrun.connect(weak=False)
def _task_done(task_id=None, **kwargs) -> None:
    from observability.logs import unbind

    from .metrics import flush_api_calls

    token = _task_log_tokens.pop(task_id, None)
    if token is not None:
        unbind(token)
    # The API calls the task made are counted for /metrics now, not only a few seconds later.
    flush_api_calls()
