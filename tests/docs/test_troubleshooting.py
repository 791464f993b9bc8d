"""docs/troubleshooting.md explains every message of the checks a person meets most: the
connection form and the services' answers, user management, record selection criteria, runs
refused, record skips, stored secrets, the sales actions.

The messages are read from the code (the string literals given to the exceptions and
constants below), so a new message fails this test until the page explains it. Placeholders
(f-string fields, %(name)s, {name}) split a message into fragments; each fragment of some
length must appear on the page, where a placeholder is written in italics.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "troubleshooting.md"

# (file, what holds the messages): a callable's name (its message argument), or a constant.
SOURCES = [
    ("integrations/forms.py", "ValidationError"),
    ("integrations/forms.py", "add_error"),
    ("integrations/validators.py", "ValidationError"),
    ("integrations/views.py", "add_error"),
    ("integrations/middleware.py", "MESSAGE"),
    ("connectors/errors.py", "_REASON_TEXT"),
    ("connectors/errors.py", "user_message"),
    ("users/forms.py", "ValidationError"),
    ("users/services.py", "UserManagementError"),
    ("mapping/core/criteria.py", "CriterionError"),
    ("mapping/core/records.py", "SKIP_TEXT"),
    ("sync/services.py", "RunRefused"),
    ("records/services.py", "ActionRefused"),
    ("sync/webhooks/services.py", "DELIVERY_TEXT"),
]
TRANSLATE = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{[^{}]*\}")
SHORTEST = 12  # shorter fragments ("Check the ") say too little to look for


def _texts(node: ast.AST) -> list[str]:
    """The constant parts of a message expression, placeholders marked by a split."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return PLACEHOLDER.split(node.value)
    if isinstance(node, ast.JoinedStr):
        parts, current = [], ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                current += value.value
            else:
                parts.append(current)
                current = ""
        return [*parts, current]
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in TRANSLATE and node.args:
            return _texts(node.args[0])
        if name == "format" and isinstance(node.func, ast.Attribute):
            return _texts(node.func.value)
    if isinstance(node, ast.BinOp):
        return _texts(node.left)
    return []


def messages(path: str, holder: str) -> list[list[str]]:
    tree = ast.parse((ROOT / path).read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name != holder:
                continue
            args = node.args[1:2] if holder == "add_error" else node.args[:1]
            found += [_texts(arg) for arg in args]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", "") == holder for t in targets) and node.value is not None:
                values = node.value.values if isinstance(node.value, ast.Dict) else [node.value]
                found += [_texts(value) for value in values]
        elif isinstance(node, ast.FunctionDef) and node.name == holder:
            found += [
                _texts(inner.value)
                for inner in ast.walk(node)
                if isinstance(inner, ast.Return) and inner.value is not None
            ]
    return [texts for texts in found if any(t.strip() for t in texts)]


def _plain(text: str) -> str:
    return " ".join(text.replace("*", "").replace("`", "").split())


@pytest.mark.parametrize(("path", "holder"), SOURCES)
def test_troubleshooting_explains_each_message(path, holder):
    page = _plain(PAGE.read_text())
    found = messages(path, holder)
    assert found, f"no message found in {path} ({holder}): has the code moved?"
    missing = []
    for texts in found:
        for fragment in texts:
            fragment = _plain(fragment).strip(" .,:;()")
            if len(fragment) >= SHORTEST and fragment not in page:
                missing.append(fragment)
    assert not missing, f"docs/troubleshooting.md does not explain: {missing}"
