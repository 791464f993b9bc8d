"""`manage.py connectors check`: validate both connections of an integration with real calls.

It lives with the integrations (it reads them); the checks themselves are
`connectors.services`, which take plain config and know no Django app.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors.services import connection_check
from integrations.models import Integration


class Command(BaseCommand):
    help = "Check the ActiveCampaign and Dynamics 365 connections with real calls."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        check = actions.add_parser("check", help="validate both connections of an integration")
        check.add_argument("--integration", help="integration name (default: every one)")

    def handle(self, *args, action: str, integration: str | None = None, **options):
        integrations = Integration.objects.order_by("name")
        if integration:
            integrations = integrations.filter(name=integration)
            if not integrations.exists():
                raise CommandError(f"No integration named {integration!r}.")
        failed = []
        for item in integrations:
            self.stdout.write(f"{item.name}:")
            if not (item.ac_api_url and item.dynamics_org_url):
                self.stdout.write("  not configured yet: enter both connections in Settings.")
                failed.append(item.name)
                continue
            result = connection_check(
                activecampaign=item.activecampaign_config(), dynamics=item.dynamics_config()
            )
            for side in result.sides:
                mark = "OK  " if side.ok else "FAIL"
                self.stdout.write(f"  {mark} {side.message}")
            if not result.ok:
                failed.append(item.name)
        if failed:
            raise CommandError(f"Connection check failed for: {', '.join(failed)}")
