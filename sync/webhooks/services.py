"""Webhook URL secrets, deliveries received, processed and retried.

Who calls what:
- the endpoint (views.receive): `webhook_receive`;
- the administrators' page: `webhook_secret_rotate`, `webhook_entity_save`,
  `webhook_delivery_retry`;
- Celery (sync.tasks, thin): `webhook_delivery_process`; beat's `runs_resume`:
  `webhook_deliveries_resume`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from connectors.errors import ConnectorError, user_message
from connectors.ratelimit import Rate, default_store
from integrations.models import Integration
from observability.logs import bind, log_context

from ..engine import PEOPLE
from ..models import RecordLink, RunRecord, SyncRun, WebhookDelivery, WebhookEndpoint
from .payload import PayloadError, parse

logger = logging.getLogger(__name__)

SECRET_BYTES = 32  # 43 URL-safe characters

# Why a delivery did not sync, as the webhook page shows it (docs/troubleshooting.md).
DELIVERY_TEXT = {
    "initial": gettext_lazy("The initial sync has not finished yet; retry when it has."),
    "no_contact": gettext_lazy("No ActiveCampaign contact has this e-mail address."),
    "not_synced": gettext_lazy(
        "The data configuration syncs this contact to no Dynamics 365 record (leads and "
        "contacts sync only from Dynamics 365, or the selection criteria leave it out)."
    ),
    "unexpected": gettext_lazy("Unexpected error (%(kind)s)."),
}


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def rate_per_minute() -> int:
    return int(getattr(settings, "SYNC_WEBHOOK_RATE_PER_MINUTE", 60))


def lease_seconds() -> float:
    """How long a worker holds a delivery (and its contact) before another may take it.

    Longer than a run's lease: one record's sync waits for the vendors' shared rate limit,
    which a big run beside it may fill for minutes (connectors.ratelimit, up to 10 minutes).
    A delivery whose worker died waits this long, then `runs_resume` queues it again.
    """
    return max(float(getattr(settings, "SYNC_LEASE_SECONDS", 120)), 15 * 60.0)


# -- the secret -----------------------------------------------------------------------------------


def webhook_secret_rotate(*, integration: Integration, actor=None) -> str:
    """A new secret for the integration's webhook URL (the old URL stops working at once);
    returns it, to be shown once: only its hash is kept."""
    from integrations.services import audit_record

    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().filter(integration=integration).first()
        )
        created = endpoint is None
        endpoint = endpoint or WebhookEndpoint(integration=integration)
        endpoint.secret_hash = secret_hash(secret)
        endpoint.created_at = timezone.now()
        endpoint.created_by = actor if getattr(actor, "pk", None) else None
        endpoint.save()
        audit_record(
            integration=integration,
            actor=actor,
            action="sync.webhook_secret",
            summary=(
                "Created the ActiveCampaign webhook URL"
                if created
                else "Rotated the ActiveCampaign webhook URL (the old one stopped working)"
            ),
            changes={"secret": "(set)" if created else "(changed)"},
        )
    return secret


def webhook_entity_save(*, integration: Integration, entity: str, actor=None) -> WebhookEndpoint:
    """What a new ActiveCampaign contact becomes in Dynamics 365 when the URL does not say."""
    from integrations.services import audit_record

    if entity not in WebhookEndpoint.Entity.values:
        raise ValueError(entity)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(integration=integration)
        if endpoint.entity != entity:
            audit_record(
                integration=integration,
                actor=actor,
                action="sync.webhook_entity",
                summary="Changed what ActiveCampaign webhooks create in Dynamics 365",
                changes={"entity": {"old": endpoint.entity, "new": entity}},
            )
            endpoint.entity = entity
            endpoint.save(update_fields=["entity"])
    return endpoint


def webhook_endpoint_for(secret: str) -> WebhookEndpoint | None:
    """The endpoint whose secret this is, or None."""
    if not secret or len(secret) > 200:
        return None
    digest = secret_hash(secret)
    # The lookup compares digests, not secrets: how long it takes says nothing about the
    # secret. The final comparison is constant-time all the same.
    endpoint = (
        WebhookEndpoint.objects.select_related("integration").filter(secret_hash=digest).first()
    )
    if endpoint is None or not hmac.compare_digest(endpoint.secret_hash, digest):
        return None
    return endpoint


# -- receiving ------------------------------------------------------------------------------------


class WebhookNotFound(Exception):
    """No endpoint has this secret (answered 404, nothing stored)."""


class WebhookRateLimited(Exception):
    """The integration's deliveries are over their rate (answered 429, nothing stored)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Receipt:
    delivery: WebhookDelivery
    duplicate: bool  # the same delivery was received before: nothing new was stored


