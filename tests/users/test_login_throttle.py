"""Login throttling: failed logins lock one username from one client address for a while."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

WRONG = "not the password"


def attempt(client, username: str, password: str, *, address: str, forwarded: str = ""):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def fail_until_locked(client, username: str, *, address: str, forwarded: str = "", limit=5):
    for _ in range(limit):
        response = attempt(client, username, WRONG, address=address, forwarded=forwarded)
        assert response.status_code in (200, 429)


def test_it_locks_a_username_after_repeated_failures_from_one_address(
    client, admin_user, password, settings
):
    fail_until_locked(client, "alice", address="198.51.100.7", limit=settings.AXES_FAILURE_LIMIT)

    # Even the right password is refused now, with a page that says why and for how long.
    response = attempt(client, "alice", password, address="198.51.100.7")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert "Try again in 15 minutes" in html
    assert client.get(reverse("dashboard")).status_code == 302  # not logged in


def test_the_lockout_does_not_lock_the_user_out_from_elsewhere(client, admin_user, password):
    fail_until_locked(client, "alice", address="198.51.100.7")

    # The same account from another address, and another account from the locked address.
    elsewhere = attempt(client, "alice", password, address="203.0.113.20")

    assert elsewhere.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    client.logout()
    assert attempt(client, "bob", WRONG, address="198.51.100.7").status_code == 200


def test_the_lockout_ends_after_the_cool_off(client, admin_user, password):
    fail_until_locked(client, "alice", address="198.51.100.7")
    assert attempt(client, "alice", password, address="198.51.100.7").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert attempt(client, "alice", password, address="198.51.100.7").status_code == 302


def test_it_logs_a_successful_login(client, admin_user, password, caplog):
    with caplog.at_level(logging.INFO, logger="syncadmin.login"):
        response = attempt(client, "alice", password, address="203.0.113.20")

    assert response.status_code == 302
    assert "login: alice signed in from 203.0.113.20" in caplog.text
    assert AccessLog.objects.filter(username="alice", ip_address="203.0.113.20").exists()
    assert password not in caplog.text


def test_behind_the_proxy_it_locks_the_client_address_the_proxy_saw(
    client, admin_user, password, settings
):
    settings.SYNCADMIN_TRUSTED_PROXY_COUNT = 1
    proxy = "172.18.0.5"
    # The attacker also writes X-Forwarded-For entries of its own: only the proxy's is trusted.
    for spoofed in ("10.9.9.1", "10.9.9.2", "10.9.9.3", "10.9.9.4", "10.9.9.5"):
        attempt(client, "alice", WRONG, address=proxy, forwarded=f"{spoofed}, 198.51.100.7")

    locked = attempt(client, "alice", password, address=proxy, forwarded="198.51.100.7")
    other_client = attempt(client, "alice", password, address=proxy, forwarded="203.0.113.20")

    assert locked.status_code == 429
    assert other_client.status_code == 302


def test_an_outsized_username_is_refused_like_any_wrong_one(client, settings):
    # Found by the form fuzz test: a 300-character username overflowed axes' column (a 500).
    long_name = "a" * 300

    limit = settings.AXES_FAILURE_LIMIT
    responses = [attempt(client, long_name, WRONG, address="198.51.100.9") for _ in range(limit)]

    # Counted like any wrong login: refused with the form, then locked at the limit.
    assert [r.status_code for r in responses] == [200] * (limit - 1) + [429]
    assert AccessAttempt.objects.get().username == "a" * 150
