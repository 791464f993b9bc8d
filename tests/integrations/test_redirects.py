"""Every `next` stays on this site: a foreign one falls back to the page's default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Integration
from mapping import services as mapping_services

pytestmark = pytest.mark.django_db

FOREIGN = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "http:evil.example",
    "https:\\\\evil.example",
    "javascript:alert(1)",
    " https://evil.example",
]


@pytest.mark.parametrize("next_url", FOREIGN)
def test_switching_integration_ignores_a_foreign_next(client, admin_user, next_url):
    client.force_login(admin_user)
    first = Integration.objects.get()

    response = client.post(
        reverse("integrations:switch"), {"integration": first.pk, "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_switching_integration_follows_a_next_on_this_site(client, admin_user):
    client.force_login(admin_user)
    first = Integration.objects.get()

    response = client.post(
        reverse("integrations:switch"), {"integration": first.pk, "next": "/settings/"}
    )

    assert response["Location"] == "/settings/"


@pytest.mark.parametrize("picked", ["", "abc", "1" * 40, "-1", "999999", "\u0661"])
def test_switching_to_an_integration_that_is_not_there_is_a_message(client, admin_user, picked):
    client.force_login(admin_user)

    response = client.post(
        reverse("integrations:switch"), {"integration": picked, "next": "/settings/"}, follow=True
    )

    assert response.status_code == 200
    assert "That integration does not exist" in response.content.decode()


@pytest.mark.parametrize("next_url", FOREIGN)
def test_refreshing_fields_ignores_a_foreign_next(client, admin_user, monkeypatch, next_url):
    monkeypatch.setattr(mapping_services, "metadata_refresh", lambda **kw: None)
    client.force_login(admin_user)

    response = client.post(reverse("mapping:refresh"), {"next": next_url})

    assert response["Location"] == reverse("mapping:configuration")


def test_refreshing_fields_returns_to_the_page_it_came_from(client, admin_user, monkeypatch):
    monkeypatch.setattr(mapping_services, "metadata_refresh", lambda **kw: None)
    client.force_login(admin_user)
    back = reverse("mapping:entity", args=["lead"])

    response = client.post(reverse("mapping:refresh"), {"next": back})

    assert response["Location"] == back


@pytest.mark.parametrize("next_url", FOREIGN)
def test_logging_in_ignores_a_foreign_next(client, admin_user, password, next_url):
    response = client.post(
        reverse("login"),
        {"username": admin_user.username, "password": password, "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


@pytest.mark.parametrize("next_url", ["dashboard", "{{ 7*7 }}", "/settings/\r\nX: y", "/a b"])
def test_a_next_that_is_not_a_path_falls_back(client, admin_user, next_url):
    client.force_login(admin_user)
    first = Integration.objects.get()

    response = client.post(
        reverse("integrations:switch"), {"integration": first.pk, "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
