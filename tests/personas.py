"""The shared personas: anonymous, a user without a role, an ActiveCampaign User, an
ActiveCampaign Administrator (plus the superuser in conftest); roles are per integration, and a
persona gets its role in the given integration (default: the first one, "Default")."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from integrations.models import Integration
from integrations.roles import Role
from users.services import user_role_set

PASSWORD = "correct horse battery staple"


def default_integration() -> Integration:
    integration = Integration.objects.order_by("pk").first()
    # A transactional test starts with an empty database: create what migrations would have.
    return integration or Integration.objects.create(name="Default")


def make_user(
    username: str,
    *,
    role: Role | None = None,
    entity_access=("lead", "contact"),
    actor=None,
    integration: Integration | None = None,
):
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        first_name=username.capitalize(),
        last_name="Tester",
    )
    if role is not None:
        user_role_set(
            user=user,
            role=role,
            entity_access=set(entity_access),
            actor=actor,
            integration=integration or default_integration(),
        )
    return get_user_model().objects.get(pk=user.pk)
