"""Prometheus metrics at /metrics, with prometheus-client (https://prometheus.github.io/client_python/).

Where each number comes from, and why there:

- Runs and records are read from the database at scrape time (`SyncRun`: its status and its
  counts per entity, direction and outcome). The database is the record of work, so the
  numbers are exact, the same whichever process answers the scrape, and cost nothing while
  the sync runs.
- Vendor API calls happen in every process (gunicorn workers answering Settings and record
  pages, Celery workers running syncs, possibly on several machines). prometheus-client's
  multiprocess mode would need one directory shared by all of them, which separate machines
  or containers do not have; so each process counts in memory (`ApiCallTally`, fed by the
  observer hook of connectors/http.py) and adds its counts to `ApiCallCounter` rows in one
  statement every few seconds, at the end of each Celery task and each web request, and at
  exit. The scrape reads the sums. A process killed outright loses at most its last few
  seconds of counts.
- Queue depth is asked of the broker, worker and beat liveness read from their heartbeats.

Every part is collected on its own: a database or broker that is down shows as
`syncadmin_database_up 0` / `syncadmin_broker_up 0` and the parts that do not need it, never
as an error page. Integrations are named by id only (names can be confidential, and /metrics
is open on the service's network unless SYNCADMIN_METRICS_TOKEN is set).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from connectors.http import ApiCall

logger = logging.getLogger(__name__)

# Upper bounds (seconds) of the vendor latency histogram's buckets.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, math.inf)
# A process adds its counts to the database at least this often while it makes calls.
FLUSH_SECONDS = 5.0

REQUESTS = "requests"
DURATION_BUCKET = "duration_bucket"
DURATION_SUM = "duration_sum"


def status_class(status: int | None) -> str:
    """The `status` label of an API call: 2xx, 3xx, 4xx, 429, 5xx, or error (no answer)."""
    if status is None:
        return "error"
    if status == 429:
        return "429"
    return f"{min(max(status // 100, 1), 5)}xx"


def _bucket_label(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


# -- API calls: counted in each process, summed in the database -----------------------------------


class ApiCallTally:
    """This process's API calls not yet added to the database; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Counter[tuple[str, str, str]] = Counter()
        self._last_flush = time.monotonic()
        self._flush_failed_at = 0.0

    def observe(self, call: ApiCall) -> None:
        """The connectors' observer: count the call; now and then, add the counts up."""
        bound = next(b for b in LATENCY_BUCKETS if call.seconds <= b)
        with self._lock:
            self._pending[(call.vendor, REQUESTS, status_class(call.status))] += 1
            self._pending[(call.vendor, DURATION_BUCKET, _bucket_label(bound))] += 1
            self._pending[(call.vendor, DURATION_SUM, "")] += call.seconds
            due = time.monotonic() - self._last_flush >= FLUSH_SECONDS
        if due:
            self.flush()

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def flush(self, *, force: bool = False) -> None:
        """Add the pending counts to the database (never inside someone's transaction).

        Inside an atomic block the counts would be lost with a rollback and the rows locked
        until its end, so they wait for the end of the task or request; `force` is for the
        scrape and exit, which run outside any work.
        """
        if not self._pending:
            return
        if not force and connection.in_atomic_block:
            return
        with self._lock:
            taken, self._pending = self._pending, Counter()
            self._last_flush = time.monotonic()
        try:
            _counters_add(taken)
        except Exception as exc:
            with self._lock:
                self._pending.update(taken)  # kept for the next flush
            now = time.monotonic()
            if now - self._flush_failed_at > 60:  # one warning a minute, not one per call
                self._flush_failed_at = now
                logger.warning("metrics: API call counts not saved yet (%s)", type(exc).__name__)


