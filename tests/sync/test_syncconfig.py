"""Configuration as code: export, import on a fresh database, refusals with their place."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from integrations.models import AuditEntry, Integration
from mapping import services
from mapping.models import EntitySync, FieldMapping, MetadataSnapshot, OpportunitySync
from mapping.selectors import entity_syncs
from mapping.services import (
    CriterionInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
    entity_input_from_saved,
)
from sync.config_files import configuration_export, configuration_import, configuration_loads
from sync.models import SyncSettings
from tests.fixtures.metadata import metadata_fields, metadata_seed
from tests.fixtures.schemas import fake_schemas

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
def schemas(monkeypatch):
    return fake_schemas(monkeypatch)


def connect(integration):
    """As Settings leaves an integration that has read both services' fields."""
    integration.status = Integration.Status.CONNECTED
    integration.save()
    metadata_seed(integration)
    return integration


@pytest.fixture
def configured(schemas):
    integration = connect(Integration.objects.get(name="Default"))
    services.entity_syncs_ensure(integration=integration)
    lead = entity_input_from_saved(entity_syncs(integration=integration)["lead"])
    lead.selection = "criteria"
    lead.criteria = [CriterionInput("leadsourcecode", "in", ["8", "4"])]
    lead.conflict_rule, lead.deletion_policy = "activecampaign", "delete"
    next(m for m in lead.mappings if m.ac_key == "jobTitle").enabled = False
    next(m for m in lead.mappings if m.ac_key == "lastName").clear_when_blank = True
    lead.mappings += [
        MappingInput("jobTitle", "new_position", direction="pull"),
        MappingInput("1", "leadsourcecode", value_map=LEAD_SOURCE_MAP),
    ]
    assert services.entity_config_save(integration=integration, data=lead, actor=None) == []
    account = entity_input_from_saved(entity_syncs(integration=integration)["account"])
    account.enabled, account.direction = False, "push"
    assert services.entity_config_save(integration=integration, data=account, actor=None) == []
    opportunity = OpportunityInput(
        True,
        True,
        [
            OpportunityFieldInput("new_region", "text"),
            OpportunityFieldInput("budgetamount", "currency", required=True),
        ],
    )
    assert (
        services.opportunity_config_save(integration=integration, actor=None, data=opportunity)
        == []
    )
    SyncSettings.objects.create(integration=integration, enabled=False, schedule_hours=6)
    return integration


