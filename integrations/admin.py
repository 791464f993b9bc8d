from __future__ import annotations

from django.contrib import admin

from .models import AuditEntry, Integration


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "connected_at")
    # Secrets are edited on the Settings page only, never shown here.
    exclude = ("ac_api_key", "dynamics_client_secret")
    readonly_fields = ("status", "connected_at", "ac_identity", "dynamics_identity")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "integration", "action", "summary")
    list_filter = ("action", "integration")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
