"""The embedded default: one machine, SQLite and no servers needed (see README)."""

from __future__ import annotations

import importlib.util

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR, env
from .keys import local_secret

# Off unless the developer asks for it (DJANGO_DEBUG=true): a debug page shows settings and
# request data to whoever triggers an error. Static files are served by WhiteNoise either way.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The vendor sandboxes (`manage.py sandbox`, started by `make run`) when their packages are
# installed: `pip install '.[sandbox]'` (part of `.[dev]`). Production never lists the app.
if importlib.util.find_spec("waitress") and importlib.util.find_spec("werkzeug"):
    INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
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
