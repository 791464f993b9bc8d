from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from users.services import first_admin_ensure

pytestmark = pytest.mark.django_db


def test_it_generates_a_one_time_password_when_none_is_given():
    admin = first_admin_ensure(username="admin")

    assert admin.created
    assert admin.one_time_password and len(admin.one_time_password) >= 12
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser
    assert user.check_password(admin.one_time_password)


def test_it_never_reuses_a_fixed_password():
    first = first_admin_ensure(username="admin").one_time_password
    get_user_model().objects.all().delete()
    second = first_admin_ensure(username="admin").one_time_password

    assert first != second


def test_it_takes_the_password_from_the_environment_and_prints_none():
    admin = first_admin_ensure(username="root", password="from-the-env-123")

    assert admin.created and admin.one_time_password is None
    assert get_user_model().objects.get(username="root").check_password("from-the-env-123")


def test_it_does_nothing_when_an_admin_exists():
    first_admin_ensure(username="admin", password="x-first-password")

    again = first_admin_ensure(username="admin")

    assert not again.created and again.one_time_password is None
    assert get_user_model().objects.count() == 1


def test_it_makes_the_one_time_password_user_choose_a_new_one(client):
    admin = first_admin_ensure(username="admin")

    client.post(reverse("login"), {"username": "admin", "password": admin.one_time_password})
    assert client.get(reverse("dashboard"))["Location"] == reverse("password_change")

    response = client.post(
        reverse("password_change"),
        {
            "old_password": admin.one_time_password,
            "new_password1": "a-brand-new-long-password",
            "new_password2": "a-brand-new-long-password",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
