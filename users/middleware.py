from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "password_change_required"


class PasswordChangeRequiredMiddleware:
    """Send a user who logged in with a one-time password to the password change page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(SESSION_KEY) and request.user.is_authenticated:
            allowed = {
                reverse("password_change"),
                reverse("logout"),
                reverse("healthz"),
                reverse("set_language"),  # the page to change it on may be in either language
            }
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)
