from __future__ import annotations

from django.http import HttpRequest

from .roles import MANAGE
from .selectors import integration_current, integrations_list


def current_integration(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"current_integration": integration_current(request)}
    if user.has_perm(MANAGE):
        context["integrations"] = integrations_list()
    return context
