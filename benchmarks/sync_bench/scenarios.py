"""The benchmark's scenarios: seed both sandboxes, set up, run one sync on a fresh worker.

- initial_push: N Dynamics contacts, each on an account (one account for about 8 contacts),
  with 5 mapped custom fields, into an empty ActiveCampaign (the initial sync);
- initial_pull: N ActiveCampaign contacts with the same 5 custom fields, edited after the
  initial sync started, into an empty Dynamics (the scheduled run after it);
- incremental: N linked contacts (initial sync and one scheduled run done), then 100 changed
  on each side: one scheduled run;
- noop: N linked contacts, nothing changed: one scheduled run.

Contacts and accounts sync; leads are switched off (they take the same path as contacts) and
so is the job title, which ActiveCampaign keeps on the account-contact link: one call per
contact whatever the engine does (docs/benchmarks.md). Only the measured run goes through the
worker; the set-up runs go inline in this process, with nothing paced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .worker import UNTHROTTLED_ENV, Worker, lift_pacing

SCENARIOS = ("initial_push", "initial_pull", "incremental", "noop")
CUSTOM_FIELDS = 5  # k, the mapped custom fields
CHANGES_PER_SIDE = 100  # the incremental scenario's changes, on each side
CONTACTS_PER_ACCOUNT = 8  # sandbox.seed.companies: one company for 8 people
AC_REQUESTS_PER_SECOND = 5  # the ActiveCampaign floor's rate (docs/benchmarks.md)
RUN_TIMEOUT_SECONDS = 4 * 3600
SETUP_AGE_SECONDS = 2 * 3600  # how long ago the set-up runs seem to ActiveCampaign


@dataclass
class Result:
    name: str
    records: int
    ac_calls: int
    dv_calls: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    floor_ratio: float | None
    # Beyond the compared figures.
    status: str = ""
    message: str = ""
    rate_limits: bool = False
    workers: int = 1  # worker processes: cpu_s is their sum, peak_rss_mb the largest's
    accounts: int = 0
    changes: int = 0
    custom_fields: int = CUSTOM_FIELDS
    ac_calls_by_kind: dict = field(default_factory=dict)
    dv_calls_by_kind: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    @property
    def ac_per_record(self) -> float:
        return self.ac_calls / self.records if self.records else 0.0

    @property
    def dv_per_record(self) -> float:
        return self.dv_calls / self.records if self.records else 0.0

    @property
    def ac_account_writes(self) -> int:
        """Account creations and updates: one call each, whatever the engine does (no bulk
        account endpoint: docs/benchmarks.md)."""
        return sum(n for kind, n in self.ac_calls_by_kind.items() if kind in _ACCOUNT_WRITES)

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms_per_record(self) -> float:
        return 1000 * self.cpu_s / self.records if self.records else 0.0

    def targets(self) -> list[dict]:
        """The issue's targets this run can be judged on alone (the N-to-N ones are not)."""
        checks = []

        def check(name: str, value: float | None, limit: float) -> None:
            if value is not None:
                checks.append(
                    {"name": name, "value": round(value, 5), "limit": limit, "met": value <= limit}
                )

        if self.name == "initial_push":
            check("AC calls per contact", self.ac_per_record, 0.02)
            if self.records:
                without = (self.ac_calls - self.ac_account_writes) / self.records
                check("AC calls per contact, account writes aside", without, 0.02)
            check("DV calls per record", self.dv_per_record, 0.001)
        if self.name == "initial_pull":
            check("AC calls per contact", self.ac_per_record, 1.1 * (1 + self.custom_fields) / 100)
            check("DV calls per record", self.dv_per_record, 0.0015)
        if self.rate_limits and self.name in ("initial_push", "initial_pull"):
            check("wall / AC floor", self.floor_ratio, 1.25)
        check("worker CPU ms per record", self.cpu_ms_per_record, 0.5)
        check("worker peak RSS MB", self.peak_rss_mb, 300)
        return checks

    def as_json(self) -> dict:
        data = asdict(self)
        data.update(
            ac_per_record=round(self.ac_per_record, 6),
            ac_account_writes=self.ac_account_writes,
            dv_per_record=round(self.dv_per_record, 6),
            records_per_s=round(self.records_per_s, 1),
            cpu_ms_per_record=round(self.cpu_ms_per_record, 4),
            targets=self.targets(),
        )
        return data


