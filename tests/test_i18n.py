"""Translations: every user-facing string is marked, and Spanish has each one, none fuzzy.

(a) Templates: the text a person reads (element text and the attributes shown or spoken:
    title, aria-label, placeholder, alt, confirmation texts) must sit inside {% translate %} or
    {% blocktranslate %}, except brand names and symbols (ALLOWED below).
(b) The catalogue: `makemessages` run over a copy of the code, merged with the committed
    locale/es/LC_MESSAGES/django.po, must leave no entry untranslated, fuzzy or missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
PO_FILE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"

# Words that are the same in every language: product and vendor names, and abbreviations
# that name them. Anything else with a letter in it is a sentence someone has to read.
ALLOWED = re.compile(
    r"syncadmin|ActiveCampaign|Dynamics 365|Dataverse|Celery|JSON|\bAC\b|\bD365\b", re.IGNORECASE
)
# Attributes whose value is read (shown as a tooltip or placeholder, or spoken).
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "aria-description"}
READ_DATA_ATTRIBUTE = re.compile(r"^data-(?:confirm|.*-text)$")
# Literal filter arguments that are not words: a CSS class name (base.html's alert-info).
NOT_WORDS = {"info"}
MASK = "\x00"  # stands for a template tag or variable: not text of the template itself

OPENERS = {"translate", "trans", "blocktranslate", "blocktrans", "comment"}
CLOSERS = {"endblocktranslate": "blocktranslate", "endblocktrans": "blocktrans"}


def masked_text(source: str) -> str:
    """The template with every tag, variable, comment and translated block replaced by MASK."""
    pieces: list[str] = []
    inside: str | None = None  # the block tag whose content is not the template's own text
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if inside is None and name in {"blocktranslate", "blocktrans", "comment"}:
                inside = name
            elif inside and (CLOSERS.get(name) == inside or name == f"end{inside}"):
                inside = None
            pieces.append(MASK)
        elif token.token_type == TokenType.TEXT and inside is None:
            pieces.append(token.contents)
        else:
            pieces.append(MASK)
    return "".join(pieces)


def has_words(text: str) -> bool:
    remainder = ALLOWED.sub("", text.replace(MASK, " "))
    return bool(re.search(r"[^\W\d_]", remainder))


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or READ_DATA_ATTRIBUTE.match(name)
            if read and value and has_words(value):
                self.found.append(f'<{tag} {name}="{value.replace(MASK, "…")}">')
        is_button = tag == "input" and dict(attrs).get("type") in {"submit", "button", "reset"}
        if is_button and has_words(dict(attrs).get("value") or ""):
            self.found.append(f"<input value={dict(attrs)['value']!r}>")

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and has_words(data):
            self.found.append(" ".join(data.replace(MASK, "…").split()))


# Text given to a filter or an included template as a literal: {{ x|default:"None" }},
# {% include "t.html" with title="Fields" %}. Date formats ("Y-m-d") are not words.
_LITERAL_ARGUMENT = re.compile(
    r"""(?:\|(?:default|default_if_none|yesno|add)\s*:\s*"""
    r"""|\b(?:title|label|\w+_label|text|message|heading|placeholder)=)(["'])(.*?)\1"""
)


def literal_arguments(source: str) -> list[str]:
    found = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.VAR or (
            token.token_type == TokenType.BLOCK and token.contents.startswith("include ")
        ):
            for _, text in _LITERAL_ARGUMENT.findall(token.contents):
                if has_words(text) and text not in NOT_WORDS:
                    found.append(f"{{{{ {token.contents} }}}}")
    return found


def unmarked_strings(source: str) -> list[str]:
    reader = _Reader()
    reader.feed(masked_text(source))
    reader.close()
    return reader.found + literal_arguments(source)


def all_templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize(
    "template", all_templates(), ids=lambda path: str(path.relative_to(TEMPLATES))
)
def test_it_finds_no_unmarked_text_in_a_template(template):
    assert unmarked_strings(template.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("<p>Hello {{ name }}</p>", ["Hello …"]),
        ('<button aria-label="Close">&times;</button>', ['<button aria-label="Close">']),
        ('<input placeholder="Search {{ x }}">', ['<input placeholder="Search …">']),
        ('<form data-confirm="Remove {{ who }}?"></form>', ['<form data-confirm="Remove …?">']),
        ('<input type="submit" value="Send">', ["<input value='Send'>"]),
        ("{% load i18n %}<p>{% translate 'Hello' %} {{ name }}</p>", []),
        ("{% load i18n %}<p>{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</p>", []),
        ("<button aria-label=\"{% translate 'Close' %}\">&times;</button>", []),
        ("<p>ActiveCampaign → Dynamics 365 · syncadmin</p>", []),
        ("{# a comment #}<script src='x.js'></script>", []),
        ('<p>{{ who|default:"nobody" }}</p>', ['{{ who|default:"nobody" }}']),
        (
            '{% include "t.html" with title="Fields" %}',
            ['{{ include "t.html" with title="Fields" }}'],
        ),
        ('<p>{{ at|date:"Y-m-d" }} {{ x|default:"—" }}</p>', []),
    ],
)
def test_the_check_tells_marked_from_unmarked_text(source, found):
    assert unmarked_strings(source) == found


