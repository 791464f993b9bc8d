"""DynamicsClient: the Dataverse Web API v9.2, as the sync and the Settings page use it.

Every request goes through one VendorHttp (timeouts, throttle, retries, classification). Reads
are generators that hold one page at a time and stop after a bounded number of pages; writes
go in `$batch`es of at most 1000 operations. Nothing returned is a raw vendor dict.

Facts: the Dataverse Web API docs, https://learn.microsoft.com/power-apps/developer/data-platform/webapi/overview,
cited where they matter.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from types import MappingProxyType
from urllib.parse import urlsplit

import requests

from connectors.config import DynamicsConfig
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    FatalError,
    NotFoundError,
    RecordError,
    UnreachableError,
)
from connectors.http import HttpSettings, RetryPolicy, VendorHttp
from connectors.local_tls import http_settings_for
from connectors.ratelimit import Rate, Store, Throttle
from connectors.types import FieldInfo

from . import odata
from .auth import MsalTokenProvider
from .batch import (
    MAX_OPERATIONS,
    BatchFormatError,
    BatchOperation,
    PartResponse,
    build_batch,
    content_type,
    new_boundary,
    parse_batch_response,
)
from .errors import VENDOR, ChangeTokenExpiredError, classify, classify_status
from .metadata import ENTITY_SELECT, build_schema, metadata_queries, table_info
from .records import (
    CONTACT,
    LEAD,
    STANDARD_TABLES,
    SYSTEMUSER,
    BatchResult,
    ChangeBatch,
    ChangeMode,
    Deletion,
    FallbackReason,
    LookupValue,
    OrgInfo,
    Outcome,
    RecordWrite,
    Row,
    SystemUser,
    TableInfo,
    TableSchema,
    WhoAmI,
    WriteKind,
    canonical_guid,
)

API_PATH = "/api/data/v9.2/"
MAX_PAGE_SIZE = 5000  # Dataverse's own maximum for odata.maxpagesize
# Reads ask for the largest page: every request counts against the 6000 per five minutes, and
# a page of the synced tables' selected columns stays a few megabytes, well inside the read
# timeout. (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results)
DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE
# Microsoft suggests starting small ("~10 operations per batch and add parallelism"): big
# batches run long (execution-time limit, read timeout) and a retry resends them whole.
DEFAULT_BATCH_SIZE = 100
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 52  # Dataverse's concurrent-request limit per user per web server
REQUESTS_PER_WINDOW = 6000  # per user per web server, in a 300 s sliding window
WINDOW_SECONDS = 300.0
MAX_PAGES = 20_000  # a loop bound: 100 million rows at the largest page size
DEFAULT_OVERLAP = dt.timedelta(minutes=5)

LOOKUP_ANNOTATION = 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'
_LOOKUP_PROPERTY = re.compile(r"^_([A-Za-z0-9_]+)_value$")
_LOOKUP_TABLE_SUFFIX = "@Microsoft.Dynamics.CRM.lookuplogicalname"

# Navigation properties of the standard lookups of the synced tables, exact case. Used without
# a metadata call; a table's metadata, once read, is preferred (it also knows custom lookups).
# https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api
# https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact
# https://learn.microsoft.com/troubleshoot/power-platform/power-apps/dataverse/web-api-client-errors
STANDARD_BINDS: Mapping[str, Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        "contact": {
            ("parentcustomerid", "account"): "parentcustomerid_account",
            ("parentcustomerid", "contact"): "parentcustomerid_contact",
            ("ownerid", "systemuser"): "ownerid",
            ("ownerid", "team"): "ownerid",
        },
        "lead": {
            ("customerid", "account"): "customerid_account",
            ("customerid", "contact"): "customerid_contact",
            ("parentaccountid", "account"): "parentaccountid",
            ("parentcontactid", "contact"): "parentcontactid",
            ("ownerid", "systemuser"): "ownerid",
            ("ownerid", "team"): "ownerid",
        },
        "opportunity": {
            ("customerid", "account"): "customerid_account",
            ("customerid", "contact"): "customerid_contact",
            ("parentaccountid", "account"): "parentaccountid",
            ("parentcontactid", "contact"): "parentcontactid",
            ("ownerid", "systemuser"): "ownerid",
            ("ownerid", "team"): "ownerid",
        },
        "account": {
            ("primarycontactid", "contact"): "primarycontactid",
            ("parentaccountid", "account"): "parentaccountid",
            ("ownerid", "systemuser"): "ownerid",
            ("ownerid", "team"): "ownerid",
        },
    }
)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class DynamicsClient:
    """One Dataverse environment, reached as its application user."""

    def __init__(
        self,
        config: DynamicsConfig,
        *,
        http_settings: HttpSettings | None = None,
        throttle_store: Store | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        concurrency: int = DEFAULT_CONCURRENCY,
        token_provider: MsalTokenProvider | None = None,
    ) -> None:
        parts = urlsplit(config.org_url.strip())
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ConfigurationError(
                "the environment URL must look like https://<org>.crm.dynamics.com",
                vendor=VENDOR,
                reason=ConfigReason.OTHER,
            )
        # A local CA bundle is trusted only when every endpoint is on this machine.
        settings = http_settings or http_settings_for([config.org_url, config.authority_host])
        self.config = config
        # Only scheme and host count: a pasted Web API endpoint (…/api/data/v9.2) works too.
        self.org_url = f"{parts.scheme}://{parts.netloc}"
        self.base_url = self.org_url + API_PATH
        self.auth = token_provider or MsalTokenProvider(config, settings=settings)
        # Dataverse counts per user per web server; this app's user on this org is the key,
        # shared by every worker through Redis when it is configured.
        share = min(max(config.budget_share, 0.0), 1.0)
        self.throttle = Throttle(
            f"dynamics:{parts.netloc.lower()}:{config.client_id.strip().lower()}",
            [Rate(max(1, math.floor(REQUESTS_PER_WINDOW * share)), WINDOW_SECONDS)],
            concurrency=min(max(1, concurrency), MAX_CONCURRENCY),
            store=throttle_store,
            sleep=sleep,
        )
        self.http = VendorHttp(
            vendor=VENDOR,
            base_url=self.base_url,
            classify=classify,
            auth_headers=self.auth.auth_headers,
            on_unauthorized=self.auth.invalidate,
            throttle=self.throttle,
            settings=settings,
            retry=retry,
            secrets=[config.client_secret],
            default_headers={"OData-MaxVersion": "4.0", "OData-Version": "4.0"},
            sleep=sleep,
        )
        self._lock = threading.Lock()
        self._entities: dict[str, TableInfo] = {}
        self._lookups: dict[str, Mapping[str, tuple[str, ...]]] = {}
        self._schemas: dict[str, TableSchema] = {}

    # -- connection ----------------------------------------------------------------------
    def who_am_i(self) -> WhoAmI:
        payload = self._get_json("WhoAmI")
        try:
            return WhoAmI(
                user_id=str(payload["UserId"]),
                business_unit_id=str(payload["BusinessUnitId"]),
                organization_id=str(payload["OrganizationId"]),
            )
        except KeyError:
            raise self._not_an_api("WhoAmI answered without UserId/OrganizationId") from None

    def check(
        self, tables: Sequence[str] = ("lead", "contact", "account", "opportunity")
    ) -> OrgInfo:
        """Validate the connection with real calls: a token, WhoAmI, one row of each table.

        Raises the classified error: wrong tenant / client id / secret / environment URL
        (from Entra), no application user, a missing privilege (naming the table), an
        unreachable host, or a URL that is not the Dataverse API.
        """
        try:
            return self._check(tables)
        except UnreachableError as exc:
            # A sync retries a host that does not answer; a person checking the connection
            # is told to look at the URL (or the network) instead of "try again later".
            raise ConfigurationError(
                exc.message, vendor=VENDOR, reason=ConfigReason.UNREACHABLE, setting=exc.setting
            ) from None

    def _check(self, tables: Sequence[str]) -> OrgInfo:
        me = self.who_am_i()
        readable = []
        for name in tables:
            info = self.table(name)
            query = odata.query_string([("$select", info.primary_id), ("$top", "1")])
            try:
                self._get_json(f"{info.entity_set}?{query}")
            except ConfigurationError as exc:
                raise ConfigurationError(
                    f"reading {info.logical_name}: {exc.message}",
                    vendor=VENDOR,
                    reason=exc.reason,
                    status=exc.status,
                    code=exc.code,
                ) from None
            readable.append(info.logical_name)
        return OrgInfo(
            org_url=self.org_url,
            organization_id=me.organization_id,
            user_id=me.user_id,
            business_unit_id=me.business_unit_id,
            readable_tables=tuple(readable),
        )

    # -- tables and metadata -------------------------------------------------------------
    def table(self, table: str | TableInfo) -> TableInfo:
        """Names of a table: built in for the standard ones, else from its definition."""
        if isinstance(table, TableInfo):
            return table
        odata.column(table)
        if table in self._entities:
            return self._entities[table]
        if table in STANDARD_TABLES:
            return STANDARD_TABLES[table]
        return self._entity(table)

    def _entity(self, logical_name: str) -> TableInfo:
        """The table's definition (entity set, keys, change tracking), read once."""
        with self._lock:
            cached = self._entities.get(logical_name)
        if cached is not None:
            return cached
        query = odata.query_string([("$select", ENTITY_SELECT)])
        with _table_must_exist(logical_name):
            payload = self._get_json(f"EntityDefinitions(LogicalName='{logical_name}')?{query}")
        try:
            info = table_info(payload)
        except KeyError:
            raise self._not_an_api("a table definition without its names") from None
        with self._lock:
            self._entities[logical_name] = info
        return info

    def schema(self, table: str) -> TableSchema:
        """The table's columns and lookup bindings, read once per client in one `$batch`."""
        odata.column(table)
        with self._lock:
            cached = self._schemas.get(table)
        if cached is not None:
            return cached
        queries = metadata_queries(table)
        with _table_must_exist(table):
            bodies = self._get_batch([url for _, url in queries])
        answers = dict(zip([key for key, _ in queries], bodies, strict=True))
        try:
            schema = build_schema(answers, target_sets={})
        except (KeyError, TypeError, AttributeError):
            raise self._not_an_api(f"unreadable metadata for {table}") from None
        with self._lock:
            self._schemas[table] = schema
            self._entities[table] = schema.table
            self._lookups[table] = schema.lookups
        return schema

    def fields(self, table: str) -> tuple[FieldInfo, ...]:
        """The mappable columns of a table, for the mapping UI."""
        return self.schema(table).fields

    def _lookup_targets(self, info: TableInfo) -> Mapping[str, tuple[str, ...]]:
        """Lookup column -> target tables: needed to `$select` lookups as `_x_value`."""
        with self._lock:
            cached = self._lookups.get(info.logical_name)
        if cached is not None:
            return cached
        query = odata.query_string([("$select", "LogicalName,Targets")])
        payload = self._get_json(
            f"EntityDefinitions(LogicalName='{info.logical_name}')/Attributes/"
            f"Microsoft.Dynamics.CRM.LookupAttributeMetadata?{query}"
        )
        lookups = MappingProxyType(
            {
                item["LogicalName"]: tuple(item.get("Targets") or ())
                for item in payload.get("value") or ()
                if isinstance(item, dict) and item.get("LogicalName")
            }
        )
        with self._lock:
            self._lookups[info.logical_name] = lookups
        return lookups

    # -- reads ---------------------------------------------------------------------------
    def rows(
        self,
        table: str | TableInfo,
        columns: Sequence[str],
        *,
        where: odata.Filter | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[Row]:
        """Every row matching `where`, ordered by modifiedon then id, one page in memory."""
        plan = self._plan(table, columns)
        options = [("$select", ",".join(plan.select))]
        if where is not None:
            options.append(("$filter", str(where)))
        options.append(("$orderby", f"modifiedon asc,{plan.info.primary_id} asc"))
        prefer = [_max_page_size(page_size)] + ([LOOKUP_ANNOTATION] if plan.has_lookups else [])
        url = f"{plan.info.entity_set}?{odata.query_string(options)}"
        for payload in self._pages(url, prefer, max_pages):
            for item in _items(payload):
                yield self._row(plan, item)

    def find_by_email(
        self,
        table: str | TableInfo,
        email: str,
        columns: Sequence[str] = (),
        *,
        email_columns: Sequence[str] = ("emailaddress1",),
        limit: int = 10,
    ) -> tuple[Row, ...]:
        """Rows whose e-mail column equals `email` (Dataverse compares case-insensitively),
        most recently modified first."""
        if not email or not email_columns:
            return ()
        plan = self._plan(table, columns)
        where = odata.any_of(*(odata.eq(name, email) for name in email_columns))
        options = [
            ("$select", ",".join(plan.select)),
            ("$filter", str(where)),
            ("$orderby", f"modifiedon desc,{plan.info.primary_id} asc"),
            # $top, not odata.maxpagesize: the service ignores $top when both are sent.
            ("$top", str(_clamp(limit, 1, MAX_PAGE_SIZE))),
        ]
        prefer = [LOOKUP_ANNOTATION] if plan.has_lookups else []
        payload = self._get_json(f"{plan.info.entity_set}?{odata.query_string(options)}", prefer)
        return tuple(self._row(plan, item) for item in _items(payload))

    def find_leads_by_email(self, email: str, columns: Sequence[str] = ()) -> tuple[Row, ...]:
        return self.find_by_email(LEAD, email, columns)

    def find_contacts_by_email(self, email: str, columns: Sequence[str] = ()) -> tuple[Row, ...]:
        return self.find_by_email(CONTACT, email, columns)

    def system_users(self, search: str = "", limit: int = 25) -> tuple[SystemUser, ...]:
        """Enabled, interactive (read-write access mode) people for the user picker.

        Application users live in systemusers too; they carry an applicationid, so they are
        excluded by `applicationid eq null`
        (https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/systemuser).
        """
        conditions = [
            odata.eq("isdisabled", False),
            odata.eq("accessmode", 0),
            odata.is_null("applicationid"),
        ]
        if search.strip():
            text = search.strip()
            conditions.append(
                odata.any_of(
                    odata.contains("fullname", text), odata.contains("internalemailaddress", text)
                )
            )
        where = odata.all_of(*conditions)
        options = [
            (
                "$select",
                "systemuserid,fullname,internalemailaddress,domainname,isdisabled,accessmode,"
                "azureactivedirectoryobjectid",
            ),
            ("$filter", str(where)),
            ("$orderby", "fullname asc"),
            ("$top", str(_clamp(limit, 1, MAX_PAGE_SIZE))),
        ]
        payload = self._get_json(f"{SYSTEMUSER.entity_set}?{odata.query_string(options)}")
        users = []
        for item in _items(payload):
            user_id = item.get("systemuserid")
            if not user_id:
                continue
            users.append(
                SystemUser(
                    id=str(user_id),
                    full_name=str(item.get("fullname") or ""),
                    email=item.get("internalemailaddress") or None,
                    domain_name=item.get("domainname") or None,
                    disabled=bool(item.get("isdisabled")),
                    access_mode=item.get("accessmode"),
                    azure_ad_object_id=item.get("azureactivedirectoryobjectid") or None,
                )
            )
        return tuple(users)

    # -- change tracking -----------------------------------------------------------------
    def changes(
        self,
        table: str | TableInfo,
        columns: Sequence[str],
        delta_link: str | None = None,
        *,
        watermark: dt.datetime | None = None,
        overlap: dt.timedelta = DEFAULT_OVERLAP,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[ChangeBatch]:
        """What changed in a table, one page per ChangeBatch; the last one has `last=True`.

        - With a `delta_link`: the changes since it, deletions included (mode DELTA), and on
          the last batch the next delta link.
        - Without one, on a table with change tracking on: every row, then the first delta
          link (mode INITIAL). No `$filter`/`$orderby` is allowed on tracked queries, so
          selection criteria are applied by the caller.
        - Change tracking off, or the delta link expired: `modifiedon ge <watermark -
          overlap>` ordered by modifiedon and id, duplicates dropped (mode POLLING, with
          `fallback` saying why). Deletions are invisible in this mode. An expired link
          without a watermark starts a new chain instead (mode INITIAL). After a polling
          fallback no delta link is returned: the next call without one starts a new chain.

        A delta link keeps the `$select` it was started with (the `columns` argument is then
        used only to read lookups): start a new chain when the mapped columns change.

        Annotations are never requested on tracked queries: they have been reported to make
        the delta link disappear (MicrosoftDocs/powerapps-docs#439).
        """
        plan = self._plan(table, columns)
        if delta_link:
            stream = self._tracked(
                plan, delta_link, ChangeMode.DELTA, None, watermark, page_size, max_pages
            )
            try:
                first = next(stream)
            except ChangeTokenExpiredError:
                fallback = FallbackReason.TOKEN_EXPIRED
            else:
                yield first
                yield from stream
                return
            if watermark is None:
                yield from self._initial(plan, fallback, watermark, page_size, max_pages)
                return
            yield from self._poll(plan, watermark, overlap, fallback, page_size, max_pages)
            return
        if self._tracking_enabled(plan.info):
            yield from self._initial(plan, None, watermark, page_size, max_pages)
            return
        yield from self._poll(
            plan, watermark, overlap, FallbackReason.TRACKING_DISABLED, page_size, max_pages
        )

    def _tracking_enabled(self, info: TableInfo) -> bool:
        if info.change_tracking is not None:
            return info.change_tracking
        return bool(self._entity(info.logical_name).change_tracking)

    def _initial(self, plan, fallback, watermark, page_size, max_pages) -> Iterator[ChangeBatch]:
        query = odata.query_string([("$select", ",".join(plan.select))])
        url = f"{plan.info.entity_set}?{query}"
        yield from self._tracked(
            plan, url, ChangeMode.INITIAL, fallback, watermark, page_size, max_pages
        )

    def _tracked(
        self, plan, url, mode, fallback, watermark, page_size, max_pages
    ) -> Iterator[ChangeBatch]:
        # maxpagesize goes with track-changes on every page, delta links included (a client
        # that dropped it stopped getting next links: microsoft/power-platform-skills#89).
        prefer = ["odata.track-changes", _max_page_size(page_size)]
        for payload in self._pages(url, prefer, max_pages):
            rows, deletions = [], []
            for item in _items(payload):
                if _is_deletion(item, plan.info):
                    deletions.append(
                        Deletion(
                            table=plan.info.logical_name,
                            id=str(item["id"]),
                            reason=str(item.get("reason") or "deleted"),
                        )
                    )
                    continue
                row = self._row(plan, item)
                watermark = _later(watermark, row.modified_on)
                rows.append(row)
            last = not payload.get("@odata.nextLink")
            yield ChangeBatch(
                table=plan.info.logical_name,
                mode=mode,
                rows=tuple(rows),
                deletions=tuple(deletions),
                delta_link=payload.get("@odata.deltaLink") if last else None,
                watermark=watermark,
                last=last,
                fallback=fallback,
            )

    def _poll(
        self, plan, watermark, overlap, fallback, page_size, max_pages
    ) -> Iterator[ChangeBatch]:
        options = [("$select", ",".join(plan.select))]
        if watermark is not None:
            since = watermark - overlap
            options.append(("$filter", str(odata.ge("modifiedon", since))))
        options.append(("$orderby", f"modifiedon asc,{plan.info.primary_id} asc"))
        prefer = [_max_page_size(page_size)] + ([LOOKUP_ANNOTATION] if plan.has_lookups else [])
        url = f"{plan.info.entity_set}?{odata.query_string(options)}"
        # Rows come ordered by modifiedon, so a repeat of (id, modifiedon) can only sit in the
        # run of rows sharing one modifiedon: remembering that run is enough (and bounded).
        run_stamp: dt.datetime | None = None
        run_ids: set[str] = set()
        for payload in self._pages(url, prefer, max_pages):
            rows = []
            for item in _items(payload):
                row = self._row(plan, item)
                if row.modified_on != run_stamp:
                    run_stamp, run_ids = row.modified_on, set()
                if row.id in run_ids:
                    continue
                run_ids.add(row.id)
                watermark = _later(watermark, row.modified_on)
                rows.append(row)
            last = not payload.get("@odata.nextLink")
            yield ChangeBatch(
                table=plan.info.logical_name,
                mode=ChangeMode.POLLING,
                rows=tuple(rows),
                watermark=watermark,
                last=last,
                fallback=fallback,
            )

    # -- writes --------------------------------------------------------------------------
    def write(
        self,
        writes: Iterable[RecordWrite],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        detect_duplicates: bool = False,
    ) -> Iterator[BatchResult]:
        """Send the writes in `$batch`es; yield one BatchResult per write, in order.

        Creates are `PATCH <set>(<client-generated id>)` with `If-None-Match: *`: a create that
        is sent again (a retried batch, a re-run after a crash with the stored id) finds its
        row and reports ALREADY_EXISTS instead of creating a second one. Plain POST would
        duplicate; PATCH without a precondition could resurrect a row deleted meanwhile.
        Updates carry `If-Match: *` (or the row's etag), so they never create. A delete that
        finds nothing reports ALREADY_DELETED. Hence a batch may be retried whole, unless it
        holds an etag-conditional operation (its own first attempt would make it stale).

        detect_duplicates: send `MSCRM.SuppressDuplicateDetection: false`, so that the org's
        duplicate detection rules apply (they are off for API writes by default).

        Errors about one operation are on its result; an error about the whole request
        (throttled past the retries, unauthorized, unreachable) is raised.
        """
        if not 1 <= batch_size <= MAX_OPERATIONS:
            raise ValueError(f"batch_size must be between 1 and {MAX_OPERATIONS}")
        for chunk in _chunks(writes, batch_size):
            yield from self._write_batch(chunk, detect_duplicates)

    def _write_batch(self, chunk: list[RecordWrite], detect_duplicates: bool) -> list[BatchResult]:
        results: list[BatchResult | None] = [None] * len(chunk)
        operations: list[BatchOperation] = []
        sent: list[int] = []
        for index, write in enumerate(chunk):
            try:
                operations.append(self._operation(write, detect_duplicates))
            except (ValueError, TypeError, RecordError) as exc:
                error = (
                    exc if isinstance(exc, RecordError) else RecordError(str(exc), vendor=VENDOR)
                )
                results[index] = BatchResult(write, Outcome.FAILED, 0, write.id, error)
                continue
            sent.append(index)
        if operations:
            answers = self._send_batch(
                operations,
                prefer="odata.continue-on-error",
                idempotent=not any(chunk[i].etag for i in sent),
            )
            for position, index in enumerate(sent):
                part = answers[position] if position < len(answers) else None
                results[index] = self._result(chunk[index], part)
        return [result for result in results if result is not None]

    def _operation(self, write: RecordWrite, detect_duplicates: bool) -> BatchOperation:
        info = self.table(write.table)
        if not write.id:
            raise ValueError(f"a {write.kind} needs the row's id")
        url = API_PATH + odata.record_path(info.entity_set, write.id)
        headers: dict[str, str] = {}
        if write.kind is WriteKind.CREATE:
            headers["If-None-Match"] = "*"
        elif write.kind is WriteKind.UPDATE:
            headers["If-Match"] = write.etag or "*"
        elif write.kind is WriteKind.DELETE and write.etag:
            headers["If-Match"] = write.etag
        if detect_duplicates and write.kind is not WriteKind.DELETE:
            headers["MSCRM.SuppressDuplicateDetection"] = "false"
        if write.kind is WriteKind.DELETE:
            return BatchOperation("DELETE", url, headers)
        return BatchOperation("PATCH", url, headers, self._body(info, write.values))

    def _result(self, write: RecordWrite, part: PartResponse | None) -> BatchResult:
        if part is None:
            error = FatalError("the $batch answer has no part for this operation", vendor=VENDOR)
            return BatchResult(write, Outcome.FAILED, 0, write.id, error)
        if part.status < 300:
            entity_id = odata.id_from_entity_url(part.headers.get("OData-EntityId")) or write.id
            outcome = {
                WriteKind.CREATE: Outcome.CREATED,
                WriteKind.UPDATE: Outcome.UPDATED,
                WriteKind.UPSERT: Outcome.UPSERTED,
                WriteKind.DELETE: Outcome.DELETED,
            }[write.kind]
            return BatchResult(write, outcome, part.status, entity_id)
        error = classify_status(part.status, part.headers, part.text)
        error.message = self.http.redact(error.message)
        if write.kind is WriteKind.CREATE and part.status == 412:
            # If-None-Match: * met an existing row with our own new id: an earlier attempt of
            # this very create succeeded.
            return BatchResult(write, Outcome.ALREADY_EXISTS, part.status, write.id)
        if write.kind is WriteKind.DELETE and isinstance(error, NotFoundError) and not write.etag:
            return BatchResult(write, Outcome.ALREADY_DELETED, part.status, write.id)
        return BatchResult(write, Outcome.FAILED, part.status, write.id, error)

    def _body(self, info: TableInfo, values: Mapping[str, object]) -> str:
        payload: dict[str, object] = {}
        exact: dict[str, str] = {}
        for name, value in values.items():
            odata.column(name)
            if name == info.primary_id:
                continue  # the key is in the URL; repeating it in the body is not allowed
            if isinstance(value, LookupValue) or (value is None and self._is_lookup(info, name)):
                payload.update(self._binds(info, name, value))
                continue
            payload[name] = _json_value(name, value, exact)
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
        for token, number in exact.items():
            text = text.replace(f'"{token}"', number)
        return text

    def _is_lookup(self, info: TableInfo, name: str) -> bool:
        if any(column == name for column, _ in STANDARD_BINDS.get(info.logical_name, {})):
            return True
        return name in self._lookup_targets(info)

    def _binds(self, info: TableInfo, name: str, value: LookupValue | None) -> dict[str, object]:
        """`<navigation>@odata.bind` entries that set (or clear) the lookup column `name`."""
        binds = self._bind_names(info, name)
        if value is None:
            # Clearing: null every navigation property of the column (a customer lookup has one
            # per target table; the current target is unknown here).
            navigations = sorted(set(binds.values()))
            if not navigations:
                raise RecordError(f"{name} is not a lookup", vendor=VENDOR, field=name)
            return {f"{navigation}@odata.bind": None for navigation in navigations}
        target = value.table
        if target is None:
            targets = sorted(binds)
            if len(targets) != 1:
                raise RecordError(
                    f"{name} may point at {', '.join(targets) or 'several tables'}: "
                    "the lookup value must name its table",
                    vendor=VENDOR,
                    field=name,
                )
            target = targets[0]
        navigation = binds.get(target)
        if navigation is None:
            raise RecordError(
                f"{info.logical_name}.{name} cannot point at {target}", vendor=VENDOR, field=name
            )
        entity_set = self.table(target).entity_set
        # Relative to the service root (no leading slash), the form the $batch docs use.
        return {f"{navigation}@odata.bind": odata.record_path(entity_set, value.id)}

    def _bind_names(self, info: TableInfo, name: str) -> dict[str, str]:
        """Target table -> navigation property, for one lookup column."""
        with self._lock:
            schema = self._schemas.get(info.logical_name)
        if schema is None:
            standard = STANDARD_BINDS.get(info.logical_name, {})
            found = {target: nav for (column, target), nav in standard.items() if column == name}
            if found:
                return found
            schema = self.schema(info.logical_name)
        return {
            target: nav for (column, target), nav in schema.bind_names.items() if column == name
        }

    # -- plumbing ------------------------------------------------------------------------
    def _plan(self, table: str | TableInfo, columns: Sequence[str]) -> _Plan:
        info = self.table(table)
        wanted = list(dict.fromkeys(columns))
        for name in wanted:
            odata.column(name)
        plain = {info.primary_id, "modifiedon", "createdon"}
        lookups: Mapping[str, tuple[str, ...]] = {}
        if any(name not in plain and not _LOOKUP_PROPERTY.match(name) for name in wanted):
            lookups = self._lookup_targets(info)
        select = [f"_{name}_value" if name in lookups else name for name in wanted]
        for required in (info.primary_id, "modifiedon"):
            if required not in select:
                select.append(required)
        has_lookups = any(_LOOKUP_PROPERTY.match(name) for name in select)
        return _Plan(info=info, select=tuple(select), lookups=lookups, has_lookups=has_lookups)

    def _row(self, plan: _Plan, item: Mapping) -> Row:
        values: dict[str, object] = {}
        for key, value in item.items():
            if "@" in key:
                continue
            if not (key.startswith("_") and key.endswith("_value")):
                values[key] = value
                continue
            name = key[1:-6]
            if value is None:
                values[name] = None
                continue
            target = item.get(key + _LOOKUP_TABLE_SUFFIX)
            if target is None:
                targets = plan.lookups.get(name, ())
                target = targets[0] if len(targets) == 1 else None
            values[name] = LookupValue(table=target, id=str(value))
        row_id = item.get(plan.info.primary_id)
        if not row_id:
            raise FatalError(
                f"a {plan.info.logical_name} row came without {plan.info.primary_id}",
                vendor=VENDOR,
            )
        modified = item.get("modifiedon")
        return Row(
            table=plan.info.logical_name,
            id=canonical_guid(row_id),
            values=MappingProxyType(values),
            etag=item.get("@odata.etag"),
            modified_on=dt.datetime.fromisoformat(modified.replace("Z", "+00:00"))
            if isinstance(modified, str)
            else None,
        )

    def _pages(self, url: str, prefer: Sequence[str], max_pages: int) -> Iterator[Mapping]:
        """Each page of a collection, following @odata.nextLink as the server wrote it."""
        previous = None
        for _ in range(max_pages):
            payload = self._get_json(url, prefer)
            if not isinstance(payload.get("value"), list):
                raise self._not_an_api("a collection answer without a value list")
            yield payload
            next_link = payload.get("@odata.nextLink")
            if not next_link:
                return
            if next_link in (url, previous):
                raise FatalError("Dataverse sent the same next page link twice", vendor=VENDOR)
            previous, url = url, str(next_link)
        raise FatalError(f"more than {max_pages} pages: stopped", vendor=VENDOR)

    def _get_json(self, path_or_url: str, prefer: Sequence[str] = ()) -> dict:
        # If-None-Match: null keeps a cache from answering with stale expanded collections
        # (compose-http-requests-handle-errors: "HTTP headers").
        headers = {"If-None-Match": "null"}
        if prefer:
            headers["Prefer"] = ",".join(prefer)
        return self._json(self.http.request("GET", path_or_url, headers=headers))

    def _get_batch(self, paths: Sequence[str]) -> list[dict]:
        """GET several resources in one `$batch` request; every one must succeed."""
        operations = [BatchOperation("GET", API_PATH + path) for path in paths]
        answers = self._send_batch(operations, prefer=None, idempotent=True)
        if len(answers) != len(operations):
            raise self._not_an_api("the $batch answer has the wrong number of parts")
        payloads = []
        for part in answers:
            if part.status >= 300:
                error = classify_status(part.status, part.headers, part.text)
                error.message = self.http.redact(error.message)
                raise error
            try:
                payload = json.loads(part.text)
            except ValueError:
                raise self._not_an_api("a $batch part is not JSON") from None
            if not isinstance(payload, dict):
                raise self._not_an_api("a $batch part is not a JSON object")
            payloads.append(payload)
        return payloads

    def _send_batch(
        self, operations: Sequence[BatchOperation], *, prefer: str | None, idempotent: bool
    ) -> list[PartResponse]:
        boundary = new_boundary()
        headers = {"Content-Type": content_type(boundary), "If-None-Match": "null"}
        if prefer:
            headers["Prefer"] = prefer
        response = self.http.request(
            "POST",
            "$batch",
            data=build_batch(operations, boundary),
            headers=headers,
            idempotent=idempotent,
        )
        if response.status_code >= 300:
            raise self._redirected(response)
        try:
            return parse_batch_response(response.headers.get("Content-Type", ""), response.content)
        except BatchFormatError as exc:
            raise self._not_an_api(f"the $batch answer is not multipart ({exc})") from None

    def _json(self, response: requests.Response) -> dict:
        if response.status_code >= 300:
            raise self._redirected(response)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            payload = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise self._not_an_api(f"answered with {kind}, not JSON") from None
        if not isinstance(payload, dict):
            raise self._not_an_api("answered with JSON that is not an object")
        return payload

    def _redirected(self, response: requests.Response) -> ConnectorError:
        where = urlsplit(response.headers.get("Location", "")).hostname or "elsewhere"
        return self._not_an_api(f"redirected (HTTP {response.status_code}) to {where}")

    def _not_an_api(self, message: str) -> ConfigurationError:
        return ConfigurationError(message, vendor=VENDOR, reason=ConfigReason.NOT_AN_API)


class _Plan:
    """How one table's columns are read: the `$select` list and the lookup targets."""

    __slots__ = ("has_lookups", "info", "lookups", "select")

    def __init__(self, *, info, select, lookups, has_lookups) -> None:
        self.info: TableInfo = info
        self.select: tuple[str, ...] = select
        self.lookups: Mapping[str, tuple[str, ...]] = lookups
        self.has_lookups: bool = has_lookups


@contextmanager
def _table_must_exist(logical_name: str) -> Iterator[None]:
    """A table missing from the environment is a setting to fix, not a missing record."""
    try:
        yield
    except NotFoundError as exc:
        raise ConfigurationError(
            f"the environment has no table {logical_name!r} ({exc.message})",
            vendor=VENDOR,
            reason=ConfigReason.OTHER,
            status=exc.status,
            code=exc.code,
        ) from None


def _items(payload: Mapping) -> list[Mapping]:
    value = payload.get("value")
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _is_deletion(item: Mapping, info: TableInfo) -> bool:
    context = str(item.get("@odata.context") or "")
    if context.endswith("/$deletedEntity"):
        return True
    return "id" in item and "reason" in item and info.primary_id not in item


def _later(current: dt.datetime | None, candidate: dt.datetime | None) -> dt.datetime | None:
    if candidate is None:
        return current
    if current is None or candidate > current:
        return candidate
    return current


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, int(value)))


def _max_page_size(page_size: int) -> str:
    return f"odata.maxpagesize={_clamp(page_size, 1, MAX_PAGE_SIZE)}"


def _json_value(name: str, value: object, exact: dict[str, str]) -> object:
    """A Python value as Dataverse reads it in a JSON body."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{name}: NaN and infinity cannot be stored")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name}: NaN and infinity cannot be stored")
        # json cannot write a Decimal; a float could round a large money amount. A unique
        # placeholder is replaced by the exact digits after serializing.
        token = f"__decimal_{uuid.uuid4().hex}__"
        exact[token] = format(value, "f")
        return token
    if isinstance(value, dt.datetime):
        return odata.format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()  # DateOnly columns take YYYY-MM-DD
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple | list | set | frozenset):
        # A multi-select choice is written as the string "1,3".
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError(f"{name}: a multi-select choice takes integers")
        if not value:
            # No option selected: clear the column with null, the documented way to clear a
            # value; the docs never show an empty string for a choices column
            # (https://learn.microsoft.com/power-apps/developer/data-platform/multi-select-picklist).
            return None
        return ",".join(str(v) for v in sorted(value))
    raise TypeError(f"{name}: cannot write a {type(value).__name__}")
