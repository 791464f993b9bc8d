"""Roles become per integration: whoever held a role through the global groups of
users/0002_roles now holds it, with the same entity access, in every existing integration
(which is what the global role meant). The groups and global entity permissions are removed,
so nothing grants a role outside a membership any more."""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

ADMINISTRATOR = "ActiveCampaign Administrator"
USER = "ActiveCampaign User"
ENTITY_CODENAMES = ("view_leads", "view_contacts")


def memberships_from_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    Integration = apps.get_model("integrations", "Integration")
    Membership = apps.get_model("integrations", "Membership")
    integrations = list(Integration.objects.all())
    entity_perms = Permission.objects.filter(
        content_type__app_label="integrations", codename__in=ENTITY_CODENAMES
    )
    for user in User.objects.filter(
        is_superuser=False, groups__name__in=[ADMINISTRATOR, USER]
    ).distinct():
        names = set(user.groups.values_list("name", flat=True))
        codenames = set(
            user.user_permissions.filter(pk__in=entity_perms).values_list("codename", flat=True)
        )
        administrator = ADMINISTRATOR in names
        for integration in integrations:
            Membership.objects.get_or_create(
                user=user,
                integration=integration,
                defaults={
                    "role": ADMINISTRATOR if administrator else USER,
                    "view_leads": administrator or "view_leads" in codenames,
                    "view_contacts": administrator or "view_contacts" in codenames,
                },
            )
    for user in User.objects.filter(user_permissions__in=entity_perms).distinct():
        user.user_permissions.remove(*entity_perms)
    Group.objects.filter(name__in=[ADMINISTRATOR, USER]).delete()


def groups_from_memberships(apps, schema_editor):
    """Back to global roles: a role in any integration becomes the global role."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Membership = apps.get_model("integrations", "Membership")
    perms = {
        p.codename: p for p in Permission.objects.filter(content_type__app_label="integrations")
    }
    roles = {
        ADMINISTRATOR: (
            "manage_integration",
            "use_records",
            "view_leads",
            "view_contacts",
            "view_auditentry",
        ),
        USER: ("use_records",),
    }
    groups = {}
    for name, codenames in roles.items():
        groups[name], _ = Group.objects.get_or_create(name=name)
        groups[name].permissions.set([perms[c] for c in codenames if c in perms])
    for membership in Membership.objects.select_related("user"):
        membership.user.groups.add(groups[membership.role])
        for codename in ("view_leads", "view_contacts"):
            if getattr(membership, codename) and codename in perms:
                membership.user.user_permissions.add(perms[codename])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_membership"),
        ("users", "0002_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(memberships_from_groups, groups_from_memberships)]
