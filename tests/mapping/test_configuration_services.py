"""Data configuration rules at the service level (S-3), including every refusal."""

from __future__ import annotations

import pytest

from connectors.errors import ConfigReason, ConfigurationError
from integrations.models import AuditEntry
from mapping import services
from mapping.models import EntitySync, FieldMapping, OpportunitySync
from mapping.selectors import entity_syncs, metadata_cached
from mapping.services import (
    CriterionInput,
    MappingInput,
    OpportunityFieldInput,
    OpportunityInput,
    entity_config_save,
    entity_input_from_saved,
    opportunity_config_save,
)

pytestmark = pytest.mark.django_db


def saved(integration, entity="lead"):
    return entity_input_from_saved(entity_syncs(integration=integration)[entity])


def save(integration, data, actor=None):
    return entity_config_save(integration=integration, data=data, actor=actor)


def paths(problems):
    return {p.path for p in problems}


def test_it_starts_every_entity_on_bidirectional_with_the_standard_pairs(integration):
    rows = entity_syncs(integration=integration)

    assert set(rows) == {"lead", "contact", "account"}
    lead = saved(integration)
    assert lead.enabled and lead.direction == "bidirectional" and lead.selection == "all"
    assert [(m.ac_key, m.dynamics_key) for m in lead.mappings] == [
        ("email", "emailaddress1"),
        ("firstName", "firstname"),
        ("lastName", "lastname"),
        ("phone", "telephone1"),
        ("jobTitle", "jobtitle"),
        ("account", "companyname"),
    ]


def test_it_turns_an_entity_off_and_sets_its_direction(integration, admin_user):
    data = saved(integration, "account")
    data.enabled, data.direction = False, "push"

    assert save(integration, data, admin_user) == []

    row = EntitySync.objects.get(integration=integration, entity="account")
    assert (row.enabled, row.direction) == (False, "push")
    entry = AuditEntry.objects.get(action="data.entity")
    assert entry.changes["direction"] == {"old": "bidirectional", "new": "push"}


def test_it_refuses_an_unknown_direction(integration):
    data = saved(integration)
    data.direction = "sideways"

    assert "lead.direction" in paths(save(integration, data))


def test_it_allows_field_direction_only_in_a_bidirectional_entity(integration):
    data = saved(integration)
    data.mappings[1].direction = "pull"  # first name: ActiveCampaign → Dynamics only
    assert save(integration, data) == []

    data.direction = "push"
    problems = save(integration, data)

    assert "lead.mappings.1.direction" in paths(problems)
    assert "only when the entity syncs both ways" in problems[0].message
    assert (
        FieldMapping.objects.get(entity_sync__entity="lead", ac_key="firstName").direction == "pull"
    )


def test_it_saves_criteria_rows_anded_and_validates_each(integration):
    data = saved(integration)
    data.selection = "criteria"
    data.criteria = [
        CriterionInput("leadsourcecode", "is", "Web"),
        CriterionInput("firstname", "starts_with", "An"),
    ]

    assert save(integration, data) == []

    stored = saved(integration).criteria
    assert [(c.field_key, c.operator, c.value) for c in stored] == [
        ("leadsourcecode", "is", "8"),
        ("firstname", "starts_with", "An"),
    ]  # label → option value


@pytest.mark.parametrize(
    ("criterion", "path", "message"),
    [
        (
            CriterionInput("leadsourcecode", "is", "Carrier pigeon"),
            "lead.criteria.0.value",
            "option",
        ),
        (
            CriterionInput("birthdate", "greater_than", "31/12/2020"),
            "lead.criteria.0.value",
            "date",
        ),
        (CriterionInput("firstname", "greater_than", "A"), "lead.criteria.0.operator", ""),
        (CriterionInput("nosuchfield", "equals", "x"), "lead.criteria.0.field", "no lead field"),
    ],
)
def test_it_refuses_a_bad_criterion_next_to_its_row(integration, criterion, path, message):
    data = saved(integration)
    data.selection, data.criteria = "criteria", [criterion]

    problems = save(integration, data)

    assert path in paths(problems)
    assert message.lower() in " ".join(p.message.lower() for p in problems)
    assert saved(integration).criteria == []


