"""Middleware of the shell: /readyz before the host check, and a log scope per request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from observability.logs import log_context

READYZ_PATH = "/readyz"


class ReadinessProbeMiddleware:
    """Answers GET/HEAD /readyz whatever the Host header says.

    A probe (Docker's healthcheck, a Kubernetes readinessProbe) asks `http://<container
    address>:8000/readyz`, an address that DJANGO_ALLOWED_HOSTS need not list: CommonMiddleware
    would refuse it with 400 before the view. The answer is "ready" or "not ready" and the
    names of failing parts, nothing that depends on the host asked for, so skipping the check
    here gives a DNS-rebinding page nothing to read. It sits after SecurityMiddleware (HTTPS
    redirect, exempted for this path in production) and the Content-Security-Policy, so the
    answer has the same headers as every other.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == READYZ_PATH and request.method in ("GET", "HEAD"):
            from .views import readyz

            return readyz(request)
        return self.get_response(request)


class LogScopeMiddleware:
    """Log ids bound while answering a request (a single-record sync…) end with it.

    gunicorn's threads answer one request after another in the same context; without a scope
    of its own, the next request's lines would carry the previous one's ids.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with log_context():
            return self.get_response(request)
