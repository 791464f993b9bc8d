"""Reading rows: query options → SQL, keyset paging with Dataverse-style skiptokens, $expand,
formatted-value/lookup annotations, $count, and change tracking (delta links).

Facts: §3 and §4 of README.md (S2 page-results, S5 select-columns, S6 count-rows,
S7 join-tables, S9 change tracking).
"""

# ruff: noqa: S608 - SQL is composed from table/column names of the metadata model (custom
# names are validated against CUSTOM_NAME); every value goes in as a parameter.

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from .errors import DataverseError, bad_request, property_not_found, segment_not_found
from .model import Caller, Model
from .odata import (
    ASSOCIATED_NAV,
    FORMATTED,
    LOOKUP_LOGICAL,
    AnnotationFilter,
    ExpandItem,
    OrderItem,
    SqlFilter,
    fold,
    parse_expand,
    parse_filter,
    parse_orderby,
    parse_select,
)
from .schema import Column, Relationship, Table
from .storage import Store

MAX_PAGE = 5000
DELTA_FORMAT = "%m/%d/%Y %H:%M:%S"


@dataclass
class ExpandPlan:
    nav: str
    rels: list[Relationship]
    collection: bool
    table: Table
    columns: list[Column]
    select_names: list[str] | None
    expands: list[ExpandPlan] = field(default_factory=list)
    filter_sql: str = ""
    filter_params: list = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None


@dataclass
class Plan:
    table: Table
    columns: list[Column]  # output columns, primary key excluded
    select_names: list[str] | None
    filter_sql: str
    filter_params: list
    order: list[tuple[Column, bool]]  # (column, desc), ends with the primary key
    expands: list[ExpandPlan]
    top: int | None
    count: bool


