"""Roles and their checks live in `integrations`; `users` imports them, never the reverse (12.6)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_integrations_never_imports_users():
    offenders = {
        path: sorted(n for n in names if n == "users" or n.startswith("users."))
        for path, names in imported_modules("integrations").items()
    }

    assert {path: names for path, names in offenders.items() if names} == {}


def test_health_sends_no_task_and_imports_no_task_module():
    names = imported_modules("syncadmin")

    assert not any("syncadmin.tasks" in n for n in names["syncadmin/health.py"])
    assert not (ROOT / "syncadmin" / "tasks.py").exists()
