"""/metrics: runs and records from the database, vendor API calls from every process, the
queue, the optional bearer token; never an error page."""

from __future__ import annotations

import datetime as dt
import hmac

import pytest
import responses
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from connectors.errors import RetryableError
from connectors.http import ApiCall, VendorHttp, add_api_call_observer, remove_api_call_observer
from sync.models import SyncRun, WorkUnit
from syncadmin.celery import app as celery_app
from syncadmin.metrics import settled_runs
from tests.personas import default_integration

Samples = dict[tuple[str, frozenset], float]


def scrape(client, **headers) -> Samples:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def labelled(samples: Samples, name: str) -> list[dict]:
    return [dict(labels) for sample_name, labels in samples if sample_name == name]


def finished_run(integration, *, trigger, status, counts, ago_minutes) -> SyncRun:
    at = timezone.now() - dt.timedelta(minutes=ago_minutes)
    return SyncRun.objects.create(
        integration=integration,
        trigger=trigger,
        status=status,
        counts=counts,
        created_at=at,
        started_at=at,
        finished_at=at,
    )


# -- runs and records ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_counts_runs_and_records_by_outcome_and_the_age_of_the_last_success(client):
    integration = default_integration()
    i = str(integration.pk)
    before = scrape(client)
    finished_run(
        integration,
        trigger="initial",
        status="succeeded",
        counts={"contact": {"push": {"read": 10, "created": 8, "failed": 2}}},
        ago_minutes=90,
    )
    finished_run(
        integration,
        trigger="schedule",
        status="succeeded",
        counts={
            "contact": {"push": {"read": 3, "updated": 3}, "pull": {"read": 1, "conflicts": 1}},
            "lead": {"push": {"read": 4, "created": 4}},
        },
        ago_minutes=30,
    )
    finished_run(integration, trigger="schedule", status="failed", counts={}, ago_minutes=20)
    # A single-record sync later than both says nothing about the whole integration.
    finished_run(
        integration,
        trigger="record",
        status="succeeded",
        counts={"contact": {"push": {"read": 1, "updated": 1}}},
        ago_minutes=1,
    )
    # A run going on: its finished units count already.
    running = SyncRun.objects.create(integration=integration, trigger="manual", status="running")
    WorkUnit.objects.create(
        run=running,
        step=0,
        status="done",
        counts={"account": {"push": {"created": 5}}},
    )
    SyncRun.objects.create(integration=default_integration(), trigger="record", status="queued")
    settled_runs.forget()  # history written into the past after a scrape: count it all again

    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    runs = "syncadmin_sync_runs_total"
    assert moved(runs, integration=i, trigger="schedule", status="succeeded") == 1
    assert moved(runs, integration=i, trigger="schedule", status="failed") == 1
    assert moved(runs, integration=i, trigger="initial", status="succeeded") == 1
    assert moved(runs, integration=i, trigger="record", status="succeeded") == 1
    active = "syncadmin_sync_runs_active"
    assert value(after, active, integration=i, status="running") == 1
    assert value(after, active, integration=i, status="queued") == 1
    records = "syncadmin_sync_records_total"
    contact_push = {"integration": i, "entity": "contact", "direction": "push"}
    assert moved(records, **contact_push, outcome="created") == 8
    assert moved(records, **contact_push, outcome="updated") == 4
    assert moved(records, **contact_push, outcome="failed") == 2
    assert (
        moved(records, integration=i, entity="contact", direction="pull", outcome="conflicts") == 1
    )
    assert moved(records, integration=i, entity="lead", direction="push", outcome="created") == 4
    assert moved(records, integration=i, entity="account", direction="push", outcome="created") == 5
    assert moved("syncadmin_sync_records_read_total", **contact_push) == 14
    assert not [labels for labels in labelled(after, records) if labels["outcome"] == "read"]
    age = value(after, "syncadmin_sync_last_success_age_seconds", integration=i)
    assert 29 * 60 <= age <= 31 * 60
    stamp = value(after, "syncadmin_sync_last_success_timestamp_seconds", integration=i)
    assert abs(stamp - (timezone.now() - dt.timedelta(minutes=30)).timestamp()) < 60


