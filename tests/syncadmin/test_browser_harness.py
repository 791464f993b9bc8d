"""The browser harness itself: a failing browser test leaves a screenshot behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAILING_TEST = """
import pytest

@pytest.fixture
def browser_context_args():
    return {}

def test_it_fails_on_a_page(page):
    page.set_content("<h1>Something went wrong</h1>")
    assert page.title() == "not this title"
"""


@pytest.mark.browser
def test_a_failing_browser_test_saves_a_screenshot(tmp_path):
    (tmp_path / "test_failing.py").write_text(FAILING_TEST)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.fixtures.browser"]\n')
    output = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SYNCADMIN_NO_SKIPS", None)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            "--screenshot=only-on-failure",
            f"--output={output}",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert "1 failed" in result.stdout, result.stdout + result.stderr
    screenshots = list(output.rglob("*.png"))
    assert len(screenshots) == 1
    assert screenshots[0].stat().st_size > 1000  # a real picture, not an empty file
