"""The two roles of S-2.1 and entity access (S-2.3), granted per integration (Membership).

Roles and the permission checks live in this app; `users` (user management) imports them,
never the other way round.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy


class Role(StrEnum):
    ADMINISTRATOR = "ActiveCampaign Administrator"
    USER = "ActiveCampaign User"

    @property
    def label(self) -> str:
        """The role's name in the language of the request (the value is what is stored)."""
        return str(ROLE_LABELS[self])


# The vendor's names for the roles, translated ("Administrador de ActiveCampaign").
ROLE_LABELS = {
    Role.ADMINISTRATOR: gettext_lazy("ActiveCampaign Administrator"),
    Role.USER: gettext_lazy("ActiveCampaign User"),
}


# Permission names, as Django spells them ("app_label.codename"); held per integration.
MANAGE = "integrations.manage_integration"
USE_RECORDS = "integrations.use_records"
VIEW_LEADS = "integrations.view_leads"
VIEW_CONTACTS = "integrations.view_contacts"
VIEW_AUDIT = "integrations.view_auditentry"

# What each role holds in its integration.
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMINISTRATOR: frozenset({MANAGE, USE_RECORDS, VIEW_LEADS, VIEW_CONTACTS, VIEW_AUDIT}),
    Role.USER: frozenset({USE_RECORDS}),
}
# Everything there is: what a superuser holds in every integration.
ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())

# Entity access, given per membership beside the role: a user sees ActiveCampaign data on leads /
# contacts only with these (S-2.3). Administrators have both through their role.
ENTITY_PERMISSIONS = {"lead": VIEW_LEADS, "contact": VIEW_CONTACTS}
