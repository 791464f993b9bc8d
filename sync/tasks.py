"""Celery tasks of the sync: thin (ids in, a service call), retried only when retryable."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="sync.run_advance", acks_late=True, ignore_result=True)
def run_advance_task(run_id: int) -> str:
    """Drive a run to its next waiting point (its units are queued from there)."""
    outcome = services.run_advance(run_id=run_id)
    if outcome == "retry":
        run_advance_task.apply_async((run_id,), countdown=10)
    return outcome


@shared_task(name="sync.unit_run", acks_late=True, ignore_result=True)
def unit_run_task(unit_id: int) -> str:
    """Do one work unit of a run (any worker may take any unit)."""
    outcome = services.unit_run(unit_id=unit_id)
    if outcome == "retry":
        unit_run_task.apply_async((unit_id,), countdown=10)
    return outcome


@shared_task(name="sync.scheduled_run", ignore_result=True)
def scheduled_run_task(integration_id: int) -> None:
    """The integration's beat entry: a scheduled run, or nothing when one is going."""
    services.scheduled_run_start(integration_id=integration_id)


@shared_task(name="sync.resume", ignore_result=True)
def runs_resume_task() -> dict:
    """Every minute: stalled runs and units (dead worker, lost queue) go on."""
    return services.runs_resume()


@shared_task(name="sync.webhook_process", acks_late=True, ignore_result=True)
def webhook_process_task(delivery_id: int) -> str:
    """Process one stored ActiveCampaign webhook delivery (a duplicate message does nothing)."""
    from .webhooks.services import webhook_delivery_process

    outcome = webhook_delivery_process(delivery_id=delivery_id)
    if outcome == "retry":
        webhook_process_task.apply_async((delivery_id,), countdown=5)
    return outcome
