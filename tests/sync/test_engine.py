"""The engine end to end against both sandboxes, inline (no worker): initial sync, no echo,
two-way changes, conflicts, deletions."""

from __future__ import annotations

import pytest

from sync.models import RecordLink, SyncRun
from sync.services import run_inline, run_start
from tests.sync.conftest import duplicates

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _run(integration, trigger=SyncRun.Trigger.MANUAL, **kwargs) -> SyncRun:
    run = run_start(integration=integration, trigger=trigger, enqueue=False, **kwargs)
    run = run_inline(run=run)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    return run


def test_it_pushes_every_person_and_account_then_a_second_run_writes_nothing(
    sides, sync_integration
):
    seeded = sides.dv_app.seed(40)
    initial = _run(sync_integration, SyncRun.Trigger.INITIAL)
    contacts = sides.ac_contacts()
    emails = [c.email.lower() for c in contacts]
    dv_emails = {
        r.text("emailaddress1").lower()
        for table in ("contact", "lead")
        for r in sides.dv_rows(table)
    }
    assert set(emails) == dv_emails and not duplicates(emails)
    assert initial.counts["contact"]["push"]["created"] == seeded["contacts"]
    assert initial.counts["lead"]["push"]["created"] == seeded["leads"]
    assert (
        RecordLink.objects.filter(state=RecordLink.State.LINKED, entity="contact").count()
        == seeded["contacts"]
    )
    mark = sides.log_mark()
    second = _run(sync_integration)
    assert sides.writes(mark) == {"activecampaign": [], "dynamics": []}
    assert not second.records.filter(outcome="failed").exists()
