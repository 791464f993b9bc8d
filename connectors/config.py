"""What it takes to connect to each vendor: plain values, built by the caller (never read here
from the database), so connectors stay free of Django models."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class ActiveCampaignConfig:
    api_url: str  # https://<account>.api-us1.com, as shown on Settings > Developer
    api_key: str = field(repr=False)
    # The share of the account's 5 requests/second this app may use (others share the account).
    budget_share: float = 0.8


@dataclass(frozen=True)
class DynamicsConfig:
    org_url: str  # https://<org>.crm.dynamics.com
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    authority_host: str = DEFAULT_AUTHORITY_HOST
    # The share of the service protection limits (per user, per 5 minutes) this app may use.
    budget_share: float = 0.8