def test_it_needs_a_criterion_when_selecting_by_criteria(integration):
    data = saved(integration)
    data.selection = "criteria"

    assert paths(save(integration, data)) == {"lead.criteria"}


@pytest.mark.parametrize("ac_key", ["email", "account"])
def test_it_refuses_to_turn_off_email_and_account(integration, ac_key):
    data = saved(integration)
    mapping = next(m for m in data.mappings if m.ac_key == ac_key)
    mapping.enabled = False

    problems = save(integration, data)

    assert any("always on" in p.message for p in problems)
    assert FieldMapping.objects.get(entity_sync__entity="lead", ac_key=ac_key).enabled


def test_it_remaps_a_standard_field_to_a_custom_one_and_back(integration):
    # Turn "Job title" off and map AC job title onto the custom Dynamics field "Position".
    data = saved(integration)
    next(m for m in data.mappings if m.ac_key == "jobTitle").enabled = False
    data.mappings.append(MappingInput("jobTitle", "new_position"))
    assert save(integration, data) == []
    assert FieldMapping.objects.filter(
        entity_sync__entity="lead", ac_key="jobTitle", standard="", dynamics_key="new_position"
    ).exists()

    # Back on: the custom mapping goes, the standard pair is restored.
    data = saved(integration)
    next(m for m in data.mappings if m.standard and m.ac_key == "jobTitle").enabled = True
    assert save(integration, data) == []

    rows = FieldMapping.objects.filter(entity_sync__entity="lead", ac_key="jobTitle")
    assert [(r.standard, r.dynamics_key, r.enabled) for r in rows] == [
        ("Job title", "jobtitle", True)
    ]


def test_it_refuses_a_custom_mapping_of_a_field_whose_standard_mapping_is_on(integration):
    data = saved(integration)
    data.mappings.append(MappingInput("firstName", "new_position"))
    # saving drops it silently only for the "turned back on" case; a new row is refused
    data.mappings[-1].standard = False

    problems = services.entity_problems(data, metadata=metadata_cached(integration=integration))

    assert any("Turn the standard First name mapping off" in p.message for p in problems)


def test_it_maps_a_custom_pair_with_a_value_map(integration):
    data = saved(integration)
    data.mappings.append(
        MappingInput(
            "1",
            "leadsourcecode",
            value_map={
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
            },
        )
    )

    assert save(integration, data) == []
    stored = FieldMapping.objects.get(entity_sync__entity="lead", ac_key="1")
    assert stored.value_map["pull"]["Web"] == "8"


def test_it_refuses_option_pairs_naming_options_that_do_not_exist(integration):
    data = saved(integration)
    data.mappings.append(
        MappingInput("1", "leadsourcecode", value_map={"push": {"8": "Fax"}, "pull": {"Web": "99"}})
    )

    problems = save(integration, data)

    assert {(p.path, p.message) for p in problems} == {
        ("lead.mappings.6.value_map.push", "“Fax” is not an option of Lead source."),
        ("lead.mappings.6.value_map.pull", "“99” is not an option of Lead Source."),
    }


def test_an_option_may_stay_unpaired(integration):
    data = saved(integration)
    data.mappings.append(
        MappingInput("1", "leadsourcecode", value_map={"push": {"8": "Web"}, "pull": {}})
    )

    assert save(integration, data) == []

    stored = FieldMapping.objects.get(entity_sync__entity="lead", ac_key="1")
    assert stored.value_map == {"push": {"8": "Web"}, "pull": {}}  # the rest is not synced


def test_it_refuses_incompatible_types(integration):
    data = saved(integration)
    data.mappings.append(MappingInput("2", "firstname"))  # a date onto a text field…

    problems = save(integration, data)

    # …works one way only (text ← date), so a bidirectional mapping is refused with advice.
    assert any("only one way" in p.message for p in problems)
    data.mappings[-1].direction = "pull"
    data.mappings[-1].dynamics_key = "new_position"
    assert save(integration, data) == []


