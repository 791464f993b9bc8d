from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.access import is_administrator_anywhere
from integrations.selectors import integration_current
from sync.selectors import dashboard_sync

from . import health
from .heartbeat import process_states


def _may_see_health_details(request: HttpRequest) -> bool:
    """Hosts and ages are for administrators (of any integration) and superusers."""
    return is_administrator_anywhere(user=request.user)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health.health_report(detailed=_may_see_health_details(request))
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard.html",
        {
            "processes": process_states(),
            "sync": dashboard_sync(integration=integration_current(request)),
        },
    )
