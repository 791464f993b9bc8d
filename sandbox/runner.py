"""Start both sandboxes together: for the `sandbox` command, `make run` and the tests."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .core import ADMIN_HEADER, admin_token_new
from .server import ServerHandle, serve
from .store import Database
from .tls import certificate_ensure


@dataclass(frozen=True)
class ActiveCampaignEndpoint:
    api_url: str  # what a user copies from Settings > Developer; the API is under /api/3/
    api_key: str
    account: str


@dataclass(frozen=True)
class DataverseEndpoint:
    org_url: str  # plain HTTP; the Web API is under /api/data/v9.2/
    org_url_tls: str  # the same service over HTTPS
    authority_host: str  # https://localhost:<port>: MSAL's authority is <host>/<tenant id>
    tenant_id: str
    client_id: str
    client_secret: str
    ca_bundle: str  # system CAs + the sandbox certificate, for `verify=`


@dataclass
class Sandboxes:
    activecampaign: ActiveCampaignEndpoint
    dataverse: DataverseEndpoint
    activecampaign_app: object = field(repr=False)
    dataverse_app: object = field(repr=False)
    handles: list[ServerHandle] = field(default_factory=list, repr=False)
    admin_token: str = field(default="", repr=False)  # both sandboxes' /_sandbox/ token

    @property
    def control_headers(self) -> dict[str, str]:
        """What a call to either sandbox's /_sandbox/ control endpoints must carry."""
        return {ADMIN_HEADER: self.admin_token}

    def endpoints(self) -> dict:
        return {
            "activecampaign": asdict(self.activecampaign),
            "dataverse": asdict(self.dataverse),
            "sandbox": {"admin_header": ADMIN_HEADER, "admin_token": self.admin_token},
        }

    def stop(self) -> None:
        for handle in self.handles:
            handle.stop()


def sandboxes_start(
    *,
    state_dir: Path | None = None,
    tls_dir: Path,
    seed: int = 0,
    rate_limits: bool = True,
    host: str = "127.0.0.1",
    ac_port: int = 0,
    dv_port: int = 0,
    dv_tls_port: int = 0,
    admin_token: str | None = None,
) -> Sandboxes:
    """Start both sandboxes; state in state_dir (SQLite files) or in memory when None.

    seed > 0 fills an empty sandbox with that many people (see sandbox.seed). Both sandboxes
    share one admin token for their /_sandbox/ control endpoints: `admin_token`, or a new
    random one (in `Sandboxes.admin_token`).
    """
    from .activecampaign.app import ActiveCampaignSandbox
    from .dataverse.app import DataverseSandbox

    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    ac_db = Database(state_dir / "activecampaign.sqlite3" if state_dir else ":memory:")
    dv_db = Database(state_dir / "dataverse.sqlite3" if state_dir else ":memory:")
    ac_app = ActiveCampaignSandbox(ac_db, rate_limit=5 if rate_limits else None)
    dv_app = DataverseSandbox(
        dv_db,
        requests_per_window=6000 if rate_limits else None,
        concurrency=52 if rate_limits else None,
    )
    admin_token = admin_token or admin_token_new()
    for app in (ac_app, dv_app):
        app.admin_token = admin_token
        if seed and app.is_empty():
            app.seed(seed)
    account, api_key = ac_app.account_ensure("demo")
    tenant_id, client_id, client_secret = dv_app.app_registration_ensure()
    certificate = certificate_ensure(tls_dir)

    handles = [serve(ac_app, host=host, port=ac_port, name="activecampaign-sandbox")]
    handles.append(serve(dv_app, host=host, port=dv_port, name="dataverse-sandbox"))
    handles.append(
        serve(dv_app, host=host, port=dv_tls_port, tls=certificate, name="dataverse-sandbox")
    )
    return Sandboxes(
        activecampaign=ActiveCampaignEndpoint(
            api_url=handles[0].url, api_key=api_key, account=account
        ),
        dataverse=DataverseEndpoint(
            org_url=handles[1].url,
            org_url_tls=handles[2].url,
            authority_host=handles[2].url,
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            ca_bundle=str(certificate.ca_bundle),
        ),
        activecampaign_app=ac_app,
        dataverse_app=dv_app,
        handles=handles,
        admin_token=admin_token,
    )


# Fixed ports for `make run`, so that what the admin typed into Settings stays valid.
RUNAPP_PORTS = {"ac_port": 8101, "dv_port": 8102, "dv_tls_port": 8103}


def endpoints_file(state_dir: Path) -> Path:
    return state_dir / "endpoints.json"


def endpoints_write(sandboxes: Sandboxes, state_dir: Path) -> None:
    endpoints_file(state_dir).write_text(json.dumps(sandboxes.endpoints(), indent=2))


def runapp_argv(*, python: str, manage: str) -> list[str]:
    """The command line `make run` uses to start the seeded sandboxes."""
    return [
        python,
        manage,
        "sandbox",
        "--seed",
        "500",
        "--ac-port",
        str(RUNAPP_PORTS["ac_port"]),
        "--dv-port",
        str(RUNAPP_PORTS["dv_port"]),
        "--dv-tls-port",
        str(RUNAPP_PORTS["dv_tls_port"]),
    ]
