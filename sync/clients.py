"""The two vendor clients of an integration, as the engine uses them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from connectors.activecampaign.client import ActiveCampaignClient
from connectors.dynamics.client import DynamicsClient
from integrations.models import Integration

# Dataverse accepts up to 1,000 operations per $batch; the engine sends full batches
# (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api).
DYNAMICS_BATCH_SIZE = 1000
# Dataverse's largest page (odata.maxpagesize): fewer, bigger reads.
DYNAMICS_PAGE_SIZE = 5000


@dataclass
class Clients:
    """Built lazily: a step that talks to one side never authenticates with the other."""

    integration: Integration

    @cached_property
    def ac(self) -> ActiveCampaignClient:
        return ActiveCampaignClient(self.integration.activecampaign_config())

    @cached_property
    def dv(self) -> DynamicsClient:
        return DynamicsClient(self.integration.dynamics_config())
