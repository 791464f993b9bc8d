"""The Web API's resources under /api/data/v9.2/: entity sets, single rows, properties,
references, functions and actions. Transport-neutral (a Call in, an Answer out) so that the
same code serves plain requests and the parts of a $batch.
"""

# ruff: noqa: S608 - SQL is composed from table/column names of the metadata model (custom
# names are validated against CUSTOM_NAME); every value goes in as a parameter.

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote

from werkzeug.datastructures import Headers, MultiDict

from .errors import (
    DataverseError,
    bad_key,
    bad_request,
    lookup_value_write,
    no_resource,
    payload_error,
    record_not_found,
    segment_not_found,
    tracking_disabled,
    tracking_option,
)
from .model import Caller, Model
from .odata import GUID_RE, TOTAL_COUNT, TOTAL_COUNT_EXCEEDED, Preferences, split_top
from .query import MAX_PAGE, Plan, Reader, delta_token, parse_delta_token
from .records import Writer
from .schema import Table
from .storage import Store

QUERY_OPTIONS = {
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$expand",
    "$count",
    "$skiptoken",
    "$deltatoken",
}
EXPIRED_VERSION_STAMP = "0x80044352"
UNSUPPORTED_OPTIONS = {"$skip", "$search", "$format"}
JSON_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; "
    "IEEE754Compatible=false; charset=utf-8"
)


@dataclass
class Call:
    method: str
    path: str  # the part after /api/data/v9.2/
    args: MultiDict
    query_string: str
    headers: Headers
    body: bytes
    base: str  # <org url>/api/data/v9.2
    caller: Caller
    content_ids: dict[str, str] | None = None  # a $batch change set's $n references

    @cached_property
    def prefs(self) -> Preferences:
        return Preferences.parse(self.headers.getlist("Prefer"))

    def json(self, entity_set: str = "") -> object:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise payload_error(
                entity_set, f"Microsoft.OData.ODataException: Invalid JSON. {exc.args[0]}"
            ) from None


@dataclass
class Answer:
    status: int
    payload: object | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    content_type: str | None = None


def error_answer(error: DataverseError, prefs: Preferences | None = None) -> Answer:
    payload = error.payload()
    annotations = prefs.annotations() if prefs else None
    if annotations is not None:
        # More error detail on request (S1 "Include more details with errors").
        inner = payload["error"]
        if annotations.wants("Microsoft.PowerApps.CDS.HelpLink"):
            code = (error.code or "0x0").removeprefix("0x")
            inner["@Microsoft.PowerApps.CDS.HelpLink"] = (
                "http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a"
                f"{code}&client=platform"
            )
        if annotations.wants("Microsoft.PowerApps.CDS.InnerError.Message"):
            inner["@Microsoft.PowerApps.CDS.InnerError.Message"] = error.message
    return Answer(error.status, payload, dict(error.headers))


def parse_segments(path: str) -> list[tuple[str, str | None]]:
    """'contacts(<id>)/parentcustomerid_account/$ref' → [(name, key), ...]."""
    segments = []
    for raw in split_top(path.strip("/"), "/") if path.strip("/") else []:
        if raw.endswith(")") and "(" in raw:
            name, _, key = raw.partition("(")
            segments.append((name, key[:-1]))
        else:
            segments.append((raw, None))
    return segments


