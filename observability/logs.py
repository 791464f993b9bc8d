"""Logs: which integration, run and record a line is about, as text or as JSON lines.

Every process (gunicorn, the Celery worker and beat, management commands) logs through the
standard `logging` module, configured from `settings.LOGGING` (built by `logging_config`).
Two formats, chosen by the SYNCADMIN_LOG_FORMAT setting:

- "console" (the default for `make run` and development): one readable line,
  `2026-01-02 10:00:00,123 INFO sync.services run 7 stopped: … [integration=1 run=7]`;
- "json" (the production default): one JSON object per line, from python-json-logger
  (https://nhairs.github.io/python-json-logger/), with `time`, `level`, `logger`, `message`,
  `service` (web, worker, beat or command) and the ids known where the line was written.

The ids come from a context that the code doing the work sets once, around it:

    with log_context(integration=run.integration_id, run=run.pk):
        ...  # every line logged here, in any module, carries both ids

It lives in a `contextvars.ContextVar`, so threads (gunicorn's gthread workers) and Celery
tasks each see their own. Celery tasks also get `task` and `task_id` (syncadmin.celery).

Secrets: the connectors never put one in a message (connectors/http.py redacts what the
vendors echo back); as a second line of defence every formatted line passes `redact`, which
masks the values of authorization headers, bearer tokens, API keys, passwords and client
secrets that a third-party library might write.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# The context's keys, in the order a console line shows them.
CONTEXT_KEYS = ("integration", "run", "unit", "record", "entity", "task", "task_id")

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "syncadmin_log_context", default=MappingProxyType({})
)
# web, worker, beat, or command (management commands and anything else): set once per process.
_service = "command"


def set_service(name: str) -> None:
    """Name this process's part in every line it logs (web, worker, beat, command)."""
    global _service
    _service = name


def service() -> str:
    return _service


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Every line logged inside carries these ids (None values are left out).

    Nested contexts add to the outer one; on leaving, the outer one is back.
    """
    token = bind(**ids)
    try:
        yield
    finally:
        _context.reset(token)


def bind(**ids: Any) -> contextvars.Token:
    """Add ids to the current context; `unbind(token)` undoes it (for signal pairs)."""
    unknown = set(ids) - set(CONTEXT_KEYS)
    if unknown:
        raise TypeError(f"unknown log context keys: {', '.join(sorted(unknown))}")
    merged = {**_context.get(), **{key: value for key, value in ids.items() if value is not None}}
    return _context.set(MappingProxyType(merged))


def unbind(token: contextvars.Token) -> None:
    try:
        _context.reset(token)
    except ValueError:  # set in another context (a signal from another thread): clear instead
        _context.set(MappingProxyType({}))


def current_context() -> dict[str, Any]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the current context's ids and the service name on every record (handler filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        if not hasattr(record, "service"):
            record.service = _service
        return True


# -- redaction ------------------------------------------------------------------------------------
# `name: value`, `name=value`, `"name": "value"`: the value is masked up to a delimiter that
# JSON and query strings use, so a redacted JSON line stays valid JSON.
_SECRET_NAMES = "|".join(  # the names of secrets, not one
    (
        "authorization",
        "api[-_]?token",
        "api[-_]?key",
        "apikey",
        "client[-_]?secret",
        "password",
        "passwd",
        "secret",
        "access[-_]?token",
        "refresh[-_]?token",
        "id[-_]?token",
        "client[-_]?assertion",
    )
)
_NAMED_SECRET = re.compile(
    rf"""(?P<name>["']?\b(?:{_SECRET_NAMES})\b["']?\s*[:=]\s*["']?)"""
    rf"""(?:(?:bearer|basic)\s+)?(?P<value>[^\s"'&,;}}\\]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(?P<name>bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)
_SECRET_KEY = re.compile(_SECRET_NAMES, re.IGNORECASE)
# An inbound webhook's URL is its secret (/hooks/<vendor>/<secret>/): access lines and
# Django's "Bad Request: <path>" would otherwise write it.
_HOOK_PATH = re.compile(r"(?P<name>/hooks/[A-Za-z0-9_-]+/)(?P<value>[^/\s\"'?&#]+)")
MASK = "***"


def redact(text: str) -> str:
    """Mask the values of named secrets, bearer tokens and webhook URLs in a log line."""
    text = _NAMED_SECRET.sub(lambda m: m.group("name") + MASK, text)
    text = _HOOK_PATH.sub(lambda m: m.group("name") + MASK, text)
    return _BEARER.sub(lambda m: m.group("name") + MASK, text)


# -- formatters -----------------------------------------------------------------------------------


class ConsoleFormatter(logging.Formatter):
    """A readable line, the context's ids at its end: `… [integration=1 run=7]`."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", datefmt)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{key}={getattr(record, key)}" for key in CONTEXT_KEYS if hasattr(record, key)]
        if ids:
            first, newline, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{first} [{' '.join(ids)}]{newline}{rest}"
        return redact(line)


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, service, the context's ids."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__("%(levelname)s %(name)s %(message)s", **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            # gunicorn's access line as fields too (its atoms:
            # https://docs.gunicorn.org/en/stable/settings.html#access-log-format).
            atoms = record.args
            log_data["http"] = {
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "status": _int_or_none(atoms.get("s")),
                "duration_ms": _int_or_none(atoms.get("M")),
                "remote": atoms.get("h"),
            }

    def process_log_record(self, log_data: dict) -> dict:
        # Redacted before serialising (the masks cannot break the JSON); the time first.
        data = _redacted(log_data)
        return {"time": data.pop("time", None), **data}


def _redacted(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEY.fullmatch(key):
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- configuration --------------------------------------------------------------------------------

FORMATS = ("console", "json")


def logging_config(*, log_format: str = "console", level: str = "INFO") -> dict:
    """The `LOGGING` dict (logging.config.dictConfig) of every process, in one of FORMATS.

    gunicorn's own loggers go through the same handler (its master applies this dict as
    `logconfig_dict`, see syncadmin/gunicorn.py); Celery keeps it too (syncadmin.celery
    answers Celery's setup_logging signal, so Celery does not replace the root handler).
    """
    if log_format not in FORMATS:
        raise ImproperlyConfigured(
            f"SYNCADMIN_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}"
        )
    formatter = "json" if log_format == "json" else "console"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "observability.logs.ContextFilter"}},
        "formatters": {
            "console": {"()": "observability.logs.ConsoleFormatter"},
            "json": {"()": "observability.logs.JsonFormatter"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["context"],
            },
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # gunicorn gives its loggers handlers of their own; these lines hand them to root.
            "gunicorn.error": {"handlers": [], "propagate": True, "level": "INFO"},
            "gunicorn.access": {"handlers": [], "propagate": True, "level": "INFO"},
        },
    }