def _entries(po_text: str, *, flag: str | None = None, untranslated: bool = False) -> list[str]:
    """The msgids of a .po file's entries (not the header) that are fuzzy or untranslated."""
    found = []
    for block in re.split(r"\n\s*\n", po_text):
        lines = block.strip().splitlines()
        if not lines or lines[0].startswith("#~") or all(x.startswith("#~") for x in lines):
            continue
        msgid = _field(lines, "msgid")
        if msgid == "":
            continue  # the header
        strs = [_field(lines, key) for key in ("msgstr", "msgstr[0]", "msgstr[1]")]
        strs = [s for s in strs if s is not None]
        is_fuzzy = any(x.startswith("#,") and "fuzzy" in x for x in lines)
        if (flag == "fuzzy" and is_fuzzy) or (untranslated and (not strs or "" in strs)):
            found.append(msgid)
    return found


def _field(lines: list[str], key: str) -> str | None:
    """The (joined) string of one keyword of a .po entry, or None when it has none."""
    value: list[str] | None = None
    for line in lines:
        if line.startswith(key + " "):
            value = [line[len(key) + 1 :].strip()[1:-1]]
        elif value is not None and line.startswith('"'):
            value.append(line.strip()[1:-1])
        elif value is not None:
            break
    return "".join(value) if value is not None else None


def test_the_spanish_catalogue_has_no_fuzzy_or_untranslated_entry():
    text = PO_FILE.read_text(encoding="utf-8")
    assert _entries(text, flag="fuzzy") == []
    assert _entries(text, untranslated=True) == []
    assert not re.search(r"^#~", text, re.MULTILINE), "obsolete entries: run make messages"


def test_the_spanish_catalogue_has_every_marked_string(tmp_path):
    """makemessages over a copy of the code, merged with the committed .po, adds nothing."""
    copy = tmp_path / "repo"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.suffix in {".py", ".html", ".txt", ".po", ".js"} and source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    before = (copy / PO_FILE.relative_to(ROOT)).read_text(encoding="utf-8")

    # The Makefile's `messages` target, as a command (the copy has no .venv of its own).
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "es",
            "--no-location",
            "--no-obsolete",
            *[f"--ignore={p}/*" for p in ("tests", "sandbox", "benchmarks", "var", "docs")],
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "syncadmin.settings.test"},
    )
    after = (copy / PO_FILE.relative_to(ROOT)).read_text(encoding="utf-8")

    missing = sorted(set(_entries(after, untranslated=True)) | set(_entries(after, flag="fuzzy")))
    assert missing == [], "strings without a Spanish translation: run make messages, translate"
    assert _msgids(after) == _msgids(before), "run make messages: the catalogue is out of date"


