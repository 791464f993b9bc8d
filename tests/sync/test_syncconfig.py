"""Configuration as code: export, import on a fresh database, refusals with paths."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from connectors.activecampaign.records import CustomObjectSchema
from integrations.models import Integration
from mapping import services
from mapping.models import EntitySync, MetadataSnapshot
from mapping.selectors import entity_syncs
from mapping.services import (
    CriterionInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
    entity_input_from_saved,
)
from sync.config_files import configuration_export
from sync.models import SyncSettings
from tests.fixtures.metadata import metadata_seed

pytestmark = pytest.mark.django_db

LEAD_SOURCE_MAP = {
    "push": {
        "1": "Advertisement",
        "2": "Employee Referral",
        "4": "Partner",
        "8": "Web",
        "10": "Other",
    },
    "pull": {
        "Advertisement": "1",
        "Employee Referral": "2",
        "Partner": "4",
        "Web": "8",
        "Other": "10",
    },
}


@pytest.fixture
def configured():
    integration = Integration.objects.get(name="Default")
    metadata_seed(integration)
    services.entity_syncs_ensure(integration=integration)
    lead = entity_input_from_saved(entity_syncs(integration=integration)["lead"])
    lead.selection = "criteria"
    lead.criteria = [CriterionInput("leadsourcecode", "in", ["8", "4"])]
    next(m for m in lead.mappings if m.ac_key == "jobTitle").enabled = False
    lead.mappings += [
        MappingInput("jobTitle", "new_position", direction="pull"),
        MappingInput("1", "leadsourcecode", value_map=LEAD_SOURCE_MAP),
    ]
    assert services.entity_config_save(integration=integration, data=lead, actor=None) == []
    lead.conflict_rule, lead.deletion_policy = "activecampaign", "delete"
    next(m for m in lead.mappings if m.ac_key == "lastName").clear_when_blank = True
    assert services.entity_config_save(integration=integration, data=lead, actor=None) == []
    account = entity_input_from_saved(entity_syncs(integration=integration)["account"])
    account.enabled, account.direction = False, "push"
    assert services.entity_config_save(integration=integration, data=account, actor=None) == []

    def schema(spec):
        return CustomObjectSchema(
            id="schema-9",
            slug=spec.slug,
            label=spec.label,
            plural_label=spec.plural_label,
            fields=spec.fields,
        )

    assert (
        services.opportunity_config_save(
            integration=integration,
            actor=None,
            schema_writer=schema,
            data=OpportunityInput(
                True,
                True,
                [
                    OpportunityFieldInput("new_region", "text"),
                    OpportunityFieldInput("budgetamount", "currency", required=True),
                ],
            ),
        )
        == []
    )
    SyncSettings.objects.create(integration=integration, enabled=False, schedule_hours=6)
    return integration


def run(*args) -> str:
    out = io.StringIO()
    call_command("syncconfig", *args, stdout=out)
    return out.getvalue()


def wipe_to_a_fresh_database():
    Integration.objects.all().delete()  # cascades to every configuration row
    Integration.objects.create(name="Default")  # what migrations give a new installation


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_it_round_trips_onto_a_fresh_database(configured, tmp_path, fmt):
    path = tmp_path / f"config.{fmt}"
    run("export", "--output", str(path))
    before = configuration_export(integration=configured)
    assert "SECRET" not in path.read_text().upper()

    wipe_to_a_fresh_database()
    run("import", str(path))

    after = configuration_export(integration=Integration.objects.get(name="Default"))
    assert after == before
    assert after["entities"]["lead"]["criteria"] == [
        {"field": "leadsourcecode", "operator": "in", "value": ["4", "8"]}
    ]  # canonical order
    assert after["opportunities"]["schema"] == {"id": "schema-9", "slug": "d365-opportunity"}
    assert after["sync"] == {"enabled": False, "schedule_hours": 6}
    lead = after["entities"]["lead"]
    assert (lead["conflict_rule"], lead["deletion_policy"]) == ("activecampaign", "delete")
    assert [m["activecampaign"] for m in lead["mappings"] if m["clear_when_blank"]] == ["lastName"]
    row = EntitySync.objects.get(integration__name="Default", entity="lead")
    assert (row.conflict_rule, row.deletion_policy) == ("activecampaign", "delete")


def test_it_exports_no_secret(configured):
    configured.ac_api_key = "ac-super-secret-key"
    configured.dynamics_client_secret = "dv-super-secret"
    configured.save()

    text = run("export", "--format", "json")

    assert "ac-super-secret-key" not in text and "dv-super-secret" not in text
    assert json.loads(text)["integration"] == "Default"


def test_it_reports_every_problem_with_its_path_and_changes_nothing(configured, tmp_path):
    document = configuration_export(integration=configured)
    document["entities"]["lead"]["direction"] = "sideways"
    document["entities"]["contact"]["mappings"][0]["enabled"] = False  # Email is always on
    document["entities"]["account"]["mappings"].append(
        {"activecampaign": "10", "dynamics": "nosuch"}
    )
    document["opportunities"]["custom_fields"] = False
    document["sync"]["schedule_hours"] = 5
    document["entities"]["lead"]["colour"] = "blue"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document))
    before = configuration_export(integration=configured)

    with pytest.raises(CommandError) as raised:
        run("import", str(path))

    message = str(raised.value)
    assert "nothing changed" in message
    assert "entities.lead.colour: unknown key" in message
    assert "sync.schedule_hours: expected one of" in message
    assert configuration_export(integration=configured) == before


def test_it_checks_the_rules_of_the_page_with_file_paths(configured, tmp_path):
    document = configuration_export(integration=configured)
    document["entities"]["lead"]["direction"] = "push"  # but a field is narrowed to pull
    document["entities"]["contact"]["mappings"][0]["enabled"] = False
    document["opportunities"]["custom_fields"] = False
    document["opportunities"]["fields"] = []
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(document))

    with pytest.raises(CommandError) as raised:
        run("import", str(path))

    message = str(raised.value)
    assert "entities.lead.mappings[6].direction: A field's direction can be set only" in message
    assert "entities.contact.mappings[0].enabled: The Email mapping is always on." in message
    assert "opportunities.custom_fields: Opportunity custom field mapping is permanent" in message
    assert "cannot be removed" in message


def test_a_dry_run_validates_without_changing(configured, tmp_path):
    document = configuration_export(integration=configured)
    document["entities"]["lead"]["enabled"] = False
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(document))

    assert "is valid; nothing was changed" in run("import", str(path), "--dry-run")
    assert EntitySync.objects.get(integration=configured, entity="lead").enabled


def test_it_names_a_syntax_error_by_line(tmp_path, db):
    path = tmp_path / "bad.yaml"
    path.write_text("syncadmin: 1\nentities:\n  lead: [unclosed\n")

    with pytest.raises(CommandError, match=r"not valid JSON or YAML at line \d+"):
        run("import", str(path))


def test_it_imports_into_a_database_that_never_read_the_services(configured, tmp_path):
    path = tmp_path / "c.yaml"
    run("export", "--output", str(path))
    wipe_to_a_fresh_database()
    assert not MetadataSnapshot.objects.exists()

    run("import", str(path))

    # The file's field definitions stand in until the services are read.
    assert MetadataSnapshot.objects.filter(vendor="dynamics", entity="lead").exists()
