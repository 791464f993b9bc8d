"""Check what the connector sends against the request schemas of AC's v3 reference.

Source: the reference vendored in the repo, tests/vendor/activecampaign_v3_openapi.json (an
extract of an OpenAPI 3.1 rendering of https://developers.activecampaign.com/reference; its
source, commit and licence are in tests/vendor/README.md). `spec()` keeps of it what this check
needs: every operation with its request schema and examples (descriptions dropped).

A request matches an operation by method and path (the spec's `servers` base is …/api/3). Its
JSON body must validate against that operation's schema, except at the few places listed in
DEVIATIONS, where the schema contradicts the operation's own request example (a rendering
defect); there the example's shape is accepted. test_contract.py proves each deviation is
contradicted by the spec's own example, so the list cannot hide a real mistake.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from tests.vendor.activecampaign_openapi import openapi

API_PREFIX = "/api/3"
METHODS = ("get", "post", "put", "delete", "patch")


def extract(spec: dict) -> dict:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("description", "summary")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    result: dict[str, Any] = {"servers": spec["servers"], "paths": {}}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            entry: dict[str, Any] = {"operationId": operation.get("operationId")}
            body = operation.get("requestBody")
            if body:
                content = body.get("content", {}).get("application/json", {})
                entry["requestBody"] = {
                    "schema": strip(content.get("schema")),
                    "examples": {
                        name: example.get("value")
                        for name, example in (content.get("examples") or {}).items()
                    },
                }
            result["paths"].setdefault(path, {})[method] = entry
    return result


@cache
def spec() -> dict:
    return extract(openapi())


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # "/contacts/{id}"
    operation_id: str
    schema: dict | None
    examples: dict


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


@cache
def _operations() -> tuple[tuple[re.Pattern, str, str], ...]:
    rows = []
    for template, item in spec()["paths"].items():
        for method in item:
            rows.append((_pattern(template), method.upper(), template))
    # Literal paths before templated ones (/accounts/bulk_delete before /accounts/{id}).
    rows.sort(key=lambda row: (row[2].count("{"), -len(row[2])))
    return tuple(rows)


def operation_for(method: str, url: str) -> Operation | None:
    path = urlsplit(url).path
    if not path.startswith(API_PREFIX + "/"):
        return None
    path = path[len(API_PREFIX) :]
    for pattern, op_method, template in _operations():
        if op_method == method.upper() and pattern.match(path):
            entry = spec()["paths"][template][method.lower()]
            body = entry.get("requestBody") or {}
            return Operation(
                method=op_method,
                template=template,
                operation_id=entry.get("operationId") or "",
                schema=body.get("schema"),
                examples=body.get("examples") or {},
            )
    return None


# -- deviations: where the schema contradicts the operation's own example ---------------------
ANY_SCALAR_OR_LIST = {"type": ["string", "number", "integer", "boolean", "array", "null"]}


def _records_upsert(schema: dict) -> dict:
    record = schema["properties"]["record"]["properties"]
    # Typed as an array of objects; the examples (and the docs' prose) send one object whose
    # values are arrays of ids: {"primary-contact": [14]}.
    record["relationships"] = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "integer"}},
    }
    # Typed string; the examples send numbers ({"value": 100}).
    record["fields"]["items"]["properties"]["value"] = ANY_SCALAR_OR_LIST
    return schema


def _schema_update(schema: dict) -> dict:
    attributes = schema["properties"]["schema"]["properties"]
    # Typed as one relationship object; the example sends an array of them.
    attributes["relationships"] = {"type": "array", "items": attributes["relationships"]}
    return schema


def _field_options(schema: dict) -> dict:
    # The schema renders one option at the top level; the example (and AC) want an array of
    # options under `fieldOptions`, whose example writes the field id as a string.
    schema["properties"]["field"] = {"type": ["integer", "string"]}
    return {
        "type": "object",
        "required": ["fieldOptions"],
        "properties": {"fieldOptions": {"type": "array", "items": schema}},
    }


def _account_fields(schema: dict) -> dict:
    items = schema["properties"]["account"]["properties"]["fields"]["items"]["properties"]
    # Typed string; the example sends a number for a currency field, and the account custom
    # field data examples send arrays for multiselect fields.
    items["fieldValue"] = ANY_SCALAR_OR_LIST
    return schema


DEVIATIONS: dict[tuple[str, str], Any] = {
    ("POST", "/customObjects/records/{schemaId}"): _records_upsert,
    ("PUT", "/customObjects/schemas/{schemaId}"): _schema_update,
    ("POST", "/fieldOption/bulk"): _field_options,
    ("POST", "/accounts"): _account_fields,
    ("PUT", "/accounts/{id}"): _account_fields,
}


def request_schema(operation: Operation, *, with_deviations: bool = True) -> dict | None:
    if operation.schema is None:
        return None
    schema = copy.deepcopy(operation.schema)
    patch = DEVIATIONS.get((operation.method, operation.template))
    if with_deviations and patch is not None:
        schema = patch(schema)
    return schema


def schema_errors(schema: dict, body: Any) -> list[str]:
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<body>'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


# Documented reads the rendering leaves out (no body to check; listed so that any other path,
# e.g. the /contacts/sync typo that creates instead of upserting, is flagged).
UNLISTED_OPERATIONS = {
    # The `links.contactTags` of every contact (§8 of sandbox/activecampaign/README.md).
    ("GET", re.compile(r"^/contacts/[^/]+/contactTags$")),
    # The `links.campaignMessages` of every campaign (SPEC list-all-campaigns example).
    ("GET", re.compile(r"^/campaigns/[^/]+/campaignMessages$")),
    # The doc prints /records/{schemdId}/external/{externalId}, a typo (§5.2, same README).
    ("GET", re.compile(r"^/customObjects/records/[^/]+/external/[^/]+$")),
}


def check_request(method: str, url: str, body: bytes | str | None) -> list[str]:
    """Problems with one request to /api/3 ([] when it fits the spec)."""
    path = urlsplit(url).path
    if path.startswith("/admin/api.php"):
        return []  # the v1 API is not part of the v3 reference
    operation = operation_for(method, url)
    if operation is None:
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        if any(m == method.upper() and rx.match(relative) for m, rx in UNLISTED_OPERATIONS):
            return []
        return [f"{method} {path}: no such operation in the v3 reference"]
    if body in (None, b"", ""):
        return []
    schema = request_schema(operation)
    if schema is None:
        return []
    payload = json.loads(body)
    return [
        f"{method} {operation.template}: {problem}" for problem in schema_errors(schema, payload)
    ]
