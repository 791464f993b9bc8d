"""Trust for a CA of this machine's own, and for no other host.

A service on this machine (a local test server) may speak HTTPS with a certificate of its own;
an identity endpoint must, as MSAL accepts only https authorities (`msal.authority.canonicalize`
refuses http). The settings may name a CA bundle for it (`CONNECTOR_LOCAL_CA_BUNDLE`). It is
used only by a client whose every endpoint is on this machine (loopback): a client that talks
to any other host verifies with the system CAs (or `CONNECTOR_CA_BUNDLE`) as always, so no
remote host is ever trusted on the strength of a key kept on this machine. Production settings
name no such bundle, and refuse loopback URLs anyway.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Iterable
from urllib.parse import urlsplit

from .http import HttpSettings


def is_loopback(url: str) -> bool:
    """Whether the URL's host is this machine: localhost, 127.0.0.0/8 or ::1."""
    host = (urlsplit(url.strip()).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_settings_for(urls: Iterable[str]) -> HttpSettings:
    """HttpSettings from the Django settings for a client reaching `urls`: the local CA
    bundle when every one of them is loopback and the bundle exists, else the usual trust."""
    settings, local_bundle = _configured()
    urls = [url for url in urls if url]
    loopback_only = bool(urls) and all(is_loopback(url) for url in urls)
    if local_bundle and loopback_only and os.path.isfile(local_bundle):
        return dataclasses.replace(settings, verify=local_bundle)
    return settings


def _configured() -> tuple[HttpSettings, str]:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        return (
            HttpSettings.from_settings(),
            str(getattr(settings, "CONNECTOR_LOCAL_CA_BUNDLE", "") or ""),
        )
    except ImproperlyConfigured:  # outside Django (a script): the defaults
        return HttpSettings(), ""
