from __future__ import annotations

from django.urls import path, register_converter

from . import views
from .converters import PeopleConverter

app_name = "records"
register_converter(PeopleConverter, "people")

urlpatterns = [
    path("", views.index, name="list"),
    path("<people:entity>/", views.record_list, name="entity"),
    path("<people:entity>/<uuid:record_id>/", views.record_detail, name="record"),
    path("<people:entity>/<uuid:record_id>/sync/", views.record_sync, name="sync"),
    path("<people:entity>/<uuid:record_id>/automation/", views.automation, name="automation"),
    path("<people:entity>/<uuid:record_id>/campaign/", views.campaign, name="campaign"),
]
