"""Directions: the flows behind each setting and field-level narrowing (S-3.2, S-3.3)."""

from __future__ import annotations

import pytest

from mapping.core.directions import Direction, effective_direction, field_direction_choices

B, PUSH, PULL = Direction.BIDIRECTIONAL, Direction.PUSH, Direction.PULL


def test_it_names_the_flows_of_each_setting():
    assert B.flows == {PUSH, PULL}
    assert PUSH.flows == {PUSH}
    assert PULL.flows == {PULL}


@pytest.mark.parametrize(
    ("flows", "expected"),
    [({PUSH, PULL}, B), ({PUSH}, PUSH), ({PULL}, PULL), (set(), None), ({B}, B), ({B, PUSH}, B)],
)
def test_it_turns_flows_back_into_a_setting(flows, expected):
    assert Direction.from_flows(frozenset(flows)) is expected


def test_it_labels_the_settings_with_the_vendors_in_order():
    assert B.label == "Bidirectional"
    assert PUSH.label == "Push only (Dynamics 365 → ActiveCampaign)"
    assert PULL.label == "Pull only (ActiveCampaign → Dynamics 365)"
    assert [d.value for d in Direction] == ["bidirectional", "push", "pull"]


@pytest.mark.parametrize(
    ("entity", "field", "expected"),
    [
        (B, B, B),
        (B, PUSH, PUSH),
        (B, PULL, PULL),
        (PUSH, B, PUSH),
        (PUSH, PUSH, PUSH),
        (PUSH, PULL, None),  # left pull-only when the entity became push-only: not synced
        (PULL, B, PULL),
        (PULL, PUSH, None),
        (PULL, PULL, PULL),
    ],
)
def test_it_narrows_a_field_by_its_entity(entity, field, expected):
    assert effective_direction(entity, field) is expected


@pytest.mark.parametrize(
    ("entity", "supported", "expected"),
    [
        (B, {B, PUSH, PULL}, [B, PUSH, PULL]),
        (B, {PUSH}, [PUSH]),
        (B, {PULL}, [PULL]),
        (B, set(), []),
        (PUSH, {B, PUSH, PULL}, [PUSH]),  # only a bidirectional entity lets fields choose
        (PUSH, {PULL}, []),
        (PULL, {B, PUSH, PULL}, [PULL]),
        (PULL, {PUSH}, []),
    ],
)
def test_it_offers_field_directions_only_inside_a_bidirectional_entity(entity, supported, expected):
    assert field_direction_choices(entity, frozenset(supported)) == expected
