"""Production settings: `check --deploy` passes with the env set; missing secrets stop start-up."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "syncadmin.settings.production",
    "DJANGO_SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-key-value",
    "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
    "DJANGO_ALLOWED_HOSTS": "sync.example.com",
    "DATABASE_URL": "sqlite:////tmp/syncadmin-deploy-check.sqlite3",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DJANGO_SECRET_KEY",
            "FIELD_ENCRYPTION_KEY",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_the_required_env():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_it_refuses_to_start_without_a_secret(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_it_sends_cookies_only_over_https_in_production():
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.DEBUG, 'sandbox' in s.INSTALLED_APPS)"
    )

    result = manage("shell", "-c", script, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "True",
        "True",
        "True",
        "__Host-sessionid",
        "__Host-csrftoken",
        "False",
        "False",
    ]


@pytest.mark.parametrize(("asked", "debug"), [(None, "False"), ("true", "True")])
def test_the_local_settings_run_with_debug_off_unless_asked(tmp_path, asked, debug):
    env = {"DJANGO_SETTINGS_MODULE": "syncadmin.settings.local", "SYNCADMIN_VAR_DIR": str(tmp_path)}
    if asked:
        env["DJANGO_DEBUG"] = asked

    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=env
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == debug
