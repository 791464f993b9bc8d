"""Every page each persona can reach, in a real browser asking for Spanish, then English.

The pages and personas are those of the URL-by-persona access table (tests/test_url_access.py).
A page passes in Spanish when it says so (<html lang="es">), its top bar and headings differ
from the English page, and no English sentence of the catalogue is left in it; in English, the
reverse. The catalogue's sentences (msgids with a Spanish msgstr of their own) are the "known
strings"; short words are left out because a brand or a person's name may contain them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from integrations.access import SESSION_KEY
from sync.models import RunRecord, SyncRun
from tests.test_url_access import (  # noqa: F401 - fixtures used by name
    ACCESS,
    PERSONAS,
    integrations,
    personas,
    url_arguments,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PO_FILE = Path(__file__).resolve().parent.parent / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _sentences() -> list[tuple[str, str]]:
    """(English, Spanish) pairs of the catalogue that a page shows as whole text."""
    text = PO_FILE.read_text(encoding="utf-8")
    pairs = re.findall(r'\nmsgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', text)

    def joined(lines: str) -> str:
        return "".join(re.findall(r'"(.*)"', lines)).replace('\\"', '"')

    found = []
    for english, spanish in ((joined(a), joined(b)) for a, b in pairs):
        plain = not re.search(r"%\(|\{|<|&", english)
        if plain and spanish and spanish != english and len(english) >= 12 and " " in english:
            found.append((english, spanish))
    return found


SENTENCES = _sentences()


def _html_pages(persona: str) -> list[str]:
    """The full pages (not htmx fragments or JSON) this persona may open."""
    fragments = {
        "healthz",
        "readyz",
        "metrics",
        "users:search",
        "mapping:criterion_row",
        "mapping:mapping_rows",
        "mapping:opportunity_rows",
        "sync:progress",
    }
    return [
        name
        for name, (_, expected) in sorted(ACCESS.items())
        if expected[persona] == 200 and name not in fragments
    ]


@pytest.fixture
def finished_run(integrations):  # noqa: F811
    """A run of integration A with counts in the thousands and a failed record: the run page,
    the history and the dashboard show numbers, dates, choices and entity names."""
    finished = timezone.now().replace(microsecond=0)
    run = SyncRun.objects.create(
        integration=integrations["a"],
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.SUCCEEDED,
        entity="lead",
        started_at=finished - timedelta(minutes=3),
        finished_at=finished,
        counts={"lead": {"push": {"read": 1234, "created": 1200, "failed": 1}}},
    )
    RunRecord.objects.create(
        run=run,
        entity="lead",
        direction="push",
        outcome=RunRecord.Outcome.FAILED,
        email="ana@contoso.example",
        reason="Email: not an e-mail address.",
    )
    return run


def _context_for(browser, live_server, persona_user, integrations, *, locale: str):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, locale=locale)
    if persona_user is not None:
        client = Client()
        client.force_login(persona_user)
        session = client.session
        session[SESSION_KEY] = integrations["a"].pk
        session.save()
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": session.session_key,
                    "url": live_server.url,
                }
            ]
        )
    return context


def _page_text(page) -> str:
    """The page's text, less what it shows as recorded (translate="no": audit summaries, run
    messages, written in the language of the moment they were recorded)."""
    text = page.evaluate(
        """() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll("[translate=no], script").forEach((e) => e.remove());
            return body.textContent;
        }"""
    )
    return " ".join(text.split())


def _walk(browser, live_server, personas, integrations, run, *, locale: str):  # noqa: F811
    """{(persona, url): (lang, title, nav text, headings, body text)} for every page."""
    seen = {}
    for persona in PERSONAS:
        context = _context_for(browser, live_server, personas[persona], integrations, locale=locale)
        page = context.new_page()
        urls = []
        for name in _html_pages(persona):
            args = ACCESS[name][0]
            values = url_arguments(user_pk=personas["norole"].pk)
            urls.append(reverse(name, args=[values[a] for a in args]))
        if persona in ("admin", "superuser"):  # administrators of A: the run's own page
            urls.append(reverse("sync:run", args=[run.pk]))
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, f"{persona} {url}"
            seen[(persona, url)] = {
                "lang": page.locator("html").get_attribute("lang"),
                "title": page.title(),
                "nav": " ".join(page.locator("nav[aria-label] .navbar-nav").all_inner_texts()),
                "logout": page.locator("form[action='/logout/'] button").all_inner_texts(),
                "headings": page.locator("h1").all_inner_texts(),
                "text": _page_text(page),
            }
        context.close()
    return seen


def test_every_page_of_every_persona_is_in_spanish_or_english_as_asked(
    browser,
    live_server,
    personas,  # noqa: F811
    integrations,  # noqa: F811
    finished_run,
):
    spanish = _walk(browser, live_server, personas, integrations, finished_run, locale="es-ES")
    english = _walk(browser, live_server, personas, integrations, finished_run, locale="en-US")

    assert spanish.keys() == english.keys()
    assert len(spanish) >= 30  # every persona's pages: the walk really happened
    for key, es in spanish.items():
        en = english[key]
        assert (es["lang"], en["lang"]) == ("es", "en"), key
        assert es["title"] != en["title"], key
        assert es["headings"] != en["headings"], key
        if en["nav"]:
            assert es["nav"] != en["nav"], key
        if en["logout"]:
            assert (es["logout"], en["logout"]) == (["Cerrar sesión"], ["Log out"]), key
        left = [english for english, _ in SENTENCES if english in es["text"]]
        assert left == [], f"{key}: English left in the Spanish page"
        foreign = [spanish for _, spanish in SENTENCES if spanish in en["text"]]
        assert foreign == [], f"{key}: Spanish in the English page"

    # Numbers, dates, choices and entity names follow the language: the run's own page.
    run_page = ("admin", reverse("sync:run", args=[finished_run.pk]))
    finished = timezone.localtime(finished_run.finished_at)
    # Spanish groups thousands with a (non-breaking) space, English with a comma.
    for language, walked, number in (("es", spanish, "1 234"), ("en", english, "1,234")):
        text = walked[run_page]["text"]
        with translation.override(language):
            expected = [
                number,
                formats.date_format(finished, "DATETIME_FORMAT"),
                translation.gettext("Leads"),
                translation.gettext("Sync now"),  # the trigger
                translation.gettext("Succeeded"),  # the status
            ]
        assert [word for word in expected if word not in text] == [], (language, text)
    assert "Clientes potenciales" in spanish[run_page]["text"]


def test_the_choice_in_the_top_bar_outlasts_the_browsers_language(
    browser,
    live_server,
    personas,  # noqa: F811
    integrations,  # noqa: F811
):
    context = _context_for(browser, live_server, personas["admin"], integrations, locale="en-US")
    page = context.new_page()
    page.goto("/sync/history/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sync history")

    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="Español", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Historial de sincronización")
    assert page.url.endswith("/sync/history/")  # back on the page the choice was made on
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Panel")
    page.get_by_role("button", name="Idioma: Español").click()
    expect(page.get_by_role("button", name="Español", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    context.close()
