"""Connection URLs: https hosts only, so the app cannot be turned into a proxy to internal
addresses. Plain-HTTP localhost URLs (the sandboxes) pass only when
SYNCADMIN_ALLOW_LOCAL_URLS is on."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def _is_local_host(host: str) -> bool:
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_internal_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def validate_connection_url(value: str, *, allow_local: bool | None = None) -> str:
    """Return the URL normalized (no trailing slash) or raise ValidationError."""
    allow_local = settings.SYNCADMIN_ALLOW_LOCAL_URLS if allow_local is None else allow_local
    parts = urlsplit(value.strip())
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError("Enter a full URL, for example https://example.api-us1.com.")
    if parts.username or parts.password:
        raise ValidationError("The URL must not contain a user name or password.")
    if parts.query or parts.fragment:
        raise ValidationError("The URL must not contain a query string or fragment.")
    local = _is_local_host(host)
    if local and not allow_local:
        raise ValidationError("Local addresses are not allowed.")
    if parts.scheme == "http":
        if not local:
            raise ValidationError("The URL must start with https://.")
    elif parts.scheme != "https":
        raise ValidationError("The URL must start with https://.")
    if not local and (_is_internal_ip(host) or "." not in host):
        raise ValidationError("The URL must name a public host, not an internal address.")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
