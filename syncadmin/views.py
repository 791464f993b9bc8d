from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.http import require_GET, require_POST, require_safe

from integrations.access import is_administrator_anywhere
from integrations.redirects import safe_next
from integrations.selectors import integration_current
from sync.selectors import dashboard_sync
from users.services import user_language_save

from . import health, metrics
from .heartbeat import process_states

logger = logging.getLogger(__name__)


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


@require_safe
@never_cache
@xframe_options_deny
def readyz(request: HttpRequest) -> JsonResponse:
    """For orchestrators: 200 when this web process may get traffic, else 503 (no hosts named).

    Served by syncadmin.middleware.ReadinessProbeMiddleware whatever the Host header.
    """
    ready, report = health.readiness_report()
    return JsonResponse(report, status=200 if ready else 503)


def _metrics_token_ok(request: HttpRequest) -> bool:
    """No token set: open (the service's network). Else `Authorization: Bearer <token>`."""
    expected = settings.SYNCADMIN_METRICS_TOKEN
    if not expected:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Constant time: how much of a guess matched does not show in the answer's timing.
    return hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@require_safe
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (syncadmin.metrics), in the text exposition format."""
    if not _metrics_token_ok(request):
        response = HttpResponse(
            gettext("A bearer token is needed: Authorization: Bearer <SYNCADMIN_METRICS_TOKEN>")
            + "\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    try:
        body, content_type = metrics.exposition(request.headers.get("Accept", ""))
    except Exception:
        logger.exception("metrics: the exposition failed")
        return HttpResponse(
            gettext("Metrics are unavailable for a moment; the log says why.") + "\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(body, content_type=content_type)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The top bar's language choice: kept in this browser's language cookie, which
    LocaleMiddleware prefers to Accept-Language, and on a logged-in user's profile, so it
    follows them to other browsers; then back to the page it was made on."""
    response = safe_next(request, "dashboard")
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            user_language_save(user=request.user, language=language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
