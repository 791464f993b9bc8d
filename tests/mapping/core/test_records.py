"""Record-level decisions (mapping.core.records), table-driven and property-based."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.activecampaign.records import Contact, FieldValue
from connectors.dynamics.records import Row
from connectors.types import FieldType
from mapping.core.criteria import Criterion, Operator
from mapping.core.directions import Direction
from mapping.core.records import (
    RecordChanges,
    Skip,
    SkipReason,
    ac_values,
    convert_pair,
    decode_value,
    dynamics_values,
    dynamics_write_value,
    encode_value,
    fingerprint,
    record_changes,
    same_value,
)
from mapping.core.snapshot import EntityConfig, FieldPair
from tests.mapping.fields import ac, dv, options

T = FieldType
EMAIL = FieldPair(
    ac(T.EMAIL, "email", "Email"), dv(T.EMAIL, "emailaddress1", "Email"), Direction.BIDIRECTIONAL
)
FIRST = FieldPair(
    ac(T.TEXT, "firstName", "First name"),
    dv(T.TEXT, "firstname", "First name"),
    Direction.BIDIRECTIONAL,
)
SCORE = FieldPair(
    ac(T.DECIMAL, "20", "Score", custom=True), dv(T.DECIMAL, "new_score"), Direction.PUSH
)
BORN = FieldPair(ac(T.DATE, "21", "Born", custom=True), dv(T.DATE, "birthdate"), Direction.PULL)
SOURCE = FieldPair(
    ac(T.CHOICE, "22", "Source", custom=True, options=options(("Web", "Web"), ("Fair", "Fair"))),
    dv(T.CHOICE, "leadsourcecode", options=options(("8", "Web"), ("7", "Trade Show"))),
    Direction.BIDIRECTIONAL,
    push_map={"8": "Web", "7": "Fair"},
    pull_map={"Web": "8", "Fair": "7"},
)
TOPICS = FieldPair(
    ac(T.MULTI_CHOICE, "23", "Topics", custom=True, options=options(("a", "A"), ("b", "B"))),
    dv(T.MULTI_CHOICE, "new_topics", options=options(("1", "A"), ("2", "B"))),
    Direction.BIDIRECTIONAL,
    push_map={"1": "a", "2": "b"},
    pull_map={"a": "1", "b": "2"},
)
PAIRS = (EMAIL, FIRST, SCORE, BORN, SOURCE, TOPICS)
ENTITY = EntityConfig(entity="lead", enabled=True, direction=Direction.BIDIRECTIONAL, pairs=PAIRS)


def row(**values) -> Row:
    return Row(table="lead", id="00000000-0000-0000-0000-000000000001", values=values)


def test_it_reads_a_dataverse_row_as_canonical_values():
    values = dynamics_values(
        row(
            emailaddress1="ana@contoso.example",
            firstname="",
            new_score=12.5,
            leadsourcecode=8,
            new_topics="2,1",
        ),
        PAIRS,
    )
    assert values == {
        EMAIL.key: "ana@contoso.example",
        FIRST.key: None,
        SCORE.key: Decimal("12.5"),
        SOURCE.key: "8",
        TOPICS.key: ("1", "2"),
    }  # birthdate was not selected: absent, not None


def test_it_leaves_out_custom_values_an_activecampaign_page_did_not_load():
    contact = Contact(
        id="5",
        email="ana@contoso.example",
        field_values=(FieldValue("22", "Web", "Web"),),
        field_values_loaded=True,
    )
    assert ac_values(contact, PAIRS)[SOURCE.key] == "Web"
    assert ac_values(contact, PAIRS)[SCORE.key] is None  # loaded, empty
    object.__setattr__(contact, "field_values_loaded", False)
    assert set(ac_values(contact, PAIRS)) == {EMAIL.key, FIRST.key}


def test_it_pushes_only_the_fields_that_flow_that_way():
    values = {
        EMAIL.key: "ana@contoso.example",
        SCORE.key: Decimal(3),
        BORN.key: date(1990, 1, 2),
        SOURCE.key: "7",
    }
    changes = record_changes(values, ENTITY, Direction.PUSH)
    assert changes == RecordChanges(
        values={"email": "ana@contoso.example", "20": Decimal(3), "22": "Fair"}
    )


def test_it_never_sends_a_blank_unless_the_mapping_clears():
    values = {EMAIL.key: "ana@contoso.example", FIRST.key: None}
    assert record_changes(values, ENTITY, Direction.PUSH).values == {"email": "ana@contoso.example"}
    clearing = FieldPair(FIRST.ac, FIRST.dynamics, FIRST.direction, clear_when_blank=True)
    entity = EntityConfig("lead", True, Direction.BIDIRECTIONAL, pairs=(EMAIL, clearing))
    assert record_changes(values, entity, Direction.PUSH).clears == {"firstName"}


def test_it_says_why_a_record_is_skipped():
    base = {EMAIL.key: "ana@contoso.example"}
    off = EntityConfig("lead", False, Direction.BIDIRECTIONAL, pairs=PAIRS)
    push_only = EntityConfig("lead", True, Direction.PUSH, pairs=PAIRS)
    assert record_changes(base, off, Direction.PUSH) == Skip(SkipReason.ENTITY_OFF)
    assert record_changes(base, push_only, Direction.PULL) == Skip(SkipReason.DIRECTION)
    assert record_changes({EMAIL.key: None}, ENTITY, Direction.PUSH).reason is SkipReason.NO_EMAIL
    bad = record_changes({**base, SOURCE.key: "3"}, ENTITY, Direction.PUSH)
    assert bad.reason is SkipReason.INCOMPATIBLE_VALUE and "not paired" in bad.detail
    bad_email = record_changes({EMAIL.key: "not an address"}, ENTITY, Direction.PUSH)
    assert bad_email.reason is SkipReason.INCOMPATIBLE_VALUE


def test_it_applies_criteria_to_pushes_and_to_the_record_a_pull_would_make():
    web_only = EntityConfig(
        "lead",
        True,
        Direction.BIDIRECTIONAL,
        criteria=(Criterion("leadsourcecode", Operator.IS, "8"),),
        pairs=PAIRS,
        criteria_fields=(SOURCE.dynamics,),
    )
    values = {EMAIL.key: "ana@contoso.example", SOURCE.key: "7"}
    pushed = record_changes(
        values, web_only, Direction.PUSH, criteria_values={"leadsourcecode": "7"}
    )
    assert pushed == Skip(SkipReason.CRITERIA)
    pulled = record_changes({**values, SOURCE.key: "Web"}, web_only, Direction.PULL)
    assert isinstance(pulled, RecordChanges) and pulled.values["leadsourcecode"] == "8"
    assert record_changes(values | {SOURCE.key: "Fair"}, web_only, Direction.PULL) == Skip(
        SkipReason.CRITERIA
    )


def test_it_writes_choices_to_dataverse_as_integers():
    assert dynamics_write_value(SOURCE.dynamics, "8") == 8
    assert dynamics_write_value(TOPICS.dynamics, ("2", "1")) == (1, 2)


# -- properties ---------------------------------------------------------------------------------

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
decimals = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False)
dates = st.dates(min_value=date(1753, 1, 1), max_value=date(9999, 12, 31))
datetimes = st.datetimes(
    min_value=datetime(1753, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)
TWO_WAY = [
    (FieldPair(ac(T.TEXT, "30"), dv(T.TEXT, "new_a"), Direction.BIDIRECTIONAL), texts),
    (FieldPair(ac(T.DECIMAL, "31"), dv(T.DECIMAL, "new_b"), Direction.BIDIRECTIONAL), decimals),
    (FieldPair(ac(T.DATE, "32"), dv(T.DATE, "new_c"), Direction.BIDIRECTIONAL), dates),
    (FieldPair(ac(T.DATETIME, "33"), dv(T.DATETIME, "new_d"), Direction.BIDIRECTIONAL), datetimes),
    (SOURCE, st.sampled_from(["8", "7"])),
    (TOPICS, st.lists(st.sampled_from(["1", "2"]), unique=True).map(lambda v: tuple(sorted(v)))),
]
CANONICAL = {
    T.TEXT: str,
    T.EMAIL: str,
    T.DECIMAL: Decimal,
    T.DATE: date,
    T.DATETIME: datetime,
    T.CHOICE: str,
    T.MULTI_CHOICE: tuple,
}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(range(len(TWO_WAY))).flatmap(lambda i: st.tuples(st.just(i), TWO_WAY[i][1])))
def test_it_brings_a_value_pushed_then_pulled_back_unchanged(case):
    index, value = case
    pair = TWO_WAY[index][0]
    there = convert_pair(pair, value, Direction.PUSH)
    back = convert_pair(pair, there, Direction.PULL)
    assert same_value(back, value)
    # …and it survives being stored as a link's base.
    assert same_value(decode_value(encode_value(value), pair.dynamics.type), value)
    assert fingerprint({"k": value}) == fingerprint({"k": back})


@settings(max_examples=200, deadline=None)
@given(
    values=st.fixed_dictionaries(
        {EMAIL.key: st.just("ana@contoso.example")},
        optional={
            FIRST.key: st.none() | texts,
            SCORE.key: st.none() | decimals,
            BORN.key: st.none() | dates,
            SOURCE.key: st.none() | st.sampled_from(["8", "7", "3"]),
            TOPICS.key: st.none() | st.just(("1",)),
        },
    ),
    flow=st.sampled_from([Direction.PUSH, Direction.PULL]),
    entity_direction=st.sampled_from(list(Direction)),
)
def test_it_obeys_field_directions_and_produces_only_values_of_the_target_type(
    values, flow, entity_direction
):
    entity = EntityConfig("lead", True, entity_direction, pairs=PAIRS)
    if flow is Direction.PULL:  # pulled values are AC values
        values = {key: _to_ac(key, value) for key, value in values.items()}
    result = record_changes(values, entity, flow)
    if flow not in entity_direction.flows:
        assert result == Skip(SkipReason.DIRECTION)
        return
    if isinstance(result, Skip):
        return
    targets = {(pair.ac if flow is Direction.PUSH else pair.dynamics).key: pair for pair in PAIRS}
    for key, value in result.values.items():
        pair = targets[key]
        assert flow in pair.direction.flows  # never against a field's direction
        target = pair.ac if flow is Direction.PUSH else pair.dynamics
        assert isinstance(value, CANONICAL[target.type])
        if target.options:
            wanted = value if isinstance(value, tuple) else (value,)
            assert set(wanted) <= {option.value for option in target.options}


def _to_ac(key, value):
    if value is None:
        return None
    pair = next(pair for pair in PAIRS if pair.key == key)
    try:
        return convert_pair(pair, value, Direction.PUSH)
    except Exception:
        return None


@settings(max_examples=200, deadline=None)
@given(source=st.sampled_from(["8", "7", None]), wanted=st.sampled_from(["8", "7"]))
def test_it_never_pushes_a_record_the_criteria_leave_out(source, wanted):
    entity = EntityConfig(
        "lead",
        True,
        Direction.BIDIRECTIONAL,
        criteria=(Criterion("leadsourcecode", Operator.IS, wanted),),
        pairs=PAIRS,
        criteria_fields=(SOURCE.dynamics,),
    )
    values = {EMAIL.key: "ana@contoso.example", SOURCE.key: source}
    result = record_changes(
        values, entity, Direction.PUSH, criteria_values={"leadsourcecode": source}
    )
    assert isinstance(result, RecordChanges) == (source == wanted)