class WebApi:
    def __init__(self, app) -> None:
        self.app = app
        self.model: Model = app.model
        self.store: Store = app.store
        self.reader: Reader = app.reader
        self.writer: Writer = app.writer

    # -- entry ---------------------------------------------------------------------------------
    def handle(self, call: Call) -> Answer:
        try:
            return self._route(call)
        except DataverseError as error:
            return error_answer(error, call.prefs)

    def _route(self, call: Call) -> Answer:
        segments = parse_segments(call.path)
        if not segments:
            return self._service_document(call)
        name, key = segments[0]
        if name == "$metadata":
            return self.app.metadata.csdl(call)
        if name == "$batch":
            if call.method != "POST":
                raise no_resource(f"{call.base}/$batch")
            return self.app.batch.execute(call)
        if name == "WhoAmI":
            if call.method != "GET" or len(segments) > 1:
                raise no_resource(f"{call.base}/{call.path}")
            return self._who_am_i(call)
        if name in ("EntityDefinitions", "GlobalOptionSetDefinitions", "RelationshipDefinitions"):
            return self.app.metadata.handle(call, segments)
        if name in ("Merge", "WinOpportunity", "LoseOpportunity"):
            if call.method != "POST" or key is not None or len(segments) > 1:
                raise no_resource(f"{call.base}/{call.path}")
            return self.app.actions.unbound(call, name)
        if name == "RetrieveTotalRecordCount":
            if call.method != "GET":
                raise no_resource(f"{call.base}/{call.path}")
            return self.app.actions.total_record_count(call, key)
        table = self.model.table_by_set(name)
        if table is None:
            raise segment_not_found(name)
        if key is None:
            return self._collection(call, table, segments[1:])
        record_id = self._key(table, key)
        return self._entity(call, table, record_id, segments[1:])

    def _key(self, table: Table, key: str) -> str:
        text = key.strip()
        if "=" in text:
            name, _, value = text.partition("=")
            if name.strip() != table.pk:
                raise bad_key(table.logical)
            text = value.strip()
        text = text.strip("'").strip("{}").lower()
        if not GUID_RE.match(text):
            raise bad_request(
                f"Bad Request - Error in query syntax. The key value '{key}' is not a valid Guid."
            )
        return text

    # -- documents -----------------------------------------------------------------------------
    def _service_document(self, call: Call) -> Answer:
        if call.method != "GET":
            raise no_resource(f"{call.base}/")
        sets = sorted(t.entity_set for t in self.model.tables.values())
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}/$metadata",
                "value": [{"name": s, "kind": "EntitySet", "url": s} for s in sets],
            },
        )

    def _who_am_i(self, call: Call) -> Answer:
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": call.caller.business_unit_id,
                "UserId": call.caller.user_id,
                "OrganizationId": self.app.organization_id,
            },
        )

    # -- collections -----------------------------------------------------------------------------
    def _check_options(self, call: Call) -> None:
        for name in call.args:
            if name in UNSUPPORTED_OPTIONS:
                raise bad_request(f"The query parameter {name} is not supported")
            if name == "$apply":
                raise DataverseError(
                    501,
                    "0x0",
                    "The sandbox does not implement $apply (aggregation); use a plain query.",
                )
            if name.startswith("$") and name not in QUERY_OPTIONS:
                raise bad_request(f"The query parameter {name} is not supported")
            if name == "fetchXml":
                raise DataverseError(
                    501,
                    "0x0",
                    "The sandbox does not implement FetchXML queries; use OData query options.",
                )

    def _collection(self, call: Call, table: Table, rest: list) -> Answer:
        if rest:
            name, _key = rest[0]
            if name == "$count" and len(rest) == 1 and call.method == "GET":
                return self._count(call, table)
            if (
                name.startswith("Microsoft.Dynamics.CRM.")
                and call.method == "POST"
                and len(rest) == 1
            ):
                return self.app.actions.collection_bound(call, table, name.split(".")[-1])
            raise segment_not_found(name)
        if call.method == "GET":
            return self.query(call, table)
        if call.method == "POST":
            return self._create(call, table)
        raise DataverseError(
            405,
            "0x80060888",
            f"The requested resource does not support http method '{call.method}'.",
        )

    def _count(self, call: Call, table: Table) -> Answer:
        self._check_options(call)
        if "$deltatoken" in call.args:
            version, _ = self._delta_version(table, call.args["$deltatoken"])
            upserts, deletes = self._delta_counts(table, version)
            return Answer(200, text=str(upserts + deletes), content_type="text/plain")
        plan = self.reader.plan(table, call.args, call.caller)
        return Answer(
            200, text=str(min(self.reader.count(plan), MAX_PAGE)), content_type="text/plain"
        )

    def _links_base(self, call: Call, drop: tuple[str, ...]) -> str:
        kept = [
            p
            for p in call.query_string.split("&")
            if p and not any(p.startswith(d + "=") or p.startswith(quote(d) + "=") for d in drop)
        ]
        return f"{call.base}/{call.path}" + ("?" + "&".join(kept) if kept else "")

    @staticmethod
    def _join(url: str, param: str) -> str:
        return url + ("&" if "?" in url else "?") + param

    def query(
        self, call: Call, table: Table, *, extra_where: str = "", extra_params: list | None = None
    ) -> Answer:
        self._check_options(call)
        args = call.args
        prefs = call.prefs
        if "$deltatoken" in args:
            return self._delta(call, table)
        tracking = prefs.has("odata.track-changes") and not extra_where
        if tracking:
            if not table.change_tracking:
                raise tracking_disabled(table.logical)
            for option in ("$filter", "$orderby", "$expand", "$top"):
                if option in args:
                    raise tracking_option(option)
        plan = self.reader.plan(table, args, call.caller)
        applied: list[str] = []
        page_size = MAX_PAGE
        max_page = prefs.get("odata.maxpagesize")
        if max_page is not None:
            try:
                page_size = max(1, min(int(max_page), MAX_PAGE))
            except ValueError:
                raise bad_request(
                    f"The value '{max_page}' of odata.maxpagesize is not valid."
                ) from None
            applied.append(f"odata.maxpagesize={page_size}")
        annotations = prefs.annotations()
        if annotations is not None:
            applied.append(f'odata.include-annotations="{annotations.spec}"')
        if tracking:
            applied.append("odata.track-changes")
        after = None
        page = 1
        extra: dict[str, str] = {}
        if "$skiptoken" in args:
            page, after, extra = self.reader.parse_skiptoken(args["$skiptoken"], plan.order)
        # $top is ignored when odata.maxpagesize is sent (S2).
        remaining = None
        if plan.top is not None and max_page is None:
            remaining = int(extra.get("top", plan.top))
        limit = page_size if remaining is None else min(page_size, remaining)
        if tracking:
            # The delta chain starts at the version read before the first page: a change made
            # while a long initial load pages shows up again in the first delta (a duplicate
            # to skip) rather than being lost (the gap I5 reports for the real service).
            base_version = int(extra["v"]) if "v" in extra else self.store.current_version()
        rows = (
            self.reader.fetch_page(
                plan,
                after=after,
                limit=limit + 1,
                extra_where=extra_where,
                extra_params=extra_params,
            )
            if limit > 0
            else []
        )
        more = len(rows) > limit
        rows = rows[:limit]
        if remaining is not None and remaining - len(rows) <= 0:
            more = False
        payload: dict = {"@odata.context": self.reader.context(call.base, plan)}
        if plan.count:
            total = self.reader.count(plan) if not extra_where else len(rows)
            payload["@odata.count"] = min(total, MAX_PAGE)
            if annotations is not None and annotations.wants(TOTAL_COUNT):
                payload[f"@{TOTAL_COUNT}"] = min(total, MAX_PAGE)
            if annotations is not None and annotations.wants(TOTAL_COUNT_EXCEEDED):
                payload[f"@{TOTAL_COUNT_EXCEEDED}"] = total > MAX_PAGE
        elif annotations is not None and annotations.wants(TOTAL_COUNT):
            payload[f"@{TOTAL_COUNT}"] = -1
            if annotations.wants(TOTAL_COUNT_EXCEEDED):
                payload[f"@{TOTAL_COUNT_EXCEEDED}"] = False
        payload["value"] = self.reader.render(table, rows, plan.columns, plan.expands, annotations)
        if more and rows:
            next_extra: dict[str, str] = {}
            if remaining is not None:
                next_extra["top"] = str(remaining - len(rows))
            if tracking:
                next_extra["v"] = str(base_version)
            token = self.reader.skiptoken(
                page + 1, plan.order, rows[0], rows[-1], next_extra, tracking
            )
            link = self._join(
                self._links_base(call, ("$skiptoken",)), "$skiptoken=" + quote(token, safe="=")
            )
            payload["@odata.nextLink"] = link
        elif tracking:
            payload["@odata.deltaLink"] = self._delta_link(call, table, plan, base_version)
        headers = {"Preference-Applied": ",".join(applied)} if applied else {}
        return Answer(200, payload, headers)

    # -- change tracking -------------------------------------------------------------------------
    def _delta_link(self, call: Call, table: Table, plan: Plan, version: int) -> str:
        url = f"{call.base}/{table.entity_set}"
        if plan.select_names:
            url += "?$select=" + ",".join(plan.select_names)
        token = delta_token(version, dt.datetime.now(dt.UTC))
        return self._join(url, "$deltatoken=" + quote(token, safe=""))

    def _delta_version(self, table: Table, token: str) -> tuple[int, dt.datetime]:
        if not table.change_tracking:
            raise tracking_disabled(table.logical)
        version, issued = parse_delta_token(token)
        days = self.app.expire_change_tracking_days
        if dt.datetime.now(dt.UTC) - issued > dt.timedelta(days=days):
            # ExpiredVersionStamp, 0x80044352: Microsoft's docs name this code for an expired
            # version stamp (https://learn.microsoft.com/power-apps/developer/data-platform/
            # cache-schema-data#manage-expired-cache), its Web API samples test
            # `Error.Code == "0x80044352"`, and its entity-change samples catch the same code
            # (-2147204270) with this very message. [M]: not stated for delta links as such.
            raise DataverseError(
                400,
                EXPIRED_VERSION_STAMP,
                "Version stamp associated with the client has expired. Please perform a full sync.",
            )
        return version, issued

    def _delta_counts(self, table: Table, version: int) -> tuple[int, int]:
        upserts = self.store.query_one(
            f'SELECT COUNT(*) FROM "{table.sql_table}" WHERE versionnumber > ?', (version,)
        )[0]
        deletes = self.store.query_one(
            "SELECT COUNT(DISTINCT c.id) FROM dv_changelog c WHERE c.entity = ? "
            "AND c.op = 'delete' AND c.version > ? AND NOT EXISTS "
            f'(SELECT 1 FROM "{table.sql_table}" t WHERE t."{table.pk}" = c.id)',
            (table.logical, version),
        )[0]
        return int(upserts), int(deletes)

    def _delta(self, call: Call, table: Table) -> Answer:
        """GET a deltaLink: rows changed since the token, then deletions, then a new link (S9)."""
        args = call.args
        for option in ("$filter", "$orderby", "$expand", "$top"):
            if option in args:
                raise tracking_option(option)
        version, _ = self._delta_version(table, args["$deltatoken"])
        plan = self.reader.plan(
            table,
            MultiDict([(k, v) for k, v in args.items(multi=True) if k == "$select"]),
            call.caller,
        )
        prefs = call.prefs
        page_size = MAX_PAGE
        applied = []
        if prefs.get("odata.maxpagesize"):
            try:
                page_size = max(1, min(int(prefs.get("odata.maxpagesize") or MAX_PAGE), MAX_PAGE))
            except ValueError:
                raise bad_request("The value of odata.maxpagesize is not valid.") from None
            applied.append(f"odata.maxpagesize={page_size}")
        annotations = prefs.annotations()
        if annotations is not None:
            applied.append(f'odata.include-annotations="{annotations.spec}"')
        phase, last, upto = "u", version, None
        if "$skiptoken" in args:
            extra = self._delta_cookie(args["$skiptoken"])
            phase, last, upto = extra["phase"], int(extra["last"]), int(extra["upto"])
        if upto is None:
            upto = self.store.current_version()
        table_cols = self.reader._sql_columns(table, plan.columns, [], [])
        values: list[dict] = []
        rows: list[dict] = []
        more = False
        if phase == "u":
            cols = ", ".join(f't0."{n}"' for n in table_cols)
            rows = [
                dict(r)
                for r in self.store.query(
                    f'SELECT {cols} FROM "{table.sql_table}" t0 WHERE t0.versionnumber > ? '
                    "AND t0.versionnumber <= ? ORDER BY t0.versionnumber LIMIT ?",
                    (last, upto, page_size + 1),
                )
            ]
            more = len(rows) > page_size
            rows = rows[:page_size]
            values = self.reader.render(table, rows, plan.columns, [], annotations)
            if more:
                last = rows[-1]["versionnumber"]
            else:
                phase, last = "d", version
        if phase == "d" and len(values) < page_size:
            room = page_size - len(values)
            deleted = self.store.query(
                "SELECT c.id, MAX(c.version) AS v FROM dv_changelog c WHERE c.entity = ? "
                "AND c.op = 'delete' "
                "AND c.version > ? AND c.version <= ? "
                f'AND NOT EXISTS (SELECT 1 FROM "{table.sql_table}" t WHERE t."{table.pk}" = c.id) '
                "GROUP BY c.id ORDER BY v LIMIT ?",
                (table.logical, last, upto, room + 1),
            )
            more = len(deleted) > room
            deleted = deleted[:room]
            for r in deleted:
                values.append(
                    {
                        "@odata.context": (
                            f"{call.base}/$metadata#{table.entity_set}/$deletedEntity"
                        ),
                        "id": r[0],
                        "reason": "deleted",
                    }
                )
            if more:
                last = deleted[-1][1]
        payload: dict = {"@odata.context": self.reader.context(call.base, plan, delta=True)}
        if more:
            position = quote(f"phase={phase};last={last};upto={upto};v={version}", safe="")
            cookie = f'<cookie pagenumber="2" pagingcookie="{position}" istracking="True" />'
            link = self._join(
                self._links_base(call, ("$skiptoken",)), "$skiptoken=" + quote(cookie, safe="=")
            )
            payload["@odata.nextLink"] = link
        else:
            payload["@odata.deltaLink"] = self._delta_link(call, table, plan, upto)
        payload["value"] = values
        headers = {"Preference-Applied": ",".join(applied)} if applied else {}
        return Answer(200, payload, headers)

    @staticmethod
    def _delta_cookie(token: str) -> dict[str, str]:
        import re
        from urllib.parse import unquote

        match = re.fullmatch(
            r'\s*<cookie pagenumber="\d+" pagingcookie="([^"]*)" istracking="True"\s*/>\s*', token
        )
        if not match:
            raise bad_request("Invalid paging cookie.", "0x8004112A")
        parts = dict(p.split("=", 1) for p in unquote(match.group(1)).split(";") if "=" in p)
        if not {"phase", "last", "upto"} <= parts.keys():
            raise bad_request("Invalid paging cookie.", "0x8004112A")
        return parts

    # -- single rows -------------------------------------------------------------------------------
    def _entity(self, call: Call, table: Table, record_id: str, rest: list) -> Answer:
        if rest:
            return self._entity_path(call, table, record_id, rest)
        method = call.method
        if method == "GET":
            return self.get(call, table, record_id)
        if method == "PATCH":
            return self._patch(call, table, record_id)
        if method == "DELETE":
            self.writer.delete(table, record_id, call.caller, if_match=call.headers.get("If-Match"))
            return Answer(204)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{method}'."
        )

    def get(self, call: Call, table: Table, record_id: str, *, status: int = 200) -> Answer:
        self._check_options(call)
        for option in ("$filter", "$orderby", "$top", "$skiptoken"):
            if option in call.args:
                raise bad_request(
                    f"The query parameter {option} is not supported on a single record."
                )
        plan = self.reader.plan(table, call.args, call.caller)
        row = self.reader.fetch_one(plan, record_id)
        if row is None:
            raise record_not_found(table.logical, record_id)
        prefs = call.prefs
        annotations = prefs.annotations()
        etag = f'W/"{row["versionnumber"]}"'
        inm = call.headers.get("If-None-Match")
        # Conditional GET: never with $expand or annotations (S12).
        unchanged = inm and inm not in ("null", "*") and etag in [t.strip() for t in inm.split(",")]
        if unchanged and not plan.expands and annotations is None:
            return Answer(304, headers={"ETag": etag})
        body = self.reader.render(table, [row], plan.columns, plan.expands, annotations)[0]
        payload = {"@odata.context": self.reader.context(call.base, plan, entity=True), **body}
        headers = {"ETag": etag}
        if annotations is not None:
            headers["Preference-Applied"] = f'odata.include-annotations="{annotations.spec}"'
        return Answer(status, payload, headers)

    def _entity_id(self, call: Call, table: Table, record_id: str) -> str:
        return f"{call.base}/{table.entity_set}({record_id})"

    def _create(self, call: Call, table: Table) -> Answer:
        body = call.json(table.entity_set)
        record_id = self.writer.create(
            table,
            body,
            call.caller,
            duplicate_detection=self._duplicate_detection(call),
            content_ids=call.content_ids,
        )
        return self._written(call, table, record_id, created=True)

    def _written(self, call: Call, table: Table, record_id: str, *, created: bool) -> Answer:
        prefs = call.prefs
        if prefs.get("return") == "representation":
            answer = self.get(call, table, record_id, status=201 if created else 200)
            applied = (
                [answer.headers.get("Preference-Applied")]
                if answer.headers.get("Preference-Applied")
                else []
            )
            answer.headers["Preference-Applied"] = ",".join(["return=representation", *applied])
            return answer
        entity_id = self._entity_id(call, table, record_id)
        return Answer(204, headers={"OData-EntityId": entity_id, "Location": entity_id})

    @staticmethod
    def _duplicate_detection(call: Call) -> bool:
        return (
            call.headers.get("MSCRM.SuppressDuplicateDetection") or ""
        ).strip().lower() == "false"

    def _patch(self, call: Call, table: Table, record_id: str) -> Answer:
        body = call.json(table.entity_set)
        if_none_match = call.headers.get("If-None-Match")
        if if_none_match == "null":
            if_none_match = None
        created, record_id = self.writer.upsert(
            table,
            record_id,
            body,
            call.caller,
            if_match=call.headers.get("If-Match"),
            if_none_match=if_none_match,
            duplicate_detection=self._duplicate_detection(call),
            content_ids=call.content_ids,
        )
        return self._written(call, table, record_id, created=created)

    def _entity_path(self, call: Call, table: Table, record_id: str, rest: list) -> Answer:
        name, key = rest[0]
        if name.startswith("Microsoft.Dynamics.CRM."):
            if call.method != "POST" or len(rest) > 1:
                raise no_resource(f"{call.base}/{call.path}")
            return self.app.actions.entity_bound(call, table, record_id, name.split(".")[-1])
        rels = self.model.nav(table, name)
        collection = self.model.collection(table, name)
        if len(rest) >= 2 and rest[-1][0] == "$ref":
            return self._reference(call, table, record_id, name, key, rels, collection)
        if rels is not None and key is None:
            if len(rest) > 1:
                raise segment_not_found(rest[1][0])
            return self._single_nav(call, table, record_id, rels)
        if collection is not None:
            if len(rest) > 1:
                raise segment_not_found(rest[1][0])
            return self._collection_nav(call, table, record_id, collection, key)
        column = table.properties().get(name)
        if column is None:
            raise segment_not_found(name)
        return self._property(call, table, record_id, column, rest[1:])

    def _row(self, table: Table, record_id: str) -> dict:
        row = self.store.get(table, record_id)
        if row is None:
            raise record_not_found(table.logical, record_id)
        return row

    def _single_nav(self, call: Call, table: Table, record_id: str, rels) -> Answer:
        if call.method != "GET":
            raise DataverseError(
                405,
                "0x80060888",
                "Use the $ref segment to change a single-valued navigation property.",
            )
        row = self._row(table, record_id)
        column = table.columns[rels[0].referencing_attribute]
        target_id = row.get(column.logical)
        target_name = (
            row.get(f"{column.logical}__type") if column.polymorphic else column.targets[0]
        )
        if target_id is None or target_name not in {r.referenced_entity for r in rels}:
            return Answer(204)
        return self.get(call, self.model.tables[target_name], target_id)

    def _collection_nav(self, call: Call, table: Table, record_id: str, rel, key) -> Answer:
        self._row(table, record_id)
        child = self.model.tables[rel.referencing_entity]
        lookup = child.columns[rel.referencing_attribute]
        if key is not None:
            return self.get(call, child, self._key(child, key))
        if call.method != "GET":
            raise DataverseError(
                405,
                "0x80060888",
                f"The requested resource does not support http method '{call.method}'.",
            )
        where = f't0."{lookup.logical}" = ?'
        params: list = [record_id]
        if lookup.polymorphic:
            where += f' AND t0."{lookup.logical}__type" = ?'
            params.append(table.logical)
        answer = self.query(call, child, extra_where=where, extra_params=params)
        if answer.payload and "@odata.context" in answer.payload:
            answer.payload["@odata.context"] = answer.payload["@odata.context"].replace(
                f"#{child.entity_set}", f"#{child.entity_set}", 1
            )
        return answer

    def _property(self, call: Call, table: Table, record_id: str, column, rest: list) -> Answer:
        raw = bool(rest) and rest[0][0] == "$value"
        if rest and not raw:
            raise segment_not_found(rest[0][0])
        method = call.method
        if method == "GET":
            row = self._row(table, record_id)
            value = row.get(column.logical)
            if value is None:
                return Answer(204)
            from .query import to_json

            if raw:
                return Answer(200, text=str(to_json(column, value)), content_type="text/plain")
            return Answer(
                200,
                {
                    "@odata.context": (
                        f"{call.base}/$metadata#{table.entity_set}({record_id})/{column.prop}"
                    ),
                    "value": to_json(column, value),
                },
            )
        if column.is_lookup:
            raise lookup_value_write()
        if method == "PUT":
            body = call.json(table.entity_set)
            if not isinstance(body, dict) or "value" not in body:
                raise payload_error(
                    table.entity_set,
                    "Microsoft.OData.ODataException: A 'value' property is required.",
                )
            self.writer.update(
                table,
                record_id,
                {column.logical: body["value"]},
                call.caller,
                if_match=call.headers.get("If-Match"),
            )
            return Answer(204)
        if method == "DELETE":
            self.writer.update(
                table,
                record_id,
                {column.logical: None},
                call.caller,
                if_match=call.headers.get("If-Match"),
            )
            return Answer(204)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{method}'."
        )

    def _reference(
        self, call: Call, table: Table, record_id: str, name: str, key, rels, collection
    ) -> Answer:
        """$ref on navigation properties (S16): associate and disassociate."""
        method = call.method
        if rels is not None:
            column = table.columns[rels[0].referencing_attribute]
            if method == "PUT":
                body = call.json(table.entity_set)
                target = body.get("@odata.id") if isinstance(body, dict) else None
                if not isinstance(target, str):
                    raise payload_error(
                        table.entity_set, "Microsoft.OData.ODataException: '@odata.id' is required."
                    )
                self.writer.update(
                    table,
                    record_id,
                    {f"{name}@odata.bind": target},
                    call.caller,
                    content_ids=call.content_ids,
                )
                return Answer(204)
            if method == "DELETE":
                self.writer.update(table, record_id, {f"{name}@odata.bind": None}, call.caller)
                return Answer(204)
            if method == "GET":
                row = self._row(table, record_id)
                target_id = row.get(column.logical)
                if target_id is None:
                    return Answer(204)
                target = (
                    row.get(f"{column.logical}__type") if column.polymorphic else column.targets[0]
                )
                target_table = self.model.tables[target]
                return Answer(
                    200,
                    {
                        "@odata.context": f"{call.base}/$metadata#$ref",
                        "@odata.id": f"{call.base}/{target_table.entity_set}({target_id})",
                    },
                )
            raise DataverseError(
                405,
                "0x80060888",
                f"The requested resource does not support http method '{method}'.",
            )
        if collection is None:
            raise segment_not_found(name)
        child = self.model.tables[collection.referencing_entity]
        self._row(table, record_id)
        if method == "POST":
            body = call.json(table.entity_set)
            target = body.get("@odata.id") if isinstance(body, dict) else None
            if not isinstance(target, str):
                raise payload_error(
                    table.entity_set, "Microsoft.OData.ODataException: '@odata.id' is required."
                )
            child_table, child_id = self.writer.parse_reference(target, call.content_ids)
            if child_table is not child:
                raise bad_request(f"The reference must point to a {child.logical} record.")
            nav = self._nav_to(child, collection)
            self.writer.update(
                child,
                child_id,
                {f"{nav}@odata.bind": f"/{table.entity_set}({record_id})"},
                call.caller,
            )
            return Answer(204)
        if method == "DELETE":
            if key is not None:
                child_id = self._key(child, key)
            else:
                ref = call.args.get("$id")
                if not ref:
                    raise bad_request(
                        "The $id query option is required to remove a collection reference."
                    )
                _, child_id = self.writer.parse_reference(ref)
            row = self.store.get(child, child_id)
            if row is None or row.get(collection.referencing_attribute) != record_id:
                raise record_not_found(child.logical, child_id)
            nav = self._nav_to(child, collection)
            self.writer.update(child, child_id, {f"{nav}@odata.bind": None}, call.caller)
            return Answer(204)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{method}'."
        )

    def _nav_to(self, child: Table, rel) -> str:
        return rel.nav


def new_boundary(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"