def webhook_receive(*, secret: str, body: bytes, content_type: str, entity: str | None) -> Receipt:
    """Check, store and queue one delivery.

    Raises WebhookNotFound (wrong secret), PayloadError (malformed body or `entity`),
    WebhookRateLimited; in each case nothing is stored.
    """
    endpoint = webhook_endpoint_for(secret)
    if endpoint is None:
        raise WebhookNotFound
    integration = endpoint.integration
    bind(integration=integration.pk)
    if entity is None or entity == "":
        entity = endpoint.entity
    if entity not in PEOPLE:
        raise PayloadError("entity must be lead or contact")
    parsed = parse(body, content_type, entity=entity)
    existing = WebhookDelivery.objects.filter(
        integration=integration, dedupe_key=parsed.dedupe_key
    ).first()
    if existing is not None:
        return Receipt(existing, duplicate=True)
    # A flood must not exhaust the Dataverse budget: refused here, before anything is kept
    # (an accepted delivery is always processed, however long the queue).
    wait = default_store().try_acquire(
        f"webhook:{integration.pk}", [Rate(limit=rate_per_minute(), window=60.0)]
    )
    if wait > 0:
        raise WebhookRateLimited(max(1, math.ceil(wait)))
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                integration=integration,
                event=parsed.event,
                contact_id=parsed.contact_id,
                email=parsed.email,
                entity=entity,
                payload=parsed.form,
                dedupe_key=parsed.dedupe_key,
            )
            transaction.on_commit(lambda: _enqueue(delivery.pk))
    except IntegrityError:
        # The same delivery, received twice at once: the other request stored it.
        existing = WebhookDelivery.objects.get(
            integration=integration, dedupe_key=parsed.dedupe_key
        )
        return Receipt(existing, duplicate=True)
    logger.info("webhook %s received: %s %s", delivery.pk, parsed.event, entity)
    return Receipt(delivery, duplicate=False)


def _enqueue(delivery_id: int, countdown: float = 0) -> None:
    from ..tasks import webhook_process_task

    webhook_process_task.apply_async((delivery_id,), countdown=countdown)


# -- processing -----------------------------------------------------------------------------------


