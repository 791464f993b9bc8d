"""The compatibility table: every ordered pair of types, pair directions, offered targets."""

from __future__ import annotations

from itertools import product

import pytest

from connectors.types import FieldType
from mapping.core import compat
from mapping.core.compat import (
    ConversionKind,
    compatibility_rows,
    compatible_targets,
    conversion,
    pair_directions,
)
from mapping.core.directions import Direction
from mapping.core.transforms import _CONVERTERS
from tests.mapping.fields import ac, dv

T = FieldType

# The rules of the brief, written out independently of mapping/compat.py.
_SAME_TYPE = {
    T.TEXT,
    T.LONG_TEXT,
    T.INTEGER,
    T.DECIMAL,
    T.MONEY,
    T.DATE,
    T.DATETIME,
    T.BOOLEAN,
    T.CHOICE,
    T.MULTI_CHOICE,
    T.EMAIL,
    T.PHONE,
    T.URL,
}
_INTO_TEXT = {
    T.TEXT,
    T.LONG_TEXT,
    T.INTEGER,
    T.DECIMAL,
    T.MONEY,
    T.DATE,
    T.DATETIME,
    T.BOOLEAN,
    T.CHOICE,
    T.MULTI_CHOICE,
    T.EMAIL,
    T.PHONE,
    T.URL,
    T.IDENTIFIER,
}
ALLOWED = (
    {(t, t) for t in _SAME_TYPE}
    | {(s, T.TEXT) for s in _INTO_TEXT}
    | {(s, T.LONG_TEXT) for s in _INTO_TEXT}
    | {(T.TEXT, T.EMAIL), (T.TEXT, T.PHONE), (T.TEXT, T.URL)}
    | {(T.INTEGER, T.DECIMAL), (T.INTEGER, T.MONEY), (T.DECIMAL, T.MONEY), (T.MONEY, T.DECIMAL)}
    | {(T.DATE, T.DATETIME), (T.DATETIME, T.DATE)}
    | {(T.BOOLEAN, T.CHOICE), (T.CHOICE, T.BOOLEAN)}
    | {(T.CHOICE, T.MULTI_CHOICE)}
)
LOSSY = {(T.LONG_TEXT, T.TEXT), (T.DATETIME, T.DATE)}
VALUE_MAP = {
    (T.CHOICE, T.CHOICE),
    (T.MULTI_CHOICE, T.MULTI_CHOICE),
    (T.BOOLEAN, T.CHOICE),
    (T.CHOICE, T.BOOLEAN),
    (T.CHOICE, T.MULTI_CHOICE),
}
ALL_PAIRS = list(product(FieldType, FieldType))


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=lambda t: str(t))
def test_it_offers_exactly_the_rules_of_the_table(source, target):
    rule = conversion(source, target)
    assert (rule is not None) == ((source, target) in ALLOWED)
    if rule is not None:
        assert rule.lossy == ((source, target) in LOSSY)
        assert rule.needs_value_map == ((source, target) in VALUE_MAP)
        assert rule.note


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (T.TEXT, T.INTEGER),  # text → number/date/… is not offered
        (T.TEXT, T.DECIMAL),
        (T.TEXT, T.DATE),
        (T.TEXT, T.DATETIME),
        (T.TEXT, T.BOOLEAN),
        (T.TEXT, T.CHOICE),
        (T.TEXT, T.MULTI_CHOICE),
        (T.LONG_TEXT, T.EMAIL),
        (T.DECIMAL, T.INTEGER),  # would round
        (T.MONEY, T.INTEGER),
        (T.MULTI_CHOICE, T.CHOICE),  # several options cannot become one
        (T.MULTI_CHOICE, T.BOOLEAN),
        (T.BOOLEAN, T.MULTI_CHOICE),
        (T.BOOLEAN, T.INTEGER),
        (T.EMAIL, T.PHONE),
        (T.EMAIL, T.URL),
        (T.IDENTIFIER, T.IDENTIFIER),  # identifiers only become text
        (T.IDENTIFIER, T.EMAIL),
        (T.LOOKUP, T.LOOKUP),  # lookups only through the standard Account relationship
        (T.LOOKUP, T.TEXT),
        (T.TEXT, T.LOOKUP),
        (T.TEXT, T.IDENTIFIER),
    ],
)
def test_it_refuses_the_pairs_the_rules_leave_out(source, target):
    assert conversion(source, target) is None


def test_it_accepts_type_names_as_strings():
    assert conversion("integer", "decimal") == conversion(T.INTEGER, T.DECIMAL)


def test_it_has_a_transform_for_every_kind_and_uses_every_kind():
    assert set(_CONVERTERS) == set(ConversionKind)
    assert {rule.kind for rule in compat._CONVERSIONS.values()} == set(ConversionKind)


def test_it_documents_the_time_zone_rule_in_the_module_docstring():
    doc = " ".join(compat.__doc__.split())
    assert "UserLocal date-times in UTC" in doc
    assert "DATE → DATETIME is midnight UTC and DATETIME → DATE is the UTC calendar date" in doc


# --- pair_directions ---


