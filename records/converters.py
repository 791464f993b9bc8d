"""The `people` URL segment: /records/leads/ and /records/contacts/ name the entity."""

from __future__ import annotations

SEGMENTS = {"leads": "lead", "contacts": "contact"}


class PeopleConverter:
    regex = "leads|contacts"

    def to_python(self, value: str) -> str:
        return SEGMENTS[value]

    def to_url(self, value: str) -> str:
        # The entity ("lead") or its segment ("leads").
        return value if value in SEGMENTS else f"{value}s"
