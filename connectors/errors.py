"""One error taxonomy for both vendors, and the one place that turns errors into words.

Every failure is classified once, where it is found (connectors.http and each vendor's
`classify`), into a kind the rest of the product acts on:

- retryable: try again later (429, 5xx, timeouts, dropped connections);
- configuration: a person must fix a setting (bad key, 401/403, unknown host, TLS, tenant);
- record: this one record was refused (400/404/409/412/422 about it), others may go on;
- fatal: anything else; stop and report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from .i18n import gettext, gettext_noop


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"
    CONFIGURATION = "configuration"
    RECORD = "record"
    FATAL = "fatal"


class ConfigReason(StrEnum):
    """Why a connection's configuration is wrong, for a message a person can act on."""

    UNAUTHORIZED = "unauthorized"  # the key/secret was refused
    FORBIDDEN = "forbidden"  # authenticated, but lacks a permission or privilege
    NO_APPLICATION_USER = "no_application_user"  # Dataverse: token fine, no app user in the org
    UNREACHABLE = "unreachable"  # unknown host, refused connection, nothing answers
    TLS = "tls"  # certificate not trusted
    TENANT = "tenant"  # Entra: tenant or authority unknown
    CLIENT = "client"  # Entra: application (client) id unknown in the tenant
    RESOURCE = "resource"  # Entra: the environment URL is not a resource in the tenant
    NOT_AN_API = "not_an_api"  # the URL answers, but not with the vendor's API
    PAYMENT = "payment"  # ActiveCampaign 402: the account has a payment problem
    OTHER = "other"


class ConnectorError(Exception):
    """Base of every connector failure. `message` is the vendor's own words, secrets removed."""

    kind: ClassVar[ErrorKind] = ErrorKind.FATAL

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
        retry_after: float | None = None,
        setting: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vendor = vendor
        self.status = status
        self.code = code
        self.field = field  # the record field a vendor refused
        self.retry_after = retry_after
        # The connection setting at fault when the reason alone does not say which (an
        # unreachable identity provider is the authority host, not the org URL): a
        # connectors.config field name such as "authority_host".
        self.setting = setting

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.vendor}: {self.message}{status}"


class RetryableError(ConnectorError):
    kind = ErrorKind.RETRYABLE

    def __init__(self, message: str, *, unsent: bool = False, **kwargs) -> None:
        super().__init__(message, **kwargs)
        # True when the request surely never reached the vendor (refused connection, no
        # throttle slot): safe to send again whatever the method.
        self.unsent = unsent


class RateLimitedError(RetryableError):
    """429: the vendor asked us to wait `retry_after` seconds."""


class UnreachableError(RetryableError):
    """Nothing answered at the address (connection refused, connect timeout).

    Retried like any transient failure; a connection check, where a person is waiting, reads
    it as ConfigReason.UNREACHABLE instead ("could not be reached. Check the URL").
    """

    def __init__(self, message: str, **kwargs) -> None:
        kwargs.setdefault("unsent", True)
        super().__init__(message, **kwargs)


class ConfigurationError(ConnectorError):
    kind = ErrorKind.CONFIGURATION

    def __init__(
        self, message: str, *, reason: ConfigReason = ConfigReason.OTHER, **kwargs
    ) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class RecordError(ConnectorError):
    """The vendor refused this one record (validation, duplicate, missing, stale)."""

    kind = ErrorKind.RECORD


class NotFoundError(RecordError):
    pass


class ConflictError(RecordError):
    """Duplicate (422 `duplicate`, Dataverse duplicate key) or stale version (412)."""


class FatalError(ConnectorError):
    kind = ErrorKind.FATAL


VENDOR_NAMES = {"activecampaign": "ActiveCampaign", "dynamics": "Dynamics 365"}

