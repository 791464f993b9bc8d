"""Connection URLs: https hosts with public addresses only, so the app cannot be turned into a
proxy to internal addresses. Plain-HTTP localhost URLs (the sandboxes) pass only when
SYNCADMIN_ALLOW_LOCAL_URLS is on.

This is the check a person sees while typing; the connectors check again, on the address
actually connected to (connectors.http), which also covers names that resolve inward.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from connectors.http import address_refusal

LOCAL_NAMES = {"localhost", "localhost.localdomain"}
MAX_URL_LENGTH = 200
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# A last label that is a number (decimal, octal or hex) makes the whole host an IPv4 address
# to resolvers and browsers (WHATWG URL "ends in a number"): 127.1, 0x7f.0.0.1, 2130706433.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def _is_local_name(host: str) -> bool:
    return host in LOCAL_NAMES or host.endswith(".localhost")


def _ascii_host(host: str) -> str:
    """The host as DNS sees it (IDNA), each label checked; ValidationError if it is not one."""
    if host.endswith("."):
        raise ValidationError(_("Write the host name without a final dot."))
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationError(
            _("This is not a valid host name (each part between dots is 1 to 63 characters).")
        ) from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(
            _(
                "This is not a valid host name: use letters, digits and hyphens, each part "
                "between dots 1 to 63 characters."
            )
        )
    return ascii_host


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a numeric host stands for; ValidationError for an unusual spelling."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        return None
    try:
        address = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        raise ValidationError(_("This is not a valid host name or IP address.")) from None
    if address_refusal(address) is not None:
        raise ValidationError(_("The URL must name a public host, not an internal address."))
    raise ValidationError(
        _(
            "Write the address as %(address)s or, better, as the service's host name: other "
            "spellings of IP addresses are not accepted."
        )
        % {"address": address}
    )


def validate_connection_url(value: str, *, allow_local: bool | None = None) -> str:
    """Return the URL normalized (no trailing slash) or raise ValidationError."""
    allow_local = settings.SYNCADMIN_ALLOW_LOCAL_URLS if allow_local is None else allow_local
    value = (value or "").strip()
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(
            _("The URL is longer than %(limit)s characters.") % {"limit": MAX_URL_LENGTH}
        )
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValidationError(_("This is not a valid URL.")) from None
    if not host:
        raise ValidationError(_("Enter a full URL, for example https://example.api-us1.com."))
    if parts.username or parts.password:
        raise ValidationError(_("The URL must not contain a user name or password."))
    if parts.query or parts.fragment:
        raise ValidationError(_("The URL must not contain a query string or fragment."))
    if parts.scheme not in ("http", "https"):
        raise ValidationError(_("The URL must start with https://."))
    address = _ip_literal(host)
    if address is None:
        host = _ascii_host(host)
        local = _is_local_name(host)
    else:
        local = address.is_loopback and address_refusal(address, allow_local=True) is None
    if local and not allow_local:
        raise ValidationError(_("Local addresses are not allowed."))
    if parts.scheme == "http" and not local:
        raise ValidationError(_("The URL must start with https://."))
    if not local and (
        (address is not None and address_refusal(address) is not None)
        or (address is None and "." not in host)
    ):
        raise ValidationError(_("The URL must name a public host, not an internal address."))
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