def _counters_add(deltas: Counter[tuple[str, str, str]]) -> None:
    from .models import ApiCallCounter

    table = connection.ops.quote_name(ApiCallCounter._meta.db_table)
    # PostgreSQL and SQLite (3.24+) both add in place with ON CONFLICT … DO UPDATE.
    sql = (
        f"INSERT INTO {table} (vendor, series, label, value) VALUES (%s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (vendor, series, label) DO UPDATE SET value = {table}.value + excluded.value"
    )
    rows = [(vendor, series, label, value) for (vendor, series, label), value in deltas.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, sorted(rows))  # one order everywhere: no deadlock between flushes


api_calls = ApiCallTally()


def api_call_observed(call: ApiCall) -> None:
    """Registered with connectors.http at start-up (SyncadminConfig.ready)."""
    api_calls.observe(call)


def flush_api_calls(*args, **kwargs) -> None:
    """Signal receiver (end of a Celery task, end of a web request): add pending counts."""
    api_calls.flush()


@atexit.register
def _flush_at_exit() -> None:
    try:
        api_calls.flush(force=True)
    except Exception:  # the interpreter is going away; nothing more to do
        logger.debug("metrics: final flush failed", exc_info=True)


# -- the collector --------------------------------------------------------------------------------


class SyncadminCollector(Collector):
    """Everything /metrics shows, read at scrape time; each part on its own."""

    def collect(self) -> Iterator[Metric]:
        database_up = GaugeMetricFamily(
            "syncadmin_database_up", "1 when the database answered this scrape."
        )
        try:
            api_calls.flush(force=True)
            families = [
                *_run_metrics(),
                *_webhook_metrics(),
                *_record_metrics(),
                *_api_call_metrics(),
                *_heartbeat_metrics(),
            ]
        except Exception as exc:
            logger.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            database_up.add_metric([], 0)
            families = []
        else:
            database_up.add_metric([], 1)
        yield database_up
        yield from families
        yield from _queue_metrics()


def _integration(value: object) -> str:
    return str(value)


def _webhook_metrics() -> Iterable[Metric]:
    from sync.models import WebhookDelivery

    deliveries = GaugeMetricFamily(
        "syncadmin_webhook_deliveries",
        "ActiveCampaign webhook deliveries kept, by integration and status (queued, "
        "processing, done, skipped, failed).",
        labels=["integration", "status"],
    )
    for row in (
        WebhookDelivery.objects.values("integration_id", "status")
        .annotate(n=Count("id"))
        .order_by("integration_id", "status")
    ):
        deliveries.add_metric([_integration(row["integration_id"]), row["status"]], row["n"])
    yield deliveries


def _run_metrics() -> Iterable[Metric]:
    from sync.models import SyncRun

    finished = CounterMetricFamily(
        "syncadmin_sync_runs",
        "Sync runs finished, by integration, trigger and status (succeeded or failed).",
        labels=["integration", "trigger", "status"],
    )
    for row in (
        SyncRun.objects.exclude(status__in=SyncRun.ACTIVE)
        .values("integration_id", "trigger", "status")
        .annotate(n=Count("id"))
        .order_by("integration_id", "trigger", "status")
    ):
        finished.add_metric(
            [_integration(row["integration_id"]), row["trigger"], row["status"]], row["n"]
        )
    active = GaugeMetricFamily(
        "syncadmin_sync_runs_active",
        "Sync runs queued or running now, by integration and status.",
        labels=["integration", "status"],
    )
    for row in (
        SyncRun.objects.filter(status__in=SyncRun.ACTIVE)
        .values("integration_id", "status")
        .annotate(n=Count("id"))
        .order_by("integration_id", "status")
    ):
        active.add_metric([_integration(row["integration_id"]), row["status"]], row["n"])
    # Single-record syncs (a page's, a webhook's) and retries of failed records do not sync
    # everything: they say nothing about whether the integration as a whole is being kept in sync.
    last = (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED, finished_at__isnull=False)
        .exclude(trigger__in=[*SyncRun.INLINE, SyncRun.Trigger.RETRY])
        .values("integration_id")
        .annotate(last=Max("finished_at"))
        .order_by("integration_id")
    )
    stamp = GaugeMetricFamily(
        "syncadmin_sync_last_success_timestamp_seconds",
        "When the last successful sync run (initial, scheduled or Sync now) finished.",
        labels=["integration"],
    )
    age = GaugeMetricFamily(
        "syncadmin_sync_last_success_age_seconds",
        "Seconds since the last successful sync run (initial, scheduled or Sync now) finished.",
        labels=["integration"],
    )
    now = timezone.now()
    for row in last:
        labels = [_integration(row["integration_id"])]
        stamp.add_metric(labels, row["last"].timestamp())
        age.add_metric(labels, max(0.0, (now - row["last"]).total_seconds()))
    return [finished, active, stamp, age]