def run_all(options: dict, stdout, stderr) -> int:
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    lift_pacing()  # set-up calls from this process: the sandboxes' limits are off meanwhile
    workdir = Path(settings.VAR_DIR)
    workdir.mkdir(parents=True, exist_ok=True)
    wanted = options["scenarios"]
    groups = [[name] for name in wanted if name not in ("noop", "incremental")]
    linked = [name for name in ("noop", "incremental") if name in wanted]
    if linked:
        groups.append(linked)
    by_name = {}
    for names in groups:
        stderr.write(f"bench: {' then '.join(names)}, {options['records']} records …\n")
        stderr.flush()
        scenario = Scenario(
            names,
            records=options["records"],
            rate_limits=options["rate_limits"],
            workdir=workdir,
            profile=bool(options.get("profile")),
            stderr=stderr,
            workers=options.get("workers", 1),
        )
        for result in scenario.run():
            stderr.write(
                f"bench: {result.name} {result.status} in {result.wall_s:.1f} s "
                f"({result.ac_calls} AC calls, {result.dv_calls} DV calls)\n"
            )
            # Each scenario's figures as soon as they are known (a long run stopped early
            # keeps them).
            stderr.write(f"bench: {json.dumps(result.as_json())}\n")
            stderr.flush()
            by_name[result.name] = result
    results = [by_name[name] for name in wanted]
    if options["json"]:
        stdout.write(json.dumps({"scenarios": [r.as_json() for r in results]}, indent=2) + "\n")
    else:
        stdout.write(table(results, options))
    return 0 if all(r.status == "succeeded" for r in results) else 1


