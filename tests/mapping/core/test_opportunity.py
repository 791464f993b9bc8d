"""Opportunity schema helpers: AC custom-object field types, ids, the deal-field refusal."""

from __future__ import annotations

import pytest

from connectors.types import FieldType
from mapping.core.compat import conversion
from mapping.core.opportunity import (
    AC_OBJECT_FIELD_TYPES,
    OPPORTUNITY_MAX_FIELDS,
    ac_object_field_types_for,
    deal_field_refusal,
    object_field_id,
    opportunity_fields_problems,
)
from tests.mapping.fields import ac, dv

T = FieldType

EXPECTED_TYPES = {
    T.TEXT: ["text", "textarea"],
    T.LONG_TEXT: ["textarea", "text"],
    T.INTEGER: ["number", "decimal", "currency", "text", "textarea"],
    T.DECIMAL: ["decimal", "currency", "text", "textarea"],
    T.MONEY: ["currency", "decimal", "text", "textarea"],
    T.DATE: ["date", "datetime", "text", "textarea"],
    T.DATETIME: ["datetime", "date", "text", "textarea"],
    T.BOOLEAN: ["dropdown", "text", "textarea"],  # no boolean type in custom objects
    T.CHOICE: ["dropdown", "multiselect", "text", "textarea"],
    T.MULTI_CHOICE: ["multiselect", "text", "textarea"],
    T.EMAIL: ["text", "textarea"],
    T.PHONE: ["text", "textarea"],
    T.URL: ["text", "textarea"],
    T.IDENTIFIER: ["text", "textarea"],
    T.LOOKUP: [],
}


@pytest.mark.parametrize("field_type", list(FieldType))
def test_it_offers_the_ac_object_field_types_a_field_may_become(field_type):
    field = dv(field_type, entity="opportunity")
    offered = ac_object_field_types_for(field)
    assert offered == EXPECTED_TYPES[field_type]
    for ac_type in offered:  # every offer is a rule of the compatibility table
        assert conversion(field_type, AC_OBJECT_FIELD_TYPES[ac_type]) is not None


def test_it_knows_the_ac_object_field_types_of_the_reference():
    assert set(AC_OBJECT_FIELD_TYPES) == {
        "text", "textarea", "number", "decimal", "currency", "date", "datetime", "dropdown",
        "multiselect",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("estimatedvalue", "d365-estimatedvalue"),
        ("estimatedclosedate", "d365-estimatedclosedate"),
        ("new_score", "d365-new-score"),
        ("cr8a1_Tier__Level", "d365-cr8a1-tier-level"),
        (" name ", "d365-name"),
    ],
)
def test_it_makes_stable_slug_ids_for_schema_fields(key, expected):
    assert object_field_id(key) == expected
    assert object_field_id(key) == object_field_id(key)


def test_it_gives_distinct_columns_distinct_ids():
    keys = ["name", "new_name", "newname", "new_name2", "estimatedvalue", "actualvalue"]
    assert len({object_field_id(key) for key in keys}) == len(keys)


@pytest.mark.parametrize("key", ["", "__", "  "])
def test_it_refuses_keys_without_letters_or_digits(key):
    with pytest.raises(ValueError, match="no letters or digits"):
        object_field_id(key)


@pytest.mark.parametrize(
    ("field", "words"),
    [
        (ac(T.MONEY, "value", "Deal value", entity="deal"), "is an ActiveCampaign deal field"),
        (ac(T.TEXT, "5", "Deal region", entity="deal", custom=True), "deal field"),
        (ac(T.TEXT, "12", "Region", entity="contact"), "belongs to ActiveCampaign contacts"),
        (dv(T.TEXT, "name", "Topic", entity="opportunity"), "is not an ActiveCampaign field"),
    ],
)
def test_it_refuses_targets_that_are_not_custom_object_fields(field, words):
    assert words in deal_field_refusal(field)


def test_it_accepts_custom_object_fields_as_targets():
    field = ac(T.MONEY, "d365-estimatedvalue", "Est. revenue", entity="opportunity")
    assert deal_field_refusal(field) is None


def _opportunity_fields(count):
    return [dv(T.TEXT, f"new_f{i}", f"Field {i}", entity="opportunity") for i in range(count)]


def test_it_accepts_up_to_twenty_fields():
    assert OPPORTUNITY_MAX_FIELDS == 20
    assert opportunity_fields_problems(_opportunity_fields(20)) == []


def test_it_lists_what_is_wrong_with_a_selection():
    fields = [
        *_opportunity_fields(19),
        dv(T.LOOKUP, "parentaccountid", "Account", entity="opportunity", vendor_type="Lookup"),
        dv(T.TEXT, "new_f0", "Field 0 again", entity="opportunity"),
        dv(T.TEXT, "firstname", "First name", entity="lead"),
    ]
    assert opportunity_fields_problems(fields) == [
        "At most 20 opportunity fields can be mapped; 22 are selected.",
        "Account cannot be mapped (a Lookup field).",
        "Field 0 again is selected twice.",
        "First name is not a Dynamics 365 opportunity field.",
    ]