def _rows(integration_id: int, counts: dict) -> Iterator[tuple[int, str, str, str, float]]:
    """A run's counts {entity: {direction: {outcome: n}}} as (integration, entity, direction,
    outcome, n) rows."""
    for entity, directions in (counts or {}).items():
        for direction, outcomes in (directions or {}).items():
            for outcome, n in (outcomes or {}).items():
                if isinstance(n, int | float):
                    yield integration_id, entity, direction, outcome, n


class SettledRunTotals:
    """The counts of runs finished before a moving cutoff, summed once per process.

    A finished run's counts never change, so each is read once: a year of hourly runs takes
    about a second to add up, and a scrape should not pay that every time. Runs that finished
    in the last SETTLED (and runs still going) are read at every scrape instead, so a run whose
    process clock lags a little behind this one is not missed.
    """

    SETTLED = dt.timedelta(minutes=10)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._upto: dt.datetime | None = None
        self._totals: Counter[tuple[int, str, str, str]] = Counter()

    def forget(self) -> None:
        with self._lock:
            self._upto, self._totals = None, Counter()

    def totals(self, *, now: dt.datetime) -> tuple[Counter[tuple[int, str, str, str]], dt.datetime]:
        """(sums of the runs finished before the cutoff, the cutoff)."""
        from sync.models import SyncRun

        cutoff = now - self.SETTLED
        with self._lock:
            settled = SyncRun.objects.exclude(status__in=SyncRun.ACTIVE).filter(
                finished_at__lt=cutoff
            )
            if self._upto is not None:
                settled = settled.filter(finished_at__gte=self._upto)
            added: Counter[tuple[int, str, str, str]] = Counter()
            for pk, counts in settled.exclude(counts={}).values_list("integration_id", "counts"):
                for integration_id, entity, direction, outcome, n in _rows(pk, counts):
                    added[(integration_id, entity, direction, outcome)] += n
            self._totals.update(added)  # only once the read succeeded
            self._upto = cutoff
            return Counter(self._totals), cutoff


settled_runs = SettledRunTotals()


def _record_metrics() -> Iterable[Metric]:
    """Records by outcome, from the counts of every run (the running ones so far)."""
    from django.db.models import Q

    from sync.models import SyncRun
    from sync.services import run_counts

    totals, cutoff = settled_runs.totals(now=timezone.now())
    recent = (
        SyncRun.objects.exclude(status__in=SyncRun.ACTIVE)
        .filter(Q(finished_at__gte=cutoff) | Q(finished_at__isnull=True))
        .exclude(counts={})
        .values_list("integration_id", "counts")
    )
    rows = [row for pk, counts in recent for row in _rows(pk, counts)]
    for run in SyncRun.objects.filter(status=SyncRun.Status.RUNNING):
        rows.extend(_rows(run.integration_id, run_counts(run)))
    for integration_id, entity, direction, outcome, n in rows:
        totals[(integration_id, entity, direction, outcome)] += n
    records = CounterMetricFamily(
        "syncadmin_sync_records",
        "Records handled by sync runs, by integration, entity, direction (push: Dynamics 365 to "
        "ActiveCampaign, pull: back) and outcome (created, updated, linked, conflicts, skipped, "
        "failed, …).",
        labels=["integration", "entity", "direction", "outcome"],
    )
    read = CounterMetricFamily(
        "syncadmin_sync_records_read",
        "Records read by sync runs from the side they come from, by integration, entity and "
        "direction.",
        labels=["integration", "entity", "direction"],
    )
    for (integration_id, entity, direction, outcome), n in sorted(totals.items()):
        integration = _integration(integration_id)
        if outcome == "read":
            read.add_metric([integration, entity, direction], n)
        else:
            records.add_metric([integration, entity, direction, outcome], n)
    return [records, read]


