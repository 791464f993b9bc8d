"""Serve the ActiveCampaign and Dataverse sandboxes on localhost until stopped."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from sandbox.runner import endpoints_file, endpoints_write, sandboxes_start


class Command(BaseCommand):
    help = "Run local servers that behave like the ActiveCampaign v3 and Dataverse Web APIs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="fill empty sandboxes with this many people (e.g. 500)",
        )
        parser.add_argument(
            "--state-dir",
            default=str(settings.VAR_DIR / "sandbox"),
            help="where the SQLite state lives (default: var/sandbox)",
        )
        parser.add_argument("--memory", action="store_true", help="keep state in memory only")
        parser.add_argument(
            "--no-rate-limits",
            action="store_true",
            help="turn off the vendors' rate limits (5/s, service protection)",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--ac-port", type=int, default=0)
        parser.add_argument("--dv-port", type=int, default=0)
        parser.add_argument("--dv-tls-port", type=int, default=0)
        parser.add_argument(
            "--admin-token",
            default=None,
            help="the X-Sandbox-Admin token /_sandbox/ control calls need (default: a new "
            "random one, printed at start)",
        )

    def handle(self, *args, **options):
        from pathlib import Path

        state_dir = Path(options["state_dir"])
        sandboxes = sandboxes_start(
            state_dir=None if options["memory"] else state_dir,
            tls_dir=state_dir / "tls",
            seed=options["seed"],
            rate_limits=not options["no_rate_limits"],
            host=options["host"],
            ac_port=options["ac_port"],
            dv_port=options["dv_port"],
            dv_tls_port=options["dv_tls_port"],
            admin_token=options["admin_token"],
        )
        endpoints_write(sandboxes, state_dir)
        ac, dv = sandboxes.activecampaign, sandboxes.dataverse
        self.stdout.write(
            "\n".join(
                [
                    "Sandboxes are running.",
                    "  ActiveCampaign",
                    f"    API URL:        {ac.api_url}",
                    f"    API key:        {ac.api_key}",
                    "  Dynamics 365 / Dataverse",
                    f"    Org URL:        {dv.org_url}   (also {dv.org_url_tls})",
                    f"    Tenant id:      {dv.tenant_id}",
                    f"    Client id:      {dv.client_id}",
                    f"    Client secret:  {dv.client_secret}",
                    f"    Authority host: {dv.authority_host}",
                    f"    CA bundle:      {dv.ca_bundle}",
                    "  Sandbox control (/_sandbox/..., not part of either vendor's API)",
                    f"    Header:         X-Sandbox-Admin: {sandboxes.admin_token}",
                    f"  (also written to {endpoints_file(state_dir)})",
                    "",
                ]
            )
        )
        self.stdout.flush()
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stopped.set())
        signal.signal(signal.SIGINT, lambda *a: stopped.set())
        stopped.wait()
        sandboxes.stop()