@pytest.mark.django_db
def test_a_run_is_counted_once_as_it_settles_into_history(client, monkeypatch):
    integration = default_integration()
    labels = {"integration": str(integration.pk), "entity": "lead", "direction": "push"}
    settled_runs.forget()
    base = value(scrape(client), "syncadmin_sync_records_total", **labels, outcome="created")
    finished_run(
        integration,
        trigger="schedule",
        status="succeeded",
        counts={"lead": {"push": {"created": 7}}},
        ago_minutes=5,
    )
    seen = []
    for later in (0, 6, 60, 61):  # recent, then settled and summed once, then kept
        moment = timezone.now() + dt.timedelta(minutes=later)
        monkeypatch.setattr("syncadmin.metrics.timezone.now", lambda moment=moment: moment)
        samples = scrape(client)
        seen.append(value(samples, "syncadmin_sync_records_total", **labels, outcome="created"))

    assert [n - base for n in seen] == [7, 7, 7, 7]


@pytest.mark.django_db
def test_it_names_integrations_by_id_only(client):
    integration = default_integration()
    integration.name = "Alpha Confidential Ltd"
    integration.save()
    finished_run(integration, trigger="manual", status="succeeded", counts={}, ago_minutes=1)

    response = client.get("/metrics")

    assert b"Alpha Confidential" not in response.content
    assert f'integration="{integration.pk}"'.encode() in response.content


# -- API calls ----------------------------------------------------------------------------------


@pytest.mark.integration
def test_it_counts_api_calls_429s_and_latency_per_vendor(client, sandboxes, connected_integration):
    from connectors.activecampaign.client import ActiveCampaignClient
    from connectors.dynamics.client import DynamicsClient

    ac = ActiveCampaignClient(connected_integration.activecampaign_config())
    dynamics = DynamicsClient(connected_integration.dynamics_config())
    before = scrape(client)
    faults = sandboxes.activecampaign_app.faults
    faults.force_429, faults.force_429_retry_after = 1, 0

    ac.check()  # a 429 first, then the retry answers
    dynamics.check()

    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("syncadmin_api_rate_limited_total", vendor="activecampaign") == 1
    assert moved("syncadmin_api_requests_total", vendor="activecampaign", status="429") == 1
    assert moved("syncadmin_api_requests_total", vendor="activecampaign", status="2xx") >= 1
    assert moved("syncadmin_api_requests_total", vendor="dynamics", status="2xx") >= 1
    assert moved("syncadmin_api_rate_limited_total", vendor="dynamics") == 0
    for vendor in ("activecampaign", "dynamics"):
        calls = sum(
            moved("syncadmin_api_requests_total", vendor=vendor, status=status)
            for status in ("2xx", "3xx", "4xx", "429", "5xx", "error")
        )
        histogram = "syncadmin_api_request_duration_seconds"
        assert moved(f"{histogram}_count", vendor=vendor) == calls
        assert moved(f"{histogram}_bucket", vendor=vendor, le="+Inf") == calls
        assert moved(f"{histogram}_sum", vendor=vendor) > 0


@responses.activate
def test_the_http_layer_reports_every_attempt_and_ignores_a_failing_observer():
    seen: list[ApiCall] = []

    def broken(call: ApiCall) -> None:
        raise RuntimeError("observer bug")

    responses.get("https://api.example.com/x", status=503)
    responses.get("https://api.example.com/x", json={"ok": True})
    http = VendorHttp(
        vendor="example",
        base_url="https://api.example.com/",
        classify=lambda response: RetryableError("busy", vendor="example"),
        sleep=lambda seconds: None,
    )
    add_api_call_observer(broken)
    add_api_call_observer(seen.append)
    add_api_call_observer(seen.append)  # once, however often added
    try:
        response = http.request("GET", "x")
    finally:
        remove_api_call_observer(broken)
        remove_api_call_observer(seen.append)

    assert response.json() == {"ok": True}
    assert [(c.vendor, c.method, c.status) for c in seen] == [
        ("example", "GET", 503),
        ("example", "GET", 200),
    ]
    assert all(c.seconds >= 0 for c in seen)


