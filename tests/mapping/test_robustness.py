"""No input makes a mapping page fail: every field and parameter of the mapping views, given
values nobody's browser would send, answers with the page or a form error and changes nothing
it should not (issue 10.7)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mapping.models import EntitySync, FieldMapping, OpportunitySync, SelectionCriterion
from tests.mapping.page_forms import form_of

pytestmark = pytest.mark.django_db

NASTY = [
    "",
    "\x00",
    "x" * 5000,
    "99999999999999999999999",
    "on",
    "push",
    "<script>alert(1)</script>\u202e",
]
EXTRA_KEYS = [
    "mappings-0-map-push",
    "mappings-0-map-",
    "mappings-0-map-sideways-8",
    "mappings-99999999999999999999999-ac_key",
    "mappings-0-standard",
    "criteria-0-field",
    "criteria-0-value",
    "criteria-5-operator",
    "fields-0-dynamics_key",
]


@pytest.fixture
def admin_client(admin_client):
    admin_client.raise_request_exception = False  # a failure is a 500 answer, collected below
    return admin_client


def snapshot(integration):
    return (
        list(EntitySync.objects.values_list("entity", "enabled", "direction", "selection")),
        list(FieldMapping.objects.values_list("ac_key", "dynamics_key", "enabled", "direction")),
        list(SelectionCriterion.objects.values_list("field_key", "operator", "value")),
        list(OpportunitySync.objects.values_list("enabled", "custom_fields_enabled")),
    )


def test_the_entity_page_answers_every_value_of_every_field(admin_client, integration):
    url = reverse("mapping:entity", args=["lead"])
    form = form_of(admin_client.get(url))
    form.update(
        {
            "selection": ["criteria"],
            "criteria-0-field": ["leadsourcecode"],
            "criteria-0-operator": ["is"],
            "criteria-0-value": ["8"],
            "mappings-9-ac_key": ["1"],
            "mappings-9-dynamics_key": ["leadsourcecode"],
            "mappings-9-enabled": ["on"],
            "mappings-9-direction": ["pull"],
            "mappings-9-map-pull-Web": ["8"],
        }
    )
    assert admin_client.post(url, form).status_code == 302  # the form is valid as it stands
    # Every standard row has the same fields: the first one stands for them.
    keys = [
        k
        for k in form
        if not k.startswith("mappings-") or k.startswith(("mappings-0-", "mappings-9-"))
    ]
    failures = []
    for key in [*keys, *EXTRA_KEYS]:
        for value in NASTY:
            before = snapshot(integration)
            response = admin_client.post(url, {**form, key: [value]})
            if response.status_code not in (302, 400):
                failures.append((key, value, response.status_code))
            elif response.status_code == 400:
                assert snapshot(integration) == before, (key, value)
    assert failures == []


def test_the_opportunity_page_answers_every_value_of_every_field(admin_client, integration):
    url = reverse("mapping:opportunity")
    form = {
        "enabled": ["on"],
        "custom_fields_enabled": ["on"],
        "fields-0-dynamics_key": ["new_region"],
        "fields-0-ac_type": ["text"],
        "fields-0-required": ["on"],
        "fields-0-enabled": ["on"],
    }
    failures = []
    for key in [*form, *EXTRA_KEYS]:
        for value in NASTY:
            response = admin_client.post(url, {**form, "enabled": [], key: [value]})
            if response.status_code not in (302, 400):
                failures.append((key, value, response.status_code))
    assert failures == []


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mapping:criterion_row", ["field", "operator", "value", "index"]),
        ("mapping:mapping_rows", ["ac", "dynamics_key", "direction", "entity_direction", "index"]),
    ],
)
def test_the_row_fragments_answer_every_parameter(admin_client, integration, name, params):
    url = reverse(name, args=["lead"])
    failures = []
    for param in params:
        for value in NASTY:
            base = {"ac": "1", "field": "leadsourcecode", "index": "3"}
            response = admin_client.get(url, {**base, param: value})
            if response.status_code != 200:
                failures.append((param, value, response.status_code))
            response = admin_client.get(url, {**base, param: [value, value]})
            if response.status_code != 200:
                failures.append((param, [value, value], response.status_code))
    assert failures == []


def test_the_opportunity_rows_answer_every_parameter(admin_client, integration):
    url = reverse("mapping:opportunity_rows")
    for value in NASTY:
        assert admin_client.get(url, {"dv": value, "index": value}).status_code == 200


@pytest.mark.parametrize("entity", ["opportunity", "nosuch", "LEAD", "x" * 300])
def test_an_unknown_entity_is_not_found(admin_client, integration, entity):
    assert admin_client.get(f"/data/{entity}/criterion-row/").status_code == 404
