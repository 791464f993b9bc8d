"""The shared personas: anonymous, a user without a role, an ActiveCampaign User, an
ActiveCampaign Administrator (plus the superuser in conftest)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from users.roles import Role
from users.services import user_role_set

PASSWORD = "correct horse battery staple"


def make_user(
    username: str, *, role: Role | None = None, entity_access=("lead", "contact"), actor=None
):
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        first_name=username.capitalize(),
        last_name="Tester",
    )
    if role is not None:
        user_role_set(user=user, role=role, entity_access=set(entity_access), actor=actor)
    return get_user_model().objects.get(pk=user.pk)
