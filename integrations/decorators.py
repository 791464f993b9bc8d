"""View guards: each checks the user's role in the current integration (integrations.access)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .access import permissions_current
from .roles import MANAGE, USE_RECORDS


def _requires(permission: str, view: Callable) -> Callable:
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if permission not in permissions_current(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(guarded)


def administrators_only(view: Callable) -> Callable:
    """Logged-in ActiveCampaign Administrators of the current integration (and superusers);
    others get 403."""
    return _requires(MANAGE, view)


def record_users_only(view: Callable) -> Callable:
    """Logged-in ActiveCampaign Users of the current integration (administrators included)."""
    return _requires(USE_RECORDS, view)


def superusers_only(view: Callable) -> Callable:
    """Logged-in superusers only: what spans integrations (adding one)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(guarded)