# Marked for the catalogue here, translated when a message is made (connectors/i18n.py).
_REASON_TEXT = {
    ConfigReason.UNAUTHORIZED: gettext_noop("{name} refused the credentials. Check the {secret}."),
    ConfigReason.FORBIDDEN: gettext_noop(
        "{name} accepted the credentials but refused the request: the user "
        "or application lacks a permission or security role."
    ),
    ConfigReason.NO_APPLICATION_USER: gettext_noop(
        "{name} issued a token, but the environment has no "
        "application user (with a security role) for this client id."
    ),
    ConfigReason.UNREACHABLE: gettext_noop("{name} could not be reached. Check the URL."),
    ConfigReason.TLS: gettext_noop("{name}'s TLS certificate is not trusted."),
    ConfigReason.TENANT: gettext_noop(
        "The Microsoft Entra tenant was not found. Check the tenant id (and the authority host)."
    ),
    ConfigReason.CLIENT: gettext_noop("The application (client) id was not found in the tenant."),
    ConfigReason.RESOURCE: gettext_noop(
        "The Dynamics 365 environment URL is not known to the tenant. Check the org URL."
    ),
    ConfigReason.NOT_AN_API: gettext_noop(
        "The URL answers, but not as the {name} API. Check the URL."
    ),
    ConfigReason.PAYMENT: gettext_noop("{name} reports a payment problem on the account."),
    ConfigReason.OTHER: gettext_noop("{name} refused the connection."),
}
_SECRET_NAMES = {
    "activecampaign": gettext_noop("API key"),
    "dynamics": gettext_noop("client secret"),
}


def user_message(error: ConnectorError) -> str:
    """Words for a person: what failed, on which side, and what to do. Never a secret."""
    name = VENDOR_NAMES.get(error.vendor, error.vendor)
    if isinstance(error, ConfigurationError):
        secret = gettext(_SECRET_NAMES.get(error.vendor, gettext_noop("credentials")))
        text = gettext(_REASON_TEXT[error.reason]).format(name=name, secret=secret)
        return f"{text} ({error.message})" if error.message else text
    if isinstance(error, RateLimitedError):
        if error.retry_after:
            return gettext(
                "{name} is rate limiting requests for {seconds:g} s; the work will be retried."
            ).format(name=name, seconds=error.retry_after)
        return gettext("{name} is rate limiting requests; the work will be retried.").format(
            name=name
        )
    if isinstance(error, RetryableError):
        return gettext(
            "{name} is not answering properly right now ({message}); try again later."
        ).format(name=name, message=error.message)
    if isinstance(error, RecordError):
        if error.field:
            return gettext("{name} refused the record (field {field}): {message}").format(
                name=name, field=error.field, message=error.message
            )
        return gettext("{name} refused the record: {message}").format(
            name=name, message=error.message
        )
    return gettext("{name} failed: {message}").format(name=name, message=error.message)


# What a configuration reason says about which connection setting is wrong, per vendor (the
# field names of connectors.config); an error's own `setting` wins.
_REASON_SETTINGS = {
    "activecampaign": {
        ConfigReason.UNAUTHORIZED: "api_key",
        ConfigReason.UNREACHABLE: "api_url",
        ConfigReason.TLS: "api_url",
        ConfigReason.NOT_AN_API: "api_url",
    },
    "dynamics": {
        ConfigReason.UNAUTHORIZED: "client_secret",
        ConfigReason.TENANT: "tenant_id",
        ConfigReason.CLIENT: "client_id",
        ConfigReason.RESOURCE: "org_url",
        ConfigReason.UNREACHABLE: "org_url",
        ConfigReason.TLS: "org_url",
        ConfigReason.NOT_AN_API: "org_url",
    },
}


def setting_at_fault(error: ConnectorError) -> str:
    """The connection setting a person should look at for this error, or "" if none is."""
    if error.setting:
        return error.setting
    reason = error.reason if isinstance(error, ConfigurationError) else None
    if isinstance(error, UnreachableError):
        reason = ConfigReason.UNREACHABLE
    return _REASON_SETTINGS.get(error.vendor, {}).get(reason, "") if reason else ""
