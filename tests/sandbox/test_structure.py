"""The sandbox package's own shape: no module imports another that imports it back.

A knot (context ⇄ webhooks once) forces type-only imports and makes the module order matter;
each module of a resource family imports shared helpers, never the other way round.
"""

from __future__ import annotations

import ast
import re
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


# -- citations: every mark in the sandboxes' comments resolves to a row of their README -------
REPO = ROOT.parent
SECTION = re.compile(r"§(\d+(?:\.\d+)?[a-z]?)")
KEY = re.compile(r"\b([SI]\d{1,2})\b")


def table_keys(readme: Path, pattern: re.Pattern) -> set[str]:
    """First cells of the README's tables that look like `pattern` (§ numbers, S/I keys)."""
    keys = set()
    for line in readme.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and pattern.fullmatch(cells[0]):
            keys.add(cells[0])
    return keys


def marks(paths: list[Path], pattern: re.Pattern) -> dict[str, list[str]]:
    """Each mark found in the files' text, with where it was found."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            # RFC and OData section numbers are cited with their document's name beside them.
            if re.search(r"RFC \d+ §|OData [\d.]+ §", line):
                continue
            for match in pattern.finditer(line):
                found.setdefault(match.group(1), []).append(f"{path.relative_to(REPO)}:{number}")
    return found


def test_it_cites_only_sections_its_readme_lists_for_activecampaign():
    readme = ROOT / "activecampaign" / "README.md"
    listed = table_keys(readme, re.compile(r"\d+(?:\.\d+)?"))
    files = sorted((ROOT / "activecampaign").glob("*.py"))
    files += sorted((REPO / "tests" / "sandbox" / "activecampaign").glob("*.py"))
    files.append(readme)
    unknown = {mark: where for mark, where in marks(files, SECTION).items() if mark not in listed}
    assert unknown == {}


def test_it_cites_only_sources_and_sections_its_readme_lists_for_dataverse():
    readme = ROOT / "dataverse" / "README.md"
    keys = table_keys(readme, re.compile(r"[SI]\d{1,2}"))
    sections = table_keys(readme, re.compile(r"\d+(?:\.\d+)?[a-z]?"))
    files = sorted((ROOT / "dataverse").glob("*.py"))
    files += sorted((REPO / "tests" / "sandbox" / "dataverse").glob("*.py"))
    files += [ROOT / "tls.py", ROOT / "seed.py"]
    unknown_keys = {k: w for k, w in marks(files, KEY).items() if k not in keys}
    unknown_sections = {k: w for k, w in marks(files, SECTION).items() if k not in sections}
    assert (unknown_keys, unknown_sections) == ({}, {})