def run(*args) -> str:
    out = io.StringIO()
    call_command("syncconfig", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as raised:
        run(*args)
    return str(raised.value)


def fresh_install() -> Integration:
    """What migrations give a new installation: the Default integration, not connected."""
    Integration.objects.all().delete()  # cascades to every configuration row
    return Integration.objects.create(name="Default")


def write(tmp_path, document, name="config.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    return str(path)


def test_it_round_trips_a_fresh_install_onto_another_fresh_install(tmp_path):
    fresh_install()
    path = tmp_path / "fresh.yaml"
    run("export", "--output", str(path))
    exported = configuration_export(integration=Integration.objects.get())

    fresh_install()
    assert "Imported" in run("import", str(path))

    assert configuration_export(integration=Integration.objects.get()) == exported
    assert exported["fields"] == {}  # nothing was read from any service…
    assert not MetadataSnapshot.objects.exists()  # …and nothing was made up
    assert [m["activecampaign_field"] for m in exported["entities"]["lead"]["standard_mappings"]]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_it_round_trips_onto_a_fresh_database_that_read_the_same_account(
    configured, schemas, tmp_path, fmt
):
    path = tmp_path / f"config.{fmt}"
    run("export", "--output", str(path))
    before = configuration_export(integration=configured)
    assert "SECRET" not in path.read_text().upper()

    connect(fresh_install())
    run("import", str(path))

    after = configuration_export(integration=Integration.objects.get(name="Default"))
    assert after == before
    lead = after["entities"]["lead"]
    assert lead["criteria"] == [
        {"dynamics_field": "leadsourcecode", "operator": "in", "value": ["4", "8"]}
    ]  # canonical order
    assert (lead["conflict_rule"], lead["deletion_policy"]) == ("activecampaign", "delete")
    assert [m["activecampaign_field"] for m in lead["standard_mappings"] if m["clear_when_blank"]]
    assert after["sync"] == {"enabled": False, "schedule_hours": 6}
    # ActiveCampaign was asked for the custom object again; the fields in it are its answer.
    opportunity = OpportunitySync.objects.get(integration__name="Default")
    assert opportunity.schema_id == "schema-1"
    assert all(f.in_schema for f in opportunity.fields.all())
    assert AuditEntry.objects.filter(action="data.import").exists()


def test_it_exports_no_secret(configured):
    configured.ac_api_key = "ac-super-secret-key"
    configured.dynamics_client_secret = "dv-super-secret"
    configured.save()

    text = run("export", "--format", "json")

    assert "ac-super-secret-key" not in text and "dv-super-secret" not in text
    assert json.loads(text)["integration"] == "Default"


def test_it_refuses_an_unknown_integration_naming_the_existing_ones(configured, tmp_path):
    Integration.objects.create(name="Acme")
    document = configuration_export(integration=configured)
    document["integration"] = "No Such Company"

    message = refused("import", write(tmp_path, document))

    assert "integration: no integration is named 'No Such Company'" in message
    assert "(existing: Acme, Default)" in message and "--create" in message
    assert not Integration.objects.filter(name="No Such Company").exists()


def test_it_creates_the_integration_when_asked(tmp_path):
    fresh_install()
    document = configuration_export(integration=Integration.objects.get())
    document["integration"] = "Staging"
    document["entities"]["contact"]["direction"] = "push"
    path = write(tmp_path, document)

    assert "Imported" in run("import", path, "--create")

    staging = Integration.objects.get(name="Staging")
    assert EntitySync.objects.get(integration=staging, entity="contact").direction == "push"
    assert not staging.is_connected


def test_it_reports_every_problem_with_its_place_and_changes_nothing(configured, tmp_path):
    document = configuration_export(integration=configured)
    lead = document["entities"]["lead"]
    lead["direction"] = "sideways"
    lead["colour"] = "blue"
    lead["custom_mappings"] += [
        {"activecampaign_field": "3", "dynamics_field": "new_score"},
        {"activecampaign_field": "4", "dynamics_field": "nosuchfield"},
    ]
    lead["criteria"][0]["operator"] = "x" * 31
    document["entities"]["contact"]["standard_mappings"][0]["enabled"] = False  # Email
    document["entities"]["contact"]["standard_mappings"][1]["clear_when_blank"] = "yes"
    document["entities"]["account"]["enabled"] = 1
    document["entities"]["account"]["custom_mappings"] = ["not a mapping"]
    document["opportunities"]["custom_fields"] = False
    document["opportunities"]["fields"][0]["in_schema"] = True
    document["sync"]["schedule_hours"] = True
    path = write(tmp_path, document)
    before = configuration_export(integration=configured)
    rows = FieldMapping.objects.count()

    message = refused("import", path)

    assert "nothing changed" in message
    for expected in (
        "entities.lead.direction: Unknown direction 'sideways'.",
        "entities.lead.colour: unknown key",
        "entities.lead.custom_mappings[3].dynamics_field: Dynamics 365 has no lead field "
        "'nosuchfield'.",
        "entities.lead.criteria[0].operator: at most 30 characters, found 31",
        "entities.contact.standard_mappings[0].enabled: The Email mapping is always on.",
        "entities.contact.standard_mappings[1].clear_when_blank: expected true or false, found "
        "the text 'yes'",
        "entities.account.enabled: expected true or false, found the number 1",
        "entities.account.custom_mappings[0]: expected a mapping (key: value), found the text",
        "opportunities.custom_fields: Opportunity custom field mapping is permanent",
        "opportunities.fields[0].in_schema: unknown key",
        "sync.schedule_hours: expected a number of hours, one of 1, 2, 4, 6, 8, 12, 24; found true",
    ):
        assert expected in message, expected
    assert "12 problem(s)" in message, message  # each once: no problem repeats another
    assert configuration_export(integration=configured) == before
    assert FieldMapping.objects.count() == rows


def test_it_names_a_wrong_value_where_it_is_in_a_custom_mapping(configured, tmp_path):
    document = configuration_export(integration=configured)
    custom = document["entities"]["lead"]["custom_mappings"]
    custom[0]["direction"] = "push"  # job title → Position, narrowed: fine
    document["entities"]["lead"]["direction"] = "pull"  # …but not when the entity pulls

    message = refused("import", write(tmp_path, document))

    assert (
        "entities.lead.custom_mappings[0].direction: A field's direction can be set only when "
        "the entity syncs both ways." in message
    )


def test_it_checks_custom_fields_against_the_account_never_the_file(configured, tmp_path):
    document = configuration_export(integration=configured)
    connect(fresh_install())
    # This account's custom field "1" is not the file's "Lead source".
    snapshot = MetadataSnapshot.objects.get(vendor="activecampaign", entity="contact")
    for item in snapshot.fields:
        if item["key"] == "1":
            item.update(label="Favourite colour", type="text", options=[])
    snapshot.save()

    message = refused("import", write(tmp_path, document))

    assert (
        "entities.lead.custom_mappings[1].activecampaign_field: ActiveCampaign field '1' is "
        "“Favourite colour” (text) in this account, but “Lead source” (choice) in the file"
    ) in message
    assert not FieldMapping.objects.filter(ac_key="1").exists()


def test_it_refuses_custom_entries_it_cannot_check_with_one_message(configured, tmp_path):
    document = configuration_export(integration=configured)
    fresh_install()  # not connected: no field of either service was read

    message = refused("import", write(tmp_path, document))

    assert "2 problem(s)" in message
    assert (
        "integration: Default has not read the fields of ActiveCampaign and Dynamics 365 "
        "(connect it in Settings, then import again), so 5 entries that name their fields "
        "cannot be checked: entities.lead.criteria[0], entities.lead.custom_mappings[0], "
        "entities.lead.custom_mappings[1], …. Standard mappings need no fields."
    ) in message
    assert "opportunities.enabled: opportunities sync into a custom object" in message
    assert not FieldMapping.objects.exists()


def test_it_reads_the_fields_of_a_connected_integration_that_never_read_them(configured, tmp_path):
    document = configuration_export(integration=configured)
    document["opportunities"]["enabled"] = False
    integration = fresh_install()
    integration.status = Integration.Status.CONNECTED
    integration.save()
    asked = []

    def fetch(*, integration):
        asked.append(integration.name)
        return metadata_fields()

    configuration_import(document=document, fetch=fetch)

    assert asked == ["Default"]
    assert MetadataSnapshot.objects.filter(integration=integration).count() == 6  # cached now
    assert FieldMapping.objects.filter(entity_sync__entity="lead", ac_key="1").exists()


def test_a_dry_run_checks_without_changing_anything(configured, schemas, tmp_path):
    document = configuration_export(integration=configured)
    document["entities"]["lead"]["enabled"] = False
    asked_before = len(schemas.specs)

    assert "is valid; nothing was changed" in run("import", write(tmp_path, document), "--dry-run")

    assert EntitySync.objects.get(integration=configured, entity="lead").enabled
    assert len(schemas.specs) == asked_before  # ActiveCampaign was not written to either


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("syncadmin: 2\nentities:\n  lead: [unclosed\n", r"not valid JSON or YAML at line \d+"),
        ("syncadmin: 2\nsyncadmin: 2\n", r"at line 2.*the key 'syncadmin' is given twice"),
        ("- just\n- a list\n", r"\(file\): expected a mapping \(key: value\), found a list"),
        ("syncadmin: 1\n", r"syncadmin: expected format version 2, found the number 1 \(export"),
    ],
)
def test_it_refuses_a_document_it_cannot_read(tmp_path, db, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)

    with pytest.raises(CommandError, match=expected):
        run("import", str(path))


