"""Value transforms on canonical values: every rule, the target checks, the error paths."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.errors import ErrorKind
from connectors.types import FieldType
from mapping.core import compat
from mapping.core.transforms import (
    FALSE,
    TRUE,
    TransformError,
    convert,
    default_value_map,
    value_map_problems,
)
from tests.mapping.fields import (
    AC_INTERESTS,
    AC_SOURCE,
    AC_YES_NO,
    DO_NOT_EMAIL,
    DV_INTERESTS,
    LEAD_SOURCE,
    ac,
    dv,
    options,
)

T = FieldType
CEST = timezone(timedelta(hours=2))
EST = timezone(timedelta(hours=-5))

# One canonical sample per type, on fields with the options they need.
_CHOICES = options(("a", "Alpha"), ("b", "Beta"), ("true", "Yes"), ("false", "No"))
SAMPLES = {
    T.TEXT: "Ana",
    T.LONG_TEXT: "Line one\nLine two",
    T.INTEGER: 42,
    T.DECIMAL: Decimal("12.50"),
    T.MONEY: Decimal("1250.00"),
    T.DATE: date(2024, 5, 31),
    T.DATETIME: datetime(2024, 5, 31, 14, 30, tzinfo=CEST),
    T.BOOLEAN: True,
    T.CHOICE: "true",  # label "Yes", so that CHOICE → BOOLEAN pairs it by default
    T.MULTI_CHOICE: ("a", "b"),
    T.EMAIL: "ana@contoso.example",
    T.PHONE: "+351 21 000 0000",
    T.URL: "https://www.contoso.example/",
    T.IDENTIFIER: "6f1c2a9e-0000-0000-0000-000000000001",
    T.LOOKUP: "6f1c2a9e-0000-0000-0000-000000000002",
}
CANONICAL = {
    T.TEXT: str,
    T.LONG_TEXT: str,
    T.INTEGER: int,
    T.DECIMAL: Decimal,
    T.MONEY: Decimal,
    T.DATE: date,
    T.DATETIME: datetime,
    T.BOOLEAN: bool,
    T.CHOICE: str,
    T.MULTI_CHOICE: tuple,
    T.EMAIL: str,
    T.PHONE: str,
    T.URL: str,
}


def _field(side, field_type, key):
    return side(
        field_type, key, options=_CHOICES if field_type in (T.CHOICE, T.MULTI_CHOICE) else ()
    )


@pytest.mark.parametrize(
    ("source_type", "target_type"), sorted(compat._CONVERSIONS), ids=lambda t: str(t)
)
def test_it_converts_a_sample_value_for_every_rule_both_vendor_ways(source_type, target_type):
    for source_side, target_side in ((ac, dv), (dv, ac)):
        source = _field(source_side, source_type, "source")
        target = _field(target_side, target_type, "target")
        value_map = default_value_map(source, target)
        # Text into e-mail / phone / URL is validated: send text that is one.
        sample = SAMPLES[
            target_type
            if compat.conversion(source_type, target_type).kind is compat.ConversionKind.VALIDATE
            else source_type
        ]
        result = convert(sample, source=source, target=target, value_map=value_map)
        assert isinstance(result, CANONICAL[target_type])
        assert not isinstance(result, bool) or target_type is T.BOOLEAN
        if isinstance(result, datetime):
            assert result.utcoffset() == timedelta(0)
        if isinstance(result, date) and not isinstance(result, datetime):
            assert target_type is T.DATE


_STR_TYPES = {T.TEXT, T.LONG_TEXT, T.EMAIL, T.PHONE, T.URL, T.IDENTIFIER, T.CHOICE}
EMPTY_CASES = [
    (source_type, target_type, empty)
    for source_type, target_type in sorted(compat._CONVERSIONS)
    for empty in (
        None,
        *([""] if source_type in _STR_TYPES else []),
        *([()] if source_type is T.MULTI_CHOICE else []),
    )
]


@pytest.mark.parametrize(("source_type", "target_type", "empty"), EMPTY_CASES)
def test_it_turns_empty_into_none_for_every_rule(source_type, target_type, empty):
    source = _field(ac, source_type, "source")
    target = _field(dv, target_type, "target")
    assert convert(empty, source=source, target=target, value_map={}) is None


# (source field, target field, value, value map, expected)
CASES = [
    # Text, copied; max length respected exactly.
    (ac(T.TEXT), dv(T.TEXT, max_length=3), "Ana", None, "Ana"),
    (ac(T.TEXT), dv(T.TEXT), "  Ana  ", None, "  Ana  "),  # plain text is not trimmed
    (dv(T.TEXT), ac(T.LONG_TEXT), "Ana", None, "Ana"),
    (dv(T.LONG_TEXT), ac(T.LONG_TEXT), "a\nb", None, "a\nb"),
    # Long text → text: cut to the target's maximum length (lossy).
    (ac(T.LONG_TEXT), dv(T.TEXT, max_length=5), "abcdefgh", None, "abcde"),
    (ac(T.LONG_TEXT), dv(T.TEXT, max_length=5), "abc", None, "abc"),
    (dv(T.LONG_TEXT), ac(T.TEXT), "x" * 5000, None, "x" * 5000),  # no maximum known
    # E-mail / phone / URL: validated, surrounding blanks trimmed, blank = empty.
    (ac(T.TEXT), dv(T.EMAIL), " ana@contoso.example ", None, "ana@contoso.example"),
    (ac(T.TEXT), dv(T.EMAIL), "   ", None, None),
    (
        dv(T.EMAIL),
        ac(T.EMAIL),
        "Ana.Silva+news@Contoso.Example",
        None,
        "Ana.Silva+news@Contoso.Example",
    ),
    (dv(T.EMAIL), ac(T.TEXT), "ana@contoso.example", None, "ana@contoso.example"),
    (ac(T.TEXT), dv(T.PHONE), "(425) 555-0100", None, "(425) 555-0100"),
    (ac(T.TEXT), dv(T.URL), "www.contoso.com", None, "www.contoso.com"),
    (dv(T.URL), ac(T.URL), "https://contoso.com/", None, "https://contoso.com/"),
    # Phones and URLs the source vendor already holds as such are copied unchecked.
    (dv(T.PHONE), ac(T.PHONE), "555 0100 (mobile)", None, "555 0100 (mobile)"),
    (ac(T.URL), dv(T.URL), "contoso", None, "contoso"),
    (dv(T.PHONE), ac(T.LONG_TEXT), "+1 425 555 0100", None, "+1 425 555 0100"),
    # Numbers.
    (ac(T.INTEGER), dv(T.INTEGER, vendor_type="Integer"), 2**31 - 1, None, 2**31 - 1),
    (ac(T.INTEGER), dv(T.INTEGER, vendor_type="Integer"), -(2**31), None, -(2**31)),
    (ac(T.INTEGER), dv(T.INTEGER, vendor_type="BigInt"), 2**40, None, 2**40),
    (dv(T.INTEGER), ac(T.INTEGER), 10**20, None, 10**20),  # AC documents no range
    (ac(T.INTEGER), dv(T.DECIMAL), 5, None, Decimal(5)),
    (ac(T.INTEGER), dv(T.MONEY), -3, None, Decimal(-3)),
    (ac(T.DECIMAL), dv(T.MONEY), Decimal("12.50"), None, Decimal("12.50")),
    (dv(T.MONEY), ac(T.DECIMAL), Decimal("0.0001"), None, Decimal("0.0001")),
    (
        ac(T.MONEY),
        dv(T.MONEY, vendor_type="Money"),
        Decimal("922337203685477"),
        None,
        Decimal("922337203685477"),
    ),
    # Dates and date-times: UTC everywhere.
    (ac(T.DATE), dv(T.DATE), date(2024, 2, 29), None, date(2024, 2, 29)),
    (ac(T.DATE), dv(T.DATE), date(1753, 1, 1), None, date(1753, 1, 1)),
    (dv(T.DATE), ac(T.DATE), date(1700, 1, 1), None, date(1700, 1, 1)),  # only Dataverse floors
    (ac(T.DATE), dv(T.DATETIME), date(2024, 5, 31), None, datetime(2024, 5, 31, tzinfo=UTC)),
    # 01:30 at +02:00 is 23:30 UTC the day before; 22:30 at -05:00 is 03:30 UTC the day after.
    (dv(T.DATETIME), ac(T.DATE), datetime(2024, 6, 1, 1, 30, tzinfo=CEST), None, date(2024, 5, 31)),
    (ac(T.DATETIME), dv(T.DATE), datetime(2024, 5, 31, 22, 30, tzinfo=EST), None, date(2024, 6, 1)),
    (
        ac(T.DATETIME),
        dv(T.DATE),
        datetime(2024, 5, 31, 23, 59, tzinfo=UTC),
        None,
        date(2024, 5, 31),
    ),
    (
        ac(T.DATETIME),
        dv(T.DATETIME),
        datetime(2024, 5, 31, 14, 30, tzinfo=CEST),
        None,
        datetime(2024, 5, 31, 12, 30, tzinfo=UTC),
    ),
    # Into text.
    (dv(T.INTEGER), ac(T.TEXT), 1250, None, "1250"),
    (dv(T.INTEGER), ac(T.TEXT), -7, None, "-7"),
    (dv(T.DECIMAL), ac(T.TEXT), Decimal("12.50"), None, "12.50"),
    (dv(T.DECIMAL), ac(T.TEXT), Decimal("1E+3"), None, "1000"),  # never exponent notation
    (dv(T.MONEY), ac(T.LONG_TEXT), Decimal("1250000.00"), None, "1250000.00"),
    (dv(T.DATE), ac(T.TEXT), date(2024, 5, 31), None, "2024-05-31"),
    (
        dv(T.DATETIME),
        ac(T.TEXT),
        datetime(2024, 5, 31, 14, 30, tzinfo=CEST),
        None,
        "2024-05-31T12:30:00Z",
    ),
    (
        dv(T.DATETIME),
        ac(T.TEXT),
        datetime(2024, 5, 31, 12, 30, 5, 250000, tzinfo=UTC),
        None,
        "2024-05-31T12:30:05.250000Z",
    ),
    (DO_NOT_EMAIL, ac(T.TEXT), True, None, "Do Not Allow"),  # the field's own labels
    (DO_NOT_EMAIL, ac(T.TEXT), False, None, "Allow"),
    (dv(T.BOOLEAN), ac(T.TEXT), True, None, "Yes"),  # no labels known
    (dv(T.BOOLEAN), ac(T.TEXT), False, None, "No"),
    (LEAD_SOURCE, ac(T.TEXT), "8", None, "Web"),
    (AC_SOURCE, dv(T.LONG_TEXT), "trade show", None, "trade show"),
    # Multi choice into text: labels in the field's option order, not the values' sort order.
    (DV_INTERESTS, ac(T.TEXT), ("10", "2"), None, "Webinar, Events"),
    (DV_INTERESTS, ac(T.TEXT), ("3", "2", "3"), None, "Webinar, Newsletter"),
    (AC_INTERESTS, dv(T.TEXT), ("Events", "Webinar"), None, "Webinar, Events"),
    (
        dv(T.IDENTIFIER),
        ac(T.TEXT),
        "6F1C2A9E-0000-0000-0000-000000000001",
        None,
        "6F1C2A9E-0000-0000-0000-000000000001",
    ),
    # Choices through the value map.
    (LEAD_SOURCE, AC_SOURCE, "8", {"8": "Web", "4": "Partner"}, "Web"),
    (AC_SOURCE, LEAD_SOURCE, "trade show", {"trade show": "7"}, "7"),
    # Multi choice: mapped, sorted, duplicates merged.
    (
        AC_INTERESTS,
        DV_INTERESTS,
        ("Webinar", "Events"),
        {"Webinar": "2", "Events": "10"},
        ("10", "2"),
    ),
    (DV_INTERESTS, AC_INTERESTS, ("2", "3"), {"2": "Webinar", "3": "Webinar"}, ("Webinar",)),
    # Choice → multi choice: a one-element tuple.
    (LEAD_SOURCE, AC_INTERESTS, "6", {"6": "Webinar"}, ("Webinar",)),
    # Booleans ↔ choice.
    (DO_NOT_EMAIL, AC_YES_NO, True, {TRUE: "Yes", FALSE: "No"}, "Yes"),
    (DO_NOT_EMAIL, AC_YES_NO, False, {TRUE: "Yes", FALSE: "No"}, "No"),
    (AC_YES_NO, DO_NOT_EMAIL, "No", {"Yes": TRUE, "No": FALSE}, False),
    (AC_YES_NO, DO_NOT_EMAIL, "Maybe", {"Yes": TRUE, "No": FALSE, "Maybe": TRUE}, True),
    (DO_NOT_EMAIL, dv(T.BOOLEAN), False, None, False),
    # A value map is read only by the conversions that pair options.
    (ac(T.TEXT), dv(T.TEXT), "Ana", {"Ana": "Bob"}, "Ana"),
]


@pytest.mark.parametrize(("source", "target", "value", "value_map", "expected"), CASES)
def test_it_converts(source, target, value, value_map, expected):
    result = convert(value, source=source, target=target, value_map=value_map)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(expected, datetime):
        assert result.tzinfo is UTC


# (source field, target field, value, value map, words the message must hold)
ERRORS = [
    (
        ac(T.TEXT),
        dv(T.TEXT, label="First name", max_length=3),
        "Anna",
        None,
        "First name: the value is 4 characters long; at most 3 fit.",
    ),
    (dv(T.LONG_TEXT), ac(T.LONG_TEXT, max_length=10), "x" * 11, None, "at most 10 fit"),
    # A valid e-mail that does not fit is refused, not cut.
    (ac(T.TEXT), dv(T.EMAIL, max_length=10), "ana@contoso.example", None, "at most 10 fit"),
    (
        dv(T.MULTI_CHOICE, options=options(("1", "A long label"), ("2", "Another one"))),
        ac(T.TEXT, max_length=10),
        ("1", "2"),
        None,
        "at most 10 fit",
    ),
    (ac(T.TEXT), dv(T.EMAIL, label="Email"), "ana@", None, "Email: “ana@” is not a valid e-mail"),
    (dv(T.EMAIL), ac(T.EMAIL), "not an address", None, "not a valid e-mail address"),
    (ac(T.TEXT), dv(T.PHONE), "call me", None, "not a valid phone number"),
    (ac(T.TEXT), dv(T.URL), "javascript:alert(1)", None, "not a valid web address"),
    (
        ac(T.INTEGER),
        dv(T.INTEGER, vendor_type="Integer", label="Employees"),
        2**31,
        None,
        "Employees: 2147483648 is out of range; "
        "Dynamics 365 accepts -2,147,483,648 to 2,147,483,647",
    ),
    (ac(T.INTEGER), dv(T.INTEGER, vendor_type=""), -(2**31) - 1, None, "out of range"),
    (ac(T.INTEGER), dv(T.INTEGER, vendor_type="BigInt"), 2**63, None, "out of range"),
    (ac(T.INTEGER), dv(T.MONEY, vendor_type="Money"), 10**15, None, "out of range"),
    (
        ac(T.DECIMAL),
        dv(T.DECIMAL, vendor_type="Decimal"),
        Decimal("100000000000.01"),
        None,
        "out of range",
    ),
    (
        ac(T.DECIMAL),
        dv(T.DECIMAL, vendor_type="Double"),
        Decimal("-100000000001"),
        None,
        "out of range",
    ),
    (
        ac(T.DECIMAL, label="Score"),
        dv(T.DECIMAL),
        Decimal("NaN"),
        None,
        "Score: NaN is not a number",
    ),
    (ac(T.MONEY), dv(T.TEXT), Decimal("Infinity"), None, "is not a number"),
    (
        ac(T.DATE),
        dv(T.DATE, label="Birthday"),
        date(1700, 1, 1),
        None,
        "Birthday: 1700-01-01 is too early; Dynamics 365 stores dates from 1753-01-01 on.",
    ),
    (ac(T.DATE), dv(T.DATETIME), date(1752, 12, 31), None, "too early"),
    (ac(T.DATETIME), dv(T.DATETIME), datetime(1752, 12, 31, 23, 0, tzinfo=UTC), None, "too early"),
    # An option the field does not know (stale metadata) is a record error, not a guess.
    (LEAD_SOURCE, ac(T.TEXT), "99", None, "Lead source: “99” is not one of its options"),
    (DV_INTERESTS, ac(T.TEXT), ("2", "99"), None, "“99” is not one of its options"),
    # Unpaired options name the option by its label.
    (
        LEAD_SOURCE,
        AC_SOURCE,
        "1",
        {"8": "Web"},
        "Source: Lead source option “Advertisement” is "
        "not paired with an option of Source (edit the value map).",
    ),
    (LEAD_SOURCE, AC_SOURCE, "8", None, "“Web” is not paired"),  # no map at all
    (AC_INTERESTS, DV_INTERESTS, ("Webinar", "Events"), {"Webinar": "2"}, "“Events” is not paired"),
    (DO_NOT_EMAIL, AC_YES_NO, True, {FALSE: "No"}, "option “Do Not Allow” is not paired"),
    # A pairing to something the target does not offer.
    (LEAD_SOURCE, AC_SOURCE, "8", {"8": "Website"}, "Source: “Website” is not one of its options"),
    (LEAD_SOURCE, AC_INTERESTS, "8", {"8": "Web"}, "“Web” is not one of its options"),
    (
        AC_YES_NO,
        DO_NOT_EMAIL,
        "Yes",
        {"Yes": "Y"},
        "pairs Opted out option “Yes” with “Y”, not with yes or no",
    ),
]


@pytest.mark.parametrize(("source", "target", "value", "value_map", "message"), ERRORS)
def test_it_reports_record_problems_in_words(source, target, value, value_map, message):
    with pytest.raises(TransformError) as caught:
        convert(value, source=source, target=target, value_map=value_map)
    assert message in caught.value.message
    assert str(caught.value) == caught.value.message
    assert caught.value.kind is ErrorKind.RECORD
    assert caught.value.field in (source.key, target.key)


VALID_EMAILS = [
    "ana@contoso.example",
    "ana.silva+news@mail.contoso.co.uk",
    "o'brien@contoso.ie",
    "x@münchen.de",
    "ana@xn--mnchen-3ya.de",
    "a_b-c@sub-domain.contoso.com",
]
INVALID_EMAILS = [
    "ana",
    "ana@",
    "@contoso.com",
    "ana@contoso",
    "ana@@contoso.com",
    "ana silva@contoso.com",
    "ana..silva@contoso.com",
    ".ana@contoso.com",
    "ana@-contoso.com",
    "ana@contoso.c",
    "ana@contoso.com.",
    "a" * 65 + "@contoso.com",
    "ana@" + "a" * 250 + ".com",
]


@pytest.mark.parametrize("value", VALID_EMAILS)
def test_it_accepts_plausible_email_addresses(value):
    assert convert(value, source=ac(T.TEXT), target=dv(T.EMAIL)) == value


@pytest.mark.parametrize("value", INVALID_EMAILS)
def test_it_refuses_implausible_email_addresses(value):
    with pytest.raises(TransformError, match="not a valid e-mail address"):
        convert(value, source=ac(T.TEXT), target=dv(T.EMAIL))


@pytest.mark.parametrize(
    "value",
    [
        "+351 21 000 0000",
        "(425) 555-0100",
        "425.555.0100",
        "020/1234567",
        "555-0100 ext. 12",
        "+1 425 555 0100 x123",
        "0800 123",
        "123",
    ],
)
def test_it_accepts_plausible_phone_numbers(value):
    assert convert(value, source=ac(T.TEXT), target=dv(T.PHONE)) == value


@pytest.mark.parametrize(
    "value",
    ["call me", "12", "+", "++1 555 0100", "555+0100", "555-0100 ext", "1" * 21, "555-CALL"],
)
def test_it_refuses_implausible_phone_numbers(value):
    with pytest.raises(TransformError, match="not a valid phone number"):
        convert(value, source=ac(T.TEXT), target=dv(T.PHONE))


@pytest.mark.parametrize(
    "value",
    [
        "https://www.contoso.com/about?x=1#top",
        "http://contoso.com",
        "HTTPS://CONTOSO.COM",
        "www.contoso.com",
        "contoso.co.uk/path",
        "http://localhost:8000/x",
        "http://10.0.0.1/",
        "https://münchen.de",
    ],
)
def test_it_accepts_plausible_web_addresses(value):
    assert convert(value, source=ac(T.TEXT), target=dv(T.URL)) == value


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "ftp://contoso.com",
        "mailto:ana@contoso.example",
        "not a url",
        "contoso",
        "https://contoso.com:99999",
        "https://contoso.com:port",
        "http://",
        "https://contoso.com/a b",
    ],
)
def test_it_refuses_implausible_web_addresses(value):
    with pytest.raises(TransformError, match="not a valid web address"):
        convert(value, source=ac(T.TEXT), target=dv(T.URL))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (ac(T.TEXT), 12),
        (ac(T.TEXT), b"Ana"),
        (ac(T.INTEGER), True),  # bool is an int in Python, not a canonical INTEGER
        (ac(T.INTEGER), "12"),
        (ac(T.INTEGER), 12.0),
        (ac(T.DECIMAL), 12.5),  # floats are never canonical
        (ac(T.MONEY), 12),
        (ac(T.DATE), datetime(2024, 5, 31, tzinfo=UTC)),
        (ac(T.DATE), "2024-05-31"),
        (ac(T.DATETIME), datetime(2024, 5, 31, 12, 0)),  # naive
        (ac(T.DATETIME), date(2024, 5, 31)),
        (ac(T.BOOLEAN), "true"),
        (ac(T.BOOLEAN), 1),
        (ac(T.CHOICE), 8),
        (ac(T.MULTI_CHOICE), ["a", "b"]),
        (ac(T.MULTI_CHOICE), ("a", 2)),
    ],
)
def test_it_refuses_values_that_are_not_canonical(field, value):
    target = dv(T.TEXT)  # every one of these types converts to text
    with pytest.raises(TypeError, match="is not a canonical"):
        convert(value, source=field, target=target)


def test_it_refuses_pairs_outside_the_table():
    with pytest.raises(ValueError, match="text → integer is not in the compatibility table"):
        convert("12", source=ac(T.TEXT), target=dv(T.INTEGER))


def test_it_refuses_lookups():
    with pytest.raises(ValueError, match="not in the compatibility table"):
        convert("id", source=ac(T.LOOKUP), target=dv(T.LOOKUP))


# --- default_value_map ---


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        # By label, ignoring case; options without a match are left out ("Newsletter").
        (AC_SOURCE, LEAD_SOURCE, {"Web": "8", "Partner": "4", "trade show": "7"}),
        (
            LEAD_SOURCE,
            AC_SOURCE,
            {"4": "Partner", "7": "trade show", "8": "Web"},
        ),
        (AC_INTERESTS, DV_INTERESTS, {"Webinar": "2", "Newsletter": "3", "Events": "10"}),
        (LEAD_SOURCE, AC_INTERESTS, {}),
        # Then by value.
        (
            dv(T.CHOICE, options=options(("1", "Uno"), ("2", "Due"))),
            ac(T.CHOICE, options=options(("1", "One"), ("Due", "Two"))),
            {"1": "1"},
        ),
        # Booleans: the field's own labels first, then Yes / True and No / False.
        (DO_NOT_EMAIL, AC_YES_NO, {TRUE: "Yes", FALSE: "No"}),
        (
            DO_NOT_EMAIL,
            ac(T.CHOICE, options=options(("T", "true"), ("F", "FALSE"))),
            {TRUE: "T", FALSE: "F"},
        ),
        (
            DO_NOT_EMAIL,
            ac(T.CHOICE, options=options(("yes", "Yes"), ("allow", "Allow"))),
            {TRUE: "yes", FALSE: "allow"},
        ),
        (dv(T.BOOLEAN), AC_YES_NO, {TRUE: "Yes", FALSE: "No"}),
        (AC_YES_NO, DO_NOT_EMAIL, {"Yes": TRUE, "No": FALSE}),
        (
            ac(T.CHOICE, options=options(("1", "Do Not Allow"), ("0", "Allow"))),
            DO_NOT_EMAIL,
            {"1": TRUE, "0": FALSE},
        ),
        # Pairs that need no value map.
        (ac(T.TEXT), dv(T.TEXT), {}),
        (LEAD_SOURCE, ac(T.TEXT), {}),
    ],
)
def test_it_proposes_a_value_map(source, target, expected):
    assert default_value_map(source, target) == expected


def test_it_proposes_a_map_that_converts_every_matched_option():
    value_map = default_value_map(AC_SOURCE, LEAD_SOURCE)
    for key in value_map:
        assert convert(key, source=AC_SOURCE, target=LEAD_SOURCE, value_map=value_map)


def test_it_refuses_to_propose_a_map_for_pairs_outside_the_table():
    with pytest.raises(ValueError, match="not in the compatibility table"):
        default_value_map(AC_INTERESTS, LEAD_SOURCE)


# --- value_map_problems ---


def test_it_finds_no_problem_in_a_complete_map():
    value_map = {"Web": "8", "Partner": "4", "trade show": "7", "Newsletter": "10"}
    assert value_map_problems(value_map, AC_SOURCE, LEAD_SOURCE) == []


def test_it_lists_every_problem_of_a_value_map():
    value_map = {"Web": "8", "Partner": "42", "Fax": "1"}
    assert value_map_problems(value_map, AC_SOURCE, LEAD_SOURCE) == [
        "“42” is not an option of Lead source.",
        "“Fax” is not an option of Source.",
        "Source option “trade show” is not paired with an option of Lead source.",
        "Source option “Newsletter” is not paired with an option of Lead source.",
    ]


def test_it_checks_boolean_maps_against_true_and_false():
    assert value_map_problems({TRUE: "Yes", FALSE: "No"}, DO_NOT_EMAIL, AC_YES_NO) == []
    assert value_map_problems({"yes": "Yes"}, DO_NOT_EMAIL, AC_YES_NO) == [
        "“yes” is not an option of Do not allow e-mails.",
        "Do not allow e-mails option “Do Not Allow” is not paired with an option of Opted out.",
        "Do not allow e-mails option “Allow” is not paired with an option of Opted out.",
    ]
    assert value_map_problems({"Yes": "1", "No": FALSE}, AC_YES_NO, DO_NOT_EMAIL) == [
        "“1” is not an option of Do not allow e-mails.",
        "Opted out option “Maybe” is not paired with an option of Do not allow e-mails.",
    ]


def test_it_finds_no_value_map_problem_where_no_map_is_used():
    assert value_map_problems({"anything": "goes"}, ac(T.TEXT), dv(T.TEXT)) == []
