from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required

from users.roles import MANAGE, USE_RECORDS


def administrators_only(view: Callable) -> Callable:
    """Logged-in ActiveCampaign Administrators (and superusers); others get 403."""
    return login_required(permission_required(MANAGE, raise_exception=True)(view))


def record_users_only(view: Callable) -> Callable:
    """Logged-in users with the ActiveCampaign User role (administrators included)."""
    return login_required(permission_required(USE_RECORDS, raise_exception=True)(view))
