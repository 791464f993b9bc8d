"""The embedded default: one machine, SQLite and no servers needed (see README)."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import VAR_DIR, env
from .keys import local_secret

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Locally generated once and kept under ./var/, never a fixed default.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret(
    VAR_DIR / "secret_key", "django"
)
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[]) or [
    local_secret(VAR_DIR / "field_encryption_key", "fernet")
]
# The sandboxes listen on plain-HTTP localhost ports.
SYNCADMIN_ALLOW_LOCAL_URLS = env.bool("SYNCADMIN_ALLOW_LOCAL_URLS", default=True)
# The CA bundle the sandboxes write (manage.py runapp and manage.py sandbox both put it here):
# trusted only by a connector whose every endpoint is on this machine (connectors.local_tls).
CONNECTOR_LOCAL_CA_BUNDLE = env.str(
    "SYNCADMIN_LOCAL_CA_BUNDLE", default=str(VAR_DIR / "sandbox" / "tls" / "sandbox-ca-bundle.pem")
)
