"""What the Data configuration page and `syncconfig import` ask for, as plain values.

The page's form and the configuration file are both read into these inputs; the services say
everything wrong with them at once as Problems, each with a path
("lead.mappings.3.dynamics_key") that the page shows next to its row and the importer turns into
the place in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext

from .core.directions import Direction
from .models import EntitySync

# Bounds on what a page or a file may ask for. Criterion values and option pairs are stored as
# JSON, which has no length of its own; keys are bounded by their model fields.
MAX_VALUE_LENGTH = 1000
MAX_CRITERIA = 100
MAX_MAPPINGS = 1000


def text_problem(value: str, *, max_length: int) -> str | None:
    """What is wrong with a piece of text to be stored, in words; None when nothing is.

    PostgreSQL refuses a NUL character in text and in JSON, so it is refused here, with a
    message, rather than there, with an error page.
    """
    if "\x00" in value:
        return gettext("contains a NUL character")
    if len(value) > max_length:
        return gettext("is longer than %(limit)s characters") % {"limit": max_length}
    return None


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CriterionInput:
    field_key: str
    operator: str
    value: object = None  # a string, or a list of strings for "is one of"


@dataclass
class MappingInput:
    ac_key: str
    dynamics_key: str
    standard: bool = False  # one of the entity's standard pairs (S-3.5)
    enabled: bool = True
    direction: str = ""  # "" follows the entity; push/pull narrows (bidirectional entity only)
    # Choice pairs: {"push": {dynamics value: ac value}, "pull": {ac value: dynamics value}}
    value_map: dict = field(default_factory=dict)
    clear_when_blank: bool = False  # a blank on one side clears the other (off: it never does)


@dataclass
class EntityInput:
    entity: str
    enabled: bool = True
    direction: str = Direction.BIDIRECTIONAL.value
    selection: str = EntitySync.Selection.ALL.value
    criteria: list[CriterionInput] = field(default_factory=list)
    mappings: list[MappingInput] = field(default_factory=list)
    conflict_rule: str = EntitySync.ConflictRule.NEWEST.value
    deletion_policy: str = EntitySync.DeletionPolicy.TAG.value


@dataclass
class OpportunityFieldInput:
    dynamics_key: str
    ac_type: str = ""
    required: bool = False
    enabled: bool = True


@dataclass
class OpportunityInput:
    enabled: bool = False
    custom_fields_enabled: bool = False
    fields: list[OpportunityFieldInput] = field(default_factory=list)
