"""Marks the core's words for translation without importing Django (the core stays pure).

`gettext_noop` returns its argument unchanged; `makemessages` collects the strings it wraps
into locale/, and the pages translate them where they show them (mapping.page, the templates'
{% translate %}). Values that are stored or compared stay the English source text.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    return message
