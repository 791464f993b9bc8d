"""The repository stands alone: nothing in it reads or names a file outside the clone.

A user's clone has only the clone. Code, tests, benchmarks and documents cite public
documentation URLs or files inside the repository (the sandboxes' README.md Sources tables,
tests/vendor/), never one machine's checkout, its shared reference folder or its virtualenv.
Every tracked file is searched; nothing is excluded.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Spelled in pieces so that this file does not name what it forbids.
FORBIDDEN = {
    "a development machine's checkout": re.compile("/" + "work" + r"/"),
    "a folder beside the clone": re.compile(r"\.\./" + "shared" + r"\b"),
    "the shared reference folder": re.compile("shared" + "/" + "reference"),
    "a reference file kept outside the repo": re.compile(
        r"\b(?:activecampaign|dataverse)-api" + r"\.md\b|\bproduct-spec" + r"\.md\b"
        r"|\bactivecampaign-v3" + r"\.openapi\.json\b"
    ),
    "an absolute path to a virtualenv": re.compile(
        r"(?<![\w.])/(?:[\w.-]+/)+" + r"\.?venv/(?:bin|lib)/"
    ),
    "a home directory": re.compile(r"(?<![\w.])/(?:" + "home|Users" + r")/[\w.-]+/"),
}


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def offences(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return []  # deleted in the work tree, or a submodule
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in FORBIDDEN.items():
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()[:120]}")
    return found


def test_it_names_no_path_outside_the_repository():
    files = tracked_files()
    assert len(files) > 100  # the listing worked: this is the whole repository
    problems = [problem for path in files for problem in offences(path)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "line",
    [
        "Facts: /" + "work/main/README.md",
        "see ../" + "shared/ for the facts",
        "Path('/srv/shared/" + "reference/x.json')",
        "cited as activecampaign-" + "api.md §2",
        "(see dataverse-" + "api.md §7.1)",
        "OPENAPI = Path('/srv/ref/activecampaign-v3" + ".openapi.json')",
        "    /opt/checkout/" + ".venv/bin/python benchmarks/x.py",
        "cat /" + "home/alice/notes.txt",
    ],
)
def test_it_would_notice_each_kind_of_outside_path(tmp_path, line):
    sample = tmp_path / "sample.py"
    sample.write_text(f"# {line}\n")
    original = ROOT
    try:
        globals()["ROOT"] = tmp_path
        assert offences(sample), line
    finally:
        globals()["ROOT"] = original


@pytest.mark.parametrize(
    "line",
    [
        "https://developers.activecampaign.com/reference/sync-a-contacts-data",
        "tests/vendor/activecampaign_v3_openapi.json",
        ".venv/bin/python benchmarks/sandbox_dataverse.py   (from the repo root)",
        "§2.4 of sandbox/activecampaign/README.md",
        "DATABASE_URL=sqlite:////tmp/scratch.sqlite3",
    ],
)
def test_it_lets_public_urls_and_repo_paths_through(tmp_path, line):
    sample = tmp_path / "sample.py"
    sample.write_text(f"# {line}\n")
    original = ROOT
    try:
        globals()["ROOT"] = tmp_path
        assert offences(sample) == []
    finally:
        globals()["ROOT"] = original