def test_it_refuses_unstorable_text(configured, tmp_path):
    document = configuration_export(integration=configured)
    document["integration"] = "x" * 101
    document["entities"]["lead"]["custom_mappings"][0]["dynamics_field"] = "new_position\x00"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))

    message = refused("import", str(path))

    assert "integration: at most 100 characters, found 101" in message
    assert "entities.lead.custom_mappings[0].dynamics_field: contains a NUL character" in message


def test_a_document_reads_quoted_ids_and_unquoted_numbers_alike(configured, tmp_path):
    document = configuration_export(integration=configured)
    text = yaml.safe_dump(document).replace("activecampaign_field: '1'", "activecampaign_field: 1")
    assert "activecampaign_field: 1\n" in text

    configuration_import(document=configuration_loads(text))

    assert FieldMapping.objects.filter(entity_sync__entity="lead", ac_key="1").exists()


@pytest.mark.integration
def test_it_round_trips_through_the_services_of_a_real_account(connected_integration, tmp_path):
    """Over HTTP against the sandboxes: the fields are read from the services on import, and the
    opportunity custom object is asked of ActiveCampaign."""
    from connectors.activecampaign.client import ActiveCampaignClient
    from mapping.core.transforms import default_value_map

    integration = connected_integration
    ActiveCampaignClient(integration.activecampaign_config()).custom_fields.create(
        title="Rating", type="dropdown", options=("Hot", "Warm", "Cold")
    )
    metadata = services.metadata_refresh(integration=integration)
    rating = next(f for f in metadata.ac_fields_for("lead").values() if f.label == "Rating")
    quality = metadata.dynamics_fields_for("lead")["leadqualitycode"]
    services.entity_syncs_ensure(integration=integration)
    lead = entity_input_from_saved(entity_syncs(integration=integration)["lead"])
    lead.mappings.append(
        MappingInput(
            rating.key,
            "leadqualitycode",
            value_map={
                "push": default_value_map(quality, rating),
                "pull": default_value_map(rating, quality),
            },
        )
    )
    assert services.entity_config_save(integration=integration, data=lead, actor=None) == []
    opportunity = OpportunityInput(True, True, [OpportunityFieldInput("budgetamount", "currency")])
    assert (
        services.opportunity_config_save(integration=integration, data=opportunity, actor=None)
        == []
    )
    path = tmp_path / "account.yaml"
    run("export", "--output", str(path))
    before = configuration_export(integration=integration)
    connection = {
        name: getattr(integration, name)
        for name in (
            "ac_api_url",
            "ac_api_key",
            "dynamics_org_url",
            "dynamics_tenant_id",
            "dynamics_client_id",
            "dynamics_client_secret",
            "dynamics_authority_host",
            "status",
            "connected_at",
        )
    }
    Integration.objects.all().delete()
    Integration.objects.create(name="Default", **connection)  # connected, no field read yet

    run("import", str(path))

    again = Integration.objects.get(name="Default")
    assert configuration_export(integration=again) == before
    assert MetadataSnapshot.objects.filter(integration=again).count() == 6
    saved = OpportunitySync.objects.get(integration=again)
    assert saved.schema_slug == "d365-opportunity" and saved.fields.get().in_schema
