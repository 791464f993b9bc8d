from __future__ import annotations

import ast
from pathlib import Path

CONNECTORS = Path(__file__).resolve().parents[2] / "connectors"


def test_nothing_in_connectors_refers_to_the_sandbox():
    offenders = []
    for path in CONNECTORS.rglob("*.py"):
        source = path.read_text()
        if "sandbox" in source.lower():
            offenders.append(f"{path.relative_to(CONNECTORS)} mentions the sandbox")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sandbox"):
                offenders.append(f"{path.relative_to(CONNECTORS)} imports {node.module}")
            if isinstance(node, ast.Import) and any(
                a.name.startswith("sandbox") for a in node.names
            ):
                offenders.append(f"{path.relative_to(CONNECTORS)} imports the sandbox")

    assert offenders == []