def test_it_refuses_a_pair_that_is_compatible_in_no_direction(integration):
    data = saved(integration)
    data.mappings.append(MappingInput("2", "leadsourcecode"))  # date vs choice

    assert any("not compatible" in p.message for p in save(integration, data))


def test_it_refuses_a_field_mapped_twice(integration):
    data = saved(integration)
    data.mappings.append(MappingInput("4", "description"))
    data.mappings.append(MappingInput("3", "description", direction="pull"))

    problems = save(integration, data)

    assert any("mapped twice" in p.message for p in problems)


def test_it_keeps_a_saved_mapping_whose_field_vanished(integration):
    data = saved(integration)
    data.mappings.append(MappingInput("4", "description"))
    assert save(integration, data) == []
    # The Dynamics field is deleted from the org; metadata is read again.
    from mapping.models import MetadataSnapshot

    snapshot = MetadataSnapshot.objects.get(
        integration=integration, vendor="dynamics", entity="lead"
    )
    snapshot.fields = [f for f in snapshot.fields if f["key"] != "description"]
    snapshot.save()

    again = saved(integration)
    again.enabled = False
    assert save(integration, again) == []  # still saved, not dropped
    assert FieldMapping.objects.filter(entity_sync__entity="lead", ac_key="4").exists()
    new = saved(integration)
    new.mappings.append(MappingInput("3", "new_missing_field"))
    assert any("no lead field" in p.message for p in save(integration, new))


def test_it_refuses_a_missing_standard_mapping(integration):
    data = saved(integration)
    data.mappings = [m for m in data.mappings if m.ac_key != "phone"]

    assert any("standard Phone mapping is missing" in p.message for p in save(integration, data))


# -- opportunities -------------------------------------------------------------------------------
def save_opportunity(integration, data):
    return opportunity_config_save(integration=integration, data=data, actor=None)


def test_it_creates_the_opportunity_schema_with_the_contact_relationship(
    integration, activecampaign_schemas
):
    data = OpportunityInput(
        enabled=True,
        custom_fields_enabled=True,
        fields=[
            OpportunityFieldInput("budgetamount", "currency", required=True),
            OpportunityFieldInput("new_region", "text"),
        ],
    )

    assert save_opportunity(integration, data) == []

    spec = activecampaign_schemas.specs[0]
    assert spec.contact_relationship
    assert [f.id for f in spec.fields][-2:] == ["d365-budgetamount", "d365-new-region"]
    assert "d365-estimatedvalue" in [f.id for f in spec.fields]  # always synced
    opportunity = OpportunitySync.objects.get(integration=integration)
    assert opportunity.schema_id == "schema-1"
    assert all(f.in_schema for f in opportunity.fields.all())


def test_it_refuses_to_turn_custom_field_mapping_off_once_saved(
    integration, activecampaign_schemas
):
    save_opportunity(integration, OpportunityInput(enabled=True, custom_fields_enabled=True))

    problems = save_opportunity(integration, OpportunityInput(enabled=True))

    assert "opportunity.custom_fields_enabled" in paths(problems)
    assert OpportunitySync.objects.get(integration=integration).custom_fields_enabled


def test_it_never_removes_a_field_from_the_schema_only_switches_it_off(
    integration, activecampaign_schemas
):
    field = OpportunityFieldInput("new_region", "text")
    save_opportunity(integration, OpportunityInput(True, True, [field]))

    removed = save_opportunity(integration, OpportunityInput(True, True, []))
    assert any("cannot be removed" in p.message for p in removed)

    field.enabled = False
    assert save_opportunity(integration, OpportunityInput(True, True, [field])) == []
    stored = OpportunitySync.objects.get(integration=integration).fields.get()
    assert (stored.in_schema, stored.enabled) == (True, False)
    # Still in the schema asked for: it is never removed from ActiveCampaign.
    assert "d365-new-region" in [f.id for f in activecampaign_schemas.specs[-1].fields]


