"""The records pages with real content (a synced contact, its activity, the pickers and
confirmations) pass axe-core: the access-table crawl in tests/a11y sees them only empty."""

from __future__ import annotations

import pytest

from integrations.roles import Role
from sync.models import RecordLink
from tests.a11y.conftest import axe_path, axe_violations, browser_context_args  # noqa: F401
from tests.fixtures.browser import browser_login
from tests.personas import PASSWORD, make_user
from tests.records.conftest import SYNCED_EMAIL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_the_records_pages_pass_axe(synced, page, axe_path):  # noqa: F811
    make_user("uma", role=Role.USER)
    link = RecordLink.objects.get(entity="contact", email=SYNCED_EMAIL)
    record = f"/records/contacts/{link.dynamics_id}/"
    browser_login(page, username="uma", password=PASSWORD)
    found = {}
    for path in (
        "/records/",
        "/records/contacts/",
        "/records/contacts/?q=nadia",
        record,
        f"{record}automation/",
        f"{record}automation/?automation=1",
        f"{record}campaign/",
        f"{record}campaign/?campaign=2",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        if violations := axe_violations(page, axe_path):
            found[path] = violations

    assert not found, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())
