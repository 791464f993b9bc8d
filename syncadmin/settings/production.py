"""Production: every secret comes from the environment and has no default."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env, logging_config

DEBUG = False
# No defaults: a missing one stops start-up with ImproperlyConfigured naming the variable.
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# Connectors never reach loopback addresses in production (the local sandboxes are for
# development and tests); no environment variable widens this.
SYNCADMIN_ALLOW_LOCAL_URLS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and the Prometheus scrape come over plain HTTP from inside the service's network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# The __Host- prefix makes browsers accept these cookies only over HTTPS, for this host alone
# (no Domain, Path=/): https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Behind the TLS proxy that SECURE_PROXY_SSL_HEADER trusts: the login throttle reads the client
# address from X-Forwarded-For as that many proxies wrote it (users/throttle.py).
SYNCADMIN_TRUSTED_PROXY_COUNT = env.int("SYNCADMIN_TRUSTED_PROXY_COUNT", default=1)

# One JSON object per log line for the log collector (observability/logs.py).
SYNCADMIN_LOG_FORMAT = env.str("SYNCADMIN_LOG_FORMAT", default="json")
LOGGING = logging_config(
    log_format=SYNCADMIN_LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO")
)
