from __future__ import annotations

from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("integrations/add/", views.integration_add, name="add"),
    path("integrations/switch/", views.integration_switch, name="switch"),
    path("audit/", views.audit_log, name="audit"),
]
