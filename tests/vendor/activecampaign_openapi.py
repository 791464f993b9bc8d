"""ActiveCampaign's v3 API reference, as far as the tests need it, vendored in the repo.

`activecampaign_v3_openapi.json` next to this file is an extract of an OpenAPI 3.1 rendering
of https://developers.activecampaign.com/reference (see README.md here for its source, commit
and licence). It keeps, for every operation: its operationId, the JSON request schema (without
documentation annotations) and request examples, and the response examples per status (JSON
strings parsed where they are valid JSON). The sandbox's contract tests and the connector's
request checks both read it through `openapi()`.

Regenerate it from a copy of the source file:

    python -m tests.vendor.activecampaign_openapi <path to activecampaign-v3.json>
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("activecampaign_v3_openapi.json")
METHODS = ("get", "post", "put", "delete", "patch")
# JSON Schema / OpenAPI annotations: documentation, no effect on validation. Dropped only where
# they hold text or flags; a property that happens to be *named* "description" is an object.
ANNOTATIONS = ("description", "summary", "example", "examples", "deprecated")


@cache
def openapi() -> dict:
    """The vendored extract, shaped like the OpenAPI document it comes from."""
    return json.loads(PATH.read_text(encoding="utf-8"))


def _schema(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _schema(item)
            for key, item in value.items()
            if not (key in ANNOTATIONS and not isinstance(item, dict))
        }
    if isinstance(value, list):
        return [_schema(item) for item in value]
    return value


def _example(value: Any) -> Any:
    """A response example: the reference stores most as JSON text; parsed when it is JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # a few examples are not valid JSON; kept as written
    return value


def extract(spec: dict) -> dict:
    """What the tests read from the full reference (see the module docstring)."""
    result: dict[str, Any] = {
        "info": {
            key: spec["info"][key] for key in ("title", "version", "license") if key in spec["info"]
        },
        "servers": [{"url": server["url"]} for server in spec["servers"]],
        "paths": {},
    }
    for path, item in spec["paths"].items():
        operations: dict[str, Any] = {}
        for method, operation in item.items():
            if method not in METHODS:
                continue
            entry: dict[str, Any] = {"operationId": operation.get("operationId")}
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if body:
                media: dict[str, Any] = {}
                if "schema" in body:
                    media["schema"] = _schema(body["schema"])
                if "examples" in body:
                    media["examples"] = {
                        name: {"value": example.get("value")}
                        for name, example in body["examples"].items()
                    }
                entry["requestBody"] = {"content": {"application/json": media}}
            responses: dict[str, Any] = {}
            for status, response in (operation.get("responses") or {}).items():
                content = {
                    media_type: {
                        "examples": {
                            name: {"value": _example(example.get("value"))}
                            for name, example in described["examples"].items()
                        }
                    }
                    for media_type, described in (response.get("content") or {}).items()
                    if described.get("examples")
                }
                if content:
                    responses[status] = {"content": content}
            if responses:
                entry["responses"] = responses
            operations[method] = entry
        result["paths"][path] = operations
    return result


def dump(extracted: dict) -> str:
    """One path per line: small diffs when the reference changes, no 400 KB single line."""

    def compact(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    paths = extracted["paths"]
    lines = [f" {compact(path)}:{compact(paths[path])}" for path in sorted(paths)]
    head = {key: value for key, value in extracted.items() if key != "paths"}
    return (
        "{\n"
        + "".join(f" {compact(key)}:{compact(head[key])},\n" for key in sorted(head))
        + ' "paths":{\n'
        + ",\n".join(lines)
        + "\n }\n}\n"
    )


if __name__ == "__main__":
    source = Path(sys.argv[1])
    PATH.write_text(dump(extract(json.loads(source.read_text(encoding="utf-8")))), "utf-8")
    print(f"wrote {PATH} ({PATH.stat().st_size:,} bytes)")
