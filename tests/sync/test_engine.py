"""The engine end to end against both sandboxes, inline (no worker): initial sync, no echo,
two-way changes, conflicts, deletions."""

from __future__ import annotations

import time

import pytest

from connectors.activecampaign.records import ContactChanges
from sync.models import Checkpoint, RecordLink, SyncRun
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
    seeded = sides.dv_app.seed(16)  # the default configuration: accounts, job titles
    # Person i is the same person in both sandboxes: most are in ActiveCampaign already.
    sides.ac_app.seed(16)
    already = {c.email.lower() for c in sides.ac_contacts()}
    initial = _run(sync_integration, SyncRun.Trigger.INITIAL)
    contacts = sides.ac_contacts()
    emails = [c.email.lower() for c in contacts]
    dv_emails = {
        r.text("emailaddress1").lower()
        for table in ("contact", "lead")
        for r in sides.dv_rows(table)
    }
    assert set(emails) == dv_emails | already and not duplicates(emails)
    counts = initial.counts
    linked = counts["contact"]["push"].get("linked", 0) + counts["lead"]["push"].get("linked", 0)
    assert linked == len(dv_emails & already) > 0  # existing contacts linked by e-mail
    assert counts["contact"]["push"]["read"] == seeded["contacts"]
    assert counts["lead"]["push"]["read"] == seeded["leads"]
    assert (
        RecordLink.objects.filter(state=RecordLink.State.LINKED, entity="contact").count()
        == seeded["contacts"]
    )
    # The next run reads ActiveCampaign from the initial sync's start on (nothing missed).
    bookmark = Checkpoint.objects.get(integration=sync_integration, source="ac_contact")
    assert bookmark.watermark == initial.started_at
    assert Checkpoint.objects.get(integration=sync_integration, source="contact").delta_link
    mark = sides.log_mark()
    second = _run(sync_integration)
    assert sides.writes(mark) == {"activecampaign": [], "dynamics": []}
    assert not second.records.filter(outcome="failed").exists()


def _by_email(contacts):
    return {c.email.lower(): c for c in contacts}


def test_it_syncs_changes_both_ways_with_conflicts_new_records_e_mail_changes_and_deletions(
    sides, sync_integration
):
    sides.dv_app.seed(16)
    _run(sync_integration, SyncRun.Trigger.INITIAL)
    dv_contacts = sides.dv_rows("contact")
    a, b, c, d, e = dv_contacts[:5]
    ac = _by_email(sides.ac_contacts())
    # Dynamics edits A; ActiveCampaign edits B; both edit C, ActiveCampaign last.
    sides.dv_update("contact", a.id, {"firstname": "Dina"})
    sides.dv_update("contact", c.id, {"firstname": "FromDynamics"})
    time.sleep(1.1)
    sides.ac.contacts.update(
        ac[b.text("emailaddress1").lower()].id, ContactChanges(first_name="Acey")
    )
    sides.ac.contacts.update(
        ac[c.text("emailaddress1").lower()].id, ContactChanges(first_name="FromAC")
    )
    # D's e-mail changes in Dynamics; E is deleted there.
    sides.dv_update("contact", d.id, {"emailaddress1": "new.address@example.org"})
    sides.dv_delete("contact", e.id)
    # A new person on each side.
    sides.ac.contacts.sync(ContactChanges(email="only.ac@example.org", first_name="Ola"))
    new_dv = sides.dv_create("contact", {"emailaddress1": "only.dv@example.org", "lastname": "Dee"})

    run = _run(sync_integration)

    ac = _by_email(sides.ac_contacts())
    dv = {r.text("emailaddress1").lower(): r for r in sides.dv_rows("contact")}
    assert ac[a.text("emailaddress1").lower()].first_name == "Dina"
    assert dv[b.text("emailaddress1").lower()].text("firstname") == "Acey"
    assert ac[c.text("emailaddress1").lower()].first_name == "FromAC"
    assert dv[c.text("emailaddress1").lower()].text("firstname") == "FromAC"
    conflict = run.records.get(outcome="conflict")
    assert conflict.before == {"Dynamics 365": "FromDynamics", "ActiveCampaign": "FromAC"}
    assert "new.address@example.org" in ac and d.text("emailaddress1").lower() not in ac
    deleted = ac[e.text("emailaddress1").lower()]
    assert "D365: Deleted in Dynamics" in sides.tags_of(deleted.id)
    assert dv["only.ac@example.org"].text("firstname") == "Ola"
    assert {"D365: Contact", "D365: Pulled from ActiveCampaign"} <= sides.tags_of(
        ac["only.ac@example.org"].id
    )
    assert "only.dv@example.org" in ac
    assert {"D365: Contact", "D365: Pushed from Dynamics"} <= sides.tags_of(
        ac["only.dv@example.org"].id
    )
    assert RecordLink.objects.get(dynamics_id=new_dv).state == RecordLink.State.LINKED
    emails = [c.email.lower() for c in sides.ac_contacts()]
    assert not duplicates(emails)
    dv_emails = [r.text("emailaddress1").lower() for r in sides.dv_rows("contact")]
    assert not duplicates(dv_emails)
    mark = sides.log_mark()
    _run(sync_integration)
    _run(sync_integration)
    assert sides.writes(mark) == {"activecampaign": [], "dynamics": []}


