"""mapping.core is pure: importing it pulls in no Django, no HTTP client, no ORM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_it_imports_without_django_or_http():
    script = (
        "import sys, mapping.core, mapping.core.compat, mapping.core.transforms, "
        "mapping.core.criteria, mapping.core.standard, mapping.core.opportunity, "
        "mapping.core.directions\n"
        "bad = sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('django', 'requests', 'msal', 'urllib3', 'celery', 'redis'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.stdout.strip() == ""


def test_it_reexports_the_public_api():
    import mapping.core as mapping

    for name in mapping.__all__:
        assert getattr(mapping, name) is not None, name
