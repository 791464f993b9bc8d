"""One clear page when stored secrets cannot be read, instead of a server error."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from .crypto import SecretsUnavailable

logger = logging.getLogger(__name__)

MESSAGE = gettext_lazy(
    "The stored connection secrets cannot be read with this installation's "
    "FIELD_ENCRYPTION_KEY, so this page cannot work."
)


class SecretsUnavailableMiddleware:
    """Answer a page that needed a stored secret, when FIELD_ENCRYPTION_KEY is missing or
    wrong, with what to fix (503). Pages that need no secret are not affected: secrets are
    decrypted only where they are used (integrations.crypto)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SecretsUnavailable):
            return None
        logger.error("%s %s: %s", request.method, request.path, exception)
        if getattr(request, "htmx", False):
            return HttpResponse(MESSAGE, status=503, content_type="text/plain")
        return render(
            request,
            "integrations/secrets_unavailable.html",
            {"message": MESSAGE, "detail": str(exception)},
            status=503,
        )