def _api_call_metrics() -> Iterable[Metric]:
    from .models import ApiCallCounter

    requests = CounterMetricFamily(
        "syncadmin_api_requests",
        "HTTP requests to the vendors' APIs (every attempt, retries included), by vendor and "
        "status class (2xx, 3xx, 4xx, 429, 5xx; error: no answer).",
        labels=["vendor", "status"],
    )
    limited = CounterMetricFamily(
        "syncadmin_api_rate_limited",
        "Requests the vendor refused with 429 Too Many Requests, by vendor.",
        labels=["vendor"],
    )
    latency = HistogramMetricFamily(
        "syncadmin_api_request_duration_seconds",
        "Time from sending a request to a vendor to its answer (throttle waits not included).",
        labels=["vendor"],
    )
    rows: dict[str, dict[tuple[str, str], float]] = {}
    for vendor, series, label, value in ApiCallCounter.objects.values_list(
        "vendor", "series", "label", "value"
    ):
        rows.setdefault(vendor, {})[(series, label)] = value
    for vendor in sorted(rows):
        values = rows[vendor]
        statuses = sorted(label for series, label in values if series == REQUESTS)
        for status in statuses:
            requests.add_metric([vendor, status], values[(REQUESTS, status)])
        limited.add_metric([vendor], values.get((REQUESTS, "429"), 0))
        cumulative = 0.0
        buckets = []
        for bound in LATENCY_BUCKETS:
            cumulative += values.get((DURATION_BUCKET, _bucket_label(bound)), 0)
            buckets.append((_bucket_label(bound), cumulative))
        latency.add_metric([vendor], buckets, values.get((DURATION_SUM, ""), 0))
    return [requests, limited, latency]


def _heartbeat_metrics() -> Iterable[Metric]:
    from .heartbeat import process_states

    age = GaugeMetricFamily(
        "syncadmin_heartbeat_age_seconds",
        "Seconds since the freshest Celery worker or beat heartbeat (absent: never reported).",
        labels=["process"],
    )
    for state in process_states():
        if state.seconds_ago is not None:
            age.add_metric([state.kind], state.seconds_ago)
    return [age]


def _queue_metrics() -> Iterable[Metric]:
    """Messages waiting in the broker's task queues (not those a worker has taken)."""
    from django.conf import settings
    from kombu.exceptions import ChannelError

    from .celery import app

    broker_up = GaugeMetricFamily(
        "syncadmin_broker_up", "1 when the Celery broker answered this scrape."
    )
    depth = GaugeMetricFamily(
        "syncadmin_queue_messages",
        "Celery task messages waiting in the broker, by queue.",
        labels=["queue"],
    )
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE]
    queues += [q.name for q in (app.conf.task_queues or ()) if q.name not in queues]
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            channel = conn.default_channel
            for name in queues:
                try:
                    _, count, _ = channel.queue_declare(queue=name, passive=True)
                except ChannelError:  # Redis keeps no key for an empty queue
                    count = 0
                depth.add_metric([name], count)
    except Exception as exc:
        logger.warning("metrics: the broker did not answer (%s)", type(exc).__name__)
        broker_up.add_metric([], 0)
        return [broker_up]
    broker_up.add_metric([], 1)
    return [broker_up, depth]


registry = CollectorRegistry(auto_describe=False)
registry.register(SyncadminCollector())


def exposition(accept: str = "") -> tuple[bytes, str]:
    """Every metric and its content type: the Prometheus text format, or OpenMetrics when the
    scraper's Accept header asks for it (as prometheus-client's own handlers choose)."""
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
