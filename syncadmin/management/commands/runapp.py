"""Run the whole product on one machine: web server, Celery worker and beat, sandboxes."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from users.services import first_admin_ensure

# The worker and beat are restarted when they stop, at most MAX_RESTARTS times within
# RESTART_WINDOW seconds; a process that keeps stopping (or the web server or the sandboxes
# stopping) stops everything, saying which process it was.
RESTARTABLE = frozenset({"worker", "beat"})
MAX_RESTARTS = 3
RESTART_WINDOW = 300.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def may_restart(self, now: float) -> bool:
        self.restarts = [at for at in self.restarts if now - at < RESTART_WINDOW]
        return self.name in RESTARTABLE and len(self.restarts) < MAX_RESTARTS


class Command(BaseCommand):
    help = "Migrate, create the first admin, then run web, worker, beat and the sandboxes."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SYNCADMIN_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SYNCADMIN_PORT", "8000"))
        )
        parser.add_argument(
            "--no-sandboxes", action="store_true", help="do not start the sandboxes"
        )

    def handle(self, *args, host: str, port: int, no_sandboxes: bool, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        admin = first_admin_ensure(
            username=os.environ.get("SYNCADMIN_ADMIN_USERNAME", "admin"),
            email=os.environ.get("SYNCADMIN_ADMIN_EMAIL", ""),
            password=os.environ.get("SYNCADMIN_ADMIN_PASSWORD", ""),
        )
        sandboxes = not no_sandboxes and importlib.util.find_spec("sandbox.runner") is not None
        children = self._children(host=host, port=port, sandboxes=sandboxes)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
        sandbox_dir = settings.VAR_DIR / "sandbox"
        if sandboxes:
            from sandbox.runner import endpoints_file
            from sandbox.tls import certificate_ensure

            # The Dataverse sandbox's identity endpoint speaks TLS with its own certificate;
            # the connectors trust it for loopback endpoints only, through the local settings'
            # CONNECTOR_LOCAL_CA_BUNDLE (this file), in this process and any other one.
            certificate_ensure(sandbox_dir / "tls")
            endpoints_file(sandbox_dir).unlink(missing_ok=True)
        stop = {"signal": None}

        def on_signal(signum, frame):
            stop["signal"] = signum

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            for child in children:
                self._start(child, env)
            url = f"http://{host}:{port}/"
            self._wait_for_web(url, children, stop)
            endpoints = self._wait_for_sandboxes(sandbox_dir, children, stop) if sandboxes else None
            self._banner(url, admin, endpoints, children)
            exited = self._supervise(children, stop, env)
        finally:
            self._terminate(children)
        if exited is not None:
            raise CommandError(self._stopped_message(exited))

    def _start(self, child: Child, env: dict) -> None:
        child.process = subprocess.Popen(child.argv, env=env)  # noqa: S603

    @staticmethod
    def _stopped_message(child: Child) -> str:
        code = child.process.returncode
        if child.name in RESTARTABLE:
            return (
                f"the {child.name} stopped again (exit code {code}) after {len(child.restarts)} "
                f"restarts within {RESTART_WINDOW / 60:g} minutes; everything was stopped. "
                f"Its output above says why."
            )
        return (
            f"the {child.name} process stopped (exit code {code}); everything else was stopped "
            "too. Its output above says why."
        )

    def _children(self, *, host: str, port: int, sandboxes: bool) -> list[Child]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        children = [
            Child(
                "web",
                [
                    python,
                    "-m",
                    "gunicorn",
                    "syncadmin.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--worker-class",
                    "gthread",
                    "--access-logfile",
                    "-",
                ],
            ),
            Child(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "syncadmin",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                ],
            ),
            Child(
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "syncadmin",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(settings.VAR_DIR / "celerybeat-schedule"),
                ],
            ),
        ]
        if sandboxes:
            from sandbox.runner import runapp_argv

            children.append(Child("sandboxes", runapp_argv(python=python, manage=manage)))
        return children

    def _wait_for_web(self, url: str, children: list[Child], stop: dict) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and stop["signal"] is None:
            for child in children:
                if child.process.poll() is not None:
                    raise CommandError(f"{child.name} stopped while starting")
            try:
                with urllib.request.urlopen(url + "login/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        if stop["signal"] is None:
            raise CommandError(f"the web server did not answer on {url} within 60 s")

    def _wait_for_sandboxes(self, sandbox_dir, children: list[Child], stop: dict) -> dict | None:
        from sandbox.runner import endpoints_file

        path = endpoints_file(sandbox_dir)
        deadline = time.monotonic() + 120  # seeding an empty sandbox takes a moment
        while time.monotonic() < deadline and stop["signal"] is None:
            if path.exists():
                return json.loads(path.read_text())
            if any(child.process.poll() is not None for child in children):
                raise CommandError("a process stopped while the sandboxes were starting")
            time.sleep(0.3)
        return None

    def _banner(self, url: str, admin, endpoints: dict | None, children: list[Child]) -> None:
        lines = ["", "=" * 72, f"syncadmin is running: {url}", ""]
        if admin.one_time_password:
            lines += [
                f"  Log in as '{admin.username}' with this one-time password (shown only now):",
                f"      {admin.one_time_password}",
                "  You will be asked to choose your own password.",
            ]
        elif admin.created:
            lines.append(f"  Log in as '{admin.username}' with SYNCADMIN_ADMIN_PASSWORD.")
        else:
            lines.append("  Log in with your existing account.")
        if endpoints:
            ac, dv = endpoints["activecampaign"], endpoints["dataverse"]
            lines += [
                "",
                "  Sandboxes (seeded demo data; enter these on the Settings page):",
                f"    ActiveCampaign  API URL {ac['api_url']}   API key {ac['api_key']}",
                f"    Dynamics 365    Org URL {dv['org_url']}",
                f"                    Tenant id {dv['tenant_id']}",
                f"                    Client id {dv['client_id']}",
                f"                    Client secret {dv['client_secret']}",
                f"                    Authority host (Advanced) {dv['authority_host']}",
            ]
        processes = ", ".join(f"{c.name} (pid {c.process.pid})" for c in children)
        lines += [
            "",
            f"  Processes: {processes}",
            f"  Health: {url}healthz",
            "  Stop with Ctrl+C.",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _supervise(self, children: list[Child], stop: dict, env: dict) -> Child | None:
        """Watch the processes until a signal; restart the worker or beat when one stops.

        Returns the process that stopped for good (everything is then stopped), or None.
        """
        while stop["signal"] is None:
            for child in children:
                code = child.process.poll()
                if code is None:
                    continue
                now = time.monotonic()
                if not child.may_restart(now):
                    return child
                child.restarts.append(now)
                self.stderr.write(
                    f"runapp: the {child.name} stopped (exit code {code}); restarting it "
                    f"(restart {len(child.restarts)} of {MAX_RESTARTS} within "
                    f"{RESTART_WINDOW / 60:g} minutes)"
                )
                self._start(child, env)
                self.stderr.write(f"runapp: {child.name} restarted (pid {child.process.pid})")
                self.stderr.flush()
            time.sleep(0.5)
        return None

    def _terminate(self, children: list[Child]) -> None:
        running = [c for c in children if c.process and c.process.poll() is None]
        for child in running:
            child.process.terminate()
        deadline = time.monotonic() + 15
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
