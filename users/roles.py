"""The roles, as user management knows them; defined with the checks in integrations.roles."""

from __future__ import annotations

from integrations.roles import ENTITY_PERMISSIONS, MANAGE, USE_RECORDS, Role

__all__ = ["ENTITY_PERMISSIONS", "MANAGE", "USE_RECORDS", "Role"]
