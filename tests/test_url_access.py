"""Every URL of the app, for every persona: later issues add their URLs to ACCESS."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from syncadmin import health
from tests.personas import make_user
from users.roles import Role

LOGIN = "login"  # redirected to the login page
PERSONAS = ("anonymous", "norole", "user", "admin")


def everyone(status):
    return dict.fromkeys(PERSONAS, status)


def admins_only(admin_status=200):
    return {"anonymous": LOGIN, "norole": 403, "user": 403, "admin": admin_status}


def logged_in(status=200):
    return {"anonymous": LOGIN, "norole": status, "user": status, "admin": status}


# URL name -> (args, expected per persona). A GET to each; POST-only views answer 405 to a GET
# from someone allowed past the access check.
ACCESS = {
    "dashboard": ((), logged_in()),
    "healthz": ((), everyone(200)),
    "login": ((), {"anonymous": 200, "norole": 302, "user": 302, "admin": 302}),
    "logout": ((), everyone(405)),
    "password_change": ((), logged_in()),
    "integrations:settings": ((), admins_only()),
    "integrations:add": ((), admins_only()),
    "integrations:switch": ((), admins_only(405)),
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
def personas(db):
    return {
        "anonymous": None,
        "norole": make_user("nora"),
        "user": make_user("uma", role=Role.USER),
        "admin": make_user("adam", role=Role.ADMINISTRATOR),
    }


@pytest.mark.parametrize("name", sorted(ACCESS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_each_persona_as_expected(client, personas, monkeypatch, name, persona):
    monkeypatch.setattr(health, "health_report", lambda **kw: (True, {"status": "ok"}))
    args, expected = ACCESS[name]
    values = {"user_pk": personas["norole"].pk, "entity": "lead", "run_pk": 1}
    url = reverse(name, args=[values[a] for a in args])
    if personas[persona] is not None:
        client.force_login(personas[persona])

    response = client.get(url)

    want = expected[persona]
    if want == LOGIN:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    else:
        assert response.status_code == want, f"{persona} GET {url}"
