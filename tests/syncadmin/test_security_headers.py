"""Every page carries a strict Content-Security-Policy and the other browser security headers,
and no page has inline script, style or event handler markup (the policy would block it)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from syncadmin import views
from tests.test_url_access import ACCESS, url_arguments

pytestmark = pytest.mark.django_db

UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:")


class InlineCode(HTMLParser):
    """Collects markup that a `script-src 'self'; style-src 'self'` policy blocks."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if "src" not in attributes:
                self.problems.append("inline <script>")
            else:
                self._in_script = True
        if tag == "style":
            self.problems.append("inline <style>")
        for name, raw in attrs:
            value = (raw or "").strip().lower()
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name.startswith("hx-on") or name.startswith("data-hx-on"):
                self.problems.append(f"{name}= (evaluated by htmx) on <{tag}>")
            if name in ("hx-vals", "hx-vars") and (value or "").lstrip().startswith(
                ("js:", "javascript:")
            ):
                self.problems.append(f"{name}= evaluated as JavaScript on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("code inside a <script src=…> element")


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_secure(response, what: str) -> None:
    directives = policy(response)
    for directive in ("default-src", "script-src", "style-src"):
        assert directives.get(directive) == ["'self'"], f"{what}: {directive} {directives}"
    assert directives["object-src"] == ["'none'"], what
    assert directives["frame-ancestors"] == ["'none'"], what
    for directive, sources in directives.items():
        assert not set(sources) & set(UNSAFE), f"{what}: {directive} allows {sources}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("Referrer-Policy") == "same-origin", what
    if response.headers.get("Content-Type", "").startswith("text/html"):
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.problems == [], f"{what}: {parser.problems}"


def test_the_checker_catches_inline_code():
    parser = InlineCode()
    parser.feed(
        '<script>alert(1)</script><p style="color:red" onclick="x()">'
        '<style>p{}</style><div hx-vals=\'js:{"a": b()}\'></div><a href="javascript:x()">'
    )

    assert len(parser.problems) == 6


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_it_sends_a_strict_policy_on_every_page(client, admin_user, norole_user, name):
    args, _expected = ACCESS[name]
    values = url_arguments(user_pk=norole_user.pk)
    if name != "login":
        client.force_login(admin_user)

    response = client.get(reverse(name, args=[values[a] for a in args]))

    assert response.status_code != 500
    assert_secure(response, name)


def test_the_login_page_and_the_error_pages_are_strict_too(client, admin_user, monkeypatch):
    assert_secure(client.get(reverse("login")), "login")
    client.force_login(admin_user)

    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert b"This page does not exist" in not_found.content
    assert_secure(not_found, "404")

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "process_states", broken)
    client.raise_request_exception = False
    error = client.get(reverse("dashboard"))
    assert error.status_code == 500
    assert b"Something went wrong on our side" in error.content
    assert_secure(error, "500")
