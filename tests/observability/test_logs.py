"""Logs: JSON lines (production) or readable lines, with the ids of what a line is about."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from observability.logs import bind, current_context, log_context, logging_config, redact

AC_KEY = "ac-key-4f1b2c3d4e5f60718293a4b5c6d7e8f9"
CLIENT_SECRET = "dv~Secret.0123456789abcdefABCDEF"


@pytest.fixture
def configured(settings, capsys):
    """Configure logging as a process would (dictConfig), in one format; the lines it wrote."""

    def configure(log_format: str):
        logging.config.dictConfig(logging_config(log_format=log_format, level="DEBUG"))

        def lines() -> list[str]:
            return [line for line in capsys.readouterr().err.splitlines() if line.strip()]

        return lines

    yield configure
    logging.config.dictConfig(settings.LOGGING)


def test_it_writes_one_json_object_per_line_with_the_ids_of_the_work(configured):
    lines = configured("json")
    log = logging.getLogger("sync.engine")

    with log_context(integration=3, run=41):
        log.info("pushed %d contacts", 12)
        with log_context(record="0f8fad5b-d9cb-469f-a165-70867728950e", entity="contact"):
            log.warning("skipped: no e-mail")
        log.info("run done")
    log.info("outside")

    first, inner, after_inner, outside = (json.loads(line) for line in lines())
    assert first["message"] == "pushed 12 contacts"
    assert first["level"] == "INFO" and first["logger"] == "sync.engine"
    assert first["time"].endswith("+00:00") and next(iter(first)) == "time"
    assert (first["integration"], first["run"]) == (3, 41)
    assert first["service"] == "command"
    assert "record" not in first
    assert inner["record"] == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert (inner["integration"], inner["run"], inner["entity"]) == (3, 41, "contact")
    assert "record" not in after_inner and after_inner["run"] == 41
    assert not {"integration", "run", "record"} & set(outside)


def test_an_exception_is_one_json_line_with_its_traceback(configured):
    lines = configured("json")

    with log_context(run=7):
        try:
            raise RuntimeError("the batch broke")
        except RuntimeError:
            logging.getLogger("sync.services").exception("unit failed")

    [line] = lines()
    data = json.loads(line)
    assert data["level"] == "ERROR" and data["run"] == 7
    assert "RuntimeError: the batch broke" in data["exc_info"]


def test_console_lines_stay_readable_and_end_with_the_ids(configured):
    lines = configured("console")

    with log_context(integration=3, run=41):
        logging.getLogger("sync.engine").info("pushed %d contacts", 12)
    logging.getLogger("sync.engine").info("idle")

    with_ids, without = lines()
    assert with_ids.endswith("INFO sync.engine pushed 12 contacts [integration=3 run=41]")
    assert without.endswith("INFO sync.engine idle")


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_it_never_writes_a_secret_that_a_library_puts_in_a_line(configured, log_format):
    lines = configured(log_format)
    log = logging.getLogger("urllib3.connectionpool")

    log.debug("headers: {'Api-Token': '%s', 'Accept': 'application/json'}", AC_KEY)
    log.debug("POST /token body client_id=abc&client_secret=%s&grant_type=x", CLIENT_SECRET)
    log.debug("Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.payload.signature")
    log.info("saved", extra={"password": "hunter2-hunter2"})
    try:
        raise ValueError(f"api_key={AC_KEY}")
    except ValueError:
        log.exception("failed")

    text = "\n".join(lines())
    for secret in (AC_KEY, CLIENT_SECRET, "eyJ0eXAiOiJKV1QiLCJhbGciOi", "hunter2-hunter2"):
        assert secret not in text
    assert "application/json" in text  # the rest of the line is kept
    if log_format == "json":
        assert all(json.loads(line) for line in text.splitlines() if line.startswith("{"))


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_it_never_writes_the_secret_of_a_webhook_url(configured, log_format):
    lines = configured(log_format)
    secret = "k3Y-webhook_0123456789abcdefghijklmnopqrstu"

    logging.getLogger("django.request").warning("Bad Request: /hooks/activecampaign/%s/", secret)
    logging.getLogger("gunicorn.access").info(
        '"POST /hooks/activecampaign/%s/?entity=lead HTTP/1.1" 202', secret
    )

    text = "\n".join(lines())
    assert secret not in text
    assert "/hooks/activecampaign/***/?entity=lead" in text


def test_redaction_keeps_ordinary_words():
    line = "secrets rotated for 2 integrations; password change page shown; token bucket full"

    assert redact(line) == line


def test_it_refuses_an_unknown_format():
    with pytest.raises(ImproperlyConfigured, match="SYNCADMIN_LOG_FORMAT"):
        logging_config(log_format="xml")


def test_unknown_context_keys_are_refused_so_that_a_typo_shows():
    with pytest.raises(TypeError, match="integraton"):
        bind(integraton=1)


def test_ids_bound_while_answering_a_request_end_with_it(client, monkeypatch):
    seen = {}

    def readiness(**kwargs):
        bind(integration=5)
        seen["during"] = current_context()
        return True, {"status": "ready", "failing": []}

    monkeypatch.setattr("syncadmin.health.readiness_report", readiness)
    with override_settings(ALLOWED_HOSTS=["*"]):
        client.get("/readyz")

    assert seen["during"] == {"integration": 5}
    assert current_context() == {}


@pytest.mark.django_db
def test_a_single_record_sync_names_its_record_while_it_runs_and_not_after(monkeypatch):
    from integrations.models import Integration
    from sync.services import RunRefused, record_sync
    from tests.personas import default_integration

    integration = default_integration()
    integration.status = Integration.Status.CONNECTED
    record = "0f8fad5b-d9cb-469f-a165-70867728950e"
    seen = {}

    def settings_get(**kwargs):
        seen["during"] = current_context()
        raise RunRefused("stop here")

    monkeypatch.setattr("sync.services.sync_settings_get", settings_get)
    with pytest.raises(RunRefused):
        record_sync(integration=integration, entity="contact", dynamics_id=record)

    assert seen["during"] == {"integration": integration.pk, "entity": "contact", "record": record}
    assert current_context() == {}
