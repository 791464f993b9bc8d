"""The webhook body: PHP-bracket keys unfolded, what is not a delivery refused (tables)."""

from __future__ import annotations

import pytest

from sync.webhooks.payload import FORM_TYPE, PayloadError, dedupe_key, parse, unfold
from tests.sync.webhooks.conftest import SAMPLE, body, sample_pairs


def test_it_unfolds_the_vendored_delivery():
    delivery = parse(SAMPLE.read_bytes(), FORM_TYPE)

    assert (delivery.event, delivery.contact_id, delivery.email) == (
        "update",
        "10",
        "ana@contoso.example",
    )
    assert delivery.form["initiated_from"] == "system"
    assert delivery.form["contact"]["first_name"] == "Ana"
    assert delivery.form["contact"]["tags"] == "Webinar, VIP"
    assert delivery.form["contact"]["fields"] == {"d365_id": "", "interests": "||CRM||Marketing||"}


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("a", "1")], {"a": "1"}),
        ([("a[b]", "1"), ("a[c]", "2")], {"a": {"b": "1", "c": "2"}}),
        ([("a[b][c]", "1")], {"a": {"b": {"c": "1"}}}),
        ([("a[]", "1"), ("a[]", "2")], {"a": ["1", "2"]}),
        ([("a[b][]", "x")], {"a": {"b": ["x"]}}),
        ([("a", "1"), ("a", "2")], {"a": "2"}),  # PHP: the last one wins
        (
            [("contact[fields][Industry/Vertical]", "IT")],
            {"contact": {"fields": {"Industry/Vertical": "IT"}}},
        ),
    ],
)
def test_it_unfolds_bracket_keys(pairs, expected):
    assert unfold(pairs) == expected


@pytest.mark.parametrize(
    "pairs",
    [
        [("a[b", "1")],
        [("a]", "1")],
        [("[a]", "1")],
        [("a[b]c", "1")],
        [("a", "1"), ("a[b]", "2")],
        [("a[b]", "1"), ("a", "2")],
        [("a[]", "1"), ("a[b]", "2")],
        [("a[b]", "1"), ("a[]", "2")],
        [("a[][b]", "1")],
        [("a", "x" * 100_001)],
    ],
)
def test_it_refuses_keys_that_are_not_one_shape(pairs):
    with pytest.raises(PayloadError):
        unfold(pairs)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (SAMPLE.read_bytes(), "application/json"),
        (SAMPLE.read_bytes(), ""),
        (b'{"type": "update", "contact": {"email": "a@b.example"}}', "application/json"),
        (b"\xff\xfe\x00", FORM_TYPE),
        (b"", FORM_TYPE),
        (b"&&&", FORM_TYPE),
        (b"type=update", FORM_TYPE),  # no contact
        (b"contact%5Bemail%5D=a%40b.example", FORM_TYPE),  # no type
        (b"type=Up+Date&contact%5Bid%5D=1", FORM_TYPE),
        (b"type=update&contact%5Bid%5D=abc", FORM_TYPE),
        (b"type=update&contact%5Bid%5D=", FORM_TYPE),
        (b"type=update&contact%5Bemail%5D=not-an-address", FORM_TYPE),
        (b"type=update&contact%5Bid%5D%5B%5D=1", FORM_TYPE),
        (b"type=update&contact=1", FORM_TYPE),
        ("&".join(f"k{i}=v" for i in range(1001)).encode(), FORM_TYPE),
    ],
)
def test_it_refuses_what_is_not_a_contact_delivery(raw, content_type):
    with pytest.raises(PayloadError):
        parse(raw, content_type)


def test_it_accepts_a_charset_and_an_e_mail_alone():
    delivery = parse(
        b"type=subscribe&contact%5Bemail%5D=Al%40Example.ORG", f"{FORM_TYPE}; charset=UTF-8"
    )

    assert (delivery.contact_id, delivery.email) == ("", "al@example.org")


def test_the_same_delivery_has_the_same_key_whatever_the_order_of_its_fields():
    pairs = sample_pairs()

    assert dedupe_key(pairs) == dedupe_key(list(reversed(pairs)))
    assert dedupe_key(pairs) != dedupe_key(pairs, entity="lead")
    assert parse(body(id="11"), FORM_TYPE).dedupe_key != parse(body(id="12"), FORM_TYPE).dedupe_key
