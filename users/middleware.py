from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from .services import user_language

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


class UserLanguageMiddleware:
    """A logged-in user's language choice (kept on their profile) wins over the browser's.

    LocaleMiddleware runs before authentication and picks the language cookie or
    Accept-Language; once the user is known, their own choice replaces it, so the language
    chosen in one browser follows them to the next.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            language = user_language(user=request.user)
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
