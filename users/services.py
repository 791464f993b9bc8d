from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from .models import Profile
from .roles import ENTITY_PERMISSIONS, ROLE_PERMISSIONS, Role


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


# --- Roles and user management (S-2) ------------------------------------------------------


class UserManagementError(Exception):
    """A refused change, worded for the administrator."""


@dataclass(frozen=True)
class Candidate:
    """Someone the type-ahead suggests: a local account, or a Dynamics 365 system user."""

    source: str  # "local" or "dynamics"
    key: str  # local: user pk; dynamics: systemuserid
    name: str
    email: str


def _role_groups():
    """The two role groups, re-created with their permissions if someone deleted them."""
    from django.contrib.auth.models import Group, Permission

    groups = {group.name: group for group in Group.objects.filter(name__in=list(Role))}
    for role in Role:
        if role.value not in groups:
            group = Group.objects.create(name=role.value)
            group.permissions.set(
                Permission.objects.filter(
                    content_type__app_label="integrations", codename__in=ROLE_PERMISSIONS[role]
                )
            )
            groups[role.value] = group
    return groups


def user_role(*, user) -> Role | None:
    if user.is_superuser:
        return Role.ADMINISTRATOR
    names = {group.name for group in user.groups.all()}
    for role in (Role.ADMINISTRATOR, Role.USER):
        if role.value in names:
            return role
    return None


def user_entity_access(*, user) -> set[str]:
    """The entities ("lead", "contact") whose records this user may see (S-2.3)."""
    return {
        entity
        for entity, codename in ENTITY_PERMISSIONS.items()
        if user.has_perm(f"integrations.{codename}")
    }


def administrators_count() -> int:
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.ADMINISTRATOR.value))
        .distinct()
        .count()
    )


def _is_administrator(user) -> bool:
    return user.is_active and user_role(user=user) == Role.ADMINISTRATOR


def _audit(actor, summary: str, changes: dict) -> None:
    from integrations.services import audit_record

    audit_record(
        integration=None, actor=actor, action="user.role", summary=summary, changes=changes
    )


@transaction.atomic
def user_role_set(*, user, role: Role, entity_access: set[str], actor) -> None:
    """Give user exactly this role and entity access (replacing what they had)."""
    from django.contrib.auth.models import Permission

    if user.is_superuser:
        raise UserManagementError(
            f"{user.username} is a superuser and has both roles; change that in the Django admin."
        )
    unknown = set(entity_access) - set(ENTITY_PERMISSIONS)
    if unknown:
        raise UserManagementError(f"Unknown entity access: {', '.join(sorted(unknown))}.")
    old_role = user_role(user=user)
    old_access = user_entity_access(user=user)
    if (
        old_role == Role.ADMINISTRATOR
        and role != Role.ADMINISTRATOR
        and administrators_count() <= 1
    ):
        raise UserManagementError(
            "This is the last administrator: make someone else an administrator first."
        )
    groups = _role_groups()
    user.groups.remove(*groups.values())
    user.groups.add(groups[role.value])
    entity_perms = Permission.objects.filter(
        content_type__app_label="integrations", codename__in=ENTITY_PERMISSIONS.values()
    )
    user.user_permissions.remove(*entity_perms)
    user.user_permissions.add(
        *[p for p in entity_perms if p.codename in {ENTITY_PERMISSIONS[e] for e in entity_access}]
    )
    _clear_permission_cache(user)
    _audit(
        actor,
        f"{user.username}: {role.value}",
        {
            "role": {"old": old_role.value if old_role else None, "new": role.value},
            "entity access": {
                "old": ", ".join(sorted(old_access)) or None,
                "new": ", ".join(sorted(entity_access)) or None,
            },
        },
    )


@transaction.atomic
def user_remove(*, user, actor) -> None:
    """Take the user's roles and entity access away (the account itself stays, inactive)."""
    if user.is_superuser:
        raise UserManagementError(
            f"{user.username} is a superuser; remove that in the Django admin."
        )
    if _is_administrator(user) and administrators_count() <= 1:
        raise UserManagementError("This is the last administrator and cannot be removed.")
    old_role = user_role(user=user)
    user.groups.remove(*_role_groups().values())
    user.user_permissions.clear()
    user.is_active = False
    user.save(update_fields=["is_active"])
    _clear_permission_cache(user)
    _audit(
        actor,
        f"Removed {user.username}",
        {"role": {"old": old_role.value if old_role else None, "new": None}},
    )


def _clear_permission_cache(user) -> None:
    for attribute in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attribute, None)


@transaction.atomic
def user_add(*, candidate: Candidate, role: Role, entity_access: set[str], actor):
    """Give a suggested person a role; a Dynamics user gets a local account first.

    Returns (user, one_time_password); the password is set only for a new account and is
    shown once to the administrator to hand over.
    """
    User = get_user_model()
    one_time_password = None
    if candidate.source == "local":
        user = User.objects.filter(pk=candidate.key).first()
        if user is None:
            raise UserManagementError("That user no longer exists.")
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
    elif candidate.source == "dynamics":
        if not candidate.email:
            raise UserManagementError(f"{candidate.name} has no e-mail in Dynamics 365.")
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
    else:
        raise UserManagementError("Unknown kind of user.")
    user_role_set(user=user, role=role, entity_access=entity_access, actor=actor)
    return user, one_time_password
