from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations import access
from integrations.models import AuditEntry, Integration
from integrations.roles import MANAGE, USE_RECORDS, VIEW_CONTACTS, Role
from tests.personas import default_integration, make_user
from users import selectors, services
from users.services import Candidate, UserManagementError

pytestmark = pytest.mark.django_db


def held(user, integration=None):
    return access.permissions_for(user=user, integration=integration or default_integration())


def test_it_gives_superusers_both_roles_everywhere(admin_user):
    other = Integration.objects.create(name="Other client")

    assert {MANAGE, USE_RECORDS} <= held(admin_user)
    assert {MANAGE, USE_RECORDS} <= held(admin_user, other)


def test_it_gives_each_role_its_permissions_in_its_integration(ac_user, ac_admin):
    other = Integration.objects.create(name="Other client")

    assert USE_RECORDS in held(ac_user) and MANAGE not in held(ac_user)
    assert {MANAGE, USE_RECORDS} <= held(ac_admin)
    # Nothing anywhere else, and nothing through Django's global permissions.
    assert held(ac_admin, other) == frozenset()
    assert not ac_admin.has_perm(MANAGE)


def test_it_decides_entity_access_per_user_and_integration():
    other = Integration.objects.create(name="Other client")
    lee = make_user("lee", role=Role.USER, entity_access=("lead",))
    services.user_role_set(
        user=lee, role=Role.USER, entity_access={"contact"}, actor=None, integration=other
    )

    assert services.user_entity_access(user=lee, integration=default_integration()) == {"lead"}
    assert VIEW_CONTACTS not in held(lee)
    assert services.user_entity_access(user=lee, integration=other) == {"contact"}


def test_it_refuses_to_remove_the_last_administrator(ac_admin):
    with pytest.raises(UserManagementError, match="last administrator"):
        services.user_remove(user=ac_admin, actor=ac_admin, integration=default_integration())

    assert MANAGE in held(ac_admin)


def test_it_refuses_to_demote_the_last_administrator(ac_admin):
    with pytest.raises(UserManagementError, match="last administrator"):
        services.user_role_set(
            user=ac_admin,
            role=Role.USER,
            entity_access=set(),
            actor=ac_admin,
            integration=default_integration(),
        )


def test_the_last_administrator_is_counted_per_integration(ac_admin):
    other = Integration.objects.create(name="Other client")
    make_user("olga", role=Role.ADMINISTRATOR, integration=other)

    # Another integration's administrator does not make ac_admin removable here.
    with pytest.raises(UserManagementError, match="last administrator"):
        services.user_remove(user=ac_admin, actor=ac_admin, integration=default_integration())


def test_it_removes_an_administrator_when_another_remains(ac_admin, admin_user):
    services.user_remove(user=ac_admin, actor=admin_user, integration=default_integration())

    removed = get_user_model().objects.get(pk=ac_admin.pk)
    assert not removed.is_active
    assert services.user_role(user=removed, integration=default_integration()) is None


def test_removing_a_role_in_one_integration_keeps_the_account_for_the_other(ac_user, admin_user):
    other = Integration.objects.create(name="Other client")
    services.user_role_set(
        user=ac_user, role=Role.USER, entity_access=set(), actor=None, integration=other
    )

    services.user_remove(user=ac_user, actor=admin_user, integration=default_integration())

    kept = get_user_model().objects.get(pk=ac_user.pk)
    assert kept.is_active
    assert services.user_role(user=kept, integration=other) == Role.USER


def test_it_suggests_people_without_a_role_by_name_and_email(admin_user, norole_user, ac_user):
    make_user("norbert")
    integration = default_integration()

    def search(query):
        return selectors.candidates_search(query=query, integration=integration, actor=admin_user)[
            0
        ]

    assert {c.email for c in search("nor")} == {"nora@example.com", "norbert@example.com"}
    assert [c.email for c in search("nora@example")] == ["nora@example.com"]
    assert search("uma") == []


def test_it_never_suggests_people_of_an_integration_the_administrator_does_not_manage(ac_admin):
    other = Integration.objects.create(name="Other client")
    make_user("oscar", role=Role.USER, integration=other)
    make_user("oswin")  # belongs to no integration yet

    found, _ = selectors.candidates_search(
        query="os", integration=default_integration(), actor=ac_admin
    )

    assert [c.email for c in found] == ["oswin@example.com"]


