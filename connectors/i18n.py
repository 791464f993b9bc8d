"""Translation of the words connectors give to people (connectors.errors.user_message, the
connection checks), without tying the API clients to Django.

The words are English source text, marked for the catalogue (makemessages finds `gettext` and
`gettext_noop`). A program that uses the clients alone gets the English. In syncadmin,
ConnectorsConfig.ready() installs Django's gettext, so a message comes out in the language of
the request (a worker's default is English) — the same plain-callback shape as the API-call
observer of connectors.http.
"""

from __future__ import annotations

from collections.abc import Callable

_translate: Callable[[str], str] = str


def translator_set(translate: Callable[[str], str]) -> None:
    """Have every later message translated by `translate` (Django's gettext in syncadmin)."""
    global _translate
    _translate = translate


def gettext(message: str) -> str:
    return _translate(message)


def gettext_noop(message: str) -> str:
    """Marks a string for the catalogue where it is translated later, with gettext()."""
    return message
