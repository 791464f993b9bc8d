"""A sync on a real worker, as operations see it: /metrics moves, the worker's JSON log lines
carry the integration and run ids, and no secret is written even at DEBUG."""

from __future__ import annotations

import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sync.models import SyncRun
from sync.services import run_start
from tests.sync.conftest import lean_configuration

pytestmark = [
    pytest.mark.integration,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_a_sync_on_a_worker_moves_the_metrics_and_logs_its_ids_without_secrets(
    client, sides, sync_integration, workers
):
    lean_configuration(sync_integration)
    seeded = sides.dv_app.seed(6)
    before = scrape(client)
    workers.env.update({"SYNCADMIN_LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"})
    workers.start()

    run = run_start(integration=sync_integration, trigger=SyncRun.Trigger.INITIAL)
    deadline = time.monotonic() + 180
    while SyncRun.objects.get(pk=run.pk).is_active:
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.25)
    run.refresh_from_db()
    after = scrape(client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    i = str(sync_integration.pk)

    def moved(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("syncadmin_sync_runs_total", integration=i, trigger="initial", status="succeeded")
    for entity, n in (("contact", seeded["contacts"]), ("lead", seeded["leads"])):
        labels = {"integration": i, "entity": entity, "direction": "push"}
        assert moved("syncadmin_sync_records_total", **labels, outcome="created") == n
    assert after[("syncadmin_sync_last_success_age_seconds", frozenset({("integration", i)}))] < 180
    # The calls were made by the worker process; this one made none between the scrapes.
    for vendor in ("activecampaign", "dynamics"):
        assert moved("syncadmin_api_requests_total", vendor=vendor, status="2xx") > 0
    # The worker's log: JSON lines; those about the run carry its ids and the task's.
    text = "\n".join(p.read_text() for p in workers.tmp_path.glob("worker-*.log"))
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    about_run = [line for line in lines if line.get("run") == run.pk]
    assert {line["integration"] for line in about_run} == {sync_integration.pk}
    assert {line["service"] for line in about_run} == {"worker"}
    assert {"sync.run_advance", "sync.unit_run"} <= {line.get("task") for line in about_run}
    assert any(line["logger"] == "connectors.http" for line in about_run)  # DEBUG: each call
    assert any(line["message"] == f"sync run {run.pk} succeeded" for line in about_run)
    assert not [line for line in lines if line.get("run") and line.get("task") is None]
    config = sync_integration.dynamics_config()
    for secret in (sync_integration.activecampaign_config().api_key, config.client_secret):
        assert secret and secret not in text