def test_it_refuses_to_add_a_person_it_would_not_suggest(ac_admin):
    other = Integration.objects.create(name="Other client")
    oscar = make_user("oscar", role=Role.USER, integration=other)

    with pytest.raises(UserManagementError, match="no longer exists"):
        services.user_add(
            candidate=Candidate("local", str(oscar.pk), "Oscar", "oscar@example.com"),
            role=Role.USER,
            entity_access=set(),
            actor=ac_admin,
            integration=default_integration(),
        )


def test_it_creates_a_local_account_for_a_dynamics_user(admin_user):
    candidate = Candidate(
        "dynamics", "6f1c2a9e-0000-0000-0000-000000000001", "Dana Scully", "dana@fbi.example"
    )

    user, password = services.user_add(
        candidate=candidate,
        role=Role.USER,
        entity_access={"contact"},
        actor=admin_user,
        integration=default_integration(),
    )

    assert user.username == "dana@fbi.example" and user.first_name == "Dana"
    assert password and user.check_password(password)
    assert user.profile.must_change_password
    assert services.user_entity_access(user=user, integration=default_integration()) == {"contact"}


def test_it_audits_role_changes_in_the_integration(norole_user, admin_user):
    services.user_role_set(
        user=norole_user,
        role=Role.USER,
        entity_access={"lead"},
        actor=admin_user,
        integration=default_integration(),
    )

    entry = AuditEntry.objects.get(action="user.role")
    assert entry.actor == admin_user
    assert entry.integration == default_integration()
    assert entry.changes["role"] == {"old": None, "new": "ActiveCampaign User"}


def test_the_page_adds_changes_and_removes(client, admin_user, norole_user):
    client.force_login(admin_user)
    integration = default_integration()

    client.post(
        reverse("users:add"),
        {
            "source": "local",
            "key": norole_user.pk,
            "name": "Nora",
            "email": "nora@example.com",
            "role": Role.USER.value,
            "entity_access": ["lead"],
        },
    )
    assert services.user_role(user=norole_user, integration=integration) == Role.USER

    client.post(
        reverse("users:change_role", args=[norole_user.pk]), {"role": Role.ADMINISTRATOR.value}
    )
    assert services.user_role(user=norole_user, integration=integration) == Role.ADMINISTRATOR

    response = client.post(reverse("users:remove", args=[norole_user.pk]), follow=True)
    assert "Removed nora from Default" in response.content.decode()
    assert [m.user.username for m in response.context["managed"]] == ["alice"]


def test_the_page_shows_the_refusal(client, ac_admin):
    client.force_login(ac_admin)

    response = client.post(reverse("users:remove", args=[ac_admin.pk]), follow=True)

    assert "last administrator" in response.content.decode()


def test_the_page_lists_and_changes_only_members_of_the_current_integration(client, ac_admin):
    other = Integration.objects.create(name="Other client")
    oscar = make_user("oscar", role=Role.USER, integration=other)
    client.force_login(ac_admin)

    page = client.get(reverse("users:manage"))
    changed = client.post(
        reverse("users:change_role", args=[oscar.pk]), {"role": Role.ADMINISTRATOR.value}
    )
    removed = client.post(reverse("users:remove", args=[oscar.pk]))

    assert "oscar" not in page.content.decode()
    assert changed.status_code == 404 and removed.status_code == 404
    assert services.user_role(user=oscar, integration=other) == Role.USER


def test_the_search_returns_suggestions_for_htmx(client, admin_user, norole_user):
    client.force_login(admin_user)

    response = client.get(reverse("users:search"), {"q": "nora"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert 'data-email="nora@example.com"' in html
    assert "<html" not in html  # a fragment for htmx, not a page


@pytest.mark.integration
def test_it_suggests_dynamics_system_users_too(sandboxes, connected_integration, admin_user):
    sandboxes.dataverse_app.seed(20)
    from connectors.dynamics.client import DynamicsClient

    someone = DynamicsClient(connected_integration.dynamics_config()).system_users(limit=1)[0]
    query = someone.full_name.split()[0]

    candidates, note = selectors.candidates_search(
        query=query, integration=connected_integration, actor=admin_user
    )

    assert note is None
    assert any(c.source == "dynamics" and c.key == someone.id for c in candidates)


def test_outsized_ids_are_not_found_rather_than_an_error(client, admin_user):
    client.force_login(admin_user)
    huge = "9" * 30

    role = client.post(f"/users/{huge}/role/", {"role": Role.USER.value})
    switch = client.post(reverse("integrations:switch"), {"integration": huge})
    add = client.post(
        reverse("users:add"),
        {"source": "local", "key": huge, "name": "X", "role": Role.USER.value},
        follow=True,
    )

    assert role.status_code == 404 and switch.status_code == 302  # "does not exist" message
    assert "That user no longer exists." in add.content.decode()
