"""Every URL of the app, for every persona: later issues add their URLs to ACCESS.

Roles are per integration. The personas "user" and "admin" have their role in integration A;
"other" is an administrator of integration B only, whose session asks for A: they must get
B's pages (or nothing), never anything of A. "leadsonly" is an ActiveCampaign User of A who may
see leads but not contacts (S-2.3).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from integrations.access import SESSION_KEY
from integrations.models import Integration
from integrations.roles import Role
from syncadmin import health
from tests.personas import default_integration, make_user

LOGIN = "login"  # redirected to the login page
PERSONAS = ("anonymous", "norole", "user", "leadsonly", "admin", "other", "superuser")
A_NAME = "Alpha Confidential Ltd"


def everyone(status):
    return dict.fromkeys(PERSONAS, status)


def admins_only(admin_status=200):
    """Administrators of the current integration; "other" administers B, so gets B's page."""
    return {
        "anonymous": LOGIN,
        "norole": 403,
        "user": 403,
        "leadsonly": 403,
        "admin": admin_status,
        "other": admin_status,
        "superuser": admin_status,
    }


def users_only(status=200):
    """ActiveCampaign Users (and administrators) of the current integration."""
    return {**admins_only(status), "user": status, "leadsonly": status}


def contact_users(status=200):
    """ActiveCampaign Users who may see contacts (S-2.3): "leadsonly" gets the 403 page."""
    return {**users_only(status), "leadsonly": 403}


def superusers_only(status=200):
    return {**admins_only(403), "superuser": status}


def logged_in(status=200):
    return {**everyone(status), "anonymous": LOGIN}


# URL name -> (args, expected per persona). A GET to each; POST-only views answer 405 to a GET
# from someone allowed past the access check.
ACCESS = {
    "dashboard": ((), logged_in()),
    "healthz": ((), everyone(200)),
    "readyz": ((), everyone(200)),
    "metrics": ((), everyone(200)),
    "login": ((), {**everyone(302), "anonymous": 200}),
    "logout": ((), everyone(405)),
    "set_language": ((), everyone(405)),
    "password_change": ((), logged_in()),
    "integrations:settings": ((), admins_only()),
    "integrations:add": ((), superusers_only()),
    "integrations:switch": ((), logged_in(405)),
    "integrations:audit": ((), admins_only()),
    "users:manage": ((), admins_only()),
    "users:search": ((), admins_only()),
    "users:add": ((), admins_only(405)),
    "users:change_role": (("user_pk",), admins_only(405)),
    "users:remove": (("user_pk",), admins_only(405)),
    "mapping:configuration": ((), admins_only()),
    "mapping:entity": (("entity",), admins_only()),
    "mapping:opportunity": ((), admins_only()),
    "mapping:opportunity_rows": ((), admins_only()),
    "mapping:refresh": ((), admins_only(405)),
    "mapping:compatibility": ((), admins_only()),
    "mapping:criterion_row": (("entity",), admins_only()),
    "mapping:mapping_rows": (("entity",), admins_only()),
    "sync:settings": ((), admins_only()),
    "sync:progress": ((), admins_only()),
    "sync:now": ((), admins_only(405)),
    "sync:history": ((), admins_only()),
    "sync:run": (("run_pk",), admins_only(404)),
    "sync:retry": (("run_pk",), admins_only(405)),
    "records:list": ((), users_only()),
    "records:entity": (("people",), contact_users()),
    "records:record": (("people", "record_id"), contact_users(404)),
    "records:sync": (("people", "record_id"), admins_only(405)),
    "records:automation": (("people", "record_id"), contact_users(404)),
    "records:campaign": (("people", "record_id"), contact_users(404)),
    "sync:webhook": ((), admins_only()),
    "sync:webhook_rotate": ((), admins_only(405)),
    "sync:webhook_retry": (("delivery_pk",), admins_only(405)),
    # ActiveCampaign's calls: a wrong secret is a missing page for everyone, logged in or not.
    "hook_activecampaign": (("secret",), everyone(404)),
}


