from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.utils.translation import gettext

from connectors.errors import ConnectorError, user_message
from integrations.models import Integration, Membership
from integrations.roles import ENTITY_PERMISSIONS, Role

from .services import Candidate, local_candidates

logger = logging.getLogger(__name__)

SUGGESTION_LIMIT = 10


@dataclass(frozen=True)
class ManagedUser:
    user: object
    role: Role
    entity_access: frozenset[str]


def managed_users(*, integration: Integration) -> list[ManagedUser]:
    """Everyone with a role in integration (superusers count as administrators), in two queries."""
    User = get_user_model()
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(memberships__integration=integration))
        .distinct()
        .order_by("username")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(integration=integration),
                to_attr="here",
            )
        )
    )
    result = []
    for user in users:
        membership = user.here[0] if user.here else None
        if user.is_superuser or membership.role == Role.ADMINISTRATOR.value:
            role, access = Role.ADMINISTRATOR, frozenset(ENTITY_PERMISSIONS)
        else:
            role = Role.USER
            flags = {"lead": membership.view_leads, "contact": membership.view_contacts}
            access = frozenset(entity for entity, granted in flags.items() if granted)
        result.append(ManagedUser(user=user, role=role, entity_access=access))
    return result


def candidates_search(
    *, query: str, integration: Integration, actor
) -> tuple[list[Candidate], str | None]:
    """People matching query by name or e-mail who have no role in integration yet.

    Local accounts the actor may see first (services.local_candidates), then (when the
    integration is connected) Dynamics 365 system users without a local account. Returns
    (candidates, note) where note explains a Dynamics failure.
    """
    query = query.strip()[:100]
    if len(query) < 2:
        return [], None
    User = get_user_model()
    local = (
        local_candidates(integration=integration, actor=actor)
        .filter(
            Q(username__icontains=query)
            | Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
        .order_by("first_name", "last_name", "username")[:SUGGESTION_LIMIT]
    )
    candidates = [
        Candidate("local", str(u.pk), u.get_full_name() or u.username, u.email) for u in local
    ]
    note = None
    if integration.is_connected:
        try:
            people = _dynamics_users(integration, query)
        except ConnectorError as error:
            logger.info("user search: Dynamics 365 system users unavailable: %s", error.kind)
            note = gettext("Dynamics 365 users could not be searched: %(reason)s") % {
                "reason": user_message(error)
            }
            people = []
        known = {c.email.lower() for c in candidates if c.email}
        known |= {
            e.lower()
            for e in User.objects.filter(
                email__in=[p.email for p in people if p.email]
            ).values_list("email", flat=True)
        }
        for person in people:
            if person.email and person.email.lower() in known:
                continue
            candidates.append(person)
    return candidates[: SUGGESTION_LIMIT * 2], note


def _dynamics_users(integration, query: str) -> list[Candidate]:
    from connectors.dynamics.client import DynamicsClient

    client = DynamicsClient(integration.dynamics_config())
    return [
        Candidate("dynamics", user.id, user.full_name, user.email or "")
        for user in client.system_users(search=query, limit=SUGGESTION_LIMIT)
    ]