@log_context()  # the ids it binds for the log end when it returns
def webhook_delivery_process(*, delivery_id: int) -> str:
    """Process one delivery: "done", "busy" (someone has it, or it is finished), "retry".

    The ActiveCampaign contact is read again by its id (the body is not signed, so its values
    are not trusted) and synced through the engine's single-record sync: the mapping decides
    what is written, the link makes the next scheduled run neither echo nor duplicate it.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.QUEUED)
        | Q(status=WebhookDelivery.Status.PROCESSING, lease_until__lt=now),
        pk=delivery_id,
    ).update(
        status=WebhookDelivery.Status.PROCESSING,
        lease_until=now + dt.timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return "busy"
    delivery = WebhookDelivery.objects.select_related("integration").get(pk=delivery_id)
    bind(integration=delivery.integration_id, record=delivery.contact_id or None)
    # Two deliveries about one contact (an automation step and an `update`) take turns:
    # both would otherwise create its Dynamics record.
    store = default_store()
    lock = f"webhook:{delivery.integration_id}:contact:{delivery.email or delivery.contact_id}"
    token = store.lease(lock, 1, lease_seconds())
    if token is None:  # not an attempt: its turn has not come
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.QUEUED, lease_until=None, attempts=F("attempts") - 1
        )
        return "retry"
    try:
        status, error, run = _process(delivery)
    except Exception as exc:
        logger.exception("webhook %s: processing failed", delivery.pk)
        # The exception's type only: its text may quote what it was handling.
        error = str(DELIVERY_TEXT["unexpected"]) % {"kind": type(exc).__name__}
        status, run = WebhookDelivery.Status.FAILED, None
    finally:
        store.release(lock, token)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        error=error[:2000],
        run=run,
        lease_until=None,
        processed_at=timezone.now(),
    )
    logger.info("webhook %s %s%s", delivery.pk, status, f": {error}" if error else "")
    return "done"


def _process(delivery: WebhookDelivery) -> tuple[str, str, SyncRun | None]:
    from ..services import RunRefused, record_sync

    integration = delivery.integration
    failed = WebhookDelivery.Status.FAILED
    if not SyncRun.objects.filter(
        integration=integration,
        trigger=SyncRun.Trigger.INITIAL,
        status=SyncRun.Status.SUCCEEDED,
    ).exists():
        # Until then the engine has not seen Dynamics' records: it could not tell that one
        # with this e-mail exists, and would create a second.
        return failed, str(DELIVERY_TEXT["initial"]), None
    ac_id = delivery.contact_id
    if not ac_id:
        from ..clients import Clients

        try:
            contact = Clients(integration).ac.contacts.find_by_email(delivery.email)
        except ConnectorError as error:
            return failed, user_message(error), None
        if contact is None:
            return failed, str(DELIVERY_TEXT["no_contact"]), None
        ac_id = contact.id
    try:
        run = record_sync(
            integration=integration,
            entity=delivery.entity,
            ac_id=ac_id,
            trigger=SyncRun.Trigger.WEBHOOK,
        )
    except RunRefused as refused:
        return failed, refused.message, None
    if run.status == SyncRun.Status.FAILED:
        return failed, run.message, run
    problems = list(
        run.records.filter(outcome=RunRecord.Outcome.FAILED).values_list("reason", flat=True)
    )
    if problems:
        return failed, "; ".join(problems), run
    if RecordLink.objects.filter(
        integration=integration,
        ac_object="contact",
        ac_id=ac_id,
        state=RecordLink.State.LINKED,
    ).exists():
        return WebhookDelivery.Status.DONE, "", run
    skipped = list(run.records.values_list("reason", flat=True))
    return (
        WebhookDelivery.Status.SKIPPED,
        "; ".join(skipped) or str(DELIVERY_TEXT["not_synced"]),
        run,
    )


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """Process a failed (or not synced) delivery again; False when it is not one."""
    queued = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=WebhookDelivery.RETRYABLE
    ).update(status=WebhookDelivery.Status.QUEUED, error="", lease_until=None)
    if queued:
        transaction.on_commit(lambda: _enqueue(delivery.pk))
    return bool(queued)


def webhook_deliveries_resume() -> int:
    """Deliveries whose message was lost (or whose worker died) are queued again."""
    now = timezone.now()
    stale = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.QUEUED, received_at__lt=now - dt.timedelta(minutes=1))
        | Q(status=WebhookDelivery.Status.PROCESSING, lease_until__lt=now)
    ).values_list("pk", flat=True)[:1000]
    ids = list(stale)
    for delivery_id in ids:
        _enqueue(delivery_id)
    return len(ids)


def webhook_deliveries_prune() -> int:
    """Processed deliveries are kept `SYNC_WEBHOOK_KEEP_DAYS` (their runs stay in the
    history); failed ones stay until retried."""
    days = int(getattr(settings, "SYNC_WEBHOOK_KEEP_DAYS", 30))
    deleted, _ = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.DONE, WebhookDelivery.Status.SKIPPED],
        received_at__lt=timezone.now() - dt.timedelta(days=days),
    ).delete()
    return deleted
