"""Vendor calls are never made inside a transaction that holds row locks (issue 12.2)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from integrations.models import Integration
from mapping.models import OpportunitySync
from mapping.services import OpportunityFieldInput, OpportunityInput, opportunity_config_save
from tests.fixtures.schemas import FakeSchemas

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def integration(integration):
    OpportunitySync.objects.create(integration=integration)
    return integration


def test_a_slow_activecampaign_answer_holds_no_lock(integration):
    asked, answer = threading.Event(), threading.Event()

    def slow_activecampaign(spec):
        asked.set()
        answer.wait(timeout=30)
        return FakeSchemas()(spec)

    first: dict = {}

    def first_admin_saves():
        try:
            first["problems"] = opportunity_config_save(
                integration=Integration.objects.get(pk=integration.pk),
                data=OpportunityInput(True, True, [OpportunityFieldInput("new_region", "text")]),
                actor=None,
                schema_writer=slow_activecampaign,
            )
        finally:
            connection.close()

    thread = threading.Thread(target=first_admin_saves)
    thread.start()
    try:
        assert asked.wait(timeout=30)
        # ActiveCampaign has not answered yet: the row is free…
        with transaction.atomic():
            OpportunitySync.objects.select_for_update(nowait=True).get(integration=integration)
        # …and a second administrator's save goes through at once.
        second = opportunity_config_save(
            integration=integration,
            data=OpportunityInput(False, True, [OpportunityFieldInput("budgetamount", "currency")]),
            actor=None,
        )
        assert second == []
        assert OpportunitySync.objects.get(integration=integration).fields.get().dynamics_key == (
            "budgetamount"
        )
    finally:
        answer.set()
        thread.join(timeout=30)

    # The first save, checked again once ActiveCampaign answered, is the last one written.
    assert first["problems"] == []
    saved = OpportunitySync.objects.get(integration=integration)
    assert saved.enabled and saved.schema_id == "schema-1"
    assert [(f.dynamics_key, f.in_schema) for f in saved.fields.all()] == [("new_region", True)]


def test_in_schema_is_what_activecampaign_answered(integration, activecampaign_schemas):
    activecampaign_schemas.leave_out = {"d365-budgetamount"}
    problems = opportunity_config_save(
        integration=integration,
        data=OpportunityInput(
            True,
            True,
            [
                OpportunityFieldInput("new_region", "text"),
                OpportunityFieldInput("budgetamount", "currency"),
            ],
        ),
        actor=None,
    )

    assert problems == []
    fields = OpportunitySync.objects.get(integration=integration).fields.all()
    assert {f.dynamics_key: f.in_schema for f in fields} == {
        "new_region": True,
        "budgetamount": False,
    }
