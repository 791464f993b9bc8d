"""Fixtures shared by the data configuration tests."""

from __future__ import annotations

import pytest

from integrations.models import Integration
from mapping import services
from tests.fixtures.metadata import metadata_seed
from tests.fixtures.schemas import FakeSchemas, fake_schemas


@pytest.fixture
def integration(db) -> Integration:
    """The Default integration, connected, with both services' fields read and the three
    entities at their defaults (get_or_create: transactional tests start from an empty table)."""
    integration, _ = Integration.objects.get_or_create(name="Default")
    integration.status = Integration.Status.CONNECTED
    integration.save()
    metadata_seed(integration)
    services.entity_syncs_ensure(integration=integration)
    return integration


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def activecampaign_schemas(monkeypatch) -> FakeSchemas:
    return fake_schemas(monkeypatch)
