from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Profile


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    # The generated one-time password, or None when it came from the environment or the
    # admin already existed. Shown once, never stored in clear.
    one_time_password: str | None
    created: bool


@transaction.atomic
def first_admin_ensure(*, username: str, email: str = "", password: str = "") -> FirstAdmin:
    """Create the first superuser unless one exists.

    With no password given, a random one-time password is generated and returned once;
    the account must change it at first login.
    """
    User = get_user_model()
    if User.objects.filter(is_superuser=True).exists():
        return FirstAdmin(username=username, one_time_password=None, created=False)
    generated = not password
    password = password or secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=username, email=email, password=password)
    Profile.objects.update_or_create(user=user, defaults={"must_change_password": generated})
    return FirstAdmin(
        username=username, one_time_password=password if generated else None, created=True
    )


def password_change_required(*, user) -> bool:
    return Profile.objects.filter(user=user, must_change_password=True).exists()


def password_changed(*, user) -> None:
    Profile.objects.filter(user=user).update(must_change_password=False)