@pytest.mark.parametrize(
    ("ac_field", "dynamics_field", "expected"),
    [
        (ac(T.TEXT), dv(T.TEXT), {"push", "pull", "bidirectional"}),
        (ac(T.TEXT, writable=False), dv(T.TEXT), {"pull"}),
        (ac(T.TEXT), dv(T.TEXT, writable=False), {"push"}),
        (ac(T.TEXT, writable=False), dv(T.TEXT, writable=False), set()),
        (ac(T.INTEGER), dv(T.TEXT), {"pull"}),  # INTEGER → TEXT only
        (ac(T.TEXT), dv(T.INTEGER), {"push"}),
        (ac(T.LONG_TEXT), dv(T.TEXT), {"push", "pull", "bidirectional"}),
        (ac(T.TEXT), dv(T.EMAIL), {"push", "pull", "bidirectional"}),
        (ac(T.DECIMAL), dv(T.INTEGER), {"push"}),  # INTEGER → DECIMAL only
        (ac(T.MULTI_CHOICE), dv(T.CHOICE), {"push"}),  # CHOICE → MULTI_CHOICE only
        (ac(T.TEXT), dv(T.IDENTIFIER, writable=False), {"push"}),
        (ac(T.LOOKUP), dv(T.LOOKUP), set()),
        (ac(T.DATE), dv(T.DATETIME), {"push", "pull", "bidirectional"}),
    ],
)
def test_it_says_which_directions_a_pair_supports(ac_field, dynamics_field, expected):
    assert pair_directions(ac_field, dynamics_field) == {Direction(d) for d in expected}


def test_it_refuses_pairs_given_in_the_wrong_order():
    with pytest.raises(ValueError, match="ActiveCampaign field then a Dynamics field"):
        pair_directions(dv(T.TEXT), ac(T.TEXT))


# --- compatible_targets ---

DYNAMICS_FIELDS = [
    dv(T.TEXT, "jobtitle"),
    dv(T.INTEGER, "numberofemployees"),
    dv(T.EMAIL, "emailaddress2"),
    dv(T.LOOKUP, "parentaccountid"),
    dv(T.CHOICE, "leadsourcecode"),
    dv(T.TEXT, "fullname", writable=False),
    dv(T.LONG_TEXT, "description"),
]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (
            Direction.BIDIRECTIONAL,
            {
                "jobtitle": {"push", "pull", "bidirectional"},
                "numberofemployees": {"push"},
                "emailaddress2": {"push", "pull", "bidirectional"},
                "leadsourcecode": {"push"},
                "fullname": {"push"},
                "description": {"push", "pull", "bidirectional"},
            },
        ),
        (
            Direction.PUSH,
            {
                "jobtitle": {"push"},
                "numberofemployees": {"push"},
                "emailaddress2": {"push"},
                "leadsourcecode": {"push"},
                "fullname": {"push"},
                "description": {"push"},
            },
        ),
        (
            Direction.PULL,
            {"jobtitle": {"pull"}, "emailaddress2": {"pull"}, "description": {"pull"}},
        ),
    ],
)
def test_it_offers_only_compatible_targets_for_the_entity_direction(direction, expected):
    offered = compatible_targets(ac(T.TEXT, "firstName"), DYNAMICS_FIELDS, direction)
    assert [target.field.key for target in offered] == list(expected)  # order kept
    for target in offered:
        assert target.directions == {Direction(d) for d in expected[target.field.key]}
        assert (target.push is not None) == (Direction.PUSH in target.directions)
        assert (target.pull is not None) == (Direction.PULL in target.directions)


def test_it_marks_lossy_and_value_map_targets():
    long_text = compatible_targets(ac(T.TEXT), [dv(T.LONG_TEXT)], Direction.BIDIRECTIONAL)[0]
    assert long_text.lossy  # pushing long text into AC text cuts it
    assert long_text.push.kind is ConversionKind.TRUNCATE
    assert not compatible_targets(ac(T.TEXT), [dv(T.TEXT)], Direction.BIDIRECTIONAL)[0].lossy
    # Pulled only, the truncating direction is not part of the pair.
    assert not compatible_targets(ac(T.TEXT), [dv(T.LONG_TEXT)], Direction.PULL)[0].lossy

    choice = compatible_targets(ac(T.CHOICE), [dv(T.CHOICE)], Direction.BIDIRECTIONAL)[0]
    assert choice.needs_value_map
    assert not long_text.needs_value_map


# --- compatibility_rows ---


def test_it_shows_every_rule_once_in_the_rows():
    rows = compatibility_rows()
    shown = []
    for row in rows:
        shown.append((row.source, row.target))
        if row.both_ways and row.source != row.target:
            shown.append((row.target, row.source))
    assert sorted(shown) == sorted(ALLOWED)
    assert len(shown) == len(set(shown))


def test_it_marks_both_way_and_lossy_rows():
    rows = {(row.source, row.target): row for row in compatibility_rows()}
    assert rows[(T.TEXT, T.LONG_TEXT)].both_ways
    assert rows[(T.TEXT, T.LONG_TEXT)].lossy
    assert rows[(T.DATE, T.DATETIME)].lossy
    assert rows[(T.TEXT, T.EMAIL)].both_ways
    assert not rows[(T.INTEGER, T.TEXT)].both_ways
    assert rows[(T.INTEGER, T.TEXT)].reverse_note == ""
    assert not rows[(T.INTEGER, T.DECIMAL)].both_ways
    assert rows[(T.DECIMAL, T.MONEY)].both_ways
    assert not rows[(T.CHOICE, T.MULTI_CHOICE)].both_ways
    assert rows[(T.IDENTIFIER, T.TEXT)].note == "the record id as text"
    assert not rows[(T.INTEGER, T.INTEGER)].lossy