def test_it_gives_two_dynamics_records_with_one_e_mail_one_activecampaign_contact(
    sides, sync_integration
):
    from tests.sync.conftest import lean_configuration

    lean_configuration(sync_integration)
    first = sides.dv_create("contact", {"emailaddress1": "same@example.org", "lastname": "One"})
    second = sides.dv_create("contact", {"emailaddress1": "Same@example.org", "lastname": "Two"})
    lead = sides.dv_create("lead", {"emailaddress1": "same@example.org", "lastname": "Lead"})
    run = _run(sync_integration, SyncRun.Trigger.INITIAL)
    assert [c.email.lower() for c in sides.ac_contacts()] == ["same@example.org"]
    states = {key: RecordLink.objects.get(dynamics_id=key).state for key in (first, second, lead)}
    assert sorted(states.values()) == ["linked", "unlinked", "unlinked"]
    assert run.records.filter(outcome="skipped", reason__contains="shares").count() == 2


@pytest.mark.parametrize("policy", ["delete", "nothing"])
def test_it_applies_the_deletion_policy_of_the_entity(sides, sync_integration, monkeypatch, policy):
    import dataclasses

    from mapping.core.snapshot import DeletionPolicy
    from sync import services
    from tests.sync.conftest import lean_configuration

    lean_configuration(sync_integration)
    real = services.config_snapshot

    def with_policy(*, integration):
        snapshot = real(integration=integration)
        entities = {
            key: dataclasses.replace(config, deletion_policy=DeletionPolicy(policy))
            for key, config in snapshot.entities.items()
        }
        return dataclasses.replace(snapshot, entities=entities)

    monkeypatch.setattr(services, "config_snapshot", with_policy)
    gone = sides.dv_create("contact", {"emailaddress1": "gone@example.org", "lastname": "G"})
    _run(sync_integration, SyncRun.Trigger.INITIAL)
    ac_id = RecordLink.objects.get(dynamics_id=gone).ac_id
    sides.dv_delete("contact", gone)
    run = _run(sync_integration)
    deletion = run.records.get(outcome="deleted")
    assert RecordLink.objects.get(dynamics_id=gone).state == RecordLink.State.DELETED
    emails = {c.email for c in sides.ac_contacts()}
    if policy == "delete":
        assert "gone@example.org" not in emails and "deleted too" in deletion.reason
    else:
        assert "gone@example.org" in emails and "kept" in deletion.reason
        assert "D365: Deleted in Dynamics" not in sides.tags_of(ac_id)
