"""Connection checks (S-1.2): validate both sides with real calls, in words a person reads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from .config import ActiveCampaignConfig, DynamicsConfig
from .errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    UnreachableError,
    setting_at_fault,
    user_message,
)
from .http import HttpSettings, RetryPolicy
from .i18n import gettext
from .types import Vendor

# A person is waiting on the Settings page: a couple of quick attempts, no long backoff.
CHECK_RETRY = RetryPolicy(attempts=2, backoff=0.5, backoff_max=1.0, retry_after_max=5.0)


@dataclass(frozen=True)
class SideResult:
    vendor: Vendor
    ok: bool
    message: str  # what a person reads: who we connected as, or what failed and what to do
    identity: str = ""  # on success: the account / org / user the connection reached
    reason: str = ""  # on failure: a ConfigReason value, or the error kind
    setting: str = ""  # on failure: the connectors.config field to look at, when known


@dataclass(frozen=True)
class ConnectionCheck:
    activecampaign: SideResult
    dynamics: SideResult

    @property
    def ok(self) -> bool:
        return self.activecampaign.ok and self.dynamics.ok

    @property
    def sides(self) -> tuple[SideResult, SideResult]:
        return (self.activecampaign, self.dynamics)

    def failed_sides(self) -> list[str]:
        return [side.vendor.value for side in (self.activecampaign, self.dynamics) if not side.ok]


def _failure(vendor: Vendor, error: ConnectorError) -> SideResult:
    if isinstance(error, UnreachableError):
        # A person is checking the connection: "check the URL", not "try again later", and
        # the same words whether nothing listens, nothing answers or the address is refused.
        error = ConfigurationError(
            error.message,
            vendor=error.vendor,
            reason=ConfigReason.UNREACHABLE,
            setting=error.setting,
        )
    reason = error.reason.value if isinstance(error, ConfigurationError) else error.kind.value
    return SideResult(
        vendor=vendor,
        ok=False,
        message=user_message(error),
        reason=reason,
        setting=setting_at_fault(error),
    )


def activecampaign_check(
    config: ActiveCampaignConfig, *, http_settings: HttpSettings | None = None
) -> SideResult:
    from .activecampaign.client import ActiveCampaignClient

    try:
        info = ActiveCampaignClient(config, http_settings=http_settings, retry=CHECK_RETRY).check()
    except ConnectorError as error:
        return _failure(Vendor.ACTIVECAMPAIGN, error)
    identity = f"{info.display_name} ({info.email}) on {info.api_host}"
    return SideResult(
        vendor=Vendor.ACTIVECAMPAIGN,
        ok=True,
        identity=identity,
        message=gettext("Connected to ActiveCampaign as {identity}.").format(identity=identity),
    )


def dynamics_check(
    config: DynamicsConfig, *, http_settings: HttpSettings | None = None
) -> SideResult:
    from .dynamics.client import DynamicsClient

    try:
        info = DynamicsClient(config, http_settings=http_settings, retry=CHECK_RETRY).check()
    except ConnectorError as error:
        return _failure(Vendor.DYNAMICS, error)
    host = urlsplit(info.org_url).netloc
    identity = f"application user {info.user_id} in organization {info.organization_id} ({host})"
    return SideResult(
        vendor=Vendor.DYNAMICS,
        ok=True,
        identity=identity,
        message=gettext("Connected to Dynamics 365 {host} as application user {user_id}.").format(
            host=host, user_id=info.user_id
        ),
    )


def connection_check(
    *,
    activecampaign: ActiveCampaignConfig,
    dynamics: DynamicsConfig,
    http_settings: HttpSettings | None = None,
) -> ConnectionCheck:
    """Check both sides at once (each waits on the network, not on the other).

    Without `http_settings`, each client takes its own from the settings (connectors.local_tls:
    a local CA bundle only for a side whose every endpoint is on this machine).
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="connection-check") as pool:
        ac = pool.submit(activecampaign_check, activecampaign, http_settings=http_settings)
        dv = pool.submit(dynamics_check, dynamics, http_settings=http_settings)
        return ConnectionCheck(activecampaign=ac.result(), dynamics=dv.result())
