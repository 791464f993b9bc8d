"""Settings for the test suite: the same services as production when the env names them."""

from __future__ import annotations

import base64
import os

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, VAR_DIR, env

DEBUG = False
# The tests serve the vendor sandboxes (the `sandbox` extra, part of `.[dev]`).
INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105
FIELD_ENCRYPTION_KEY = [base64.urlsafe_b64encode(b"t" * 32).decode()]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SYNCADMIN_ALLOW_LOCAL_URLS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a real Celery worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# A queue of this test run's own, shared with the worker processes the tests start, so that
# another run (or a demo) on the same Redis never takes these tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default=f"test-{os.getpid()}")
# Worker processes started by the tests write their heartbeat every second.
SYNCADMIN_HEARTBEAT_INTERVAL = env.float("SYNCADMIN_HEARTBEAT_INTERVAL", default=1.0)
# WhiteNoise serves from STATIC_ROOT and warns when it does not exist; tests need no collectstatic.
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
