from __future__ import annotations

from django.urls import path

from . import views

app_name = "mapping"

urlpatterns = [
    path("", views.configuration, name="configuration"),
    path("opportunity/", views.opportunity, name="opportunity"),
    path("opportunity/rows/", views.opportunity_rows, name="opportunity_rows"),
    path("refresh/", views.refresh, name="refresh"),
    path("compatibility/", views.compatibility, name="compatibility"),
    path("<slug:entity>/", views.entity, name="entity"),
    path("<slug:entity>/criterion-row/", views.criterion_row, name="criterion_row"),
    path("<slug:entity>/mapping-rows/", views.mapping_rows, name="mapping_rows"),
]
