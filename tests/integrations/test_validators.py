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


@pytest.mark.parametrize(
    "url",
    [
        "https://127.1",
        "https://0x7f.0.0.1",
        "https://0177.0.0.1",
        "https://2130706433",
        "https://10.1",
        "https://0x0a000001",
        "https://localhost.",
        "https://acme.api-us1.com.",
        "https://100.64.0.1",
        "https://224.0.0.1",
        "https://0.0.0.0",
        "https://[::ffff:127.0.0.1]",
        "https://[::ffff:a9fe:a9fe]",
        "https://[fe80::1]",
    ],
)
@pytest.mark.parametrize("allow_local", [False, True])
def test_it_refuses_other_spellings_of_internal_addresses(url, allow_local):
    with pytest.raises(ValidationError):
        validate_connection_url(url, allow_local=allow_local)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://" + "a" * 64 + ".example.com", "1 to 63 characters"),
        ("https://" + "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".d.com", "longer than"),
        ("https://exa mple.com", "not a valid host name"),
        ("https://a..b.com", "not a valid host name"),
        ("https://acme.api-us1.com:port", "not a valid URL"),
        ("https://[::1", "not a valid URL"),
        ("https://foo.123", "not a valid host name or IP address"),
    ],
)
def test_it_explains_a_malformed_host(url, message):
    with pytest.raises(ValidationError, match=message):
        validate_connection_url(url, allow_local=False)


def test_it_accepts_an_international_domain_name():
    assert validate_connection_url("https://bücher.example", allow_local=False)


def test_production_never_allows_local_urls():
    import os
    import subprocess
    import sys

    from tests.syncadmin.test_settings import PRODUCTION_ENV, ROOT

    env = {**os.environ, **PRODUCTION_ENV, "SYNCADMIN_ALLOW_LOCAL_URLS": "1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SYNCADMIN_ALLOW_LOCAL_URLS)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip() == "False", result.stderr
