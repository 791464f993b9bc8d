from __future__ import annotations

from django.http import HttpRequest

from .models import AuditEntry, Integration

SESSION_KEY = "integration_id"


def integration_current(request: HttpRequest) -> Integration | None:
    """The integration this session works on: the one picked, else the first.

    Remembered on the request, so the view and the navigation share one query.
    """
    if hasattr(request, "_integration_current"):
        return request._integration_current
    integration = None
    picked = request.session.get(SESSION_KEY)
    if picked is not None:
        integration = Integration.objects.filter(pk=picked).first()
    if integration is None:
        integration = Integration.objects.order_by("pk").first()
    request._integration_current = integration
    return integration


def integrations_list() -> list[Integration]:
    return list(Integration.objects.order_by("name"))


def audit_entries(*, integration: Integration | None = None, limit: int = 200) -> list[AuditEntry]:
    entries = AuditEntry.objects.select_related("integration")
    if integration is not None:
        entries = entries.filter(integration=integration)
    return list(entries[:limit])
