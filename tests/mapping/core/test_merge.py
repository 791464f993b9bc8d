"""The three-way merge of a linked record (mapping.core.merge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.types import FieldType
from mapping.core.directions import Direction
from mapping.core.merge import ACTIVECAMPAIGN, DYNAMICS, merge_record
from mapping.core.records import convert_pair, same_value
from mapping.core.snapshot import ConflictRule, EntityConfig, FieldPair
from tests.mapping.fields import ac, dv

T = FieldType
NAME = FieldPair(
    ac(T.TEXT, "firstName"), dv(T.TEXT, "firstname", "First name"), Direction.BIDIRECTIONAL
)
CITY = FieldPair(ac(T.TEXT, "40"), dv(T.TEXT, "address1_city", "City"), Direction.PUSH)
NOTE = FieldPair(ac(T.TEXT, "41"), dv(T.TEXT, "new_note", "Note"), Direction.PULL)
PAIRS = (NAME, CITY, NOTE)
EARLY = datetime(2025, 1, 1, tzinfo=UTC)
LATE = EARLY + timedelta(hours=1)


def entity(rule: ConflictRule = ConflictRule.NEWEST, pairs=PAIRS) -> EntityConfig:
    return EntityConfig("contact", True, Direction.BIDIRECTIONAL, pairs=pairs, conflict_rule=rule)


def base(value="Ana"):
    return {NAME.key: value, CITY.key: "Lyon", NOTE.key: "x"}


def test_it_copies_a_change_made_on_one_side():
    result = merge_record(
        entity(), base_dynamics=base(), base_ac=base(), dynamics={NAME.key: "Anna"}, ac=None
    )
    assert result.ac_writes == {"firstName": "Anna"} and result.dynamics_writes == {}
    assert result.base_ac[NAME.key] == "Anna" and result.base_dynamics[NAME.key] == "Anna"


def test_it_writes_nothing_when_nothing_changed_or_both_sides_agree():
    same = merge_record(entity(), base_dynamics=base(), base_ac=base(), dynamics=base(), ac=base())
    assert not same.writes_anything and not same.conflicts
    agreed = merge_record(
        entity(),
        base_dynamics=base(),
        base_ac=base(),
        dynamics=base("Anna"),
        ac=base("Anna"),
    )
    assert not agreed.writes_anything and not agreed.conflicts


def test_it_decides_a_conflict_by_the_rule_and_records_both_values():
    args = {
        "base_dynamics": base(),
        "base_ac": base(),
        "dynamics": base("Dina"),
        "ac": base("Acey"),
        "dynamics_changed_at": EARLY,
        "ac_changed_at": LATE,
    }
    newest = merge_record(entity(), **args)
    assert newest.dynamics_writes == {"firstname": "Acey"}
    assert newest.conflicts[0].dynamics_value == "Dina"
    assert newest.conflicts[0].ac_value == "Acey"
    assert newest.conflicts[0].winner == ACTIVECAMPAIGN
    dynamics_wins = merge_record(entity(ConflictRule.DYNAMICS), **args)
    assert dynamics_wins.ac_writes == {"firstName": "Dina"}
    assert dynamics_wins.conflicts[0].winner == DYNAMICS


def test_it_never_lets_a_blank_overwrite_a_value():
    result = merge_record(
        entity(), base_dynamics=base(), base_ac=base(), dynamics=base(None), ac=None
    )
    assert result.ac_writes == {}
    clearing = FieldPair(NAME.ac, NAME.dynamics, NAME.direction, clear_when_blank=True)
    cleared = merge_record(
        entity(pairs=(clearing,)),
        base_dynamics=base(),
        base_ac=base(),
        dynamics={NAME.key: None},
        ac=None,
    )
    assert cleared.ac_writes == {"firstName": None}


def test_it_counts_a_value_that_was_not_loaded_as_unchanged():
    result = merge_record(
        entity(), base_dynamics=base(), base_ac=base(), dynamics=None, ac={CITY.key: "Lyon"}
    )
    assert not result.writes_anything


values = st.one_of(st.none(), st.sampled_from(["Ana", "Anna", "Bo", ""]))
side = st.fixed_dictionaries({}, optional={pair.key: values for pair in PAIRS})


@settings(max_examples=300, deadline=None)
@given(
    base_dv=side,
    base_ac=side,
    dv_now=st.none() | side,
    ac_now=st.none() | side,
    rule=st.sampled_from(list(ConflictRule)),
    dv_at=st.sampled_from([EARLY, LATE, None]),
    ac_at=st.sampled_from([EARLY, LATE, None]),
)
def test_it_never_echoes_and_never_writes_against_a_field_direction(
    base_dv, base_ac, dv_now, ac_now, rule, dv_at, ac_at
):
    result = merge_record(
        entity(rule),
        base_dynamics=base_dv,
        base_ac=base_ac,
        dynamics=dv_now,
        ac=ac_now,
        dynamics_changed_at=dv_at,
        ac_changed_at=ac_at,
    )
    for pair in PAIRS:
        current_ac = (ac_now or {}).get(pair.key, base_ac.get(pair.key))
        current_dv = (dv_now or {}).get(pair.key, base_dv.get(pair.key))
        if pair.ac.key in result.ac_writes:
            assert pair.pushes
            assert not same_value(result.ac_writes[pair.ac.key], current_ac)  # no echo
            assert result.ac_writes[pair.ac.key] is not None or current_ac is None
        if pair.dynamics.key in result.dynamics_writes:
            assert pair.pulls
            assert not same_value(result.dynamics_writes[pair.dynamics.key], current_dv)
    # Merging again with what the sides now hold writes nothing (a link stores a base for
    # every pair on both sides).
    if set(base_dv) != set(base_ac):
        return
    again = merge_record(
        entity(rule),
        base_dynamics=result.base_dynamics,
        base_ac=result.base_ac,
        dynamics=result.base_dynamics,
        ac=result.base_ac,
    )
    assert not again.writes_anything


@settings(max_examples=100, deadline=None)
@given(new=st.sampled_from(["Ana", "Anna", "Bo"]))
def test_it_converges_a_two_way_field_changed_on_one_side(new):
    result = merge_record(
        entity(), base_dynamics=base(), base_ac=base(), dynamics=None, ac={NAME.key: new}
    )
    assert same_value(
        convert_pair(NAME, result.base_ac[NAME.key], Direction.PULL),
        result.base_dynamics[NAME.key],
    )
