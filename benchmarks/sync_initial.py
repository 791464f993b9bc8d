"""Print what the initial sync costs: API calls per record on each side, and wall time.

Starts both sandboxes with their rate limits on (ActiveCampaign 5 requests/second per account,
Dataverse's service protection limits), seeds Dynamics 365 with about `--records` people
(leads and contacts, into an empty ActiveCampaign), and runs the real engine's initial sync in
this process (the inline runner the `sync run` command uses) on a throwaway SQLite database.

    .venv/bin/python benchmarks/sync_initial.py [--records 10000] [--config lean|default]

SYNC_BENCH_PROFILE=cumulative (or tottime) prints a profile of the engine's thread too.

--config lean: contacts and leads, standard mappings without the job title (ActiveCampaign
keeps the job title on the account-contact link: one or two calls per contact, see below).
--config default: the default data configuration (accounts, and job titles).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="people in Dynamics 365")
    parser.add_argument("--config", choices=("lean", "default"), default="lean")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    os.environ["SYNCADMIN_VAR_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)  # one process: the in-process throttle store
    os.environ["DJANGO_SETTINGS_MODULE"] = "syncadmin.settings.local"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.conf import settings
    from django.utils import timezone

    from integrations.models import Integration
    from mapping.models import EntitySync, FieldMapping
    from mapping.services import entity_syncs_ensure, metadata_refresh
    from sandbox.runner import sandboxes_start
    from sync.models import SyncRun
    from sync.services import run_inline, run_start

    sandboxes = sandboxes_start(tls_dir=workdir / "tls", rate_limits=True)
    try:
        settings.CONNECTOR_CA_BUNDLE = sandboxes.dataverse.ca_bundle
        # About 85 % of the seeded people live in Dynamics 365 (sandbox.seed.people).
        seeded = sandboxes.dataverse_app.seed(round(args.records / 0.85))
        ac, dv = sandboxes.activecampaign, sandboxes.dataverse
        integration = Integration.objects.create(
            name="Benchmark",
            ac_api_url=ac.api_url,
            ac_api_key=ac.api_key,
            ac_budget_share=100,  # the whole account's 5/s: nothing else shares the sandbox
            dynamics_org_url=dv.org_url,
            dynamics_tenant_id=dv.tenant_id,
            dynamics_client_id=dv.client_id,
            dynamics_client_secret=dv.client_secret,
            dynamics_authority_host=dv.authority_host,
            status=Integration.Status.CONNECTED,
            connected_at=timezone.now(),
        )
        metadata_refresh(integration=integration)
        entity_syncs_ensure(integration=integration)
        if args.config == "lean":
            EntitySync.objects.filter(integration=integration, entity="account").update(
                enabled=False
            )
            FieldMapping.objects.filter(
                entity_sync__integration=integration, ac_key="jobTitle"
            ).update(enabled=False)
        for app in (sandboxes.activecampaign_app, sandboxes.dataverse_app):
            app.log.clear()
        started = time.monotonic()
        cpu = time.thread_time()  # this thread: the engine, not the sandboxes' threads
        run = run_start(integration=integration, trigger=SyncRun.Trigger.INITIAL, enqueue=False)
        if os.environ.get("SYNC_BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            run = profile.runcall(run_inline, run=run)
            order = os.environ["SYNC_BENCH_PROFILE"]  # a pstats sort key: cumulative, tottime
            pstats.Stats(profile).sort_stats(order).print_stats(40)
        else:
            run = run_inline(run=run)
        wall = time.monotonic() - started
        cpu = time.thread_time() - cpu
        ac_calls = [e for e in sandboxes.activecampaign_app.log.entries(path_prefix="/api/3/")]
        dv_calls = [e for e in sandboxes.dataverse_app.log.entries(path_prefix="/api/")]
        people = seeded["contacts"] + seeded["leads"]
        records = people + (seeded["accounts"] if args.config == "default" else 0)
        print(f"configuration: {args.config}; run #{run.pk} {run.status} {run.message}")
        print(
            f"Dynamics records: {seeded['contacts']} contacts, {seeded['leads']} leads"
            + (f", {seeded['accounts']} accounts" if args.config == "default" else "")
        )
        per_record = 1000 * cpu / records
        print(f"wall time: {wall:.1f} s; engine CPU: {cpu:.1f} s ({per_record:.2f} ms/record)")
        print(
            f"ActiveCampaign calls: {len(ac_calls)} ({len(ac_calls) / records:.4f} per record, "
            f"floor at 5/s: {len(ac_calls) / 5:.0f} s)"
        )
        print(f"Dataverse calls: {len(dv_calls)} ({len(dv_calls) / records:.5f} per record)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (sandboxes included): {peak:.0f} MB")
        for name, calls in (("ActiveCampaign", ac_calls), ("Dataverse", dv_calls)):
            kinds = Counter(f"{e.method} {_resource(e.path)}" for e in calls)
            print(f"  {name}: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
        for entity, directions in sorted(run.counts.items()):
            for direction, counts in directions.items():
                print(f"  {entity} {direction}: {counts}")
    finally:
        sandboxes.stop()


def _resource(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "3"]:
        return "/".join(parts[2:3])
    return parts[-1].split("(")[0] if parts else path


if __name__ == "__main__":
    main()
