"""Settings shared by every environment, read through one environ.Env()."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import django
import environ
from django.core.exceptions import ImproperlyConfigured

from observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file next to manage.py is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where the embedded default keeps its SQLite file, broker queue and generated keys.
VAR_DIR = Path(env.str("SYNCADMIN_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "bootstrap",
    "axes",
    "syncadmin",
    "users",
    "integrations",
    "connectors",
    "mapping",
    "sync",
    "records",
]

MIDDLEWARE = [
    "syncadmin.middleware.LogScopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /readyz before the host check (orchestrators probe the container's address).
    "syncadmin.middleware.ReadinessProbeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of each response: the language cookie (the top bar's choice), else the
    # browser's Accept-Language, else LANGUAGE_CODE (https://docs.djangoproject.com/en/stable/topics/i18n/translation/#how-django-discovers-language-preference).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "users.middleware.PasswordChangeRequiredMiddleware",
    # A logged-in user's own language choice (their profile) over the browser's.
    "users.middleware.UserLanguageMiddleware",
    "integrations.middleware.SecretsUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as its documentation asks: it answers a locked-out login before the view runs.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes, https://django-axes.readthedocs.io/en/latest/4_configuration.html):
# after AXES_FAILURE_LIMIT failed logins for one username from one client address, that pair is
# refused for AXES_COOLOFF_TIME. Locking on the pair (not the username alone) means nobody can
# lock an administrator out from everywhere by typing wrong passwords for their name.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("SYNCADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SYNCADMIN_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "users.throttle.lockout_response"
# The client address comes from REMOTE_ADDR, or from X-Forwarded-For as written by the
# SYNCADMIN_TRUSTED_PROXY_COUNT reverse proxies in front of the app (users/throttle.py).
AXES_CLIENT_IP_CALLABLE = "users.throttle.client_ip"
AXES_USERNAME_CALLABLE = "users.throttle.username"
SYNCADMIN_TRUSTED_PROXY_COUNT = env.int("SYNCADMIN_TRUSTED_PROXY_COUNT", default=0)

ROOT_URLCONF = "syncadmin.urls"
WSGI_APPLICATION = "syncadmin.wsgi.application"
ASGI_APPLICATION = "syncadmin.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "syncadmin.context_processors.navigation",
                "integrations.context_processors.current_integration",
            ],
        },
    },
]

# Embedded default: SQLite under ./var/. DATABASE_URL (e.g. postgres://…) switches to PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'syncadmin.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside the one writer, and
    # IMMEDIATE transactions make writers queue (up to the timeout) instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# English is the source language and the default; Spanish comes from locale/es (the vendor's
# guide is published in Spanish). `make messages` extracts the strings, `make install` and the
# test session compile them (the .mo files are build output, not committed).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The top bar's language choice (syncadmin.views.set_language) lasts a year in this browser.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Browser security headers ------------------------------------------------------------------
# Content-Security-Policy on every response: scripts, styles, fonts and images come from this
# site only, nothing inline (every script is a file under static/), no plugins, no framing.
# Bootstrap's CSS draws its form icons as data: SVG images, hence img-src data:.
CSP_DIRECTIVES: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
_AFTER_SECURITY = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
if django.VERSION >= (6, 0):
    # Django's own CSP support (https://docs.djangoproject.com/en/6.0/ref/csp/).
    MIDDLEWARE.insert(_AFTER_SECURITY, "django.middleware.csp.ContentSecurityPolicyMiddleware")
    SECURE_CSP = CSP_DIRECTIVES
else:  # Django 5.2 (Python 3.11): django-csp 4 (https://django-csp.readthedocs.io/).
    if importlib.util.find_spec("csp") is None:
        raise ImproperlyConfigured("Django 5.2 needs django-csp: pip install 'django-csp>=4,<5'")
    INSTALLED_APPS.append("csp")
    MIDDLEWARE.insert(_AFTER_SECURITY, "csp.middleware.CSPMiddleware")
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Redis / Celery -------------------------------------------------------------------------
# With REDIS_URL set, Redis is the broker, the result store and the shared rate-limit store.
# Without it the embedded default needs no server: a file-system broker and result store
# under ./var/celery (fine for one machine; production sets REDIS_URL).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{CELERY_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        # Exchange bindings; kombu's default is ./control in whatever directory a process runs.
        "control_folder": str(CELERY_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    for _folder in ("queue", "processed", "results", "control"):
        (CELERY_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# django-celery-beat's database scheduler, which also writes beat's heartbeat.
CELERY_BEAT_SCHEDULER = "syncadmin.beat:HeartbeatScheduler"

# The worker and beat write a heartbeat this often (seconds); /healthz and the dashboard call a
# process stopped when its last heartbeat is older than SYNCADMIN_HEARTBEAT_STALE_AFTER.
SYNCADMIN_HEARTBEAT_INTERVAL = env.float("SYNCADMIN_HEARTBEAT_INTERVAL", default=15.0)
SYNCADMIN_HEARTBEAT_STALE_AFTER = env.float("SYNCADMIN_HEARTBEAT_STALE_AFTER", default=60.0)

# The sync engine (sync.services): how long a worker's claim on a run or a work unit lasts
# without a sign of life before another worker takes over, and how far back an
# ActiveCampaign read overlaps the last one (minutes).
SYNC_LEASE_SECONDS = env.float("SYNC_LEASE_SECONDS", default=120.0)
SYNC_AC_OVERLAP_MINUTES = env.float("SYNC_AC_OVERLAP_MINUTES", default=10.0)
# ActiveCampaign webhook deliveries accepted per integration and minute (more get 429 and
# Retry-After). A new contact costs 5 Dataverse requests (an update 4): at 60 a minute a flood
# takes at most a quarter of Dataverse's 6,000 requests per 5 minutes, leaving the sync the rest
# (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
SYNC_WEBHOOK_RATE_PER_MINUTE = env.int("SYNC_WEBHOOK_RATE_PER_MINUTE", default=60)
# Processed webhook deliveries are deleted after this many days (failed ones are kept).
SYNC_WEBHOOK_KEEP_DAYS = env.int("SYNC_WEBHOOK_KEEP_DAYS", default=30)

# /metrics (syncadmin/metrics.py) is open to whoever reaches the service; with a token set,
# only to `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: …}`).
SYNCADMIN_METRICS_TOKEN = env.str("SYNCADMIN_METRICS_TOKEN", default="")

# Cache: Redis when configured (shared by every process), else the database.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Secrets at rest ---------------------------------------------------------------------------
# Fernet keys, comma-separated: the first encrypts, all decrypt (rotation). See users/crypto.py.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])

# Outbound vendor HTTP (connectors.http): timeouts always; an extra CA bundle when a TLS proxy
# (or the local sandboxes) needs one.
CONNECTOR_CONNECT_TIMEOUT = env.float("CONNECTOR_CONNECT_TIMEOUT", default=5.0)
CONNECTOR_READ_TIMEOUT = env.float("CONNECTOR_READ_TIMEOUT", default=60.0)
CONNECTOR_CA_BUNDLE = env.str("SYNCADMIN_CA_BUNDLE", default="")

# Connection URLs may point at plain-HTTP local hosts only when this is on (the sandboxes).
SYNCADMIN_ALLOW_LOCAL_URLS = env.bool("SYNCADMIN_ALLOW_LOCAL_URLS", default=False)

# Logs (observability/logs.py): readable lines by default, one JSON object per line with
# SYNCADMIN_LOG_FORMAT=json (the production default); either way every line carries the ids of
# the integration, run and record it is about, where known.
SYNCADMIN_LOG_FORMAT = env.str("SYNCADMIN_LOG_FORMAT", default="console")
LOGGING = logging_config(
    log_format=SYNCADMIN_LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO")
)
