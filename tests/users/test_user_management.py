from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.models import AuditEntry
from tests.personas import make_user
from users import selectors, services
from users.roles import Role
from users.services import Candidate, UserManagementError

pytestmark = pytest.mark.django_db


def test_it_gives_superusers_both_roles(admin_user):
    assert admin_user.has_perm("integrations.manage_integration")
    assert admin_user.has_perm("integrations.use_records")


def test_it_gives_each_role_its_permissions(ac_user, ac_admin):
    assert ac_user.has_perm("integrations.use_records")
    assert not ac_user.has_perm("integrations.manage_integration")
    assert ac_admin.has_perm("integrations.manage_integration")
    assert ac_admin.has_perm("integrations.use_records")


def test_it_decides_entity_access_per_user():
    leads_only = make_user("lee", role=Role.USER, entity_access=("lead",))

    assert services.user_entity_access(user=leads_only) == {"lead"}
    assert not leads_only.has_perm("integrations.view_contacts")


def test_it_refuses_to_remove_the_last_administrator(ac_admin):
    with pytest.raises(UserManagementError, match="last administrator"):
        services.user_remove(user=ac_admin, actor=ac_admin)

    assert get_user_model().objects.get(pk=ac_admin.pk).has_perm("integrations.manage_integration")


def test_it_refuses_to_demote_the_last_administrator(ac_admin):
    with pytest.raises(UserManagementError, match="last administrator"):
        services.user_role_set(user=ac_admin, role=Role.USER, entity_access=set(), actor=ac_admin)


def test_it_removes_an_administrator_when_another_remains(ac_admin, admin_user):
    services.user_remove(user=ac_admin, actor=admin_user)

    removed = get_user_model().objects.get(pk=ac_admin.pk)
    assert not removed.is_active
    assert services.user_role(user=removed) is None


def test_it_suggests_people_without_a_role_by_name_and_email(norole_user, ac_user):
    make_user("norbert")

    by_name, _ = selectors.candidates_search(query="nor")
    by_email, _ = selectors.candidates_search(query="nora@example")
    with_role, _ = selectors.candidates_search(query="uma")

    assert {c.email for c in by_name} == {"nora@example.com", "norbert@example.com"}
    assert [c.email for c in by_email] == ["nora@example.com"]
    assert with_role == []


def test_it_creates_a_local_account_for_a_dynamics_user(admin_user):
    candidate = Candidate(
        "dynamics", "6f1c2a9e-0000-0000-0000-000000000001", "Dana Scully", "dana@fbi.example"
    )

    user, password = services.user_add(
        candidate=candidate, role=Role.USER, entity_access={"contact"}, actor=admin_user
    )

    assert user.username == "dana@fbi.example" and user.first_name == "Dana"
    assert password and user.check_password(password)
    assert user.profile.must_change_password
    assert services.user_entity_access(user=get_user_model().objects.get(pk=user.pk)) == {"contact"}


def test_it_audits_role_changes(norole_user, admin_user):
    services.user_role_set(
        user=norole_user, role=Role.USER, entity_access={"lead"}, actor=admin_user
    )

    entry = AuditEntry.objects.get(action="user.role")
    assert entry.actor == admin_user
    assert entry.changes["role"] == {"old": None, "new": "ActiveCampaign User"}


def test_the_page_adds_changes_and_removes(client, admin_user, norole_user):
    client.force_login(admin_user)

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
    assert services.user_role(user=norole_user) == Role.USER

    client.post(
        reverse("users:change_role", args=[norole_user.pk]), {"role": Role.ADMINISTRATOR.value}
    )
    assert (
        services.user_role(user=get_user_model().objects.get(pk=norole_user.pk))
        == Role.ADMINISTRATOR
    )

    response = client.post(reverse("users:remove", args=[norole_user.pk]), follow=True)
    assert "Removed nora" in response.content.decode()
    assert [m.user.username for m in response.context["managed"]] == ["alice"]


def test_the_page_shows_the_refusal(client, ac_admin):
    client.force_login(ac_admin)

    response = client.post(reverse("users:remove", args=[ac_admin.pk]), follow=True)

    assert "last administrator" in response.content.decode()


def test_the_search_returns_suggestions_for_htmx(client, admin_user, norole_user):
    client.force_login(admin_user)

    response = client.get(reverse("users:search"), {"q": "nora"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert 'data-email="nora@example.com"' in html
    assert "<html" not in html  # a fragment for htmx, not a page


@pytest.mark.integration
def test_it_suggests_dynamics_system_users_too(sandboxes, connected_integration):
    sandboxes.dataverse_app.seed(20)
    from connectors.dynamics.client import DynamicsClient

    someone = DynamicsClient(connected_integration.dynamics_config()).system_users(limit=1)[0]
    query = someone.full_name.split()[0]

    candidates, note = selectors.candidates_search(query=query, integration=connected_integration)

    assert note is None
    assert any(c.source == "dynamics" and c.key == someone.id for c in candidates)