def _msgids(po_text: str) -> set[str]:
    return {m for m in re.findall(r'^msgid "(.*)"$', po_text, re.MULTILINE)}


def test_a_page_renders_in_spanish_when_the_browser_asks_for_it(client):
    spanish = client.get("/login/", HTTP_ACCEPT_LANGUAGE="es")
    english = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")

    assert spanish.headers["Content-Language"] == "es"
    assert '<html lang="es"' in spanish.content.decode()
    assert "Iniciar sesión" in spanish.content.decode()
    assert "Log in" in english.content.decode() and "Iniciar sesión" not in english.content.decode()


def test_the_language_choice_outlasts_the_browsers_preference(client):
    response = client.post("/language/", {"language": "es", "next": "/login/"})

    assert response.status_code == 302 and response["Location"] == "/login/"
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.headers["Content-Language"] == "es"


def test_the_language_choice_goes_back_to_this_site_only(client):
    response = client.post("/language/", {"language": "es", "next": "https://evil.example/"})
    unknown = client.post("/language/", {"language": "xx", "next": "/login/"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies.get("django_language").value == "es"
    assert (
        unknown.status_code == 302
        and "xx" not in unknown.cookies.get("django_language", type("C", (), {"value": ""})()).value
    )


def test_python_strings_are_translated_too():
    from syncadmin.heartbeat import ProcessState

    worker = ProcessState("worker", True, None, None, None)
    with translation.override("es"):
        assert worker.label == "worker de Celery"  # the dashboard
        assert worker.name == "Celery worker"  # /healthz and the logs stay English


def test_the_connectors_words_come_in_the_language_of_the_request():
    from connectors import i18n
    from connectors.errors import ConfigReason, ConfigurationError, user_message

    error = ConfigurationError("", vendor="activecampaign", reason=ConfigReason.UNAUTHORIZED)
    with translation.override("es"):
        spanish = user_message(error)
    with translation.override("en"):
        english = user_message(error)
    saved = i18n._translate
    i18n.translator_set(str)  # a program without Django: the English source text
    try:
        with translation.override("es"):
            alone = user_message(error)
    finally:
        i18n.translator_set(saved)

    assert spanish == "ActiveCampaign rechazó las credenciales. Compruebe: clave de API."
    assert english == alone == "ActiveCampaign refused the credentials. Check the API key."


def test_every_field_type_and_choice_label_has_words_in_the_catalogue():
    from connectors.types import FIELD_TYPE_WORDS, FieldType
    from mapping.core.criteria import Operator
    from mapping.core.directions import Direction
    from mapping.core.opportunity import AC_OBJECT_FIELD_TYPE_WORDS, AC_OBJECT_FIELD_TYPES
    from mapping.core.standard import ENTITIES

    assert set(FIELD_TYPE_WORDS) == {t.value for t in FieldType}
    assert set(AC_OBJECT_FIELD_TYPE_WORDS) == set(AC_OBJECT_FIELD_TYPES)
    words = [
        *FIELD_TYPE_WORDS,
        *AC_OBJECT_FIELD_TYPE_WORDS,
        *(o.label for o in Operator),
        *(d.label for d in Direction),
        *(e.label for e in ENTITIES.values()),
    ]
    with translation.override("es"):
        untranslated = [w for w in words if translation.gettext(w) == w and w not in {"decimal"}]
    assert untranslated == []


def test_a_logged_in_users_choice_follows_them_to_another_browser(client, django_user_model):
    user = django_user_model.objects.create_user("lucia", password="pw-Lucia-123")
    client.force_login(user)
    client.post("/language/", {"language": "es", "next": "/"})
    # Another browser, asking for English, with no language cookie: the user's choice wins.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(user)
    assert other.get("/").headers["Content-Language"] == "es"
    # Before logging in, that browser's own preference still decides.
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.get("/login/").headers["Content-Language"] == "en"
    # Choosing English there changes it for the user everywhere.
    other.post("/language/", {"language": "en", "next": "/"})
    client.cookies.pop("django_language", None)
    assert client.get("/").headers["Content-Language"] == "en"
