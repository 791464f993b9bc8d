"""The connectors' configs are built in one place, from a saved row or from a form alike."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from integrations.models import Integration, activecampaign_config, dynamics_config
from tests.integrations.conftest import FORM

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_models_module_builds_connector_configs():
    builders = []
    for path in (ROOT / "integrations").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "ActiveCampaignConfig",
                "DynamicsConfig",
            ):
                builders.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    assert builders and all(b.startswith("integrations/models.py:") for b in builders), builders


@pytest.mark.django_db
def test_a_saved_row_and_the_form_values_give_the_same_configs():
    values = {**FORM, "ac_budget_share": 60, "dynamics_budget_share": 40}
    integration = Integration.objects.get()
    for field, value in values.items():
        setattr(integration, field, value)
    integration.save()
    saved = Integration.objects.get(pk=integration.pk)

    assert saved.activecampaign_config() == activecampaign_config(values)
    assert saved.dynamics_config() == dynamics_config(values)
    assert saved.activecampaign_config().budget_share == 0.6
    assert saved.dynamics_config().client_secret == FORM["dynamics_client_secret"]
