from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sync.webhooks import views as webhook_views
from users import views as user_views

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("password/change/", user_views.PasswordChangeView.as_view(), name="password_change"),
    path("", include("integrations.urls")),
    path("users/", include("users.urls")),
    path("data/", include("mapping.urls")),
    path("sync/", include("sync.urls")),
    path("records/", include("records.urls")),
    # ActiveCampaign webhooks and automation webhook steps (S-6.4); the secret authenticates.
    path(
        "hooks/activecampaign/<str:secret>/",
        webhook_views.receive,
        name="hook_activecampaign",
    ),
    path("django-admin/", admin.site.urls),
]
