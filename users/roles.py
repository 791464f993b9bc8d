"""The two roles of S-2.1, as Django groups, and entity access (S-2.3) as permissions."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "ActiveCampaign Administrator"
    USER = "ActiveCampaign User"


# Permission codenames (app "integrations") each role's group holds.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMINISTRATOR: (
        "manage_integration",
        "use_records",
        "view_leads",
        "view_contacts",
        "view_auditentry",
    ),
    Role.USER: ("use_records",),
}

# Entity access, given per user beside the role: a user sees ActiveCampaign data on leads /
# contacts only with these (S-2.3). Administrators have both through their role.
ENTITY_PERMISSIONS = {"lead": "view_leads", "contact": "view_contacts"}

MANAGE = "integrations.manage_integration"
USE_RECORDS = "integrations.use_records"
