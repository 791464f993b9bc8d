"""Accessibility browser tests: axe-core injected into every page, keyboard-only flows.

axe-core comes from npm, pinned in package-lock.json beside this file (`make test` and
.ci/run run `npm ci` here). Playwright injects it as a script tag, which the app's
Content-Security-Policy (no inline scripts) would refuse: these pages are loaded with the
policy bypassed; tests/syncadmin/test_browser.py checks that the pages run under it.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from integrations.models import Integration
from integrations.roles import Role
from mapping.services import entity_syncs_ensure
from sync.models import RecordLink, RunRecord, SyncRun, SyncSettings, WebhookDelivery
from sync.webhooks.services import webhook_secret_rotate
from tests.fixtures.browser import browser_login
from tests.fixtures.metadata import metadata_seed
from tests.personas import PASSWORD, default_integration, make_user

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page: axe's two highest impacts (minor and moderate ones are reported, not failed).
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def axe_path() -> str:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: `cd tests/a11y && npm ci` (make test does it)")
    return str(AXE)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}


def axe_violations(page, axe_path: str) -> list[str]:
    """Run axe-core on the page as it stands; one line per serious or critical violation."""
    page.add_script_tag(path=axe_path)
    result = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): {', '.join(v['targets'])}"
        for v in result
        if v["impact"] in FAILING_IMPACTS
    ]


@pytest.fixture
def no_dns(monkeypatch):
    """Names other than this machine's resolve to nothing, at once: a page that calls a vendor
    (A's URLs are made up) shows its "cannot be reached" notice instead of waiting on DNS."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "::1", "localhost"):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "no DNS in the accessibility tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def product(transactional_db, no_dns):
    """Integration A connected, with fields read, a data configuration, sync settings and a
    finished run with failed, conflicting and skipped records; B, a second integration; one
    user of each persona (all with the shared password)."""
    a = default_integration()
    a.name = "Alpha Ltd"
    a.status, a.connected_at = Integration.Status.CONNECTED, timezone.now()
    a.ac_api_url = "https://alpha.api-us1.com"
    a.dynamics_org_url = "https://alpha.crm4.dynamics.com"
    a.ac_identity, a.dynamics_identity = "Alpha (alpha@example.com)", "Alpha org (alpha)"
    a.save()
    b = Integration.objects.create(name="Bravo Ltd")
    metadata_seed(a)
    entity_syncs_ensure(integration=a)
    SyncSettings.objects.create(integration=a, initial_sync_at=timezone.now())
    admin = make_user("adam", role=Role.ADMINISTRATOR, integration=a)
    run = SyncRun.objects.create(
        integration=a,
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.SUCCEEDED,
        actor=admin,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        counts={
            "contact": {"push": {"read": 3, "created": 1, "failed": 1, "conflicts": 1}},
            "lead": {"push": {"read": 2, "updated": 1, "skipped": 1}},
        },
    )
    for outcome, reason in [
        (RunRecord.Outcome.FAILED, "Email: not an e-mail address."),
        (RunRecord.Outcome.CONFLICT, "Changed on both sides since the last run."),
        (RunRecord.Outcome.SKIPPED, "No e-mail address."),
    ]:
        RunRecord.objects.create(
            run=run,
            entity="contact",
            direction="push",
            outcome=outcome,
            dynamics_id="00000000-0000-0000-0000-000000000001",
            email="ana@contoso.example",
            reason=reason,
            before={"firstName": "Ana"},
            after={"firstName": "Anna"},
        )
    for n, entity in enumerate(("lead", "contact"), start=1):
        RecordLink.objects.create(
            integration=a,
            entity=entity,
            ac_object="contact",
            dynamics_id=f"00000000-0000-0000-0000-{n:012d}",
            ac_id=str(n),
            email=f"ana.silva{n}@contoso.example",
            state=RecordLink.State.LINKED,
            base_dynamics={"firstName|firstname": "Ana", "lastName|lastname": f"Silva {n}"},
            last_synced_at=timezone.now(),
        )
    webhook_secret_rotate(integration=a)
    for status, error in [
        (WebhookDelivery.Status.DONE, ""),
        (WebhookDelivery.Status.FAILED, "ActiveCampaign is not answering properly right now."),
    ]:
        WebhookDelivery.objects.create(
            integration=a,
            event="update",
            contact_id="7",
            email="ana.silva2@contoso.example",
            entity="contact",
            dedupe_key=f"a11y-{status}",
            status=status,
            error=error,
            attempts=2,
        )
    users = {
        "anonymous": None,
        "norole": make_user("nora"),
        "user": make_user("uma", role=Role.USER, integration=a),
        "leadsonly": make_user("lena", role=Role.USER, entity_access=("lead",), integration=a),
        "admin": admin,
        "other": make_user("otto", role=Role.ADMINISTRATOR, integration=b),
        "superuser": get_user_model().objects.create_superuser(
            "sue", "sue@example.com", PASSWORD, first_name="Sue"
        ),
    }
    return {"a": a, "b": b, "run": run, "users": users}


def login_as(page, user) -> None:
    if user is not None:
        browser_login(page, username=user.username, password=PASSWORD)


# Keyboard-only flows (no click, no fill): every step is a key press.
MOST_TABS = 120  # more stops than any page has: a control never reached fails the test


def tab_to(page, target, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus."""
    target.wait_for(state="attached")
    for _ in range(MOST_TABS):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{target} never got the focus with the keyboard")


def type_into(page, target, text: str) -> None:
    tab_to(page, target)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)


def keyboard_login(page, username: str, password: str) -> None:
    page.goto("/login/")
    type_into(page, page.get_by_label("Username"), username)
    type_into(page, page.get_by_label("Password"), password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)
