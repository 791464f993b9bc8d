"""The Data configuration page through the test client: render, save, errors next to rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mapping import services
from mapping.models import EntitySync, FieldMapping
from mapping.selectors import entity_syncs
from mapping.services import MappingInput
from tests.fixtures.metadata import metadata_seed
from tests.mapping.page_forms import form_of

pytestmark = pytest.mark.django_db


def test_it_renders_the_entity_tabs(admin_client, integration):
    response = admin_client.get(reverse("mapping:configuration"))

    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Leads", "Contacts", "Accounts", "Opportunities"):
        assert f">{label}</a>" in html
    assert "Standard mappings" in html and "Custom mappings" in html
    assert 'aria-label="Email (always on)"' in html


def test_it_saves_what_the_page_posts_back_unchanged(admin_client, integration):
    page = admin_client.get(reverse("mapping:entity", args=["contact"]))

    response = admin_client.post(reverse("mapping:entity", args=["contact"]), form_of(page))

    assert response.status_code == 302
    assert EntitySync.objects.get(integration=integration, entity="contact").enabled


def test_it_shows_problems_next_to_the_row_and_saves_nothing(admin_client, integration):
    data = form_of(admin_client.get(reverse("mapping:entity", args=["lead"])))
    data["selection"] = ["criteria"]
    data.update(
        {
            "criteria-9-field": ["birthdate"],
            "criteria-9-operator": ["greater_than"],
            "criteria-9-value": ["yesterday"],
        }
    )

    response = admin_client.post(reverse("mapping:entity", args=["lead"]), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    row = html[html.index('data-index="0"', html.index("criteria-rows")) :]
    assert "invalid-feedback" in row[: row.index("</tr>")]
    assert EntitySync.objects.get(integration=integration, entity="lead").selection == "all"


def test_it_turns_a_standard_mapping_off_from_the_page(admin_client, integration):
    data = form_of(admin_client.get(reverse("mapping:entity", args=["lead"])))
    index = next(
        k.split("-")[1] for k, v in data.items() if k.endswith("-ac_key") and v == ["jobTitle"]
    )
    data.pop(f"mappings-{index}-enabled")

    admin_client.post(reverse("mapping:entity", args=["lead"]), data)

    assert not FieldMapping.objects.get(entity_sync__entity="lead", ac_key="jobTitle").enabled
    page = admin_client.get(reverse("mapping:entity", args=["lead"])).content.decode()
    picker = page[page.index('id="ac-picker"') :]
    assert 'value="jobTitle"' in picker  # offered for a custom mapping now


def test_the_mapping_rows_offer_only_compatible_fields(admin_client, integration):
    response = admin_client.get(
        reverse("mapping:mapping_rows", args=["lead"]),
        {"ac": "2", "index": "7", "entity_direction": "pull"},
    )

    html = response.content.decode()
    options = html[html.index('name="mappings-7-dynamics_key"') : html.index("</select>")]
    # A date (Birthday) pulled into Dynamics: a date or a text field, never a choice.
    assert 'value="birthdate"' in options and 'value="new_position"' in options
    assert 'value="leadsourcecode"' not in options and 'value="new_score"' not in options


def test_the_criterion_row_offers_operators_by_field_type(admin_client, integration):
    choice = admin_client.get(
        reverse("mapping:criterion_row", args=["lead"]), {"field": "leadsourcecode", "index": "3"}
    ).content.decode()
    date = admin_client.get(
        reverse("mapping:criterion_row", args=["lead"]), {"field": "birthdate", "index": "3"}
    ).content.decode()

    assert 'value="in"' in choice and 'value="contains"' not in choice
    assert 'value="greater_than"' in date and 'value="starts_with"' not in date
    assert 'type="date"' in date


def shell_queries(client) -> int:
    """What any page costs around its own content (session, user, integration, switcher…):
    the compatibility table is a page of the same shape that reads nothing itself."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("mapping:compatibility")).status_code == 200
    return len(queries)


# The entity page's own: the metadata cache; the entity rows ensured (savepoint, check, release)
# and read with their criteria and mappings (three). The same for 5 fields or 500.
ENTITY_PAGE_QUERIES = 7