class Reader:
    def __init__(self, model: Model, store: Store) -> None:
        self.model = model
        self.store = store
        self.currency_symbol = "$"
        self._plans: dict[tuple, Plan] = {}

    # -- planning ----------------------------------------------------------------------------
    def _columns(self, table: Table, names: list[str] | None) -> list[Column]:
        props = table.properties()
        if names is None or names == ["*"]:
            return [c for c in props.values() if c.logical != table.pk and c.read]
        columns = []
        for name in names:
            if name == "*":
                return [c for c in props.values() if c.logical != table.pk and c.read]
            column = props.get(name)
            if column is None:
                raise property_not_found(name, table.logical)
            if column.logical != table.pk and column not in columns:
                columns.append(column)
        return columns

    def _filter(
        self, table: Table, text: str | None, caller: Caller | None, aliases: dict
    ) -> tuple[str, list]:
        if not text:
            return "", []
        node = parse_filter(text, aliases)
        compiler = SqlFilter(
            table,
            navs=self.model.filter_nav,
            collections=self.model.filter_collection,
            user_id=caller.user_id if caller else None,
        )
        return compiler.compile(node)

    def _order(self, table: Table, items: list[OrderItem]) -> list[tuple[Column, bool]]:
        props = table.properties()
        order: list[tuple[Column, bool]] = []
        for item in items:
            if len(item.path) != 1:
                raise bad_request(
                    "Ordering by properties of related tables is not supported; use $expand and "
                    "order client-side."
                )
            column = props.get(item.path[0])
            if column is None:
                raise property_not_found(item.path[0], table.logical)
            order.append((column, item.desc))
        if not any(c.logical == table.pk for c, _ in order):
            # A unique last key makes paging deterministic (S32).
            order.append((table.columns[table.pk], False))
        return order

    def _expand(
        self, table: Table, items: list[ExpandItem], caller: Caller | None, depth: int = 0
    ) -> list[ExpandPlan]:
        if len(items) > 15:
            raise bad_request(
                "Number of link entities in query exceeded maximum limit.", "0x8004430d"
            )
        plans = []
        for item in items:
            rels = self.model.nav(table, item.nav)
            collection = False
            if rels is None:
                rel = self.model.collection(table, item.nav)
                if rel is None:
                    raise property_not_found(item.nav, table.logical)
                rels = [rel]
                collection = True
                target = self.model.tables[rel.referencing_entity]
            else:
                target = self.model.tables[rels[0].referenced_entity]
            options = item.options
            unknown = set(options) - {"$select", "$expand", "$filter", "$orderby", "$top"}
            if unknown:
                raise bad_request(
                    f"The query option '{sorted(unknown)[0]}' is not supported inside $expand."
                )
            select_names = parse_select(options.get("$select"))
            if len(rels) > 1:
                # ownerid's type is the abstract `principal` (systemuser or team) whose only
                # property is its key, ownerid; each row says its type in @odata.type.
                for name in select_names or []:
                    if name != "ownerid":
                        raise property_not_found(name, "principal")
                columns = []
            else:
                columns = self._columns(target, select_names)
            plan = ExpandPlan(item.nav, rels, collection, target, columns, select_names)
            if options.get("$expand"):
                nested = parse_expand(options["$expand"])
                if collection and (options.get("$orderby") or options.get("$top")):
                    pass
                plan.expands = self._expand(target, nested, caller, depth + 1)
            if collection:
                plan.filter_sql, plan.filter_params = self._filter(
                    target, options.get("$filter"), caller, {}
                )
                plan.order = [
                    (c.logical, d)
                    for c, d in self._order(target, parse_orderby(options.get("$orderby"), {}))
                ]
                if options.get("$top"):
                    plan.top = _int_option("$top", options["$top"])
            elif any(k in options for k in ("$filter", "$orderby", "$top")):
                raise bad_request(
                    "The $filter, $orderby and $top options are only valid on collection-valued "
                    "navigation properties."
                )
            plans.append(plan)
        return plans

    def plan(self, table: Table, args, caller: Caller | None) -> Plan:
        """The query options as a Plan; cached, since clients repeat the same queries."""
        options = tuple(
            sorted(
                (k, v) for k, v in args.items(multi=True) if k not in ("$skiptoken", "$deltatoken")
            )
        )
        # Query functions read the clock or the caller (LastXDays, EqualUserId): not cached.
        cacheable = "Microsoft.Dynamics.CRM." not in (args.get("$filter") or "")
        key = (table.logical, len(table.columns), options)
        if cacheable:
            plan = self._plans.get(key)
            if plan is not None:
                return plan
        plan = self._plan(table, args, caller)
        if cacheable:
            if len(self._plans) > 512:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _plan(self, table: Table, args, caller: Caller | None) -> Plan:
        aliases = {k: v for k, v in args.items() if k.startswith("@")}
        select_names = parse_select(args.get("$select"))
        columns = self._columns(table, select_names)
        filter_sql, filter_params = self._filter(table, args.get("$filter"), caller, aliases)
        order = self._order(table, parse_orderby(args.get("$orderby"), aliases))
        expands = self._expand(table, parse_expand(args.get("$expand")), caller)
        top = _int_option("$top", args["$top"]) if args.get("$top") else None
        count = args.get("$count", "false").lower() == "true"
        return Plan(
            table, columns, select_names, filter_sql, filter_params, order, expands, top, count
        )

    # -- context URLs --------------------------------------------------------------------------
    @staticmethod
    def _select_context(select_names: list[str] | None, expands: list[ExpandPlan]) -> str:
        parts = list(select_names or [])
        for e in expands:
            inner = Reader._select_context(e.select_names, e.expands)
            parts.append(f"{e.nav}({inner[1:-1] if inner else ''})")
        return f"({','.join(parts)})" if parts else ""

    def context(self, base: str, plan: Plan, *, entity: bool = False, delta: bool = False) -> str:
        selection = self._select_context(plan.select_names, plan.expands)
        ctx = f"{base}/$metadata#{plan.table.entity_set}{selection}"
        if entity:
            ctx += "/$entity"
        if delta:
            ctx += "/$delta"
        return ctx

    # -- SQL ---------------------------------------------------------------------------------
    def _sql_columns(
        self, table: Table, columns: list[Column], expands: list[ExpandPlan], order
    ) -> list[str]:
        names = {table.pk, "versionnumber"}
        for c in columns:
            names.add(c.logical)
            if c.polymorphic:
                names.add(f"{c.logical}__type")
        for e in expands:
            if not e.collection:
                col = table.columns[e.rels[0].referencing_attribute]
                names.add(col.logical)
                if col.polymorphic:
                    names.add(f"{col.logical}__type")
        for c, _ in order:
            names.add(c.logical)
        return sorted(names)

    @staticmethod
    def _order_expr(column: Column) -> str:
        return f'dv_fold(t0."{column.logical}")' if column.is_string else f't0."{column.logical}"'

    def _keyset(self, order: list[tuple[Column, bool]], values: list) -> tuple[str, list]:
        exprs = [(self._order_expr(c), d, c) for c, d in order]
        vals = [fold(v) if c.is_string else v for (c, _), v in zip(order, values, strict=True)]
        if all(not d for _, d, _ in exprs) and all(v is not None for v in vals):
            # Row values let SQLite walk the (key, pk) index: linear paging on big tables.
            lhs = ", ".join(e for e, _, _ in exprs)
            marks = ", ".join("?" for _ in vals)
            return f"(({lhs}) > ({marks}))", vals
        clauses: list[str] = []
        params: list = []
        for i, (expr, desc, _) in enumerate(exprs):
            parts: list[str] = []
            p: list = []
            for j in range(i):
                e, _, _ = exprs[j]
                if vals[j] is None:
                    parts.append(f"{e} IS NULL")
                else:
                    parts.append(f"{e} = ?")
                    p.append(vals[j])
            v = vals[i]
            if not desc:
                if v is None:
                    parts.append(f"{expr} IS NOT NULL")
                else:
                    parts.append(f"{expr} > ?")
                    p.append(v)
            else:
                if v is None:
                    continue  # NULLs sort last descending: nothing follows on this key
                parts.append(f"({expr} < ? OR {expr} IS NULL)")
                p.append(v)
            clauses.append("(" + " AND ".join(parts) + ")")
            params.extend(p)
        return ("(" + " OR ".join(clauses) + ")" if clauses else "(0)"), params

    def fetch_page(
        self,
        plan: Plan,
        *,
        after: list | None,
        limit: int,
        extra_where: str = "",
        extra_params: list | None = None,
    ) -> list[dict]:
        table = plan.table
        cols = ", ".join(
            f't0."{n}"' for n in self._sql_columns(table, plan.columns, plan.expands, plan.order)
        )
        where = []
        params: list = []
        if plan.filter_sql:
            where.append(plan.filter_sql)
            params += plan.filter_params
        if extra_where:
            where.append(extra_where)
            params += extra_params or []
        if after is not None:
            sql, p = self._keyset(plan.order, after)
            where.append(sql)
            params += p
        order_sql = ", ".join(
            f"{self._order_expr(c)} {'DESC' if d else 'ASC'}" for c, d in plan.order
        )
        sql = f'SELECT {cols} FROM "{table.sql_table}" t0'
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order_sql} LIMIT {int(limit)}"
        return [dict(r) for r in self.store.query(sql, params)]

    def count(self, plan: Plan) -> int:
        sql = f'SELECT COUNT(*) FROM (SELECT 1 FROM "{plan.table.sql_table}" t0'
        if plan.filter_sql:
            sql += " WHERE " + plan.filter_sql
        sql += f" LIMIT {MAX_PAGE + 1})"
        return int(self.store.query_one(sql, plan.filter_params)[0])

    # -- serialization -----------------------------------------------------------------------
    def lookup_names(
        self, items: list[tuple[Table, list[dict], list[Column]]]
    ) -> dict[tuple[str, str], str | None]:
        wanted: dict[str, set[str]] = {}
        for _table, rows, columns in items:
            for column in columns:
                if not column.is_lookup:
                    continue
                for row in rows:
                    value = row.get(column.logical)
                    if value is None:
                        continue
                    target = (
                        row.get(f"{column.logical}__type")
                        if column.polymorphic
                        else column.targets[0]
                    )
                    if target in self.model.tables:
                        wanted.setdefault(target, set()).add(value)
        names: dict[tuple[str, str], str | None] = {}
        for target, ids in wanted.items():
            t = self.model.tables[target]
            id_list = list(ids)
            for i in range(0, len(id_list), 500):
                chunk = id_list[i : i + 500]
                marks = ",".join("?" for _ in chunk)
                rows = self.store.query(
                    f'SELECT "{t.pk}", "{t.primary_name}" FROM "{t.sql_table}" '
                    f'WHERE "{t.pk}" IN ({marks})',
                    chunk,
                )
                for r in rows:
                    names[(target, r[0])] = r[1]
        return names

    def serialize(
        self,
        table: Table,
        row: dict,
        columns: list[Column],
        annotations: AnnotationFilter | None,
        names: dict | None,
        *,
        pk_last: bool = True,
    ) -> dict:
        out: dict = {"@odata.etag": f'W/"{row["versionnumber"]}"'}
        if not pk_last:
            out[table.pk] = row[table.pk]
        for column in columns:
            value = row.get(column.logical)
            prop = column.prop
            if annotations is not None and value is not None:
                if column.is_lookup:
                    target = (
                        row.get(f"{column.logical}__type")
                        if column.polymorphic
                        else column.targets[0]
                    )
                    if annotations.wants(FORMATTED) and names is not None:
                        label = names.get((target, value))
                        if label is not None:
                            out[f"{prop}@{FORMATTED}"] = label
                    if annotations.wants(ASSOCIATED_NAV):
                        out[f"{prop}@{ASSOCIATED_NAV}"] = self.model.nav_for_target(
                            table, column, target
                        )
                    if annotations.wants(LOOKUP_LOGICAL):
                        out[f"{prop}@{LOOKUP_LOGICAL}"] = target
                elif annotations.wants(FORMATTED):
                    label = self.formatted(column, value)
                    if label is not None:
                        out[f"{prop}@{FORMATTED}"] = label
            out[prop] = to_json(column, value)
        if pk_last:
            out[table.pk] = row[table.pk]
        return out

    def formatted(self, column: Column, value) -> str | None:
        kind = column.kind
        if kind in ("Picklist", "State", "Status"):
            option = column.option(int(value))
            return option.label if option else None
        if kind == "MultiSelectPicklist":
            labels = []
            for part in str(value).split(","):
                option = column.option(int(part)) if part.strip().lstrip("-").isdigit() else None
                labels.append(option.label if option else part)
            return "; ".join(labels)
        if kind == "Boolean":
            return column.true_label if value else column.false_label
        if kind == "Money":
            amount = float(value)
            sign = "-" if amount < 0 else ""
            return f"{sign}{self.currency_symbol}{abs(amount):,.2f}"
        if kind in ("Integer", "BigInt"):
            return f"{int(value):,}"
        if kind in ("Decimal", "Double"):
            return f"{float(value):,.2f}"
        if kind == "DateTime":
            text = str(value)
            if column.behavior == "DateOnly" or len(text) == 10:
                day = dt.date.fromisoformat(text[:10])
                return f"{day.month}/{day.day}/{day.year}"
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            hour = moment.hour % 12 or 12
            suffix = "AM" if moment.hour < 12 else "PM"
            return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {suffix}"
        return None

    def render(
        self,
        table: Table,
        rows: list[dict],
        columns: list[Column],
        expands: list[ExpandPlan],
        annotations: AnnotationFilter | None,
    ) -> list[dict]:
        names = self.lookup_names([(table, rows, columns)]) if annotations is not None else None
        out = [self.serialize(table, r, columns, annotations, names) for r in rows]
        for plan in expands:
            self._attach(table, rows, out, plan, annotations)
        return out

    def _attach(
        self, table: Table, rows: list[dict], out: list[dict], plan: ExpandPlan, annotations
    ) -> None:
        target = plan.table
        if not plan.collection:
            column = table.columns[plan.rels[0].referencing_attribute]
            by_target: dict[str, set[str]] = {}
            for r in rows:
                value = r.get(column.logical)
                if value is None:
                    continue
                kind = r.get(f"{column.logical}__type") if column.polymorphic else column.targets[0]
                by_target.setdefault(kind, set()).add(value)
            related: dict[tuple[str, str], dict] = {}
            for rel in plan.rels:
                t = self.model.tables[rel.referenced_entity]
                ids = list(by_target.get(t.logical, ()))
                if not ids:
                    continue
                cols = plan.columns if len(plan.rels) == 1 else [t.columns[t.pk]]
                fetched = self._fetch_ids(t, ids, cols, plan.expands)
                rendered = self.render(
                    t, fetched, [c for c in cols if c.logical != t.pk], plan.expands, annotations
                )
                for raw, obj in zip(fetched, rendered, strict=True):
                    if len(plan.rels) > 1:
                        obj = {
                            "@odata.type": f"#Microsoft.Dynamics.CRM.{t.logical}",
                            "@odata.etag": obj["@odata.etag"],
                            "ownerid": raw[t.pk],
                        }
                    related[(t.logical, raw[t.pk])] = obj
            for r, o in zip(rows, out, strict=True):
                value = r.get(column.logical)
                kind = r.get(f"{column.logical}__type") if column.polymorphic else column.targets[0]
                o[plan.nav] = related.get((kind, value)) if value is not None else None
            return
        rel = plan.rels[0]
        lookup = target.columns[rel.referencing_attribute]
        parent_ids = [r[table.pk] for r in rows]
        children: dict[str, list[dict]] = {pid: [] for pid in parent_ids}
        for i in range(0, len(parent_ids), 500):
            chunk = parent_ids[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            names = {target.pk, "versionnumber", lookup.logical, *(c.logical for c in plan.columns)}
            for c in plan.columns:
                if c.polymorphic:
                    names.add(f"{c.logical}__type")
            for e in plan.expands:
                if not e.collection:
                    col = target.columns[e.rels[0].referencing_attribute]
                    names.add(col.logical)
                    if col.polymorphic:
                        names.add(f"{col.logical}__type")
            where = [f't0."{lookup.logical}" IN ({marks})']
            params: list = list(chunk)
            if lookup.polymorphic:
                where.append(f't0."{lookup.logical}__type" = ?')
                params.append(table.logical)
            if plan.filter_sql:
                where.append(plan.filter_sql)
                params += plan.filter_params
            order = ", ".join(f't0."{c}" {"DESC" if d else "ASC"}' for c, d in plan.order)
            sql = (
                f"SELECT {_quoted(sorted(names), 't0.')} "
                f'FROM "{target.sql_table}" t0 WHERE {" AND ".join(where)} ORDER BY {order}'
            )
            for r in self.store.query(sql, params):
                bucket = children[r[lookup.logical]]
                if plan.top is None or len(bucket) < plan.top:
                    bucket.append(dict(r))
        for r, o in zip(rows, out, strict=True):
            kids = children[r[table.pk]]
            o[plan.nav] = self.render(target, kids, plan.columns, plan.expands, annotations)

    def _fetch_ids(
        self, table: Table, ids: list[str], columns: list[Column], expands: list[ExpandPlan]
    ) -> list[dict]:
        names = self._sql_columns(table, columns, expands, [])
        rows: list[dict] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            rows += [
                dict(r)
                for r in self.store.query(
                    f'SELECT {_quoted(names)} FROM "{table.sql_table}" '
                    f'WHERE "{table.pk}" IN ({marks})',
                    chunk,
                )
            ]
        return rows

    def fetch_one(self, plan: Plan, record_id: str) -> dict | None:
        rows = self._fetch_ids(plan.table, [record_id], plan.columns, plan.expands)
        return rows[0] if rows else None

    # -- paging cookies ----------------------------------------------------------------------
    @staticmethod
    def skiptoken(
        page: int,
        order: list[tuple[Column, bool]],
        first: dict,
        last: dict,
        extra: dict[str, str] | None = None,
        tracking: bool = False,
    ) -> str:
        """A cookie shaped like Dataverse's (S2): the outer <cookie> names the next page,
        pagingcookie (URL-encoded inside it) holds the order keys of the first and last row
        served; the next page starts after `last`."""
        elements = []
        for column, _ in order:
            lv = last.get(column.logical)
            fv = first.get(column.logical)
            attrs = []
            attrs.append('lastnull="1"' if lv is None else f'last="{_cookie_value(column, lv)}"')
            attrs.append('firstnull="1"' if fv is None else f'first="{_cookie_value(column, fv)}"')
            elements.append(f"<{column.logical} {' '.join(attrs)} />")
        extras = "".join(f' {k}="{v}"' for k, v in (extra or {}).items())
        inner = f'<cookie page="{page - 1}"{extras}>{"".join(elements)}</cookie>'
        return (
            f'<cookie pagenumber="{page}" pagingcookie="{quote(inner, safe="")}" '
            f'istracking="{"True" if tracking else "False"}" />'
        )

    @staticmethod
    def parse_skiptoken(
        token: str, order: list[tuple[Column, bool]]
    ) -> tuple[int, list, dict[str, str]]:
        outer = re.fullmatch(
            r'\s*<cookie pagenumber="(\d+)" pagingcookie="([^"]*)"'
            r'(?: istracking="(True|False)")?\s*/>\s*',
            token,
        )
        if not outer:
            raise _bad_cookie()
        page = int(outer.group(1))
        inner = unquote(outer.group(2))
        head = re.match(r'<cookie page="(\d+)"((?: \w+="[^"]*")*)>', inner)
        if not head:
            raise _bad_cookie()
        extra = dict(re.findall(r'(\w+)="([^"]*)"', head.group(2)))
        values = []
        for column, _ in order:
            m = re.search(rf"<{re.escape(column.logical)} ([^>]*)/>", inner)
            if not m:
                raise _bad_cookie()
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if attrs.get("lastnull") == "1":
                values.append(None)
            elif "last" in attrs:
                values.append(_cookie_parse(column, attrs["last"]))
            else:
                raise _bad_cookie()
        return page, values, extra


def _quoted(names, prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{n}"' for n in names)


def _bad_cookie() -> DataverseError:
    return bad_request("Invalid paging cookie.", "0x8004112A")


def _cookie_value(column: Column, value) -> str:
    if column.kind == "Uniqueidentifier" or column.is_lookup:
        return "{" + str(value).upper() + "}"
    text = str(value)
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _cookie_parse(column: Column, text: str):
    text = (
        text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    if column.kind == "Uniqueidentifier" or column.is_lookup:
        return text.strip("{}").lower()
    try:
        if column.sql_type == "INTEGER":
            return int(text)
        if column.sql_type == "REAL":
            return float(text)
    except ValueError:
        raise _bad_cookie() from None
    return text


def to_json(column: Column, value):
    if value is None:
        return None
    kind = column.kind
    if kind == "Boolean":
        return bool(value)
    if kind in ("Money", "Decimal", "Double"):
        return float(value)
    if kind in ("Integer", "BigInt", "Picklist", "State", "Status"):
        return int(value)
    return value


def _int_option(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise bad_request(
            f"Invalid value '{value}' for {name} query option found. The {name} query option "
            "requires a non-negative integer value."
        ) from None
    if number < 0:
        raise bad_request(
            f"Invalid value '{value}' for {name} query option found. The {name} query option "
            "requires a non-negative integer value."
        )
    return number


def delta_token(version: int, when: dt.datetime) -> str:
    return f"{version}!{when.astimezone(dt.UTC).strftime(DELTA_FORMAT)}"


def parse_delta_token(token: str) -> tuple[int, dt.datetime]:
    version, _, stamp = token.partition("!")
    try:
        return int(version), dt.datetime.strptime(stamp, DELTA_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise bad_request("The delta token is not valid.") from None


__all__ = ["MAX_PAGE", "Plan", "Reader", "segment_not_found"]
