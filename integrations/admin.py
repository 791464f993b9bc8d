from __future__ import annotations

from django.contrib import admin

from .models import CONNECTION_FIELDS, SECRET_FIELDS, AuditEntry, Integration


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "connected_at")
    # The connection is edited on the Settings page only, where Connect checks it and a
    # changed endpoint needs its secret typed again: here it would send the stored secret to
    # whatever host was typed. Secrets are never shown.
    exclude = tuple(sorted(SECRET_FIELDS))
    readonly_fields = (
        *(f for f in CONNECTION_FIELDS if f not in SECRET_FIELDS),
        "status",
        "connected_at",
        "ac_identity",
        "dynamics_identity",
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "integration", "action", "summary")
    list_filter = ("action", "integration")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