# -- queue, broker and database -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_messages_waiting_in_the_task_queue(client, settings):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    before = value(scrape(client), "syncadmin_queue_messages", queue=queue)
    try:
        for _ in range(3):
            celery_app.send_task("syncadmin.no_worker_takes_this", queue=queue)

        after = value(scrape(client), "syncadmin_queue_messages", queue=queue)
    finally:
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)

    assert after - before == 3


@pytest.mark.django_db
def test_an_unreachable_broker_is_a_zero_not_an_error(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_read_url", "redis://127.0.0.1:1/0")

    samples = scrape(client)

    assert value(samples, "syncadmin_broker_up") == 0
    assert value(samples, "syncadmin_database_up") == 1
    assert not labelled(samples, "syncadmin_queue_messages")


def test_a_database_that_is_down_is_a_zero_not_an_error(client, database_down):
    with database_down():
        samples = scrape(client)

    assert value(samples, "syncadmin_database_up") == 0
    assert value(samples, "syncadmin_broker_up") == 1
    assert not labelled(samples, "syncadmin_sync_runs_total")


# -- the token ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_is_open_without_a_token_setting(client, settings):
    settings.SYNCADMIN_METRICS_TOKEN = ""

    assert value(scrape(client), "syncadmin_database_up") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-token",
        "Bearer s3cr3t-metrics-token-extra",
        "Basic czNjcjN0LW1ldHJpY3MtdG9rZW4=",
        "s3cr3t-metrics-token",
        "Bearer \u00e9\u00e8\u00ea",
        "Bearer ",
    ],
)
def test_with_a_token_it_refuses_any_other_answer(client, settings, authorization):
    settings.SYNCADMIN_METRICS_TOKEN = "s3cr3t-metrics-token"
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"syncadmin_" not in response.content


@pytest.mark.django_db
def test_with_a_token_it_answers_the_bearer_of_it(client, settings):
    settings.SYNCADMIN_METRICS_TOKEN = "s3cr3t-metrics-token"

    samples = scrape(client, HTTP_AUTHORIZATION="Bearer s3cr3t-metrics-token")
    lower_case_scheme = client.get("/metrics", HTTP_AUTHORIZATION="bearer s3cr3t-metrics-token")

    assert value(samples, "syncadmin_database_up") == 1
    assert lower_case_scheme.status_code == 200


@pytest.mark.django_db
def test_the_token_is_compared_in_constant_time(client, settings, monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("syncadmin.views.hmac.compare_digest", spy)
    settings.SYNCADMIN_METRICS_TOKEN = "s3cr3t-metrics-token"

    client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cr3t-metrics-tokeX")

    assert compared == [(b"s3cr3t-metrics-tokeX", b"s3cr3t-metrics-token")]


@pytest.mark.django_db
def test_it_answers_only_reads(client):
    assert client.post("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200


@pytest.mark.django_db
def test_it_speaks_openmetrics_to_a_scraper_that_asks(client):
    response = client.get(
        "/metrics", HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
    )

    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


@pytest.mark.django_db
def test_it_counts_the_webhook_deliveries_by_status(client):
    from sync.models import WebhookDelivery

    integration = default_integration()
    for n, status in enumerate(["done", "done", "failed", "queued"]):
        WebhookDelivery.objects.create(
            integration=integration,
            event="update",
            entity="contact",
            dedupe_key=str(n) * 64,
            status=status,
        )

    samples = scrape(client)

    name, i = "syncadmin_webhook_deliveries", str(integration.pk)
    assert value(samples, name, integration=i, status="done") == 2
    assert value(samples, name, integration=i, status="failed") == 1
    assert value(samples, name, integration=i, status="queued") == 1
