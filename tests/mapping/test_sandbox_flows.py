"""Data configuration against the sandboxes over real HTTP: fields read live, the
opportunity custom object created and extended in ActiveCampaign."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.activecampaign.client import ActiveCampaignClient
from mapping import services
from mapping.models import MetadataSnapshot
from mapping.services import OpportunityFieldInput, OpportunityInput

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_it_reads_both_sides_fields_once_and_caches_them(
    client, admin_user, sandboxes, connected_integration
):
    sandboxes.dataverse_app.seed(5)
    sandboxes.activecampaign_app.seed(5)
    client.force_login(admin_user)

    page = client.get(reverse("mapping:entity", args=["lead"]))

    assert page.status_code == 200
    snapshots = MetadataSnapshot.objects.filter(integration=connected_integration)
    assert {(s.vendor, s.entity) for s in snapshots} == {
        ("activecampaign", "contact"),
        ("activecampaign", "account"),
        ("dynamics", "lead"),
        ("dynamics", "contact"),
        ("dynamics", "account"),
        ("dynamics", "opportunity"),
    }
    lead_keys = {f["key"] for f in snapshots.get(vendor="dynamics", entity="lead").fields}
    assert {"emailaddress1", "leadsourcecode", "jobtitle"} <= lead_keys
    row = client.get(
        reverse("mapping:criterion_row", args=["lead"]), {"field": "leadsourcecode", "index": "0"}
    ).content.decode()
    assert "Lead Source" in row and ">Web</option>" in row  # a real Dataverse picklist

    # A second visit reads the cache: no request reaches either sandbox.
    before = len(sandboxes.activecampaign_app.log) + len(sandboxes.dataverse_app.log)
    client.get(reverse("mapping:entity", args=["contact"]))
    assert len(sandboxes.activecampaign_app.log) + len(sandboxes.dataverse_app.log) == before


def test_refresh_reads_the_fields_again(client, admin_user, sandboxes, connected_integration):
    client.force_login(admin_user)
    client.get(reverse("mapping:entity", args=["lead"]))
    ActiveCampaignClient(connected_integration.activecampaign_config()).custom_fields.create(
        title="Favourite colour", type="dropdown", options=("Red", "Blue")
    )

    client.post(reverse("mapping:refresh"), {"next": reverse("mapping:entity", args=["lead"])})

    fields = MetadataSnapshot.objects.get(
        integration=connected_integration, vendor="activecampaign", entity="contact"
    ).fields
    colour = next(f for f in fields if f["label"] == "Favourite colour")
    assert colour["type"] == "choice"
    assert [label for _, label in colour["options"]] == ["Red", "Blue"]


def test_it_creates_then_extends_the_opportunity_schema_in_activecampaign(
    admin_user, sandboxes, connected_integration
):
    metadata = services.metadata_refresh(integration=connected_integration)
    first = OpportunityInput(True, True, [OpportunityFieldInput("description", "textarea")])

    assert (
        services.opportunity_config_save(
            integration=connected_integration, data=first, actor=admin_user, metadata=metadata
        )
        == []
    )
    second = OpportunityInput(
        True,
        True,
        [
            OpportunityFieldInput("description", "textarea", enabled=False),
            OpportunityFieldInput("budgetamount", "currency"),
        ],
    )
    assert (
        services.opportunity_config_save(
            integration=connected_integration, data=second, actor=admin_user, metadata=metadata
        )
        == []
    )

    client = ActiveCampaignClient(connected_integration.activecampaign_config())
    schema = next(s for s in client.custom_objects.schemas() if s.slug == "d365-opportunity")
    ids = {field.id for field in schema.active_fields}
    # The switched-off field stays in the schema; the new one was added; nothing was deleted.
    assert {"d365-description", "d365-budgetamount", "d365-name"} <= ids
    assert any(r.namespace == "contacts" for r in schema.relationships)
