"""docs/operations.md names every environment variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"")


def test_operations_names_every_setting_read_from_the_environment():
    variables = {
        name
        for path in (ROOT / "syncadmin" / "settings").glob("*.py")
        for name in READ.findall(path.read_text())
    }
    page = (ROOT / "docs" / "operations.md").read_text()

    assert len(variables) > 20
    assert sorted(v for v in variables if f"`{v}`" not in page) == []
