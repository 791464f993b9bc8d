"""The body of an ActiveCampaign webhook: form-encoded, PHP-style bracket keys.

ActiveCampaign POSTs `application/x-www-form-urlencoded` with keys such as `contact[email]`
and `contact[fields][d365_id]`, one event per request
(https://developers.activecampaign.com/page/webhooks; the field list per event is only
rendered by a secondary source, AE's asyncapi file, so nothing here depends on more than
`type` and the `contact[...]` block). Pure: no Django, no HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from dataclasses import dataclass

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000
MAX_VALUE = 100_000  # characters of one value
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EVENT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class PayloadError(ValueError):
    """The body is not a webhook delivery we can act on (answered 400, nothing stored)."""


@dataclass(frozen=True)
class Delivery:
    """What a webhook body says, checked."""

    event: str  # `type`: update, subscribe, contact_tag_added…
    contact_id: str  # contact[id], "" when the body names only an e-mail
    email: str  # contact[email], lower case, "" when the body names only an id
    form: dict  # the whole body, brackets unfolded into nested dicts
    dedupe_key: str


def parse(body: bytes, content_type: str, *, entity: str = "") -> Delivery:
    """Check and unfold a webhook body; PayloadError says what is wrong with it."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise PayloadError(f"expected {FORM_TYPE}, got {media_type or 'no content type'}")
    try:
        text = body.decode("utf-8")
        pairs = urllib.parse.parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"not a form-encoded body: {error}") from None
    form = unfold(pairs)
    event = form.get("type")
    if not isinstance(event, str) or not _EVENT.match(event):
        raise PayloadError("no event `type`")
    contact = form.get("contact")
    if not isinstance(contact, dict):
        raise PayloadError("no contact[...] fields: this endpoint acts on contacts")
    contact_id = contact.get("id", "")
    email = contact.get("email", "")
    if not isinstance(contact_id, str) or not isinstance(email, str):
        raise PayloadError("contact[id] and contact[email] must be single values")
    contact_id, email = contact_id.strip(), email.strip().lower()
    if contact_id and not (contact_id.isascii() and contact_id.isdigit() and len(contact_id) < 20):
        raise PayloadError("contact[id] is not an ActiveCampaign id")
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise PayloadError("contact[email] is not an e-mail address")
    if not contact_id and not email:
        raise PayloadError("neither contact[id] nor contact[email]")
    return Delivery(
        event=event,
        contact_id=contact_id,
        email=email,
        form=form,
        dedupe_key=dedupe_key(pairs, entity=entity),
    )


def unfold(pairs: list[tuple[str, str]]) -> dict:
    """`contact[fields][x]=1` → {"contact": {"fields": {"x": "1"}}}; `tags[]` appends."""
    form: dict = {}
    for key, value in pairs:
        if len(value) > MAX_VALUE:
            raise PayloadError(f"the value of {key[:40]!r} is too long")
        match = _KEY.match(key)
        if match is None:
            raise PayloadError(f"malformed key {key[:40]!r}")
        path = [match.group(1), *_PART.findall(match.group(2))]
        node = form
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if part == "":
                # `name[]`: a list; only as the last part (PHP would number nested ones).
                if not last or not isinstance(node, list):
                    raise PayloadError(f"malformed key {key[:40]!r}")
                node.append(value)
                break
            if not isinstance(node, dict):
                raise PayloadError(f"key {key[:40]!r} mixes a list and fields")
            if last:
                if part in node and not isinstance(node[part], str):
                    raise PayloadError(f"key {key[:40]!r} is both a value and fields")
                node[part] = value
                break
            following = path[depth + 1]
            child = node.setdefault(part, [] if following == "" else {})
            if isinstance(child, str) or isinstance(child, list) != (following == ""):
                raise PayloadError(f"key {key[:40]!r} is both a value and fields")
            node = child
    return form


def dedupe_key(pairs: list[tuple[str, str]], *, entity: str = "") -> str:
    """The same delivery made twice has the same key (order of the fields aside)."""
    canonical = json.dumps([entity, sorted(pairs)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
