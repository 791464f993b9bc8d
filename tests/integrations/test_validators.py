from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.validators import validate_connection_url


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.api-us1.com",
        "https://contoso.crm4.dynamics.com/",
        "https://login.microsoftonline.com",
    ],
)
def test_it_accepts_public_https_urls(url):
    assert validate_connection_url(url, allow_local=False) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://acme.api-us1.com", "https://"),
        ("ftp://acme.example.com", "https://"),
        ("https://10.0.0.5", "internal"),
        ("https://169.254.169.254/latest/meta-data", "internal"),
        ("https://[fd00::1]", "internal"),
        ("https://intranet", "internal"),
        ("https://localhost:8443", "Local"),
        ("http://127.0.0.1:8101", "Local"),
        ("https://user:pw@acme.api-us1.com", "user name"),
        ("https://acme.api-us1.com/?x=1", "query"),
        ("acme.api-us1.com", "full URL"),
    ],
)
def test_it_refuses_what_could_reach_internal_addresses(url, message):
    with pytest.raises(ValidationError, match=message):
        validate_connection_url(url, allow_local=False)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8101", "http://localhost:8102", "https://localhost:8103"]
)
def test_it_accepts_local_urls_only_when_the_setting_allows(url):
    assert validate_connection_url(url, allow_local=True) == url


def test_it_still_refuses_internal_addresses_when_local_urls_are_allowed():
    with pytest.raises(ValidationError):
        validate_connection_url("http://10.1.2.3", allow_local=True)
