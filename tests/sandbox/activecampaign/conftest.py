"""Fixtures for the ActiveCampaign sandbox conformance tests: the sandbox over real HTTP, a
client that checks every call against the OpenAPI reference, and a webhook receiver.

The § marks in these tests name the topics of the Sources table in sandbox/activecampaign/README.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache

import jsonschema
import pytest
import requests

from sandbox.activecampaign.app import ActiveCampaignSandbox
from sandbox.server import serve
from sandbox.store import Database
from tests.vendor.activecampaign_openapi import openapi

# Where the reference's request schema contradicts its own documented examples and the
# published clients, the examples win (§5.2 of sandbox/activecampaign/README.md): the schema
# types a record's `relationships` as an array and every field `value` as a string, while the
# examples and clients send `{"primary-contact": [14]}` and numbers.
SCHEMA_PATCHES = {
    ("post", "/customObjects/records/{schemaId}"): [
        (("properties", "record", "properties", "relationships"), {"type": "object"}),
        (("properties", "record", "properties", "fields", "items", "properties", "value"), {}),
    ],
    # create-custom-field-options describes one option at the top level; its own example (and
    # §3.1) wrap a list in `fieldOptions`, with `field` as a string.
    ("post", "/fieldOption/bulk"): [
        (
            (),
            {
                "type": "object",
                "required": ["fieldOptions"],
                "properties": {
                    "fieldOptions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "value"],
                            "properties": {
                                "field": {"type": ["string", "integer"]},
                                "label": {"type": "string"},
                                "value": {"type": "string"},
                                "orderid": {"type": "integer"},
                                "isdefault": {"type": ["boolean", "integer"]},
                            },
                        },
                    }
                },
            },
        )
    ],
    # The account schemas type a custom field's value as a string; their own example sends a
    # number (currency in cents) and §4.2 documents arrays for multi-value fields.
    ("post", "/accounts"): [
        (("properties", "account", "properties", "fields", "items", "properties", "fieldValue"), {})
    ],
    ("put", "/accounts/{id}"): [
        (("properties", "account", "properties", "fields", "items", "properties", "fieldValue"), {})
    ],
    # A multiselect meta's default is an array in create-an-account-custom-field-meta's example.
    ("post", "/accountCustomFieldMeta"): [
        (("properties", "accountCustomFieldMetum", "properties", "fieldDefault"), {})
    ],
    # update-an-account-contact requires account and contact, its example sends jobTitle only.
    ("put", "/accountContacts/{id}"): [(("properties", "accountContact", "required"), [])],
    # create-a-message names the sender address `email` (required); its example, the update
    # schema and the message objects call it `fromemail`. The sandbox takes either.
    ("post", "/messages"): [(("properties", "message", "required"), ["fromname", "reply2"])],
    # bulk-import-contacts types listid as a string; its example sends numbers.
    ("post", "/import/bulk_import"): [
        (
            (
                "properties",
                "contacts",
                "items",
                "properties",
                "subscribe",
                "items",
                "properties",
                "listid",
            ),
            {"type": ["string", "integer"]},
        ),
        (
            (
                "properties",
                "contacts",
                "items",
                "properties",
                "unsubscribe",
                "items",
                "properties",
                "listid",
            ),
            {"type": ["string", "integer"]},
        ),
    ],
    # update-a-schema types `relationships` as a single object; create-a-schema and its own
    # example use an array.
    ("put", "/customObjects/schemas/{schemaId}"): [
        (("properties", "schema", "properties", "relationships"), {"type": "array"}),
        (("properties", "schema", "properties", "fields", "items"), {"type": "object"}),
    ],
}
# Documented response examples that the sandbox deliberately does not mirror, with why.
EXAMPLE_EXCEPTIONS = {
    # The create example repeats the list example (fields/fieldOptions/fieldRels/meta, empty
    # type); the update example and clients use {"field": {...}}.
    ("post", "/fields", "201"),
    # The by-id examples repeat the list example (`automations: [...]`).
    ("get", "/automations/{id}", "200"),
    ("get", "/automations/{automationId}", "200"),
}


def _integer(checker, value) -> bool:
    return jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(value, "integer") or (
        isinstance(value, str) and value.isdigit()
    )


def _string(checker, value) -> bool:
    return isinstance(value, str) or (type(value) is int)


def _boolean(checker, value) -> bool:
    return isinstance(value, bool) or (type(value) is int and value in (0, 1))


# §1.2: AC reads ids sent as numbers or numeric strings alike, and flags as true/false or 1/0;
# the reference's own request examples do all of it ("contact": "1" where the schema says
# integer, "list": 2 where it says string, "visible": 1 where it says boolean). The request
# check allows exactly that, nothing looser.
RequestValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _integer, "boolean": _boolean, "string": _string}
    ),
)


@cache
def templates() -> list[tuple[re.Pattern, str]]:
    result = []
    for template in openapi()["paths"]:
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        result.append((re.compile(f"^{pattern}$"), template))
    # Literal segments beat parameters (e.g. /contacts/sync before /contacts/{id}).
    result.sort(key=lambda item: item[1].count("{"))
    return result


def operation(method: str, api_path: str) -> tuple[str, dict] | None:
    for pattern, template in templates():
        if pattern.match(api_path):
            op = openapi()["paths"][template].get(method.lower())
            if op:
                return template, op
    return None


def request_schema(method: str, template: str, op: dict) -> dict | None:
    body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
    schema = body.get("schema")
    if not schema:
        return None
    schema = json.loads(json.dumps(schema))
    for path, replacement in SCHEMA_PATCHES.get((method.lower(), template), []):
        if not path:
            schema = replacement
            continue
        node = schema
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = replacement
    return schema


def documented_examples(method: str, template: str, op: dict, status: int) -> list:
    if (method.lower(), template, str(status)) in EXAMPLE_EXCEPTIONS:
        return []
    response = op.get("responses", {}).get(str(status)) or {}
    result = []
    for content in (response.get("content") or {}).values():
        for example in (content.get("examples") or {}).values():
            value = example.get("value")
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    continue  # a few SPEC examples are not valid JSON; nothing to compare
            if isinstance(value, dict):
                result.append(value)
    return result


# Example keys whose JSON type legitimately varies: custom field values are strings, numbers
# (currency cents) or arrays (multi-value account fields and their defaults, §4.2; record
# values, §5.2).
ANY_TYPE_KEYS = {"fieldValue", "value", "fieldDefault"}
# Objects keyed by data (a record's relationship ids): the example's keys are its own data.
DATA_KEYED = {"relationships"}
# Example keys that are AC's own debugging output, not part of the resource (SQL statements).
IGNORED_KEYS = {"queryLog"}


def shape_mismatches(example, actual, path: str = "$") -> list[str]:
    """Keys of the documented example missing in the answer, or holding another JSON type.

    null in the example matches anything; numbers and numeric strings are compatible
    (§1.2: AC flips between them); list items are compared with the first example item.
    """
    if example is None:
        return []
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {type(actual).__name__}"]
        problems = []
        for key, value in example.items():
            if key in IGNORED_KEYS or (key in ANY_TYPE_KEYS and key in actual):
                continue
            if key in DATA_KEYED and isinstance(value, dict) and isinstance(actual.get(key), dict):
                continue
            if key not in actual:
                if isinstance(value, dict) and value and set(value) <= IGNORED_KEYS:
                    continue  # e.g. a `meta` that only holds AC's query log
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(shape_mismatches(value, actual[key], f"{path}.{key}"))
        return problems
    if isinstance(example, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {type(actual).__name__}"]
        if not example or not actual:
            return []
        # Lists can mix kinds (schema fields of several types carry different keys), so one
        # item of the answer must have the example item's shape; if none does, report the
        # closest one.
        found = [shape_mismatches(example[0], item, f"{path}[]") for item in actual]
        return [] if any(not problems for problems in found) else min(found, key=len)
    if actual is None:
        return []
    scalar = (str, int, float, bool)
    if isinstance(example, bool) or isinstance(actual, bool):
        return [] if isinstance(actual, scalar) else [f"{path}: expected a scalar"]
    if isinstance(example, scalar) and isinstance(actual, scalar):
        return []
    return [f"{path}: expected {type(example).__name__}, got {type(actual).__name__}"]


@dataclass
class Checked:
    """Which documented operations the tests exercised, and what they found."""

    requests_validated: set = field(default_factory=set)
    responses_compared: set = field(default_factory=set)


CHECKED = Checked()


class AcClient:
    """A requests session for one AC account of the sandbox, checking the contract.

    Every JSON body sent is validated against the operation's request schema; every answer
    whose status has a documented example is compared with that example's shape.
    """

    def __init__(
        self, base_url: str, api_key: str, *, contract: bool = True, checked: Checked = CHECKED
    ) -> None:
        self.base_url = base_url
        self.checked = checked
        self.session = requests.Session()
        self.session.headers["Api-Token"] = api_key
        self.contract = contract

    def __call__(
        self, method: str, path: str, *, json_body=None, params=None, headers=None, check=True
    ):
        url = f"{self.base_url}/api/3{path}"
        api_path = path.split("?")[0]
        found = operation(method, api_path) if self.contract and check else None
        response = self.session.request(
            method, url, json=json_body, params=params, headers=headers, timeout=10
        )
        if found and json_body is not None and response.ok:
            # Requests the sandbox accepted must be valid by the reference's request schema
            # (rejected ones are the error-path tests' business).
            template, op = found
            schema = request_schema(method, template, op)
            if schema is not None:
                RequestValidator(schema).validate(json_body)
                self.checked.requests_validated.add((method.upper(), template))
        if found and response.content:
            template, op = found
            try:
                answer = response.json()
            except ValueError:
                answer = None
            examples = documented_examples(method, template, op, response.status_code)
            if examples:
                # Several examples for one status are alternatives (e.g. two kinds of 400).
                found_problems = [shape_mismatches(example, answer) for example in examples]
                best = min(found_problems, key=len)
                assert not best, f"{method} {template} {response.status_code}: {best}"
                self.checked.responses_compared.add(
                    (method.upper(), template, response.status_code)
                )
        return response

    def get(self, path, **kw):
        return self("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self("PUT", path, json_body=body, **kw)

    def delete(self, path, **kw):
        return self("DELETE", path, **kw)


@dataclass
class Running:
    app: ActiveCampaignSandbox
    url: str
    account: str
    key: str
    api: AcClient

    def client(self, key: str) -> AcClient:
        return AcClient(self.url, key)

    def control(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/_sandbox/activecampaign{path}",
            json=body,
            headers=self.app.control_headers,
            timeout=10,
        )


class Swappable:
    """A WSGI app that forwards to whichever sandbox is current.

    One server for the whole session, a fresh sandbox (fresh in-memory database) per test:
    starting and stopping a waitress server per test would cost about a second each.
    """

    def __init__(self) -> None:
        self.apps: dict[str, ActiveCampaignSandbox] = {}

    def __call__(self, environ, start_response):
        # Each sandbox is reached under its own path prefix: /t<n>/api/3/...
        path = environ.get("PATH_INFO", "")
        prefix, _, rest = path[1:].partition("/")
        app = self.apps.get(prefix)
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such test sandbox"]
        environ = dict(environ, PATH_INFO="/" + rest, SCRIPT_NAME=f"/{prefix}")
        return app(environ, start_response)


@pytest.fixture(scope="session")
def sandbox_server():
    proxy = Swappable()
    handle = serve(proxy, name="ac-sandbox-test")
    try:
        yield proxy, handle.url
    finally:
        handle.stop()


_counter = iter(range(1, 1_000_000))


def start(server, seed: int = 0, **options) -> Running:
    proxy, url = server
    app = ActiveCampaignSandbox(
        Database(":memory:"), rate_limit=options.pop("rate_limit", None), **options
    )
    if seed:
        app.seed(seed)
    account, key = app.account_ensure("demo")
    prefix = f"t{next(_counter)}"
    proxy.apps[prefix] = app
    base = f"{url}/{prefix}"
    return Running(app, base, account, key, AcClient(base, key))


def stop(server, running: Running) -> None:
    proxy, _ = server
    prefix = running.url.rsplit("/", 1)[1]
    proxy.apps.pop(prefix, None)
    running.app.close()


@pytest.fixture
def ac(sandbox_server):
    """An empty sandbox, rate limits off, behind the session's server."""
    running = start(sandbox_server)
    try:
        yield running
    finally:
        stop(sandbox_server, running)


@pytest.fixture(scope="module")
def seeded(sandbox_server):
    """A sandbox seeded with 300 people (about 225 contacts); tests must not change it."""
    running = start(sandbox_server, seed=300)
    try:
        yield running
    finally:
        stop(sandbox_server, running)
