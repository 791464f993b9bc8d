"""The sandbox package's own shape: no module imports another that imports it back.

A knot (context ⇄ webhooks once) forces type-only imports and makes the module order matter;
each module of a resource family imports shared helpers, never the other way round.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sandbox

ROOT = Path(sandbox.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The sandbox modules `path` imports (TYPE_CHECKING imports included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c in modules and c != name)
    return found


def import_cycles() -> list[list[str]]:
    paths = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {name: imports_of(path, set(paths)) for name, path in paths.items()}
    cycles, seen = [], set()
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for target in sorted(graph[node]):
                if target == start:
                    cycle = frozenset(trail)
                    if cycle not in seen:
                        seen.add(cycle)
                        cycles.append(trail)
                elif target not in trail and target > start:
                    stack.append((target, [*trail, target]))
    return cycles


def test_it_has_no_import_cycles_inside_the_sandbox():
    assert import_cycles() == []


def test_it_finds_a_cycle_when_there_is_one(monkeypatch):
    # The check itself must be able to fail: feed it a knot.
    real = imports_of

    def knotted(path: Path, modules: set[str]) -> set[str]:
        found = real(path, modules)
        if module_name(path) == "sandbox.activecampaign.formats":
            found.add("sandbox.activecampaign.contacts")
        return found

    monkeypatch.setitem(globals(), "imports_of", knotted)
    assert any("sandbox.activecampaign.formats" in cycle for cycle in import_cycles())
