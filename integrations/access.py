"""Who may do what in which integration: the one place for permission checks (S-2).

A user holds permissions in an integration through a Membership (role + entity access);
superusers hold everything everywhere. A session works on one integration at a time (the
current one); it can only ever be one the user may see.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Integration, Membership
from .roles import ALL_PERMISSIONS, ENTITY_PERMISSIONS, MANAGE, ROLE_PERMISSIONS, Role

SESSION_KEY = "integration_id"
NOTHING: frozenset[str] = frozenset()


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def integrations_visible(*, user) -> QuerySet[Integration]:
    """The integrations this user may work on: all for superusers, else their memberships'."""
    if not _active(user):
        return Integration.objects.none()
    if user.is_superuser:
        return Integration.objects.all()
    return Integration.objects.filter(memberships__user=user)


def membership_permissions(membership: Membership | None) -> frozenset[str]:
    if membership is None:
        return NOTHING
    role = Role(membership.role)
    entity = {
        ENTITY_PERMISSIONS["lead"]: membership.view_leads,
        ENTITY_PERMISSIONS["contact"]: membership.view_contacts,
    }
    return ROLE_PERMISSIONS[role] | {perm for perm, granted in entity.items() if granted}


def permissions_for(*, user, integration: Integration | None) -> frozenset[str]:
    """The permission names ("integrations.manage_integration", …) user holds in integration.

    With no integration (none exists, or the user belongs to none) only a superuser holds
    anything, so that they can create the first one.
    """
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return ALL_PERMISSIONS
    if integration is None:
        return NOTHING
    return membership_permissions(
        Membership.objects.filter(user=user, integration=integration).first()
    )


def entity_access(*, user, integration: Integration | None) -> set[str]:
    """The entities ("lead", "contact") whose records user may see in integration (S-2.3)."""
    held = permissions_for(user=user, integration=integration)
    return {entity for entity, perm in ENTITY_PERMISSIONS.items() if perm in held}


def is_administrator_anywhere(*, user) -> bool:
    if not _active(user):
        return False
    return (
        user.is_superuser
        or Membership.objects.filter(user=user, role=Role.ADMINISTRATOR.value).exists()
    )


def integrations_of_request(request: HttpRequest) -> list[Integration]:
    """The integrations the request's user may see, by name (one query, kept on the request)."""
    if not hasattr(request, "_integrations_visible"):
        user = getattr(request, "user", None)
        request._integrations_visible = list(integrations_visible(user=user).order_by("name"))
    return request._integrations_visible


def integration_current(request: HttpRequest) -> Integration | None:
    """The integration this session works on: the one picked if the user may see it, else
    the oldest they may see (None when there is none).

    Remembered on the request, so the view and the navigation share one query.
    """
    if hasattr(request, "_integration_current"):
        return request._integration_current
    visible = integrations_of_request(request)
    picked = request.session.get(SESSION_KEY)
    integration = next((i for i in visible if i.pk == picked), None)
    if integration is None and visible:
        integration = min(visible, key=lambda i: i.pk)
    request._integration_current = integration
    return integration


def integration_current_set(request: HttpRequest, integration: Integration) -> None:
    """Work on integration from now on (the caller checked that the user may see it)."""
    request.session[SESSION_KEY] = integration.pk
    request._integration_current = integration
    request.__dict__.pop("_permissions_current", None)


def permissions_current(request: HttpRequest) -> frozenset[str]:
    """What the request's user holds in the current integration (remembered on the request)."""
    if not hasattr(request, "_permissions_current"):
        request._permissions_current = permissions_for(
            user=getattr(request, "user", None), integration=integration_current(request)
        )
    return request._permissions_current


def may_manage_current(request: HttpRequest) -> bool:
    return MANAGE in permissions_current(request)


class _ScopedPermissions:
    """`perms.integrations.<codename>` in templates: held in the current integration?"""

    def __init__(self, held: frozenset[str]):
        self.held = held

    def __getitem__(self, codename: str) -> bool:
        return f"integrations.{codename}" in self.held

    def __bool__(self) -> bool:
        return bool(self.held)


class IntegrationPerms:
    """Django's template `perms`, with "integrations.*" answered for the current integration.

    Other apps' permissions are Django's own (user.has_perm).
    """

    def __init__(self, request: HttpRequest):
        self.request = request

    def __getitem__(self, app_label: str):
        if app_label == "integrations":
            return _ScopedPermissions(permissions_current(self.request))
        from django.contrib.auth.context_processors import PermLookupDict

        return PermLookupDict(self.request.user, app_label)

    def __iter__(self):
        # Like Django's PermWrapper: not iterable, so a template loop fails loudly.
        raise TypeError("IntegrationPerms is not iterable.")

    def __contains__(self, perm_name: str) -> bool:
        if "." not in perm_name:
            return bool(self[perm_name])
        if perm_name.startswith("integrations."):
            return perm_name in permissions_current(self.request)
        return self.request.user.has_perm(perm_name)