@pytest.mark.parametrize("extra", [5, 500])
def test_it_renders_any_number_of_fields_in_a_fixed_number_of_queries(
    admin_client, integration, monkeypatch, django_assert_max_num_queries, extra
):
    metadata_seed(integration, extra=extra)
    admin_client.get(reverse("mapping:entity", args=["lead"]))  # create the defaults once
    data = services.entity_input_from_saved(entity_syncs(integration=integration)["lead"])
    mapped = min(extra, 50)
    data.mappings += [MappingInput(str(100 + i), f"new_text{i}") for i in range(mapped)]
    assert services.entity_config_save(integration=integration, data=data, actor=None) == []
    # No vendor call may happen while rendering: the metadata comes from the cache.
    import connectors.activecampaign.client as ac_client
    import connectors.dynamics.client as dv_client

    monkeypatch.setattr(ac_client.ActiveCampaignClient, "__init__", None)
    monkeypatch.setattr(dv_client.DynamicsClient, "__init__", None)
    shell = shell_queries(admin_client)

    with django_assert_max_num_queries(shell + ENTITY_PAGE_QUERIES):
        response = admin_client.get(reverse("mapping:entity", args=["lead"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-label="custom text') == extra - mapped  # mapped ones left the picker
    assert html.count('class="mapping-row"') == mapped


def test_it_flags_a_mapping_whose_field_vanished(admin_client, integration):
    from mapping.models import MetadataSnapshot

    admin_client.get(reverse("mapping:entity", args=["lead"]))
    data = services.entity_input_from_saved(entity_syncs(integration=integration)["lead"])
    data.mappings.append(MappingInput("4", "description"))
    assert services.entity_config_save(integration=integration, data=data, actor=None) == []
    snapshot = MetadataSnapshot.objects.get(
        integration=integration, vendor="activecampaign", entity="contact"
    )
    snapshot.fields = [f for f in snapshot.fields if f["key"] != "4"]  # deleted in AC
    snapshot.save()

    html = admin_client.get(reverse("mapping:entity", args=["lead"])).content.decode()

    assert "The ActiveCampaign field &#x27;4&#x27; no longer exists." in html
    assert FieldMapping.objects.filter(entity_sync__entity="lead", ac_key="4").exists()


def test_it_sets_the_conflict_rule_deletion_policy_and_blank_clearing(admin_client, integration):
    page = admin_client.get(reverse("mapping:entity", args=["lead"]))
    html = page.content.decode()
    assert 'name="conflict_rule" id="conflict-rule-newest" value="newest" checked' in html
    assert 'name="deletion_policy" id="deletion-policy-tag" value="tag" checked' in html
    assert "Most recent change wins" in html and "Delete in ActiveCampaign" in html
    data = form_of(page)
    data["conflict_rule"], data["deletion_policy"] = ["activecampaign"], ["nothing"]
    index = next(
        k.split("-")[1] for k, v in data.items() if k.endswith("-ac_key") and v == ["lastName"]
    )
    data[f"mappings-{index}-clear_when_blank"] = ["on"]

    response = admin_client.post(reverse("mapping:entity", args=["lead"]), data)

    assert response.status_code == 302
    row = EntitySync.objects.get(integration=integration, entity="lead")
    assert (row.conflict_rule, row.deletion_policy) == ("activecampaign", "nothing")
    assert FieldMapping.objects.get(entity_sync=row, ac_key="lastName").clear_when_blank
    again = admin_client.get(reverse("mapping:entity", args=["lead"])).content.decode()
    assert 'value="activecampaign" checked' in again
    assert 'aria-label="A blank Last name clears the other side"' in again
    assert 'aria-label="A blank Email clears the other side"' not in again  # the match key


def test_it_refuses_an_unknown_conflict_rule_from_the_page(admin_client, integration):
    data = form_of(admin_client.get(reverse("mapping:entity", args=["lead"])))
    data["conflict_rule"] = ["coin toss"]

    response = admin_client.post(reverse("mapping:entity", args=["lead"]), data)

    assert response.status_code == 400
    assert "Unknown conflict rule" in response.content.decode()
    assert EntitySync.objects.get(integration=integration, entity="lead").conflict_rule == "newest"
