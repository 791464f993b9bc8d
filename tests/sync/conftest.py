"""The sync engine against both sandboxes: helpers to arrange data and read what each holds."""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox.core import LogEntry


@pytest.fixture
def sync_integration(connected_integration, settings):
    """The connected Default integration with the default data configuration, field lists
    read from the sandboxes, and global sync on (not yet initially synced)."""
    from mapping.services import entity_syncs_ensure, metadata_refresh
    from sync.models import SyncSettings

    settings.SYNC_IMPORT_POLL_SECONDS = 0.2
    # The sandbox account is this app's alone: its whole 5 requests/second.
    connected_integration.ac_budget_share = 100
    connected_integration.save(update_fields=["ac_budget_share"])
    metadata_refresh(integration=connected_integration)
    entity_syncs_ensure(integration=connected_integration)
    SyncSettings.objects.get_or_create(integration=connected_integration)
    return connected_integration


class Sides:
    """What both sandboxes hold and were asked, read through the vendors' APIs."""

    def __init__(self, sandboxes, integration) -> None:
        from connectors.activecampaign.client import ActiveCampaignClient
        from connectors.dynamics.client import DynamicsClient

        self.sandboxes = sandboxes
        self.ac = ActiveCampaignClient(integration.activecampaign_config())
        self.dv = DynamicsClient(integration.dynamics_config())

    @property
    def ac_app(self):
        return self.sandboxes.activecampaign_app

    @property
    def dv_app(self):
        return self.sandboxes.dataverse_app

    def log_mark(self) -> float:
        import time

        return time.time()

    def writes(self, since: float) -> dict[str, list[LogEntry]]:
        """Non-GET API requests each sandbox answered since `since` (reads excluded)."""
        ac = [
            e
            for e in self.ac_app.log.entries(path_prefix="/api/3/")
            if e.started >= since and e.method != "GET"
        ]
        dv = [
            e
            for e in self.dv_app.log.entries(path_prefix="/api/")
            if e.started >= since and e.method != "GET"
        ]
        return {"activecampaign": ac, "dynamics": dv}

    def dv_update(self, table: str, record_id: str, values: dict) -> None:
        from connectors.dynamics.records import RecordWrite

        [result] = self.dv.write([RecordWrite.update(table, record_id, values)])
        assert result.ok, result.error

    def dv_create(self, table: str, values: dict) -> str:
        from connectors.dynamics.records import RecordWrite

        [result] = self.dv.write([RecordWrite.create(table, values)])
        assert result.ok, result.error
        return result.id

    def dv_delete(self, table: str, record_id: str) -> None:
        from connectors.dynamics.records import RecordWrite

        [result] = self.dv.write([RecordWrite.delete(table, record_id)])
        assert result.ok, result.error

    def tags_of(self, contact_id: str) -> set[str]:
        names = {}
        for link in self.ac.tags.for_contact(contact_id):
            if link.tag_id not in names:
                names[link.tag_id] = self._tag_name(link.tag_id)
        return set(names.values())

    def _tag_name(self, tag_id: str) -> str:
        body = self.ac.http.request("GET", f"tags/{tag_id}").json()
        return body["tag"]["tag"]

    def ac_contacts(self) -> list:
        return list(self.ac.contacts.all())

    def dv_rows(self, table: str, columns=("emailaddress1", "firstname", "lastname")) -> list:
        return list(self.dv.rows(table, columns))


@pytest.fixture
def sides(sandboxes, sync_integration) -> Sides:
    return Sides(sandboxes, sync_integration)


def duplicates(values) -> list:
    return [value for value, n in Counter(values).items() if n > 1]


def lean_configuration(integration) -> None:
    """Contacts and leads only, without the job title (which ActiveCampaign keeps on the
    account link, one call per contact): the configuration of the big worker tests."""
    from mapping.models import EntitySync, FieldMapping

    EntitySync.objects.filter(integration=integration, entity="account").update(enabled=False)
    FieldMapping.objects.filter(entity_sync__integration=integration, ac_key="jobTitle").update(
        enabled=False
    )


class Workers:
    """Real Celery worker processes on this run's queue, started and killed at will."""

    def __init__(self, tmp_path, env: dict) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.processes: list = []

    def start(self):
        import os
        import subprocess
        import sys

        from django.conf import settings

        from tests.fixtures.celery_worker import ROOT

        index = len(self.processes)
        log = (self.tmp_path / f"worker-{index}.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "syncadmin",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--queues",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--hostname",
                f"sync-worker-{os.getpid()}-{index}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def kill(self, process) -> None:
        import signal

        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        import subprocess

        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.tmp_path.glob("worker-*.log")))


@pytest.fixture
def workers(transactional_db, tmp_path, settings):
    import os

    from tests.fixtures.celery_worker import _database_url

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the real-worker tests need the Redis broker")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "syncadmin.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "SYNC_LEASE_SECONDS": "4",
        "SYNCADMIN_CA_BUNDLE": settings.CONNECTOR_CA_BUNDLE or "",
    }
    running = Workers(tmp_path, env)
    try:
        yield running
    finally:
        running.stop()


def busiest_second(entries) -> int:
    """The most requests that arrived within any one second."""
    times = sorted(e.started for e in entries)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
