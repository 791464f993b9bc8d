"""Fixtures of the Settings page tests: a filled-in form and a stand-in connection check."""

from __future__ import annotations

import pytest

from connectors.services import ConnectionCheck, SideResult
from connectors.types import Vendor
from integrations import services

GUID = "11111111-2222-3333-4444-555555555555"
FORM = {
    "ac_api_url": "https://acme.api-us1.com",
    "ac_api_key": "the-ac-key-123456",
    "dynamics_org_url": "https://acme.crm.dynamics.com",
    "dynamics_tenant_id": GUID,
    "dynamics_client_id": GUID,
    "dynamics_client_secret": "the-client-secret-xyz",
    "dynamics_authority_host": "https://login.microsoftonline.com",
    "ac_budget_share": "80",
    "dynamics_budget_share": "80",
}


def ok(vendor, identity):
    return SideResult(
        vendor=vendor, ok=True, identity=identity, message=f"Connected to {vendor} as {identity}."
    )


@pytest.fixture
def fake_check(monkeypatch):
    """Stand in for the connectors' check; records the configs it was given."""
    calls = []
    result = {
        "check": ConnectionCheck(
            ok(Vendor.ACTIVECAMPAIGN, "ann@acme (account acme)"),
            ok(Vendor.DYNAMICS, "org acme, app user 42"),
        )
    }

    def check(*, activecampaign, dynamics):
        calls.append((activecampaign, dynamics))
        return result["check"]

    monkeypatch.setattr(services, "connection_check", check)
    return calls, result