def table(results: list[Result], options: dict) -> str:
    """The figures as a Markdown table (what docs/benchmarks.md shows), then the targets."""
    cores = os.cpu_count()
    limits = "on" if options["rate_limits"] else "off"
    lines = [
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {cores} cores, "
        f"Python {sys.version.split()[0]}; {options['records']} records, rate limits {limits}, "
        f"{options.get('workers', 1)} worker(s)",
        "",
        "| scenario | records | AC calls | AC/record | DV calls | DV/record | wall s | records/s "
        "| worker CPU s | CPU ms/record | peak RSS MB | wall/AC floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        ratio = f"{r.floor_ratio:.2f}" if r.floor_ratio is not None else "-"
        lines.append(
            f"| {r.name} | {r.records} | {r.ac_calls} | {r.ac_per_record:.4f} | {r.dv_calls} "
            f"| {r.dv_per_record:.5f} | {r.wall_s:.1f} | {r.records_per_s:.0f} | {r.cpu_s:.1f} "
            f"| {r.cpu_ms_per_record:.3f} | {r.peak_rss_mb:.0f} | {ratio} |"
        )
    lines.append("")
    for r in results:
        if r.status != "succeeded":
            lines.append(f"{r.name}: the run {r.status}: {r.message}")
        kinds = ", ".join(f"{k} {n}" for k, n in r.ac_calls_by_kind.items())
        lines.append(f"{r.name}: AC calls: {kinds or 'none'}")
        kinds = ", ".join(f"{k} {n}" for k, n in r.dv_calls_by_kind.items())
        lines.append(f"{r.name}: DV calls: {kinds or 'none'}")
        for target in r.targets():
            mark = "met" if target["met"] else "MISSED"
            lines.append(
                f"{r.name}: {target['name']} {target['value']} (target ≤ {target['limit']:g}): "
                f"{mark}"
            )
    return "\n".join(lines) + "\n"


class Scenario:
    """One or two scenarios on one pair of sandboxes: noop and incremental share their set-up
    (the no-op run is measured, then the changes are made and the incremental run measured,
    which is the state a fresh set-up would reach)."""

    def __init__(
        self,
        names: list[str],
        *,
        records: int,
        rate_limits: bool,
        workdir: Path,
        profile: bool,
        stderr,
        workers: int = 1,
    ) -> None:
        unknown = set(names) - set(SCENARIOS)
        if unknown:
            raise ValueError(f"unknown scenario {unknown}; expected one of {SCENARIOS}")
        self.names = names
        self.name = "-".join(names)
        self.workers = workers
        self.records = records
        self.rate_limits = rate_limits
        self.workdir = workdir
        self.profile = profile
        self.stderr = stderr
        self.accounts = 0
        self.changes = 0
        self.contact_ids: list[str] = []

    # -- the whole scenario -----------------------------------------------------------------
    def run(self) -> list[Result]:
        from django.conf import settings

        from sandbox.runner import sandboxes_start

        self.sandboxes = sandboxes_start(tls_dir=self.workdir / "tls", rate_limits=False)
        integration = None
        try:
            settings.CONNECTOR_CA_BUNDLE = self.sandboxes.dataverse.ca_bundle
            integration = self._integration()
            if self.names == ["noop", "incremental"]:
                trigger = self._prepare_noop(integration)
                results = [self._measure(integration, trigger, "noop")]
                self._change(integration)
                return [*results, self._measure(integration, trigger, "incremental")]
            [name] = self.names
            trigger = getattr(self, f"_prepare_{name}")(integration)
            return [self._measure(integration, trigger, name)]
        finally:
            self.sandboxes.stop()
            if integration is not None:
                integration.delete()

    def _integration(self):
        from django.utils import timezone

        from integrations.models import Integration

        ac, dv = self.sandboxes.activecampaign, self.sandboxes.dataverse
        return Integration.objects.create(
            name=f"Benchmark {self.name}",
            ac_api_url=ac.api_url,
            ac_api_key=ac.api_key,
            ac_budget_share=100,  # the sandbox account is the benchmark's alone
            dynamics_org_url=dv.org_url,
            dynamics_tenant_id=dv.tenant_id,
            dynamics_client_id=dv.client_id,
            dynamics_client_secret=dv.client_secret,
            dynamics_authority_host=dv.authority_host,
            status=Integration.Status.CONNECTED,
            connected_at=timezone.now(),
        )

    # -- set-ups ----------------------------------------------------------------------------
    def _prepare_initial_push(self, integration) -> str:
        from sync.models import SyncRun

        columns, _ = self._configure(integration, accounts=True)
        self._seed_dynamics(columns)
        return SyncRun.Trigger.INITIAL

    def _prepare_initial_pull(self, integration) -> str:
        from sync.models import SyncRun

        _, field_ids = self._configure(integration, accounts=False)
        self._run_inline(integration, SyncRun.Trigger.INITIAL)  # Dynamics is empty
        self._seed_activecampaign(field_ids)  # edited after the initial sync started
        return SyncRun.Trigger.SCHEDULE

    def _prepare_noop(self, integration) -> str:
        from sync.models import SyncRun

        columns, _ = self._configure(integration, accounts=True)
        self._seed_dynamics(columns)
        # Scheduled runs are an hour or more apart: what the set-up wrote into ActiveCampaign
        # is stamped as that long ago, or the measured run would read it all again as falling
        # in the overlap of its bookmark (sync.engine.collect.ac_overlap).
        app = self.sandboxes.activecampaign_app
        app.clock = lambda: time.time() - SETUP_AGE_SECONDS
        try:
            self._run_inline(integration, SyncRun.Trigger.INITIAL)
            # The first scheduled run reads back what the initial sync wrote (once).
            self._run_inline(integration, SyncRun.Trigger.SCHEDULE)
        finally:
            app.clock = time.time
        return SyncRun.Trigger.SCHEDULE

    def _prepare_incremental(self, integration) -> str:
        trigger = self._prepare_noop(integration)
        self._change(integration)
        return trigger

    def _change(self, integration) -> None:
        """100 Dynamics contacts and 100 other ActiveCampaign contacts change, through the APIs."""
        from connectors.activecampaign.records import ContactChanges
        from connectors.dynamics.records import RecordWrite
        from sync.clients import Clients
        from sync.models import RecordLink

        clients = Clients(integration)
        changes = min(CHANGES_PER_SIDE, self.records // 2)
        writes = [
            RecordWrite.update("contact", contact_id, {"firstname": f"Changed {i}"})
            for i, contact_id in enumerate(self.contact_ids[:changes])
        ]
        for result in clients.dv.write(writes, batch_size=1000):
            if not result.ok:
                raise RuntimeError(f"could not change a Dynamics contact: {result.error}")
        linked = RecordLink.objects.filter(
            integration=integration, entity="contact", state=RecordLink.State.LINKED
        ).order_by("-pk")[:changes]
        for i, link in enumerate(linked):
            clients.ac.contacts.update(link.ac_id, ContactChanges(last_name=f"Changed {i}"))
        self.changes = len(writes) + len(linked)

    def _configure(self, integration, *, accounts: bool) -> tuple[list[str], list[str]]:
        """Contacts (with k custom fields, no job title), accounts or not, no leads; sync on.
        Returns the Dynamics custom columns and the ActiveCampaign custom field ids."""
        from mapping.selectors import entity_syncs
        from mapping.services import (
            MappingInput,
            entity_config_save,
            entity_input_from_saved,
            entity_syncs_ensure,
            metadata_refresh,
        )
        from sync.clients import Clients
        from sync.models import SyncSettings

        ac = Clients(integration).ac
        columns, field_ids = [], []
        for i in range(1, CUSTOM_FIELDS + 1):
            column = f"new_bench{i}"
            self.sandboxes.dataverse_app.attribute_add(
                "contact",
                logical_name=column,
                type="String",
                display_name=f"Bench {i}",
                max_length=100,
            )
            columns.append(column)
            field_ids.append(ac.custom_fields.create(title=f"Bench {i}", type="text").id)
        metadata_refresh(integration=integration)
        entity_syncs_ensure(integration=integration)
        rows = entity_syncs(integration=integration)
        contact = entity_input_from_saved(rows["contact"])
        for mapping in contact.mappings:
            if mapping.ac_key == "jobTitle":
                mapping.enabled = False
        contact.mappings += [MappingInput(f, c) for f, c in zip(field_ids, columns, strict=True)]
        for data in (
            contact,
            _switched(entity_input_from_saved(rows["lead"]), False),
            _switched(entity_input_from_saved(rows["account"]), accounts),
        ):
            problems = entity_config_save(integration=integration, data=data, actor=None)
            if problems:
                raise RuntimeError(f"benchmark configuration refused: {problems}")
        SyncSettings.objects.update_or_create(integration=integration, defaults={"enabled": True})
        return columns, field_ids

    def _seed_dynamics(self, columns: list[str]) -> None:
        seeded = _ContactSeeder(self.sandboxes.dataverse_app, self.records, columns).run()
        self.accounts = seeded["accounts"]
        self.contact_ids = seeded["contact_ids"]

    def _seed_activecampaign(self, field_ids: list[str]) -> None:
        """N contacts with a value in each custom field, last updated now (SQL, for speed)."""
        from sandbox import seed as demo
        from sandbox.activecampaign.seeding import Ids

        app = self.sandboxes.activecampaign_app
        tenant = app.tenant_id(self.sandboxes.activecampaign.account)
        now = int(app.clock())
        created = now - 400 * 86400
        with app.db.transaction() as conn:
            ids = Ids(conn)
            contacts, values = [], []
            for person in demo.people(self.records):
                cid = ids.take("contacts")
                email = person.email
                contacts.append(
                    (
                        cid,
                        tenant,
                        email,
                        email.lower(),
                        person.first_name,
                        person.last_name,
                        person.phone,
                        created,
                        now,
                        hashlib.md5(email.encode()).hexdigest(),  # noqa: S324 - not security
                    )
                )
                for k, field_id in enumerate(field_ids, start=1):
                    values.append(
                        (
                            ids.take("field_values"),
                            tenant,
                            cid,
                            int(field_id),
                            f"value {k} of {person.index}",
                            created,
                            now,
                        )
                    )
            conn.executemany(
                "INSERT INTO contacts (id, tenant, email, email_key, first_name, last_name, "
                "phone, cdate, udate, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                contacts,
            )
            conn.executemany(
                "INSERT INTO field_values (id, tenant, contact, field, value, cdate, udate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        app.contact_counts.forget(tenant)

    def _run_inline(self, integration, trigger: str) -> None:
        from sync.models import SyncRun
        from sync.services import run_inline, run_start

        run = run_inline(run=run_start(integration=integration, trigger=trigger, enqueue=False))
        if run.status != SyncRun.Status.SUCCEEDED:
            raise RuntimeError(f"the set-up run {run.pk} {run.status}: {run.message}")

    # -- the measured run -------------------------------------------------------------------
    def _measure(self, integration, trigger: str, name: str) -> Result:
        from django.conf import settings

        from sync.services import run_start

        ac_app, dv_app = self.sandboxes.activecampaign_app, self.sandboxes.dataverse_app
        if self.rate_limits:
            ac_app.rate_limit = AC_REQUESTS_PER_SECOND
            dv_app.requests_per_window, dv_app.concurrency = 6000, 52
        env = {
            **os.environ,
            "SYNCADMIN_CA_BUNDLE": settings.CONNECTOR_CA_BUNDLE,
            UNTHROTTLED_ENV: "0" if self.rate_limits else "1",
        }
        profile_path = self.workdir / f"profile-{name}.prof"
        if self.profile:
            env["SYNCADMIN_BENCH_PROFILE"] = str(profile_path)
        workers = [
            Worker(
                log=self.workdir / f"worker-{name}-{index}.log",
                env=env,
                name=f"bench-{name}-{os.getpid()}-{index}",
            )
            for index in range(self.workers)
        ]
        try:
            for worker in workers:
                worker.start()
            for app in (ac_app, dv_app):
                app.log.clear()
            run = run_start(integration=integration, trigger=trigger)  # queued on commit
            run = self._wait(run, workers)
            # CPU of all the workers; the peak RSS of the largest.
            cpu = sum(worker.cpu_since_ready() for worker in workers)
            rss = max(worker.peak_rss_mb() for worker in workers)
        finally:
            for worker in workers:
                worker.stop()
        if self.profile and profile_path.exists():
            import pstats

            stats = pstats.Stats(str(profile_path), stream=self.stderr)
            # The project's own functions by cumulative time, then everything by own time.
            stats.sort_stats("cumulative").print_stats(r"/(sync|connectors|mapping)/", 50)
            stats.sort_stats("tottime").print_stats(30)
        ac_calls = ac_app.log.entries(path_prefix="/api/3/")
        dv_calls = dv_app.log.entries(path_prefix="/api/")
        wall = (run.finished_at - run.created_at).total_seconds()
        floor = len(ac_calls) / AC_REQUESTS_PER_SECOND
        return Result(
            name=name,
            records=self.records,
            ac_calls=len(ac_calls),
            dv_calls=len(dv_calls),
            wall_s=round(wall, 2),
            cpu_s=round(cpu, 2),
            peak_rss_mb=round(rss, 1),
            floor_ratio=round(wall / floor, 3) if self.rate_limits and floor else None,
            status=run.status,
            message=run.message,
            workers=self.workers,
            rate_limits=self.rate_limits,
            accounts=self.accounts,
            changes=self.changes,
            ac_calls_by_kind=_kinds(ac_calls),
            dv_calls_by_kind=_kinds(dv_calls),
            counts=run.counts,
        )

    def _wait(self, run, workers: list[Worker]):
        from sync.services import runs_resume

        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        resumed = time.monotonic()
        while True:
            run.refresh_from_db()
            if not run.is_active:
                return run
            for worker in workers:
                if not worker.alive():
                    raise RuntimeError(f"the benchmark's worker stopped:\n{worker.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {run.pk} did not finish in time:\n{workers[0].tail()}")
            if time.monotonic() - resumed > 60:
                runs_resume()  # what beat does every minute
                resumed = time.monotonic()
            time.sleep(0.1)


_ACCOUNT_WRITES = ("POST accounts", "PUT accounts")


def _switched(data, enabled: bool):
    data.enabled = enabled
    return data


def _kinds(entries) -> dict[str, int]:
    """Calls by method and resource: "GET contacts", "POST $batch", …"""
    kinds = Counter()
    for entry in entries:
        parts = [part for part in entry.path.split("/") if part]
        if parts[:2] == ["api", "3"]:
            resource = "/".join(parts[2:4]) if parts[2:3] == ["import"] else parts[2]
        else:
            resource = parts[-1].split("(")[0] if parts else entry.path
        kinds[f"{entry.method} {resource}"] += 1
    return dict(kinds.most_common())


class _ContactSeeder:
    """N Dynamics contacts on their accounts, with a value in each custom column, written
    like the sandbox's own seeding (sandbox.dataverse.seeding: rows in bulk, in seconds)."""

    def __init__(self, app, count: int, columns: list[str]) -> None:
        from sandbox.dataverse.seeding import Seeder

        self.seeder = Seeder(app, count)
        self.count = count
        self.columns = columns

    def run(self) -> dict:
        from sandbox import seed as demo

        seeder = self.seeder
        tables = seeder.tables
        accounts: dict[int, dict] = {}
        contacts = []
        for person in demo.people(self.count):
            company = person.company
            if company.index not in accounts:
                accounts[company.index] = seeder._row(
                    tables["account"],
                    {
                        "accountid": seeder._id(),
                        "name": company.name,
                        "websiteurl": company.website,
                        "telephone1": company.phone,
                        "address1_city": company.city,
                        "address1_country": company.country,
                    },
                    None,
                )
            values = {
                "contactid": seeder._id(),
                "firstname": person.first_name,
                "lastname": person.last_name,
                "emailaddress1": person.email,
                "telephone1": person.phone,
                "jobtitle": person.job_title,
                "parentcustomerid": accounts[company.index]["accountid"],
                "parentcustomerid__type": "account",
            }
            for k, column in enumerate(self.columns, start=1):
                values[column] = f"value {k} of {person.index}"
            contacts.append(seeder._row(tables["contact"], values, None))
        with seeder.store.atomic() as conn:
            seeder._insert(tables["account"], list(accounts.values()))
            seeder._insert(tables["contact"], contacts)
            conn.executemany(
                "INSERT INTO dv_changelog (version, entity, id, op, at) VALUES (?, ?, ?, ?, ?)",
                seeder.changelog,
            )
        return {"accounts": len(accounts), "contact_ids": [c["contactid"] for c in contacts]}
