from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_dashboard_after_login(client, admin_user, password):
    response = client.post(
        reverse("login"), {"username": "alice", "password": password}, follow=True
    )

    assert response.status_code == 200
    assert b'<h1 class="h3 mb-4">Dashboard</h1>' in response.content


def test_it_links_only_pages_that_exist(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("dashboard"))

    nav = [item["label"] for item in response.context["navigation"]]
    assert nav[0] == "Dashboard"
    for item in response.context["navigation"]:
        assert client.get(item["url"]).status_code == 200, item


def test_it_marks_one_link_as_the_current_page(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("sync:history"))

    current = [item["url"] for item in response.context["navigation"] if item["active"]]
    assert current == [reverse("sync:history")]  # not Sync settings (/sync/) as well
    assert response.content.decode().count('aria-current="page"') == 1


def test_it_logs_out_on_post(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_it_serves_bootstrap_and_htmx_from_the_app(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("dashboard")).content.decode()

    assert "/static/bootstrap/css/bootstrap.min.css" in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "cdn" not in html.lower()
