"""The local CA bundle (the sandboxes' certificate) is trusted for loopback endpoints only."""

from __future__ import annotations

import pytest

from connectors.activecampaign import ActiveCampaignClient
from connectors.config import ActiveCampaignConfig, DynamicsConfig
from connectors.dynamics import DynamicsClient
from connectors.local_tls import http_settings_for, is_loopback


@pytest.fixture
def local_bundle(settings, tmp_path):
    bundle = tmp_path / "sandbox-ca-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    settings.CONNECTOR_LOCAL_CA_BUNDLE = str(bundle)
    settings.CONNECTOR_CA_BUNDLE = ""
    return str(bundle)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8101", True),
        ("https://127.0.0.2", True),
        ("https://localhost:8103/", True),
        ("http://[::1]:8102", True),
        ("https://acme.api-us1.com", False),
        ("https://localhost.example.com", False),
        ("https://127.0.0.1.nip.io", False),
        ("https://10.0.0.1", False),
        ("not a url", False),
    ],
)
def test_it_knows_loopback_hosts(url, loopback):
    assert is_loopback(url) is loopback


def test_it_trusts_the_local_bundle_when_every_endpoint_is_local(local_bundle):
    both = http_settings_for(["http://127.0.0.1:8102", "https://127.0.0.1:8103"])

    assert both.verify == local_bundle


def test_it_never_trusts_it_for_a_real_host(local_bundle, settings):
    assert http_settings_for(["https://acme.api-us1.com"]).verify is True
    # One real endpoint among local ones is enough: the token would go there.
    mixed = http_settings_for(["http://127.0.0.1:8102", "https://login.microsoftonline.com"])
    assert mixed.verify is True
    settings.CONNECTOR_CA_BUNDLE = "/etc/ssl/corporate-proxy.pem"
    assert http_settings_for(["https://acme.api-us1.com"]).verify == "/etc/ssl/corporate-proxy.pem"


def test_it_ignores_a_bundle_that_is_not_there(settings, tmp_path):
    settings.CONNECTOR_LOCAL_CA_BUNDLE = str(tmp_path / "never-written.pem")
    settings.CONNECTOR_CA_BUNDLE = ""

    assert http_settings_for(["https://127.0.0.1:8103"]).verify is True


def test_the_clients_take_it_from_their_own_endpoints(local_bundle):
    ac = ActiveCampaignClient(ActiveCampaignConfig("http://127.0.0.1:8101", "key"))
    remote = ActiveCampaignClient(ActiveCampaignConfig("https://acme.api-us1.com", "key"))
    local = DynamicsConfig(
        "http://127.0.0.1:8102", "tenant", "client", "secret", "https://127.0.0.1:8103"
    )
    real_authority = DynamicsConfig("http://127.0.0.1:8102", "tenant", "client", "secret")

    assert ac.http.settings.verify == local_bundle
    assert remote.http.settings.verify is True
    assert DynamicsClient(local).http.settings.verify == local_bundle
    assert DynamicsClient(real_authority).http.settings.verify is True
