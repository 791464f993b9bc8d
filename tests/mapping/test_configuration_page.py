"""The Data configuration page through the test client: render, save, errors next to rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import Integration
from mapping import services
from mapping.models import EntitySync, FieldMapping
from mapping.selectors import entity_syncs
from mapping.services import MappingInput
from tests.fixtures.metadata import metadata_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    integration = Integration.objects.get(name="Default")
    integration.status = Integration.Status.CONNECTED
    integration.save()
    metadata_seed(integration)
    return integration


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def form_of(response) -> dict:
    """The POST a browser would send for the page as rendered (hidden + visible fields)."""
    import re

    html = response.content.decode()
    form = html[
        html.index('id="entity-form"') : html.index("</form>", html.index('id="entity-form"'))
    ]
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or " disabled" in tag:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag:
            continue
        data.setdefault(name.group(1), []).append(value.group(1) if value else "on")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
        first = re.findall(r'<option value="([^"]*)"', body)
        if selected or first:
            data.setdefault(name, []).append(selected[0] if selected else first[0])
    data.pop("csrfmiddlewaretoken", None)
    return data


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


def test_it_renders_500_fields_per_side_in_a_fixed_number_of_queries(
    admin_client, integration, monkeypatch
):
    metadata_seed(integration, extra=500)
    admin_client.get(reverse("mapping:entity", args=["lead"]))  # create the defaults once
    data = services.entity_input_from_saved(entity_syncs(integration=integration)["lead"])
    data.mappings += [MappingInput(str(100 + i), f"new_text{i}") for i in range(50)]
    assert services.entity_config_save(integration=integration, data=data, actor=None) == []
    # No vendor call may happen while rendering: the metadata comes from the cache.
    import connectors.activecampaign.client as ac_client
    import connectors.dynamics.client as dv_client

    monkeypatch.setattr(ac_client.ActiveCampaignClient, "__init__", None)
    monkeypatch.setattr(dv_client.DynamicsClient, "__init__", None)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("mapping:entity", args=["lead"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-label="custom text') == 450  # the 50 mapped ones left the picker
    assert html.count('class="mapping-row"') == 50
    # session, user, integration, metadata, entity syncs (+2 prefetches), navigation…
    # session, user, integration, metadata cache, entity rows (savepoint, check, select and two
    # prefetches), the integration switcher: the same with 5 fields or 500.
    assert len(queries) == 11, "\n".join(q["sql"][:120] for q in queries)
    pinned = len(queries)
    metadata_seed(integration, extra=5)
    with CaptureQueriesContext(connection) as fewer:
        admin_client.get(reverse("mapping:entity", args=["lead"]))
    assert len(fewer) == pinned  # the count does not grow with the number of fields


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
