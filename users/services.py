from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from integrations.access import entity_access
from integrations.models import Integration, Membership
from integrations.roles import ENTITY_PERMISSIONS, Role
from integrations.services import audit_record

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


def user_language_save(*, user, language: str) -> None:
    """Keep the top bar's language choice on the user, for every browser they log in from."""
    Profile.objects.update_or_create(user=user, defaults={"language": language})


def user_language(*, user) -> str:
    """The user's chosen language, or "" when they never chose one."""
    return Profile.objects.filter(user=user).values_list("language", flat=True).first() or ""


# --- Roles and user management, per integration (S-2) ---------------------------------------


class UserManagementError(Exception):
    """A refused change, worded for the administrator."""


@dataclass(frozen=True)
class Candidate:
    """Someone the type-ahead suggests: a local account, or a Dynamics 365 system user."""

    source: str  # "local" or "dynamics"
    key: str  # local: user pk; dynamics: systemuserid
    name: str
    email: str


def user_role(*, user, integration: Integration | None) -> Role | None:
    """The user's role in integration (superusers: administrator everywhere)."""
    if user.is_superuser:
        return Role.ADMINISTRATOR
    if integration is None:
        return None
    membership = Membership.objects.filter(user=user, integration=integration).first()
    return Role(membership.role) if membership else None


def user_entity_access(*, user, integration: Integration | None) -> set[str]:
    """The entities ("lead", "contact") whose records this user may see there (S-2.3)."""
    return entity_access(user=user, integration=integration)


def administrators_count(*, integration: Integration) -> int:
    """Active administrators of integration, superusers included."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(memberships__integration=integration, memberships__role=Role.ADMINISTRATOR.value)
        )
        .distinct()
        .count()
    )


def _is_last_administrator(user, integration: Integration) -> bool:
    return (
        user.is_active
        and user_role(user=user, integration=integration) == Role.ADMINISTRATOR
        and administrators_count(integration=integration) <= 1
    )


def local_candidates(*, integration: Integration, actor) -> QuerySet:
    """Local accounts that actor may give a role in integration.

    Not superusers, not members of it already; and for an actor who is not a superuser, only
    accounts that belong to no integration the actor cannot manage, so that an administrator
    of one integration never learns who works on another.
    """
    User = get_user_model()
    people = User.objects.filter(is_superuser=False).exclude(memberships__integration=integration)
    if not actor.is_superuser:
        managed = Membership.objects.filter(user=actor, role=Role.ADMINISTRATOR.value).values(
            "integration"
        )
        people = people.exclude(
            memberships__integration__in=Integration.objects.exclude(pk__in=managed)
        )
    return people


def _entity_flags(entity_access: set[str], role: Role) -> dict[str, bool]:
    if role == Role.ADMINISTRATOR:
        entity_access = set(ENTITY_PERMISSIONS)
    return {"view_leads": "lead" in entity_access, "view_contacts": "contact" in entity_access}


@transaction.atomic
def user_role_set(*, user, role: Role, entity_access: set[str], actor, integration) -> None:
    """Give user exactly this role and entity access in integration (replacing what they had)."""
    if user.is_superuser:
        raise UserManagementError(
            gettext(
                "%(username)s is a superuser and has both roles; change that in the Django admin."
            )
            % {"username": user.username}
        )
    unknown = set(entity_access) - set(ENTITY_PERMISSIONS)
    if unknown:
        raise UserManagementError(
            gettext("Unknown entity access: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    # Serialize role changes of one integration, so two demotions cannot both pass the check.
    Integration.objects.select_for_update().filter(pk=integration.pk).first()
    old_role = user_role(user=user, integration=integration)
    old_access = user_entity_access(user=user, integration=integration)
    if role != Role.ADMINISTRATOR and _is_last_administrator(user, integration):
        raise UserManagementError(
            gettext("This is the last administrator: make someone else an administrator first.")
        )
    flags = _entity_flags(set(entity_access), role)
    Membership.objects.update_or_create(
        user=user, integration=integration, defaults={"role": role.value, **flags}
    )
    new_access = {
        entity
        for entity, field in (("lead", "view_leads"), ("contact", "view_contacts"))
        if flags[field]
    }
    audit_record(
        integration=integration,
        actor=actor,
        action="user.role",
        summary=f"{user.username}: {role.value}",
        changes={
            "role": {"old": old_role.value if old_role else None, "new": role.value},
            "entity access": {
                "old": ", ".join(sorted(old_access)) or None,
                "new": ", ".join(sorted(new_access)) or None,
            },
        },
    )


@transaction.atomic
def user_remove(*, user, actor, integration) -> None:
    """Take the user's role in integration away; an account left with no role is deactivated."""
    if user.is_superuser:
        raise UserManagementError(
            gettext("%(username)s is a superuser; remove that in the Django admin.")
            % {"username": user.username}
        )
    Integration.objects.select_for_update().filter(pk=integration.pk).first()
    if _is_last_administrator(user, integration):
        raise UserManagementError(gettext("This is the last administrator and cannot be removed."))
    old_role = user_role(user=user, integration=integration)
    Membership.objects.filter(user=user, integration=integration).delete()
    if not Membership.objects.filter(user=user).exists():
        user.is_active = False
        user.save(update_fields=["is_active"])
    audit_record(
        integration=integration,
        actor=actor,
        action="user.role",
        summary=f"Removed {user.username}",
        changes={"role": {"old": old_role.value if old_role else None, "new": None}},
    )


@transaction.atomic
def user_add(*, candidate: Candidate, role: Role, entity_access: set[str], actor, integration):
    """Give a suggested person a role in integration; a Dynamics user gets a local account first.

    Returns (user, one_time_password); the password is set only for a new account and is
    shown once to the administrator to hand over.
    """
    User = get_user_model()
    one_time_password = None
    if candidate.source == "local":
        user = None
        if candidate.key.isdigit() and len(candidate.key) < 19:  # fits a bigint
            user = (
                local_candidates(integration=integration, actor=actor)
                .filter(pk=int(candidate.key))
                .first()
            )
        if user is None:
            raise UserManagementError(gettext("That user no longer exists."))
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
    elif candidate.source == "dynamics":
        if not candidate.email:
            raise UserManagementError(
                gettext("%(name)s has no e-mail in Dynamics 365.") % {"name": candidate.name}
            )
        user = User.objects.filter(email__iexact=candidate.email).first()
        if user is None:
            first, _, last = candidate.name.partition(" ")
            one_time_password = secrets.token_urlsafe(12)
            user = User.objects.create_user(
                username=candidate.email.lower(),
                email=candidate.email,
                password=one_time_password,
                first_name=first[:150],
                last_name=last[:150],
            )
            Profile.objects.update_or_create(user=user, defaults={"must_change_password": True})
        elif not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
    else:
        raise UserManagementError(gettext("Unknown kind of user."))
    user_role_set(
        user=user, role=role, entity_access=entity_access, actor=actor, integration=integration
    )
    return user, one_time_password
