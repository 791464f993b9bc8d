"""gunicorn's settings for the web process (`gunicorn --config python:syncadmin.gunicorn_conf`).

gunicorn's own lines (the arbiter's, the access log) go through the project's logging
(settings.LOGGING, observability/logs.py): JSON in production, readable lines locally, each
with `service: web`. https://docs.gunicorn.org/en/stable/settings.html#logconfig-dict
"""

from __future__ import annotations

import os

from django.conf import settings

from observability.logs import set_service

# As syncadmin/wsgi.py; read when `settings.LOGGING` is first touched, below.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncadmin.settings.production")
set_service("web")  # the workers forked from this master inherit it
logconfig_dict = settings.LOGGING