def test_it_refuses_more_than_twenty_fields_and_wrong_types(integration, activecampaign_schemas):
    too_many = [OpportunityFieldInput(f"new_f{i}", "text") for i in range(21)]

    problems = save_opportunity(integration, OpportunityInput(True, True, too_many))
    assert any("At most 20" in p.message for p in problems)

    wrong = [OpportunityFieldInput("estimatedclosedate", "currency")]
    problems = save_opportunity(integration, OpportunityInput(True, True, wrong))
    assert any("always synced" in p.message for p in problems)
    wrong = [OpportunityFieldInput("budgetamount", "date")]
    problems = save_opportunity(integration, OpportunityInput(True, True, wrong))
    assert "opportunity.fields.0.ac_type" in paths(problems)
    assert activecampaign_schemas.specs == []


def test_it_saves_nothing_when_activecampaign_refuses_the_schema(
    integration, activecampaign_schemas
):
    activecampaign_schemas.error = ConfigurationError(
        "API key refused", vendor="activecampaign", reason=ConfigReason.UNAUTHORIZED
    )

    problems = save_opportunity(
        integration, OpportunityInput(True, True, [OpportunityFieldInput("new_region", "text")])
    )

    assert "ActiveCampaign refused the credentials" in problems[0].message
    assert not OpportunitySync.objects.filter(integration=integration).exists()


# -- conflict rule, deletion policy, blank handling (what the sync engine reads) ----------------
def test_it_starts_with_newest_wins_tagging_and_blanks_that_never_clear(integration):
    row = EntitySync.objects.get(integration=integration, entity="contact")

    assert (row.conflict_rule, row.deletion_policy) == ("newest", "tag")
    assert not row.field_mappings.filter(clear_when_blank=True).exists()


def test_it_saves_the_conflict_rule_deletion_policy_and_blank_clearing(integration, admin_user):
    data = saved(integration, "contact")
    data.conflict_rule, data.deletion_policy = "dynamics", "delete"
    next(m for m in data.mappings if m.ac_key == "phone").clear_when_blank = True

    assert save(integration, data, admin_user) == []

    row = EntitySync.objects.get(integration=integration, entity="contact")
    assert (row.conflict_rule, row.deletion_policy) == ("dynamics", "delete")
    assert list(
        row.field_mappings.filter(clear_when_blank=True).values_list("ac_key", flat=True)
    ) == ["phone"]
    changes = AuditEntry.objects.get(action="data.entity").changes
    assert changes["conflict_rule"] == {"old": "newest", "new": "dynamics"}
    assert changes["deletion_policy"] == {"old": "tag", "new": "delete"}
    assert "telephone1 (blank clears)" in changes["mappings"]["new"]


@pytest.mark.parametrize(
    ("name", "value", "path"),
    [
        ("conflict_rule", "loudest", "lead.conflict_rule"),
        ("deletion_policy", "shred", "lead.deletion_policy"),
        ("conflict_rule", "", "lead.conflict_rule"),
    ],
)
def test_it_refuses_an_unknown_conflict_rule_or_deletion_policy(integration, name, value, path):
    data = saved(integration)
    setattr(data, name, value)

    assert path in paths(save(integration, data))
    row = EntitySync.objects.get(integration=integration, entity="lead")
    assert (row.conflict_rule, row.deletion_policy) == ("newest", "tag")


@pytest.mark.parametrize(("entity", "ac_key"), [("lead", "email"), ("account", "name")])
def test_a_blank_match_key_never_clears(integration, entity, ac_key):
    data = saved(integration, entity)
    next(m for m in data.mappings if m.ac_key == ac_key).clear_when_blank = True

    problems = save(integration, data)

    assert any("a blank one never clears it" in p.message for p in problems)
    assert not FieldMapping.objects.filter(clear_when_blank=True).exists()
