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


# The project's own apps: a connector takes plain config and knows none of them.
PROJECT_APPS = ("syncadmin", "users", "integrations", "mapping", "sync", "sandbox")


def test_it_imports_no_project_app():
    offenders = []
    for path in CONNECTORS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] in PROJECT_APPS:
                    offenders.append(f"{path.relative_to(CONNECTORS)} imports {name}")

    assert offenders == []
