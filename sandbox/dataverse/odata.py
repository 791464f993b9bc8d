"""OData URL conventions as Dataverse implements them: query options, the Prefer header and
the $filter language (parser, SQL compiler, and a small evaluator for metadata queries).

Facts: §3 of README.md (S3-S7), OData 4.0 URL conventions
(https://docs.oasis-open.org/odata/odata/v4.0/errata03/os/complete/part2-url-conventions/odata-v4.0-errata03-os-part2-url-conventions-complete.html)
and Dataverse query functions
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/queryfunctions).
"""

# ruff: noqa: S608 - SQL is composed from table/column names of the metadata model (custom
# names are validated against CUSTOM_NAME); every value goes in as a parameter.

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from .errors import DataverseError, bad_request, property_not_found
from .schema import Column, Table

# -- Prefer --------------------------------------------------------------------------------


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on sep outside parentheses, brackets and quotes."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


@dataclass
class Preferences:
    """The Prefer header (RFC 7240): several preferences, comma separated, maybe repeated."""

    values: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, headers: list[str]) -> Preferences:
        values: dict[str, str | None] = {}
        for header in headers:
            for item in split_top(header):
                token = item.split(";", 1)[0].strip()
                name, _, value = token.partition("=")
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                values[name.strip().lower()] = value if _ else None
        return cls(values)

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def annotations(self) -> AnnotationFilter | None:
        value = self.values.get("odata.include-annotations")
        return AnnotationFilter(value) if value else None


class AnnotationFilter:
    """Which instance annotations odata.include-annotations asks for ("*", lists, prefixes*)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.include: list[str] = []
        self.exclude: list[str] = []
        self._answers: dict[str, bool] = {}
        for part in spec.split(","):
            part = part.strip()
            if part.startswith("-"):
                self.exclude.append(part[1:])
            elif part:
                self.include.append(part)

    @staticmethod
    def _match(pattern: str, name: str) -> bool:
        if pattern == "*":
            return True
        if pattern.endswith("*"):
            return name.startswith(pattern[:-1])
        return name == pattern

    def wants(self, name: str) -> bool:
        known = self._answers.get(name)
        if known is None:
            known = not any(self._match(p, name) for p in self.exclude) and any(
                self._match(p, name) for p in self.include
            )
            self._answers[name] = known
        return known


FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL = "Microsoft.Dynamics.CRM.lookuplogicalname"
ASSOCIATED_NAV = "Microsoft.Dynamics.CRM.associatednavigationproperty"
TOTAL_COUNT = "Microsoft.Dynamics.CRM.totalrecordcount"
TOTAL_COUNT_EXCEEDED = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"


# -- $select / $orderby / $expand ----------------------------------------------------------


def parse_select(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise bad_request("The $select query option cannot be empty.")
    return names


@dataclass(frozen=True)
class OrderItem:
    path: tuple[str, ...]
    desc: bool


def parse_orderby(value: str | None, aliases: dict[str, str]) -> list[OrderItem]:
    if not value:
        return []
    items = []
    for part in split_top(value):
        tokens = part.split()
        if not tokens or len(tokens) > 2:
            raise bad_request(f"Syntax error at position 0 in '{value}'.")
        name = tokens[0]
        if name.startswith("@"):
            name = aliases.get(name, name)
        direction = tokens[1].lower() if len(tokens) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise bad_request(f"Syntax error at position {len(tokens[0]) + 1} in '{part}'.")
        items.append(OrderItem(tuple(name.split("/")), direction == "desc"))
    return items


@dataclass
class ExpandItem:
    nav: str
    options: dict[str, str]


def parse_expand(value: str | None) -> list[ExpandItem]:
    if not value:
        return []
    items = []
    for part in split_top(value):
        match = re.fullmatch(r"([A-Za-z_][\w]*)\s*(?:\((.*)\))?", part, re.S)
        if not match:
            raise bad_request(f"Syntax error at position 0 in '{part}'.")
        options: dict[str, str] = {}
        if match.group(2):
            for opt in split_top(match.group(2), ";"):
                name, eq, val = opt.partition("=")
                if not eq:
                    raise bad_request(f"Syntax error in $expand option '{opt}'.")
                options[name.strip()] = val.strip()
        items.append(ExpandItem(match.group(1), options))
    return items


# -- $filter: lexer and parser ----------------------------------------------------------------

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<jstring>"(?:[^"\\]|\\.)*")
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![\w]))
  | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
  | (?P<ident>[A-Za-z_$][\w.]*)
  | (?P<alias>@[A-Za-z_]\w*)
  | (?P<punct>[(),/\[\]=:])
    """,
    re.X,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Lit:
    value: object
    edm: str  # Edm.* type of the literal, "null", or "Enum"


