from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sandbox.runner import sandboxes_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_it_reports_both_sides_in_words(connected_integration):
    out = io.StringIO()

    call_command("connectors", "check", stdout=out)

    text = out.getvalue()
    assert "Default:" in text
    assert "OK   Connected to ActiveCampaign as" in text
    assert "OK   Connected to Dynamics 365" in text


def test_it_fails_naming_the_side_and_the_reason(connected_integration):
    connected_integration.ac_api_key = "wrong-key"
    connected_integration.save()
    out = io.StringIO()

    with pytest.raises(CommandError, match="Connection check failed for: Default"):
        call_command("connectors", "check", "--integration", "Default", stdout=out)

    assert "FAIL ActiveCampaign refused the credentials. Check the API key." in out.getvalue()
    assert "wrong-key" not in out.getvalue()


def test_it_says_what_is_missing_before_anything_is_configured(db):
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("connectors", "check", stdout=out)

    assert "not configured yet" in out.getvalue()


# -- as the README's run command leaves the sandboxes ---------------------------------------------
REPO = Path(__file__).resolve().parents[2]
SETUP = """
import os
from django.core.management import call_command
from integrations.models import Integration

call_command("migrate", verbosity=0)
integration, _ = Integration.objects.get_or_create(name="Default")
integration.ac_api_url, integration.ac_api_key = os.environ["T_AC_URL"], os.environ["T_AC_KEY"]
integration.dynamics_org_url = os.environ["T_DV_ORG"]
integration.dynamics_tenant_id = os.environ["T_DV_TENANT"]
integration.dynamics_client_id = os.environ["T_DV_CLIENT"]
integration.dynamics_client_secret = os.environ["T_DV_SECRET"]
integration.dynamics_authority_host = os.environ["T_DV_AUTHORITY"]
integration.save()
"""


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.integration
def test_it_checks_the_sandboxes_as_the_run_command_leaves_them(tmp_path):
    # `make run` starts the sandboxes with their certificate under var/sandbox/tls; a person
    # then runs `manage.py connectors check` in another shell, with the local settings and
    # nothing else: no CA setting, no environment variable of the run command's.
    var = tmp_path / "var"
    running = sandboxes_start(tls_dir=var / "sandbox" / "tls", rate_limits=False)
    try:
        ac, dv = running.activecampaign, running.dataverse
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SYNCADMIN_", "DJANGO_", "CONNECTOR_", "FIELD_ENCRYPTION"))
            and key not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="syncadmin.settings.local",
            SYNCADMIN_VAR_DIR=str(var),
            T_AC_URL=ac.api_url,
            T_AC_KEY=ac.api_key,
            T_DV_ORG=dv.org_url,
            T_DV_TENANT=dv.tenant_id,
            T_DV_CLIENT=dv.client_id,
            T_DV_SECRET=dv.client_secret,
            T_DV_AUTHORITY=dv.authority_host,
        )
        assert dv.authority_host.startswith("https://")  # TLS, self-signed
        setup = _manage(env, "shell", "-c", SETUP)
        assert setup.returncode == 0, setup.stderr

        checked = _manage(env, "connectors", "check")

        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "OK   Connected to ActiveCampaign as" in checked.stdout
        assert "OK   Connected to Dynamics 365" in checked.stdout

        # The control: without the sandboxes' CA the same check fails on the identity
        # endpoint's certificate, as it did before.
        env["SYNCADMIN_LOCAL_CA_BUNDLE"] = ""
        untrusted = _manage(env, "connectors", "check")

        assert untrusted.returncode != 0
        assert "OK   Connected to ActiveCampaign as" in untrusted.stdout
        assert "FAIL" in untrusted.stdout
        assert dv.client_secret not in untrusted.stdout + untrusted.stderr
    finally:
        running.stop()
