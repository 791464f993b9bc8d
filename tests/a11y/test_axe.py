"""Every page each persona can reach passes axe-core with no serious or critical violation.

The pages are those of the access table (tests/test_url_access.py) that answer the persona with
a page of HTML (200, or the 403 page), plus the 404 page; then what only an action shows
(refused forms, an open dialog, suggestions).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.a11y.conftest import axe_violations, login_as
from tests.test_url_access import ACCESS, PERSONAS, url_arguments

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE_STATUSES = (200, 403, 404)


def persona_paths(persona: str, *, user_pk: int, run_pk: int) -> list[str]:
    """The paths of the access table that answer `persona` with a status showing a page."""
    values = {name: [value] for name, value in url_arguments(user_pk=user_pk).items()}
    values |= {
        "entity": ["lead", "contact", "account"],
        "run_pk": [run_pk],
        # the synced lead and contact of the product fixture
        "people": ["lead", "contact"],
        "record_id": [f"00000000-0000-0000-0000-{n:012d}" for n in (1, 2)],
    }
    paths = []
    for name, (args, expected) in sorted(ACCESS.items()):
        if expected[persona] not in PAGE_STATUSES:
            continue
        combos = [[]]
        for arg in args:
            combos = [[*combo, value] for combo in combos for value in values[arg]]
        paths += [reverse(name, args=combo) for combo in combos]
    return [*paths, "/no-such-page/"]


def walk(page, product, axe_path, persona: str, language: str = "") -> dict[str, list[str]]:
    """Log in as persona, run axe on each of its pages (asked for in language); the violations
    by path."""
    login_as(page, product["users"][persona])
    if language:
        page.set_extra_http_headers({"Accept-Language": language})
    paths = persona_paths(persona, user_pk=product["users"]["norole"].pk, run_pk=product["run"].pk)
    found, checked, error_pages = {}, [], set()
    for path in paths:
        # Asked first without the page: JSON, metrics, an htmx fragment (checked inside its
        # page) or an empty error answer (the webhook endpoint's) is not a page to look at.
        answer = page.request.get(path)
        if "html" not in answer.headers.get("content-type", "") or "<main" not in answer.text():
            continue
        if answer.status != 200:  # one 403 (or 404) page is like another
            if answer.status in error_pages:
                continue
            error_pages.add(answer.status)
        response = page.goto(path)
        assert response is not None and response.status == answer.status, path
        checked.append(path)
        if violations := axe_violations(page, axe_path):
            found[path] = violations
    assert len(checked) >= 2, (checked, paths)
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_of_the_persona_passes_axe(page, product, axe_path, persona):
    found = walk(page, product, axe_path, persona)

    assert not found, report(found)


@pytest.mark.parametrize("persona", ["admin", "user"])
def test_the_pages_in_spanish_pass_axe(page, product, axe_path, persona):
    """Longer words, another language attribute: the same pages asked for in Spanish."""
    found = walk(page, product, axe_path, persona, language="es")

    assert page.locator("html").get_attribute("lang") == "es"
    assert not found, report(found)


def test_the_states_after_an_action_pass_axe(page, product, axe_path):
    """Error messages, an open dialog, suggestions: parts of pages that a GET does not show."""
    found = {}

    def check(state: str) -> None:
        if violations := axe_violations(page, axe_path):
            found[state] = violations

    page.goto("/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    check("login refused")

    login_as(page, product["users"]["admin"])
    page.goto("/settings/")
    page.get_by_label("API URL").fill("not an address")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    check("settings with errors")

    page.goto("/data/lead/")
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("dialog", name="ActiveCampaign fields")).to_be_visible()
    check("field picker open")

    page.goto("/users/")
    page.get_by_label("Find a person by name or e-mail").press_sequentially("nora")
    expect(page.get_by_role("option", name="Nora Tester")).to_be_visible()
    check("user suggestions")

    page.goto("/sync/webhook/")
    page.get_by_role("button", name="Replace the URL (the old one stops working)").click()
    expect(page.get_by_role("textbox", name="Webhook URL")).to_be_visible()
    check("webhook URL shown once")

    assert not found, report(found)