def url_arguments(*, user_pk: int) -> dict[str, object]:
    """A value for each URL argument name in ACCESS (ids of things that need not exist)."""
    return {
        "user_pk": user_pk,
        "entity": "lead",
        "run_pk": 1,
        "people": "contact",
        "record_id": "11111111-2222-3333-4444-555555555555",
        "delivery_pk": 1,
        "secret": "not-the-secret-" + "x" * 28,
    }


def _named_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":  # Django's own admin site
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_the_table_lists_every_url_of_the_app():
    assert set(_named_patterns()) == set(ACCESS)


@pytest.fixture
def integrations(db):
    a = default_integration()
    a.name = A_NAME
    a.save()
    return {"a": a, "b": Integration.objects.create(name="Bravo Client")}


@pytest.fixture
def personas(integrations, django_user_model):
    return {
        "anonymous": None,
        "norole": make_user("nora"),
        "user": make_user("uma", role=Role.USER),
        "leadsonly": make_user("lena", role=Role.USER, entity_access=("lead",)),
        "admin": make_user("adam", role=Role.ADMINISTRATOR),
        "other": make_user("otto", role=Role.ADMINISTRATOR, integration=integrations["b"]),
        "superuser": django_user_model.objects.create_superuser("sue", "sue@example.com", "pw"),
    }


def login_asking_for_a(client, user, integrations) -> None:
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = integrations["a"].pk
    session.save()


@pytest.mark.parametrize("name", sorted(ACCESS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_each_persona_as_expected(
    client, personas, integrations, monkeypatch, name, persona
):
    monkeypatch.setattr(health, "health_report", lambda **kw: (True, {"status": "ok"}))
    args, expected = ACCESS[name]
    values = url_arguments(user_pk=personas["norole"].pk)
    url = reverse(name, args=[values[a] for a in args])
    if personas[persona] is not None:
        login_asking_for_a(client, personas[persona], integrations)

    response = client.get(url)

    want = expected[persona]
    if want == LOGIN:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    else:
        assert response.status_code == want, f"{persona} GET {url}"
    if persona == "other" and response.status_code == 200:
        assert A_NAME not in response.content.decode(), f"{url} shows integration A to B's admin"


def test_another_integrations_administrator_changes_nothing_of_it(client, personas, integrations):
    login_asking_for_a(client, personas["other"], integrations)
    uma = personas["user"]

    switched = client.post(reverse("integrations:switch"), {"integration": integrations["a"].pk})
    promoted = client.post(
        reverse("users:change_role", args=[uma.pk]), {"role": Role.ADMINISTRATOR.value}
    )
    removed = client.post(reverse("users:remove", args=[uma.pk]))
    added = client.post(
        reverse("users:add"),
        {"source": "local", "key": uma.pk, "name": "Uma", "role": Role.USER.value},
    )
    settings_page = client.get(reverse("integrations:settings"))

    assert switched.status_code == 302  # refused with the same words as a deleted one
    assert promoted.status_code == 404 and removed.status_code == 404
    assert added.status_code == 302  # refused with a message: Uma is not someone otto may see
    assert settings_page.context["integration"] == integrations["b"]
    from users.services import user_role

    assert user_role(user=uma, integration=integrations["a"]) == Role.USER
    assert user_role(user=uma, integration=integrations["b"]) is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_webhook_endpoint_answers_404_to_a_wrong_secret_and_stores_nothing(
    client, personas, integrations, persona
):
    from sync.models import WebhookDelivery
    from sync.webhooks.services import webhook_secret_rotate

    right = webhook_secret_rotate(integration=integrations["a"])
    webhook_secret_rotate(integration=integrations["b"])
    if personas[persona] is not None:
        login_asking_for_a(client, personas[persona], integrations)
    body = "type=update&contact%5Bid%5D=1&contact%5Bemail%5D=ana%40contoso.example"

    for secret in ("wrong", right[:-1], right + "x", right.upper()):
        url = reverse("hook_activecampaign", args=[secret])
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 404, secret

    assert not WebhookDelivery.objects.exists()
