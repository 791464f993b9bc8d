from __future__ import annotations

from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("", views.manage, name="manage"),
    path("search/", views.search, name="search"),
    path("add/", views.add, name="add"),
    path("<int:pk>/role/", views.change_role, name="change_role"),
    path("<int:pk>/remove/", views.remove, name="remove"),
]
