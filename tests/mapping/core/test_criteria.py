"""Record selection criteria: operators per type, value parsing, evaluation, descriptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.types import FieldType
from mapping.core.criteria import (
    Arity,
    Criterion,
    CriterionError,
    Operator,
    criteria_match,
    criterion_describe,
    criterion_parse,
    criterion_raw_value,
    operators_for,
)
from tests.mapping.fields import AC_INTERESTS, LEAD_SOURCE, dv

T = FieldType
O = Operator  # noqa: E741
CEST = timezone(timedelta(hours=2))

TEXT_OPS = ["equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with",
            "is_empty", "is_not_empty"]  # fmt: skip
ORDERED_OPS = ["equals", "not_equals", "greater_than", "at_least", "less_than", "at_most",
               "is_empty", "is_not_empty"]  # fmt: skip
EXPECTED_OPERATORS = {
    T.TEXT: TEXT_OPS,
    T.LONG_TEXT: TEXT_OPS,
    T.EMAIL: TEXT_OPS,
    T.PHONE: TEXT_OPS,
    T.URL: TEXT_OPS,
    T.INTEGER: ORDERED_OPS,
    T.DECIMAL: ORDERED_OPS,
    T.MONEY: ORDERED_OPS,
    T.DATE: ORDERED_OPS,
    T.DATETIME: ORDERED_OPS,
    T.CHOICE: ["is", "is_not", "in", "is_empty", "is_not_empty"],
    T.MULTI_CHOICE: ["contains_any", "is_empty", "is_not_empty"],
    T.BOOLEAN: ["is_yes", "is_no"],
    T.LOOKUP: ["is_empty", "is_not_empty"],
    T.IDENTIFIER: [],  # a record id is always set
}


@pytest.mark.parametrize("field_type", list(FieldType))
def test_it_offers_the_operators_of_each_type(field_type):
    assert [str(op) for op in operators_for(dv(field_type))] == EXPECTED_OPERATORS[field_type]


@pytest.mark.parametrize(
    ("operator", "label", "arity"),
    [
        (O.EQUALS, "equals", Arity.ONE),
        (O.NOT_EQUALS, "not equals", Arity.ONE),
        (O.CONTAINS, "contains", Arity.ONE),
        (O.NOT_CONTAINS, "does not contain", Arity.ONE),
        (O.STARTS_WITH, "starts with", Arity.ONE),
        (O.ENDS_WITH, "ends with", Arity.ONE),
        (O.GREATER_THAN, "greater than", Arity.ONE),
        (O.AT_LEAST, "at least", Arity.ONE),
        (O.LESS_THAN, "less than", Arity.ONE),
        (O.AT_MOST, "at most", Arity.ONE),
        (O.IS, "is", Arity.ONE),
        (O.IS_NOT, "is not", Arity.ONE),
        (O.IN, "is one of", Arity.LIST),
        (O.CONTAINS_ANY, "contains any of", Arity.LIST),
        (O.IS_YES, "is yes", Arity.NONE),
        (O.IS_NO, "is no", Arity.NONE),
        (O.IS_EMPTY, "is empty", Arity.NONE),
        (O.IS_NOT_EMPTY, "is not empty", Arity.NONE),
    ],
)
def test_it_labels_every_operator_and_says_what_it_takes(operator, label, arity):
    assert operator.label == label
    assert operator.arity is arity


def test_it_offers_every_operator_for_some_type():
    offered = {op for field_type in FieldType for op in operators_for(dv(field_type))}
    assert offered == set(Operator)


# --- parsing ---

EMPLOYEES = dv(T.INTEGER, "numberofemployees", "Employees")
REVENUE = dv(T.MONEY, "revenue", "Revenue")
SCORE = dv(T.DECIMAL, "new_score", "Score")
CLOSE_DATE = dv(T.DATE, "estimatedclosedate", "Est. close")
CREATED = dv(T.DATETIME, "createdon", "Created on")
FIRST_NAME = dv(T.TEXT, "firstname", "First name")
EMAIL = dv(T.EMAIL, "emailaddress1", "Email")
DO_NOT_EMAIL = dv(T.BOOLEAN, "donotemail", "Do not email")
PARENT = dv(T.LOOKUP, "parentaccountid", "Parent account")


@pytest.mark.parametrize(
    ("field", "operator", "raw", "expected"),
    [
        (FIRST_NAME, "contains", "  an ", "an"),
        (EMAIL, "ends_with", "@contoso.com", "@contoso.com"),
        (EMPLOYEES, "at_least", "250", 250),
        (EMPLOYEES, "less_than", "-3", -3),
        (EMPLOYEES, "equals", "+5", 5),
        (EMPLOYEES, "equals", ["7"], 7),  # a one-element list is one value
        (REVENUE, "greater_than", "1250.50", Decimal("1250.50")),
        (SCORE, "at_most", ".5", Decimal("0.5")),
        (SCORE, "equals", "5.", Decimal("5")),
        (SCORE, "equals", "-0.25", Decimal("-0.25")),
        (CLOSE_DATE, "at_most", "2024-05-31", date(2024, 5, 31)),
        (CLOSE_DATE, "equals", "2024-02-29", date(2024, 2, 29)),
        (CREATED, "greater_than", "2024-05-31T14:30", datetime(2024, 5, 31, 14, 30, tzinfo=UTC)),
        (
            CREATED,
            "greater_than",
            "2024-05-31T14:30+02:00",
            datetime(2024, 5, 31, 12, 30, tzinfo=UTC),
        ),
        (
            CREATED,
            "less_than",
            "2024-05-31T14:30:15Z",
            datetime(2024, 5, 31, 14, 30, 15, tzinfo=UTC),
        ),
        (CREATED, "less_than", "2024-05-31 09:00-05:00", datetime(2024, 5, 31, 14, tzinfo=UTC)),
        (CREATED, "at_least", "2024-05-31", datetime(2024, 5, 31, tzinfo=UTC)),
        # Choices: by value, or by label (any case) stored as the value.
        (LEAD_SOURCE, "is", "8", "8"),
        (LEAD_SOURCE, "is", "web", "8"),
        (LEAD_SOURCE, "is_not", " Trade Show ", "7"),
        (LEAD_SOURCE, "in", ["Web", "2", "web"], ("2", "8")),  # sorted, no duplicates
        (LEAD_SOURCE, "in", "Partner", ("4",)),
        (LEAD_SOURCE, "in", ["Partner", " "], ("4",)),
        (AC_INTERESTS, "contains_any", ["events", "Webinar"], ("Events", "Webinar")),
        # Operators without a value ignore what the form sent.
        (FIRST_NAME, "is_empty", "left over", None),
        (DO_NOT_EMAIL, "is_yes", "", None),
        (PARENT, "is_not_empty", [], None),
    ],
)
def test_it_parses_values_into_the_fields_type(field, operator, raw, expected):
    criterion = criterion_parse(field, operator, raw)
    assert criterion == Criterion(field.key, Operator(operator), expected)
    assert type(criterion.value) is type(expected)


@pytest.mark.parametrize(
    ("field", "operator", "raw", "message"),
    [
        (FIRST_NAME, "like", "x", "“like” is not a known operator."),
        (EMPLOYEES, "contains", "1", "“contains” cannot be used with Employees."),
        (LEAD_SOURCE, "equals", "8", "“equals” cannot be used with Lead source."),
        (dv(T.IDENTIFIER, label="Lead"), "is_empty", "", "“is empty” cannot be used with Lead."),
        (FIRST_NAME, "equals", "", "Enter one value for First name."),
        (FIRST_NAME, "equals", "   ", "Enter one value for First name."),
        (FIRST_NAME, "equals", ["a", "b"], "Enter one value for First name."),
        (EMPLOYEES, "equals", "2.5", "Employees: enter a whole number, like 250."),
        (EMPLOYEES, "equals", "1e3", "whole number"),
        (EMPLOYEES, "equals", "1_000", "whole number"),
        (EMPLOYEES, "equals", "ten", "whole number"),
        (REVENUE, "equals", "1,5", "Revenue: enter a number, like 1250.50."),
        (REVENUE, "equals", "NaN", "enter a number"),
        (REVENUE, "equals", "1e3", "enter a number"),
        (REVENUE, "equals", "€12", "enter a number"),
        (CLOSE_DATE, "equals", "31/05/2024", "Est. close: enter a date as YYYY-MM-DD"),
        (CLOSE_DATE, "equals", "2024-02-30", "YYYY-MM-DD"),
        (CLOSE_DATE, "equals", "2024-5-31", "YYYY-MM-DD"),
        (CLOSE_DATE, "equals", "2024-05-31T10:00", "YYYY-MM-DD"),
        (CREATED, "equals", "yesterday", "Created on: enter a date and time in ISO 8601"),
        (CREATED, "equals", "5/31/2024 14:30", "ISO 8601"),
        (CREATED, "equals", "2024-05-31T25:00", "ISO 8601"),
        (LEAD_SOURCE, "is", "Website", "Lead source: “Website” is not one of its options."),
        (LEAD_SOURCE, "in", [], "Pick at least one option of Lead source."),
        (LEAD_SOURCE, "in", ["", "  "], "Pick at least one option"),
        (LEAD_SOURCE, "in", ["Web", "Fax"], "“Fax” is not one of its options"),
        (LEAD_SOURCE, "in", "Web, Partner", "“Web, Partner” is not one of its options"),
        (AC_INTERESTS, "contains_any", ["Sports"], "“Sports” is not one of its options"),
    ],
)
def test_it_explains_what_is_wrong_with_a_row(field, operator, raw, message):
    with pytest.raises(CriterionError) as caught:
        criterion_parse(field, operator, raw)
    assert message in caught.value.message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("field", "operator", "raw"),
    [
        (FIRST_NAME, "contains", "an"),
        (EMPLOYEES, "at_least", "250"),
        (REVENUE, "greater_than", "1250.50"),
        (CLOSE_DATE, "at_most", "2024-05-31"),
        (CREATED, "greater_than", "2024-05-31T14:30+02:00"),
        (LEAD_SOURCE, "is", "Web"),
        (LEAD_SOURCE, "in", ["Web", "Partner"]),
        (AC_INTERESTS, "contains_any", ["Events"]),
        (DO_NOT_EMAIL, "is_no", ""),
    ],
)
def test_it_reads_back_the_raw_value_it_gives_for_storage(field, operator, raw):
    criterion = criterion_parse(field, operator, raw)
    assert criterion_parse(field, operator, criterion_raw_value(criterion)) == criterion


def test_it_gives_raw_values_in_the_parse_formats():
    created = criterion_parse(CREATED, "greater_than", "2024-05-31T14:30+02:00")
    assert criterion_raw_value(created) == "2024-05-31T12:30:00Z"
    assert criterion_raw_value(criterion_parse(LEAD_SOURCE, "in", ["Web", "Partner"])) == [
        "4",
        "8",
    ]
    assert criterion_raw_value(criterion_parse(FIRST_NAME, "is_empty", "")) == ""


# --- evaluation ---


def _c(field, operator, raw=""):
    return criterion_parse(field, operator, raw)


MATCHES = [
    # Text: case-insensitive, like Dataverse.
    (_c(FIRST_NAME, "equals", "Ana"), "ana", True),
    (_c(FIRST_NAME, "equals", "Ana"), "Anabel", False),
    (_c(FIRST_NAME, "equals", "Ana"), None, False),
    (_c(FIRST_NAME, "not_equals", "Ana"), "ANA", False),
    (_c(FIRST_NAME, "not_equals", "Ana"), "Bob", True),
    (_c(FIRST_NAME, "not_equals", "Ana"), None, True),  # empty is "not Ana"
    (_c(FIRST_NAME, "contains", "NA"), "Ana", True),
    (_c(FIRST_NAME, "contains", "x"), "Ana", False),
    (_c(FIRST_NAME, "contains", "a"), "", False),
    (_c(FIRST_NAME, "not_contains", "x"), "Ana", True),
    (_c(FIRST_NAME, "not_contains", "a"), "Ana", False),
    (_c(FIRST_NAME, "not_contains", "a"), None, True),
    (_c(FIRST_NAME, "starts_with", "an"), "Ana", True),
    (_c(FIRST_NAME, "starts_with", "na"), "Ana", False),
    (_c(FIRST_NAME, "starts_with", "an"), None, False),
    (_c(EMAIL, "ends_with", "@Contoso.com"), "ana@CONTOSO.COM", True),
    (_c(EMAIL, "ends_with", "@contoso.com"), "ana@contoso.com.evil", False),
    (_c(FIRST_NAME, "equals", "straße"), "STRASSE", True),  # casefold, not lower
    # Numbers.
    (_c(EMPLOYEES, "greater_than", "10"), 11, True),
    (_c(EMPLOYEES, "greater_than", "10"), 10, False),
    (_c(EMPLOYEES, "greater_than", "10"), None, False),
    (_c(EMPLOYEES, "at_least", "10"), 10, True),
    (_c(EMPLOYEES, "at_least", "10"), 9, False),
    (_c(EMPLOYEES, "less_than", "10"), 9, True),
    (_c(EMPLOYEES, "less_than", "10"), 10, False),
    (_c(EMPLOYEES, "at_most", "10"), 10, True),
    (_c(EMPLOYEES, "at_most", "10"), 11, False),
    (_c(EMPLOYEES, "at_most", "10"), None, False),
    (_c(EMPLOYEES, "equals", "10"), 10, True),
    (_c(EMPLOYEES, "not_equals", "10"), 10, False),
    (_c(EMPLOYEES, "not_equals", "10"), None, True),
    (_c(REVENUE, "equals", "10"), Decimal("10.00"), True),
    (_c(REVENUE, "greater_than", "1250.50"), Decimal("1250.51"), True),
    (_c(REVENUE, "greater_than", "1250.50"), Decimal("1250.50"), False),
    (_c(SCORE, "less_than", "0.5"), Decimal("-1"), True),
    # Dates and date-times (instants compared across offsets).
    (_c(CLOSE_DATE, "at_most", "2024-05-31"), date(2024, 5, 31), True),
    (_c(CLOSE_DATE, "at_most", "2024-05-31"), date(2024, 6, 1), False),
    (_c(CLOSE_DATE, "greater_than", "2024-05-31"), date(2024, 6, 1), True),
    (_c(CLOSE_DATE, "equals", "2024-05-31"), date(2024, 5, 31), True),
    (_c(CLOSE_DATE, "less_than", "2024-05-31"), None, False),
    (
        _c(CREATED, "greater_than", "2024-05-31T12:00Z"),
        datetime(2024, 5, 31, 14, 1, tzinfo=CEST),
        True,
    ),
    (
        _c(CREATED, "greater_than", "2024-05-31T12:00Z"),
        datetime(2024, 5, 31, 14, 0, tzinfo=CEST),
        False,
    ),
    (_c(CREATED, "at_least", "2024-05-31T12:00Z"), datetime(2024, 5, 31, 14, 0, tzinfo=CEST), True),
    (_c(CREATED, "equals", "2024-05-31T14:00+02:00"), datetime(2024, 5, 31, 12, tzinfo=UTC), True),
    # Choices.
    (_c(LEAD_SOURCE, "is", "Web"), "8", True),
    (_c(LEAD_SOURCE, "is", "Web"), "4", False),
    (_c(LEAD_SOURCE, "is", "Web"), None, False),
    (_c(LEAD_SOURCE, "is_not", "Web"), "4", True),
    (_c(LEAD_SOURCE, "is_not", "Web"), "8", False),
    (_c(LEAD_SOURCE, "is_not", "Web"), None, True),
    (_c(LEAD_SOURCE, "in", ["Web", "Partner"]), "4", True),
    (_c(LEAD_SOURCE, "in", ["Web", "Partner"]), "1", False),
    (_c(LEAD_SOURCE, "in", ["Web", "Partner"]), None, False),
    # Multi choice.
    (_c(AC_INTERESTS, "contains_any", ["Webinar", "Events"]), ("Events", "Newsletter"), True),
    (_c(AC_INTERESTS, "contains_any", ["Webinar"]), ("Events", "Newsletter"), False),
    (_c(AC_INTERESTS, "contains_any", ["Webinar"]), (), False),
    (_c(AC_INTERESTS, "contains_any", ["Webinar"]), None, False),
    # Booleans: empty is neither yes nor no.
    (_c(DO_NOT_EMAIL, "is_yes"), True, True),
    (_c(DO_NOT_EMAIL, "is_yes"), False, False),
    (_c(DO_NOT_EMAIL, "is_yes"), None, False),
    (_c(DO_NOT_EMAIL, "is_no"), False, True),
    (_c(DO_NOT_EMAIL, "is_no"), True, False),
    (_c(DO_NOT_EMAIL, "is_no"), None, False),
    # Empty / not empty, on every kind of value.
    (_c(FIRST_NAME, "is_empty"), None, True),
    (_c(FIRST_NAME, "is_empty"), "", True),
    (_c(FIRST_NAME, "is_empty"), "Ana", False),
    (_c(FIRST_NAME, "is_not_empty"), "Ana", True),
    (_c(FIRST_NAME, "is_not_empty"), "", False),
    (_c(AC_INTERESTS, "is_empty"), (), True),
    (_c(AC_INTERESTS, "is_not_empty"), ("Events",), True),
    (_c(EMPLOYEES, "is_empty"), 0, False),  # zero is a value
    (_c(EMPLOYEES, "is_not_empty"), 0, True),
    (_c(PARENT, "is_empty"), None, True),
    (_c(PARENT, "is_not_empty"), "6f1c2a9e-0000-0000-0000-000000000001", True),
]


@pytest.mark.parametrize(("criterion", "value", "expected"), MATCHES)
def test_it_evaluates_a_criterion_on_canonical_values(criterion, value, expected):
    assert criteria_match([criterion], {criterion.field_key: value}) is expected


def test_it_ands_the_rows():
    criteria = [_c(LEAD_SOURCE, "is", "Web"), _c(EMPLOYEES, "at_least", "50")]
    assert criteria_match(criteria, {"leadsourcecode": "8", "numberofemployees": 50})
    assert not criteria_match(criteria, {"leadsourcecode": "8", "numberofemployees": 49})
    assert not criteria_match(criteria, {"leadsourcecode": "4", "numberofemployees": 500})


def test_it_selects_every_record_without_criteria():
    assert criteria_match([], {})


def test_it_refuses_a_record_without_the_criterion_field():
    with pytest.raises(KeyError, match="numberofemployees"):
        criteria_match([_c(EMPLOYEES, "at_least", "50")], {"leadsourcecode": "8"})
    # Even when an earlier row already fails.
    with pytest.raises(KeyError, match="numberofemployees"):
        criteria_match(
            [_c(LEAD_SOURCE, "is", "Web"), _c(EMPLOYEES, "at_least", "50")],
            {"leadsourcecode": "4"},
        )


@pytest.mark.parametrize(
    ("criterion", "value"),
    [
        (_c(FIRST_NAME, "contains", "a"), 12),
        (_c(FIRST_NAME, "equals", "12"), 12),
        (_c(EMPLOYEES, "at_least", "10"), "12"),
        (_c(EMPLOYEES, "equals", "1"), True),
        (_c(CLOSE_DATE, "at_most", "2024-05-31"), datetime(2024, 5, 31, tzinfo=UTC)),
        (_c(CREATED, "greater_than", "2024-05-31"), date(2024, 5, 31)),
        (_c(LEAD_SOURCE, "is", "Web"), 8),
        (_c(AC_INTERESTS, "contains_any", ["Events"]), "Events"),
        (_c(DO_NOT_EMAIL, "is_yes"), 1),
    ],
)
def test_it_refuses_values_of_the_wrong_type(criterion, value):
    with pytest.raises(TypeError):
        criteria_match([criterion], {criterion.field_key: value})


# --- descriptions ---


@pytest.mark.parametrize(
    ("field", "operator", "raw", "expected"),
    [
        (LEAD_SOURCE, "is", "8", "Lead source is Web"),
        (LEAD_SOURCE, "is_not", "web", "Lead source is not Web"),
        (LEAD_SOURCE, "in", ["Web", "Partner"], "Lead source is one of Partner, Web"),
        (AC_INTERESTS, "contains_any", ["Events"], "Interests contains any of Events"),
        (FIRST_NAME, "contains", "an", "First name contains “an”"),
        (EMAIL, "ends_with", "@contoso.com", "Email ends with “@contoso.com”"),
        (EMPLOYEES, "at_least", "50", "Employees at least 50"),
        (REVENUE, "greater_than", "1000.50", "Revenue greater than 1000.50"),
        (CLOSE_DATE, "at_most", "2024-05-31", "Est. close at most 2024-05-31"),
        (
            CREATED,
            "greater_than",
            "2024-05-31T14:30+02:00",
            "Created on greater than 2024-05-31 12:30 UTC",
        ),
        (DO_NOT_EMAIL, "is_yes", "", "Do not email is yes"),
        (FIRST_NAME, "is_empty", "", "First name is empty"),
        (PARENT, "is_not_empty", "", "Parent account is not empty"),
    ],
)
def test_it_describes_a_criterion_in_words(field, operator, raw, expected):
    assert criterion_describe(criterion_parse(field, operator, raw), field) == expected


def test_it_describes_an_option_that_disappeared_by_its_value():
    criterion = Criterion("leadsourcecode", Operator.IS, "42")
    assert criterion_describe(criterion, LEAD_SOURCE) == "Lead source is 42"


def test_it_refuses_to_describe_a_criterion_with_another_field():
    with pytest.raises(ValueError, match="not on 'firstname'"):
        criterion_describe(_c(LEAD_SOURCE, "is", "Web"), FIRST_NAME)
