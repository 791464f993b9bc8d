"""The data migration from global role groups to memberships in every integration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("integrations", "0003_membership")]
AFTER = [("integrations", "0004_memberships_from_groups")]


@pytest.mark.django_db(transaction=True)
def test_it_turns_global_roles_into_memberships_in_every_integration():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Group = old.get_model("auth", "Group")
    Permission = old.get_model("auth", "Permission")
    User = old.get_model("auth", "User")
    Integration = old.get_model("integrations", "Integration")
    Integration.objects.get_or_create(name="Default")
    Integration.objects.create(name="Second client")
    admins, _ = Group.objects.get_or_create(name="ActiveCampaign Administrator")
    users, _ = Group.objects.get_or_create(name="ActiveCampaign User")
    leads = Permission.objects.get(content_type__app_label="integrations", codename="view_leads")
    adam = User.objects.create(username="adam")
    adam.groups.add(admins)
    uma = User.objects.create(username="uma")
    uma.groups.add(users)
    uma.user_permissions.add(leads)
    User.objects.create(username="nora")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    from integrations.access import permissions_for
    from integrations.models import Integration as Current
    from integrations.models import Membership
    from integrations.roles import MANAGE, USE_RECORDS, VIEW_CONTACTS, VIEW_LEADS

    rows = {
        (m.user.username, m.integration.name, m.role, m.view_leads, m.view_contacts)
        for m in Membership.objects.select_related("user", "integration")
    }
    assert rows == {
        ("adam", "Default", "ActiveCampaign Administrator", True, True),
        ("adam", "Second client", "ActiveCampaign Administrator", True, True),
        ("uma", "Default", "ActiveCampaign User", True, False),
        ("uma", "Second client", "ActiveCampaign User", True, False),
    }
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group as CurrentGroup

    second = Current.objects.get(name="Second client")
    uma_now = get_user_model().objects.get(username="uma")
    assert permissions_for(user=uma_now, integration=second) == {USE_RECORDS, VIEW_LEADS}
    assert VIEW_CONTACTS not in permissions_for(user=uma_now, integration=second)
    # Nothing global is left that could grant a role outside a membership.
    assert not CurrentGroup.objects.filter(name__startswith="ActiveCampaign").exists()
    assert not uma_now.user_permissions.exists()
    assert MANAGE not in permissions_for(
        user=get_user_model().objects.get(username="nora"), integration=second
    )
