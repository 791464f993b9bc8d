from __future__ import annotations

from collections.abc import Mapping

from .access import SESSION_KEY, integration_current  # noqa: F401 (their home is access)
from .models import SECRET_ENDPOINTS, AuditEntry, Integration


def integrations_list() -> list[Integration]:
    return list(Integration.objects.order_by("name"))


def audit_entries(*, integration: Integration | None = None, limit: int = 200) -> list[AuditEntry]:
    entries = AuditEntry.objects.select_related("integration")
    if integration is not None:
        entries = entries.filter(integration=integration)
    return list(entries[:limit])


def _endpoint_text(value: object) -> str:
    # URLs, GUIDs and host names compare without case, surrounding blanks or a final slash.
    return str(value or "").strip().rstrip("/").lower()


def endpoint_changes(*, integration: Integration, values: Mapping[str, object]) -> list[str]:
    """The endpoint and identity fields in `values` that differ from the saved ones."""
    return [
        field
        for fields in SECRET_ENDPOINTS.values()
        for field in fields
        if field in values
        and _endpoint_text(values[field]) != _endpoint_text(getattr(integration, field))
    ]


def secrets_to_retype(
    *, integration: Integration, values: Mapping[str, object]
) -> dict[str, tuple[str, ...]]:
    """{secret field: the changed fields that need it typed again} for each secret left blank
    ("keep the stored one") on a side whose endpoint or identity changed. Decrypts nothing."""
    changed = set(endpoint_changes(integration=integration, values=values))
    retype = {}
    for secret, fields in SECRET_ENDPOINTS.items():
        moved = tuple(f for f in fields if f in changed)
        if moved and not values.get(secret) and integration.has_secret(secret):
            retype[secret] = moved
    return retype
