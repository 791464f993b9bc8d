from __future__ import annotations

from django.urls import path

from . import views
from .webhooks import views as webhook_views

app_name = "sync"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("progress/", views.progress, name="progress"),
    path("now/", views.sync_now, name="now"),
    path("history/", views.history, name="history"),
    path("runs/<int:run_pk>/", views.run_detail, name="run"),
    path("runs/<int:run_pk>/retry/", views.retry, name="retry"),
    path("webhook/", webhook_views.page, name="webhook"),
    path("webhook/rotate/", webhook_views.rotate, name="webhook_rotate"),
    path(
        "webhook/deliveries/<int:delivery_pk>/retry/",
        webhook_views.retry,
        name="webhook_retry",
    ),
]
