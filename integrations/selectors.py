from __future__ import annotations

from .access import SESSION_KEY, integration_current  # noqa: F401 (their home is access)
from .models import AuditEntry, Integration


def integrations_list() -> list[Integration]:
    return list(Integration.objects.order_by("name"))


def audit_entries(*, integration: Integration | None = None, limit: int = 200) -> list[AuditEntry]:
    entries = AuditEntry.objects.select_related("integration")
    if integration is not None:
        entries = entries.filter(integration=integration)
    return list(entries[:limit])