@dataclass(frozen=True)
class Prop:
    path: tuple[str, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple = ()
    named: tuple = ()  # ((name, value), ...) for Microsoft.Dynamics.CRM.* query functions


@dataclass(frozen=True)
class ListLit:
    items: tuple


@dataclass(frozen=True)
class Lambda:
    path: tuple[str, ...]
    kind: str  # any / all
    var: str | None
    body: object | None


COMPARISONS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}


def _unknown_function(name: str) -> DataverseError:
    # The OData library's message for functions the service doesn't define.
    return bad_request(
        f"An unknown function with name '{name}' was found. This may also be a function import "
        "or a key lookup on a navigation property, which is not allowed."
    )


def _syntax_error(text: str, pos: int) -> DataverseError:
    return bad_request(f"Syntax error at position {pos} in '{text}'.")


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise bad_request(
                f"Syntax error: character '{text[pos]}' is not valid at position {pos} in '{text}'."
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def _parse_datetime(text: str) -> dt.datetime:
    # OData allows 7 fraction digits; Python takes at most 6.
    value = re.sub(r"\.(\d{6})\d+", r".\1", text.replace("Z", "+00:00"))
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def literal_from_token(token: Token, text: str) -> Lit:
    kind, raw = token.kind, token.text
    if kind == "string":
        return Lit(raw[1:-1].replace("''", "'"), "Edm.String")
    if kind == "guid":
        return Lit(raw.lower(), "Edm.Guid")
    if kind == "datetime":
        try:
            return Lit(_parse_datetime(raw), "Edm.DateTimeOffset")
        except ValueError:
            raise _syntax_error(text, token.pos) from None
    if kind == "date":
        try:
            return Lit(dt.date.fromisoformat(raw), "Edm.Date")
        except ValueError:
            raise _syntax_error(text, token.pos) from None
    if kind == "number":
        body = raw.rstrip("mMdDfFlL")
        suffix = raw[len(body) :].lower()
        if suffix == "m":
            return Lit(float(body), "Edm.Decimal")
        if suffix in ("d", "f") or "e" in body.lower():
            return Lit(float(body), "Edm.Double")
        if "." in body:
            return Lit(float(body), "Edm.Decimal")
        number = int(body)
        return Lit(
            number, "Edm.Int32" if -(2**31) <= number < 2**31 and suffix != "l" else "Edm.Int64"
        )
    if kind == "enum":
        _type_name, _, value = raw.partition("'")
        return Lit(value[:-1].replace("''", "'"), "Enum")
    raise _syntax_error(text, token.pos)


class FilterParser:
    """Recursive descent over the OData boolean expression grammar (or < and < not < cmp)."""

    def __init__(self, text: str, aliases: dict[str, str] | None = None) -> None:
        self.text = text
        self.aliases = aliases or {}
        self.tokens = tokenize(text)
        self.i = 0

    def parse(self):
        if not self.tokens:
            raise bad_request("The $filter query option cannot be empty.")
        node = self._or()
        if self.i != len(self.tokens):
            raise _syntax_error(self.text, self.tokens[self.i].pos)
        return node

    # helpers
    def _peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def _next(self) -> Token:
        token = self._peek()
        if token is None:
            raise _syntax_error(self.text, len(self.text))
        self.i += 1
        return token

    def _expect(self, text: str) -> Token:
        token = self._next()
        if token.text != text:
            raise _syntax_error(self.text, token.pos)
        return token

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "ident" and token.text == word

    # grammar
    def _or(self):
        node = self._and()
        while self._is_word("or"):
            self.i += 1
            node = Binary("or", node, self._and())
        return node

    def _and(self):
        node = self._not()
        while self._is_word("and"):
            self.i += 1
            node = Binary("and", node, self._not())
        return node

    def _not(self):
        if self._is_word("not"):
            self.i += 1
            return Not(self._not())
        return self._comparison()

    def _comparison(self):
        left = self._primary()
        token = self._peek()
        if token is not None and token.kind == "ident" and token.text in COMPARISONS:
            self.i += 1
            right = self._primary()
            return Binary(token.text, left, right)
        return left

    def _primary(self):
        token = self._next()
        if token.text == "(":
            node = self._or()
            self._expect(")")
            return node
        if token.text == "[":
            items = []
            if self._peek() and self._peek().text != "]":
                items.append(self._array_item())
                while self._peek() and self._peek().text == ",":
                    self.i += 1
                    items.append(self._array_item())
            self._expect("]")
            return ListLit(tuple(items))
        if token.kind == "alias":
            if token.text not in self.aliases:
                return Lit(None, "null")  # an unassigned alias is null (S3)
            return FilterParser(self.aliases[token.text]).parse()
        if token.kind == "ident":
            if token.text == "null":
                return Lit(None, "null")
            if token.text in ("true", "false"):
                return Lit(token.text == "true", "Edm.Boolean")
            nxt = self._peek()
            if nxt is not None and nxt.text == "(":
                return self._call(token)
            return self._path(token)
        return literal_from_token(token, self.text)

    def _array_item(self):
        """One value of a collection literal: OData's own literals, or a JSON string.

        Collection parameters such as PropertyValues of Microsoft.Dynamics.CRM.In are JSON
        arrays (OData 4.0 ABNF `arrayOrObject`); Microsoft documents double-quoted values, and
        requires them for values that contain an apostrophe: PropertyValues=["O'Brian"]
        (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows#manage-single-quotes).
        Single-quoted values are accepted as well, as the service does.
        """
        token = self._peek()
        if token is not None and token.kind == "jstring":
            self.i += 1
            try:
                return Lit(json.loads(token.text), "Edm.String")
            except ValueError:
                raise _syntax_error(self.text, token.pos) from None
        return self._primary()

    def _call(self, name: Token):
        self._expect("(")
        args: list = []
        named: list = []
        if self._peek() and self._peek().text != ")":
            while True:
                tok = self._peek()
                after = self._peek(1)
                if tok and tok.kind == "ident" and after is not None and after.text == "=":
                    self.i += 2
                    named.append((tok.text, self._primary()))
                else:
                    args.append(self._or())
                if self._peek() and self._peek().text == ",":
                    self.i += 1
                    continue
                break
        self._expect(")")
        return Call(name.text, tuple(args), tuple(named))

    def _path(self, first: Token):
        path = [first.text]
        while self._peek() is not None and self._peek().text == "/":
            self.i += 1
            segment = self._next()
            if segment.kind != "ident":
                raise _syntax_error(self.text, segment.pos)
            if segment.text in ("any", "all") and self._peek() and self._peek().text == "(":
                self.i += 1
                if self._peek() and self._peek().text == ")":
                    self.i += 1
                    return Lambda(tuple(path), segment.text, None, None)
                var = self._next()
                self._expect(":")
                body = self._or()
                self._expect(")")
                return Lambda(tuple(path), segment.text, var.text, body)
            path.append(segment.text)
        return Prop(tuple(path))


def parse_filter(text: str, aliases: dict[str, str] | None = None):
    return FilterParser(text, aliases).parse()


# -- compile to SQL ---------------------------------------------------------------------------


def fold(value: object) -> object:
    """Dataverse's default collation compares text case- and accent-insensitively
    (Latin1_General_CI_AI) [L]; this is the key both sides of a text comparison go through."""
    if not isinstance(value, str):
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=512)
def _like_regex(pattern: str) -> re.Pattern[str]:
    """SQL Server LIKE semantics: % any run, _ one character, [abc] / [^abc] classes (S4)."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("^")
                if negate:
                    body = body[1:]
                # `[[]` is SQL's way to match a literal `[`; Python wants it escaped in a set.
                body = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append("[" + ("^" if negate else "") + body + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.S)


def sql_like(value: object, pattern: object) -> int | None:
    if value is None or pattern is None:
        return None
    return 1 if _like_regex(str(fold(pattern))).fullmatch(str(fold(value))) else 0


def sql_contains_value(stored: object, wanted: object) -> int:
    if stored is None:
        return 0
    return 1 if str(wanted) in str(stored).split(",") else 0


SQL_FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "dv_fold": (1, fold),
    "dv_like": (2, sql_like),
    "dv_has_value": (2, sql_contains_value),
}


def iso_z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Typed:
    sql: str
    params: list
    edm: str
    column: Column | None = None
    null: bool = False


def _incompatible(op: str, left: str, right: str) -> DataverseError:
    return bad_request(
        "A binary operator with incompatible types was detected. Found operand types "
        f"'{left}' and '{right}' for operator kind '{COMPARISONS.get(op, op)}'."
    )


NUMERIC = {"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double"}


def coerce_literal(lit: Lit, edm: str, op: str, prop_edm_for_error: str) -> object:
    """The SQL parameter for a literal compared with a property of type edm."""
    if lit.edm == "null":
        return None
    if edm == "Edm.String":
        if lit.edm == "Edm.String":
            return lit.value
    elif edm == "Edm.Guid":
        if lit.edm == "Edm.Guid":
            return lit.value
        # The docs show lookup GUIDs both unquoted and quoted (§3.2): accept both.
        if lit.edm == "Edm.String" and GUID_RE.match(str(lit.value)):
            return str(lit.value).lower()
    elif edm in NUMERIC:
        if lit.edm in NUMERIC:
            return lit.value
    elif edm == "Edm.Boolean":
        if lit.edm == "Edm.Boolean":
            return 1 if lit.value else 0
    elif edm == "Edm.DateTimeOffset":
        if lit.edm == "Edm.DateTimeOffset":
            return iso_z(lit.value)
        if lit.edm == "Edm.Date":
            return f"{lit.value.isoformat()}T00:00:00Z"
    elif edm == "Edm.Date":
        if lit.edm == "Edm.Date":
            return lit.value.isoformat()
        if lit.edm == "Edm.DateTimeOffset":
            return lit.value.date().isoformat()
    raise _incompatible(op, prop_edm_for_error, lit.edm)


class SqlFilter:
    """Compiles a parsed $filter against one table to a SQL WHERE fragment with parameters.

    `navs(table, name)` resolves a single-valued navigation property to (column, target table);
    `collections(table, name)` a collection-valued one to (referencing table, lookup column).
    """

    def __init__(
        self,
        table: Table,
        *,
        navs: Callable[[Table, str], tuple[Column, Table] | None],
        collections: Callable[[Table, str], tuple[Table, Column] | None],
        user_id: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        self.table = table
        self.navs = navs
        self.collections = collections
        self.user_id = user_id
        self.now = now or dt.datetime.now(dt.UTC)
        self._alias_counter = 0

    def _alias(self) -> str:
        self._alias_counter += 1
        return f"t{self._alias_counter}"

    def compile(self, node, alias: str = "t0") -> tuple[str, list]:
        scope = {"$it": (self.table, alias)}
        typed = self._bool(node, scope, self.table, alias)
        return typed.sql, typed.params

    # boolean expressions
    def _bool(self, node, scope, table: Table, alias: str) -> Typed:
        if isinstance(node, Binary) and node.op in ("and", "or"):
            left = self._bool(node.left, scope, table, alias)
            right = self._bool(node.right, scope, table, alias)
            return Typed(
                f"({left.sql} {node.op.upper()} {right.sql})",
                left.params + right.params,
                "Edm.Boolean",
            )
        if isinstance(node, Not):
            inner = self._bool(node.operand, scope, table, alias)
            return Typed(f"(NOT COALESCE({inner.sql}, 0))", inner.params, "Edm.Boolean")
        if isinstance(node, Binary):
            return self._comparison(node, scope, table, alias)
        if isinstance(node, Call):
            return self._call(node, scope, table, alias)
        if isinstance(node, Lambda):
            return self._lambda(node, scope, table, alias)
        if isinstance(node, Prop):
            value = self._value(node, scope, table, alias)
            if value.edm != "Edm.Boolean":
                raise bad_request("The $filter expression must evaluate to a single boolean value.")
            return Typed(f"({value.sql} = 1)", value.params, "Edm.Boolean")
        if isinstance(node, Lit) and node.edm == "Edm.Boolean":
            return Typed("1" if node.value else "0", [], "Edm.Boolean")
        raise bad_request("The $filter expression must evaluate to a single boolean value.")

    def _comparison(self, node: Binary, scope, table: Table, alias: str) -> Typed:
        op = node.op
        left = node.left
        right = node.right
        if isinstance(left, Lit) and not isinstance(right, Lit):
            left, right = right, left
            op = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op, op)
        lhs = self._value(left, scope, table, alias)
        if isinstance(right, Lit):
            if right.edm == "null":
                if op == "eq":
                    return Typed(f"({lhs.sql} IS NULL)", lhs.params, "Edm.Boolean")
                if op == "ne":
                    return Typed(f"({lhs.sql} IS NOT NULL)", lhs.params, "Edm.Boolean")
                raise _incompatible(op, lhs.edm, "null")
            param = coerce_literal(right, lhs.edm, op, lhs.edm)
            rhs = Typed("?", [param], lhs.edm)
        else:
            rhs = self._value(right, scope, table, alias)
            if lhs.edm != rhs.edm and not (lhs.edm in NUMERIC and rhs.edm in NUMERIC):
                raise _incompatible(op, lhs.edm, rhs.edm)
        sql_op = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
        if lhs.edm == "Edm.String":
            return Typed(
                f"(dv_fold({lhs.sql}) {sql_op} dv_fold({rhs.sql}))",
                lhs.params + rhs.params,
                "Edm.Boolean",
            )
        return Typed(f"({lhs.sql} {sql_op} {rhs.sql})", lhs.params + rhs.params, "Edm.Boolean")

    def _resolve_property(self, name: str, table: Table, alias: str) -> Typed:
        column = table.properties().get(name)
        if column is None:
            raise property_not_found(name, table.logical)
        return Typed(f'{alias}."{column.logical}"', [], column.edm, column)

    def _value(self, node, scope, table: Table, alias: str) -> Typed:
        if isinstance(node, Lit):
            if node.edm == "null":
                return Typed("NULL", [], "null", null=True)
            value = node.value
            if isinstance(value, dt.datetime):
                value = iso_z(value)
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = int(value)
            return Typed("?", [value], node.edm)
        if isinstance(node, Prop):
            path = list(node.path)
            cur_table, cur_alias = table, alias
            if path[0] in scope and len(path) > 1:
                cur_table, cur_alias = scope[path.pop(0)]
            if path[0] == "$it":
                path.pop(0)
            return self._path_value(path, cur_table, cur_alias)
        if isinstance(node, Call) and node.name not in ("contains", "startswith", "endswith"):
            raise _unknown_function(node.name)
        raise bad_request("Unsupported expression in $filter.")

    def _path_value(self, path: list[str], table: Table, alias: str) -> Typed:
        if len(path) == 1:
            return self._resolve_property(path[0], table, alias)
        nav = self.navs(table, path[0])
        if nav is None:
            raise property_not_found(path[0], table.logical)
        column, target = nav
        sub = self._alias()
        inner = self._path_value(path[1:], target, sub)
        condition = f'{sub}."{target.pk}" = {alias}."{column.logical}"'
        if column.polymorphic:
            condition += f" AND {alias}.\"{column.logical}__type\" = '{target.logical}'"
        return Typed(
            f'(SELECT {inner.sql} FROM "{target.sql_table}" {sub} WHERE {condition})',
            inner.params,
            inner.edm,
            inner.column,
        )

    def _lambda(self, node: Lambda, scope, table: Table, alias: str) -> Typed:
        if len(node.path) != 1:
            raise bad_request(
                "Lambda operators are only supported on navigation properties of the queried table."
            )
        found = self.collections(table, node.path[0])
        if found is None:
            raise property_not_found(node.path[0], table.logical)
        child, lookup = found
        sub = self._alias()
        link = f'{sub}."{lookup.logical}" = {alias}."{table.pk}"'
        if lookup.polymorphic:
            link += f" AND {sub}.\"{lookup.logical}__type\" = '{table.logical}'"
        if node.body is None:
            return Typed(
                f'EXISTS (SELECT 1 FROM "{child.sql_table}" {sub} WHERE {link})', [], "Edm.Boolean"
            )
        inner_scope = dict(scope)
        inner_scope[node.var] = (child, sub)
        body = self._bool(node.body, inner_scope, child, sub)
        if node.kind == "any":
            return Typed(
                f'EXISTS (SELECT 1 FROM "{child.sql_table}" {sub} WHERE {link} AND {body.sql})',
                body.params,
                "Edm.Boolean",
            )
        return Typed(
            f'NOT EXISTS (SELECT 1 FROM "{child.sql_table}" {sub} WHERE {link} '
            f"AND NOT COALESCE({body.sql}, 0))",
            body.params,
            "Edm.Boolean",
        )

    # functions
    def _call(self, node: Call, scope, table: Table, alias: str) -> Typed:
        name = node.name
        if name in ("contains", "startswith", "endswith"):
            if len(node.args) != 2 or node.named:
                raise bad_request(f"The function '{name}' requires two arguments.")
            target = self._value(node.args[0], scope, table, alias)
            if target.edm != "Edm.String":
                raise bad_request(
                    f"No function signature for the function with name '{name}' matches the "
                    f"specified arguments. The function signatures considered are: {name}"
                    "(Edm.String Nullable=true, Edm.String Nullable=true)."
                )
            needle = node.args[1]
            if not isinstance(needle, Lit) or needle.edm != "Edm.String":
                raise bad_request(f"The second argument of '{name}' must be a string literal.")
            text = str(needle.value)
            pattern = {
                "contains": f"%{text}%",
                "startswith": f"{text}%",
                "endswith": f"%{text}",
            }[name]
            return Typed(
                f"(dv_like({target.sql}, ?) = 1)", [*target.params, pattern], "Edm.Boolean"
            )
        prefix = "Microsoft.Dynamics.CRM."
        if name.startswith(prefix):
            return self._query_function(name[len(prefix) :], dict(node.named), table, alias)
        raise _unknown_function(name)

    def _query_function(self, name: str, args: dict, table: Table, alias: str) -> Typed:
        prop = args.get("PropertyName")
        if not isinstance(prop, Lit) or prop.edm != "Edm.String":
            raise bad_request(
                f"The function 'Microsoft.Dynamics.CRM.{name}' requires PropertyName."
            )
        column = table.columns.get(str(prop.value))
        if column is None or not column.stored or not column.odata:
            raise property_not_found(str(prop.value), table.logical)
        col = f'{alias}."{column.logical}"'
        edm = column.edm

        def values() -> list:
            raw = args.get("PropertyValues")
            if not isinstance(raw, ListLit):
                raise bad_request(
                    f"The function 'Microsoft.Dynamics.CRM.{name}' requires PropertyValues."
                )
            return [self._function_value(item, column) for item in raw.items]

        def number() -> int:
            raw = args.get("PropertyValue")
            if not isinstance(raw, Lit):
                raise bad_request(
                    f"The function 'Microsoft.Dynamics.CRM.{name}' requires PropertyValue."
                )
            try:
                return int(raw.value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise bad_request(f"PropertyValue of '{name}' must be a whole number.") from None

        now = self.now
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)

        def when(value: dt.datetime) -> str:
            return value.date().isoformat() if edm == "Edm.Date" else iso_z(value)

        def between(start: dt.datetime, end: dt.datetime, *, end_inclusive: bool = False) -> Typed:
            op = "<=" if end_inclusive else "<"
            return Typed(f"({col} >= ? AND {col} {op} ?)", [when(start), when(end)], "Edm.Boolean")

        units = {
            "Hours": dt.timedelta(hours=1),
            "Days": dt.timedelta(days=1),
            "Weeks": dt.timedelta(weeks=1),
            "Months": dt.timedelta(days=30),
            "Years": dt.timedelta(days=365),
            "Minutes": dt.timedelta(minutes=1),
        }
        if name in ("In", "NotIn"):
            vals = values()
            marks = ",".join("?" for _ in vals)
            sql = f"({col} IN ({marks}))" if name == "In" else f"({col} NOT IN ({marks}))"
            return Typed(sql, vals, "Edm.Boolean")
        if name in ("Between", "NotBetween"):
            vals = values()
            if len(vals) != 2:
                raise bad_request(f"'{name}' requires exactly two PropertyValues.")
            sql = f"({col} BETWEEN ? AND ?)"
            return Typed(sql if name == "Between" else f"(NOT {sql})", vals, "Edm.Boolean")
        for unit, delta in units.items():
            if name == f"LastX{unit}":
                start = now - delta * number()
                if unit != "Hours" and unit != "Minutes":
                    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
                return between(start, now, end_inclusive=True)
            if name == f"NextX{unit}":
                return between(now, now + delta * number(), end_inclusive=True)
            if name == f"OlderThanX{unit}":
                return Typed(f"({col} < ?)", [when(now - delta * number())], "Edm.Boolean")
        if name == "Today":
            return between(today, today + dt.timedelta(days=1))
        if name == "Yesterday":
            return between(today - dt.timedelta(days=1), today)
        if name == "Tomorrow":
            return between(today + dt.timedelta(days=1), today + dt.timedelta(days=2))
        if name == "ThisMonth":
            start = today.replace(day=1)
            end = (start + dt.timedelta(days=32)).replace(day=1)
            return between(start, end)
        if name == "ThisYear":
            start = today.replace(month=1, day=1)
            return between(start, start.replace(year=start.year + 1))
        if name in ("On", "OnOrAfter", "OnOrBefore"):
            raw = args.get("PropertyValue")
            value = self._function_value(raw, column)
            day = str(value)[:10]
            start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
            if name == "On":
                return between(start, start + dt.timedelta(days=1))
            if name == "OnOrAfter":
                return Typed(f"({col} >= ?)", [when(start)], "Edm.Boolean")
            return Typed(f"({col} < ?)", [when(start + dt.timedelta(days=1))], "Edm.Boolean")
        if name in ("EqualUserId", "NotEqualUserId"):
            op = "=" if name == "EqualUserId" else "<>"
            return Typed(f"({col} {op} ?)", [self.user_id], "Edm.Boolean")
        if name in ("ContainValues", "DoesNotContainValues"):
            if column.kind != "MultiSelectPicklist":
                raise bad_request(f"'{name}' applies to multi-select choice columns only.")
            vals = [str(v) for v in values()]
            any_sql = " OR ".join("dv_has_value(" + col + ", ?) = 1" for _ in vals) or "0"
            sql = f"({any_sql})" if name == "ContainValues" else f"(NOT ({any_sql}))"
            return Typed(sql, vals, "Edm.Boolean")
        raise _unknown_function(f"Microsoft.Dynamics.CRM.{name}")

    @staticmethod
    def _function_value(item, column: Column) -> object:
        """Query-function values come as strings ('1', '2024-01-01'); convert per column type."""
        if not isinstance(item, Lit):
            raise bad_request("Query function values must be literals.")
        value = item.value
        edm = column.edm
        try:
            if edm in ("Edm.Int32", "Edm.Int64"):
                return int(value)  # type: ignore[arg-type]
            if edm in ("Edm.Decimal", "Edm.Double"):
                return float(value)  # type: ignore[arg-type]
            if edm == "Edm.Guid":
                text = str(value).strip("{}").lower()
                if not GUID_RE.match(text):
                    raise ValueError
                return text
            if edm == "Edm.DateTimeOffset":
                if isinstance(value, dt.datetime):
                    return iso_z(value)
                if isinstance(value, dt.date):
                    return f"{value.isoformat()}T00:00:00Z"
                text = str(value)
                return iso_z(_parse_datetime(text)) if "T" in text else f"{text}T00:00:00Z"
            if edm == "Edm.Date":
                return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
            if edm == "Edm.Boolean":
                return 1 if str(value).lower() in ("true", "1") else 0
        except (TypeError, ValueError):
            raise bad_request(f"The value '{value}' is not valid for '{column.logical}'.") from None
        return value


# -- evaluate against plain dicts (metadata queries) ------------------------------------------


def evaluate(node, obj: dict) -> object:
    """Evaluate a $filter over a JSON-like object (EntityDefinitions, Attributes)."""
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Prop):
        value: object = obj
        for part in node.path:
            if not isinstance(value, dict) or part not in value:
                raise bad_request(f"Could not find a property named '{part}'.")
            value = value[part]
        return value
    if isinstance(node, Not):
        return not evaluate(node.operand, obj)
    if isinstance(node, Binary):
        if node.op == "and":
            return bool(evaluate(node.left, obj)) and bool(evaluate(node.right, obj))
        if node.op == "or":
            return bool(evaluate(node.left, obj)) or bool(evaluate(node.right, obj))
        left = evaluate(node.left, obj)
        right = evaluate(node.right, obj)
        if isinstance(left, str) and isinstance(right, str):
            left, right = fold(left), fold(right)
        if node.op == "eq":
            return left == right
        if node.op == "ne":
            return left != right
        if left is None or right is None:
            return False
        try:
            return {
                "gt": left > right,  # type: ignore[operator]
                "ge": left >= right,  # type: ignore[operator]
                "lt": left < right,  # type: ignore[operator]
                "le": left <= right,  # type: ignore[operator]
            }[node.op]
        except TypeError:
            raise _incompatible(node.op, type(left).__name__, type(right).__name__) from None
    if isinstance(node, Call) and node.name in ("contains", "startswith", "endswith"):
        haystack = evaluate(node.args[0], obj)
        needle = evaluate(node.args[1], obj)
        if not isinstance(haystack, str) or not isinstance(needle, str):
            return False
        haystack, needle = str(fold(haystack)), str(fold(needle))
        return {
            "contains": needle in haystack,
            "startswith": haystack.startswith(needle),
            "endswith": haystack.endswith(needle),
        }[node.name]
    raise bad_request("This $filter expression is not supported on metadata queries.")
