"""Sync settings, starting runs, configuration errors, single records, opportunities, leads
qualified into contacts, and the sync command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from connectors.activecampaign.records import ContactChanges
from sync.models import RecordLink, SyncRun, SyncSettings
from sync.services import (
    RunRefused,
    record_sync,
    run_inline,
    run_start,
    schedule_name,
    scheduled_run_start,
    sync_settings_save,
)
from tests.sync.conftest import lean_configuration

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _initial(integration) -> SyncRun:
    run = run_start(integration=integration, trigger=SyncRun.Trigger.INITIAL, enqueue=False)
    run = run_inline(run=run)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    return run


def test_it_keeps_the_beat_schedule_in_step_with_the_settings(sync_integration, monkeypatch):
    monkeypatch.setattr("sync.services._enqueue_advance", lambda *args, **kwargs: None)
    saved = sync_settings_save(integration=sync_integration, enabled=True, schedule_hours=4)
    task = PeriodicTask.objects.get(name=schedule_name(sync_integration))
    assert (task.task, task.interval.every, task.interval.period) == (
        "sync.scheduled_run",
        4,
        "hours",
    )
    assert task.args == f"[{sync_integration.pk}]"
    assert saved.initial_run is not None and saved.initial_run.trigger == "initial"
    sync_settings_save(integration=sync_integration, enabled=True, schedule_hours=24)
    assert PeriodicTask.objects.get(name=schedule_name(sync_integration)).interval.every == 24
    sync_settings_save(integration=sync_integration, enabled=False, schedule_hours=24)
    assert not PeriodicTask.objects.filter(name=schedule_name(sync_integration)).exists()


def test_it_refuses_a_second_run_and_a_beat_tick_is_a_no_op(sync_integration):
    SyncSettings.objects.filter(integration=sync_integration).update(
        initial_sync_at="2026-01-01T00:00Z"
    )
    first = run_start(integration=sync_integration, enqueue=False)
    with pytest.raises(RunRefused) as refused:
        run_start(integration=sync_integration, enqueue=False)
    assert "already running" in refused.value.message
    assert scheduled_run_start(integration_id=sync_integration.pk) is None
    assert SyncRun.objects.filter(integration=sync_integration).get() == first


def test_it_stops_on_a_revoked_key_with_one_message_and_pauses_the_schedule(
    sides, sync_integration, client, admin_user
):
    lean_configuration(sync_integration)
    sides.dv_app.seed(10)
    _initial(sync_integration)
    sync_integration.ac_api_key = "revoked-key"
    sync_integration.save()
    run = run_inline(run=run_start(integration=sync_integration, enqueue=False))
    assert run.status == SyncRun.Status.FAILED
    assert "ActiveCampaign refused the credentials" in run.message
    settings_row = SyncSettings.objects.get(integration=sync_integration)
    assert settings_row.paused_reason == run.message
    assert scheduled_run_start(integration_id=sync_integration.pk) is None
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert "Paused:" in page and "ActiveCampaign refused the credentials" in page


def test_it_syncs_one_record_on_demand_both_ways(sides, sync_integration):
    lean_configuration(sync_integration)
    sides.dv_app.seed(6)
    _initial(sync_integration)
    new_id = sides.dv_create(
        "contact", {"emailaddress1": "single@example.org", "firstname": "Sam", "lastname": "S"}
    )
    run = record_sync(integration=sync_integration, entity="contact", dynamics_id=new_id)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    link = RecordLink.objects.get(dynamics_id=new_id)
    assert sides.ac.contacts.get(link.ac_id).first_name == "Sam"
    created = sides.ac.contacts.sync(ContactChanges(email="from.ac@example.org", first_name="Al"))
    run = record_sync(integration=sync_integration, entity="contact", ac_id=created.contact.id)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    pulled = RecordLink.objects.get(ac_id=created.contact.id, ac_object="contact")
    assert pulled.entity == "contact"
    [row] = sides.dv.find_contacts_by_email("from.ac@example.org", ["firstname"])
    assert row.id == pulled.dynamics_id and row.text("firstname") == "Al"


def test_it_pushes_opportunities_onto_synced_contacts_and_skips_the_others(sides, sync_integration):
    from mapping.services import OpportunityInput, opportunity_config_save

    lean_configuration(sync_integration)
    seeded = sides.dv_app.seed(24)
    assert seeded["opportunities"]
    assert (
        opportunity_config_save(
            integration=sync_integration, data=OpportunityInput(enabled=True), actor=None
        )
        == []
    )
    run = _initial(sync_integration)
    assert run.counts["opportunity"]["push"]["created"] == seeded["opportunities"]
    link = RecordLink.objects.filter(entity="opportunity").first()
    schema = sync_integration.opportunity_sync.schema_id
    record = sides.ac.custom_objects.record(schema, link.dynamics_id)
    contact = RecordLink.objects.get(entity="contact", ac_id=record.contact_ids[0])
    assert contact.state == RecordLink.State.LINKED
    # An opportunity of a contact that is not synced is skipped with a reason.
    orphan_contact = sides.dv_create("contact", {"lastname": "No e-mail"})
    sides.dv_create(
        "opportunity",
        {
            "name": "Orphan deal",
            "parentcontactid": _lookup("contact", orphan_contact),
        },
    )
    second = run_inline(run=run_start(integration=sync_integration, enqueue=False))
    skipped = second.records.get(entity="opportunity", outcome="skipped")
    assert "contact is not synced" in skipped.reason


def _lookup(table, record_id):
    from connectors.dynamics.records import LookupValue

    return LookupValue(table, record_id)


def test_it_moves_the_link_and_tags_when_a_lead_is_qualified_into_a_contact(
    sides, sync_integration
):
    lean_configuration(sync_integration)
    lead_id = sides.dv_create(
        "lead", {"emailaddress1": "qualify.me@example.org", "lastname": "Q", "firstname": "Quinn"}
    )
    _initial(sync_integration)
    ac_id = RecordLink.objects.get(dynamics_id=lead_id).ac_id
    assert "D365: Lead" in sides.tags_of(ac_id)
    response = sides.dv.http.request(
        "POST",
        f"leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead",
        json={
            "CreateAccount": False,
            "CreateContact": True,
            "CreateOpportunity": False,
            "Status": 3,
        },
    )
    contact_id = next(item["contactid"] for item in response.json()["value"] if "contactid" in item)
    run = run_inline(run=run_start(integration=sync_integration, enqueue=False))
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    link = RecordLink.objects.get(entity="contact", dynamics_id=contact_id)
    assert link.ac_id == ac_id and link.state == RecordLink.State.LINKED
    tags = sides.tags_of(ac_id)
    assert "D365: Contact" in tags and "D365: Lead" not in tags
    emails = [c.email for c in sides.ac_contacts()]
    assert emails.count("qualify.me@example.org") == 1


def test_the_sync_command_runs_in_the_foreground_and_fails_on_a_configuration_error(
    sides, sync_integration, capsys
):
    lean_configuration(sync_integration)
    sides.dv_app.seed(6)
    call_command("sync", "run", "--initial")
    out = capsys.readouterr().out
    assert "finished" in out and "Contacts push" in out
    call_command("sync", "status")
    assert "last run" in capsys.readouterr().out
    sync_integration.ac_api_key = "revoked-key"
    sync_integration.save()
    with pytest.raises(CommandError) as failed:
        call_command("sync", "run")
    assert "refused the credentials" in str(failed.value)


def test_it_relinks_a_contact_merged_in_dynamics_to_the_survivor(sides, sync_integration):
    lean_configuration(sync_integration)
    merged_id = sides.dv_create(
        "contact", {"emailaddress1": "twin.one@example.org", "lastname": "Twin"}
    )
    _initial(sync_integration)
    ac_id = RecordLink.objects.get(dynamics_id=merged_id).ac_id
    survivor = sides.dv_create(
        "contact",
        {"emailaddress1": "twin.two@example.org", "firstname": "Tess", "lastname": "Twin"},
    )
    sides.dv.http.request(
        "POST",
        "Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": survivor},
            "Subordinate": {
                "@odata.type": "Microsoft.Dynamics.CRM.contact",
                "contactid": merged_id,
            },
            "PerformParentingChecks": False,
        },
    )
    run = run_inline(run=run_start(integration=sync_integration, enqueue=False))
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    link = RecordLink.objects.get(entity="contact", dynamics_id=survivor)
    assert link.ac_id == ac_id
    contact = sides.ac.contacts.get(ac_id)
    assert (contact.email, contact.first_name) == ("twin.two@example.org", "Tess")
    assert not RecordLink.objects.filter(dynamics_id=merged_id).exists()
    emails = [c.email for c in sides.ac_contacts()]
    assert "twin.one@example.org" not in emails and emails.count("twin.two@example.org") == 1
    assert run.records.filter(outcome="deleted", reason__contains="Merged").exists()


def test_it_starts_with_the_default_configuration_and_refuses_without_the_e_mail_mapping(
    connected_integration, settings
):
    from mapping.models import EntitySync, FieldMapping, MetadataSnapshot

    settings.SYNC_IMPORT_POLL_SECONDS = 0.2
    assert not EntitySync.objects.exists() and not MetadataSnapshot.objects.exists()
    run = run_start(integration=connected_integration, enqueue=False)  # nothing saved yet
    assert EntitySync.objects.filter(integration=connected_integration).count() == 3
    assert run.steps
    run_inline(run=run)
    FieldMapping.objects.filter(ac_key="email", entity_sync__entity="lead").delete()
    with pytest.raises(RunRefused) as refused:
        run_start(integration=connected_integration, enqueue=False)
    assert "Leads cannot sync without their email mapping" in refused.value.message


def test_it_syncs_nothing_while_global_sync_is_off_and_catches_up_after(
    sides, sync_integration, monkeypatch
):
    monkeypatch.setattr("sync.services._enqueue_advance", lambda *args, **kwargs: None)
    lean_configuration(sync_integration)
    sides.dv_app.seed(6)
    _initial(sync_integration)
    sync_settings_save(integration=sync_integration, enabled=False, schedule_hours=1)
    new_id = sides.dv_create("contact", {"emailaddress1": "later@example.org", "lastname": "L"})
    mark = sides.log_mark()
    with pytest.raises(RunRefused) as refused:
        run_start(integration=sync_integration, enqueue=False)
    assert "Global sync is off" in refused.value.message
    assert scheduled_run_start(integration_id=sync_integration.pk) is None
    assert sides.writes(mark) == {"activecampaign": [], "dynamics": []}
    assert not [e for e in sides.ac_app.log.entries(path_prefix="/api/3/") if e.started >= mark]
    sync_settings_save(integration=sync_integration, enabled=True, schedule_hours=1)
    run = run_inline(run=run_start(integration=sync_integration, enqueue=False))
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert RecordLink.objects.get(dynamics_id=new_id).state == RecordLink.State.LINKED
