"""The selectors read what the pages and the sync need in the queries their docstrings promise,
however much is configured."""

from __future__ import annotations

import pytest

from mapping import selectors, services
from mapping.services import MappingInput
from tests.fixtures.metadata import metadata_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(integration):
    metadata_seed(integration, extra=200)
    lead = services.entity_input_from_saved(selectors.entity_syncs(integration=integration)["lead"])
    lead.mappings += [MappingInput(str(100 + i), f"new_text{i}") for i in range(100)]
    assert services.entity_config_save(integration=integration, data=lead, actor=None) == []
    return integration


def test_the_cached_metadata_is_one_query(integration, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        metadata = selectors.metadata_cached(integration=integration)

    assert len(metadata.ac_fields_for("lead")) > 200


def test_the_entities_with_their_rows_are_three_queries(integration, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        rows = selectors.entity_syncs(integration=integration)
        mappings = [m for row in rows.values() for m in row.field_mappings.all()]
        criteria = [c for row in rows.values() for c in row.criteria.all()]

    assert len(mappings) > 100 and criteria == []


def test_the_opportunity_configuration_is_two_queries(integration, django_assert_max_num_queries):
    services.opportunity_config_save(
        integration=integration,
        data=services.OpportunityInput(
            False, True, [services.OpportunityFieldInput("new_region", "text")]
        ),
        actor=None,
    )
    with django_assert_max_num_queries(2):
        opportunity = selectors.opportunity_sync(integration=integration)
        fields = list(opportunity.fields.all())

    assert [f.dynamics_key for f in fields] == ["new_region"]
