"""Reads for the webhook page and the history: the endpoint, its deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.models import Integration

from ..models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_current(*, integration: Integration) -> WebhookEndpoint | None:
    return (
        WebhookEndpoint.objects.filter(integration=integration).select_related("created_by").first()
    )


def webhook_deliveries(*, integration: Integration) -> QuerySet[WebhookDelivery]:
    """Newest first, with the run that synced each."""
    return WebhookDelivery.objects.filter(integration=integration).select_related("run")


def webhook_deliveries_failed(*, integration: Integration) -> int:
    return WebhookDelivery.objects.filter(
        integration=integration, status=WebhookDelivery.Status.FAILED
    ).count()
