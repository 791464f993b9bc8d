from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import SESSION_KEY
from .services import password_change_required
from .throttle import login_logged


@receiver(user_logged_in)
def remember_password_change_required(sender, request, user, **kwargs) -> None:
    # Looked up once per login, then carried in the session: no query on every request.
    if password_change_required(user=user):
        request.session[SESSION_KEY] = True


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs) -> None:
    if request is not None:
        login_logged(request=request, username=user.get_username())
