"""Reproducible installs: lock files of exact versions and hashes, the sandbox only as an extra."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str], *, python: str) -> set[str]:
    names = set()
    for requirement in requirements:
        if "python_version < '3.12'" in requirement and python != "3.11":
            continue
        name = canonical(NAME.match(requirement).group(1))
        if name != "syncadmin":  # the project's own extras, listed separately
            names.add(name)
    return names


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every `name==version` in a lock file; each pin must carry hashes."""
    text = lock.read_text()
    found = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.MULTILINE))
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    for block in blocks:
        if "==" in block.splitlines()[0]:
            assert "--hash=sha256:" in block, f"{lock.name}: no hash for {block.splitlines()[0]}"
    return {canonical(name): version for name, version in found.items()}


def test_the_sandbox_packages_are_an_extra_not_a_production_dependency():
    project = PYPROJECT["project"]
    production = requirement_names(project["dependencies"], python="3.12")

    assert not production & {"werkzeug", "waitress"}
    assert requirement_names(project["optional-dependencies"]["sandbox"], python="3.12") == {
        "werkzeug",
        "waitress",
    }
    assert "syncadmin[sandbox]" in project["optional-dependencies"]["dev"]


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_each_python_line_has_a_dev_lock_with_everything_pinned(python):
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    wanted = (
        requirement_names(project["dependencies"], python=python)
        | requirement_names(extras["dev"], python=python)
        | requirement_names(extras["sandbox"], python=python)
    )

    locked = pins(ROOT / "requirements" / f"dev-py{python}.txt")

    assert wanted <= set(locked), wanted - set(locked)
    assert locked["django"].startswith("5.2." if python == "3.11" else "6.")


def test_the_image_installs_the_production_lock_only():
    locked = pins(ROOT / "requirements" / "prod-py3.12.txt")
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert requirement_names(PYPROJECT["project"]["dependencies"], python="3.12") <= set(locked)
    assert not set(locked) & {"werkzeug", "waitress", "pytest", "playwright", "ruff"}
    assert "FROM python:3.12" in dockerfile
    assert "--require-hashes" in dockerfile and "requirements/prod-py3.12.txt" in dockerfile
    assert "pip install ." not in dockerfile
