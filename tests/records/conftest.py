"""The records section: synced people made by the engine against both sandboxes, and links
made directly for the page tests that need no vendor."""

from __future__ import annotations

import pytest

from tests.sync.conftest import sides, sync_integration  # noqa: F401 - shared fixtures

SYNCED_EMAIL = "nadia.obrien.1@contosoltd.example"


@pytest.fixture
def synced(sides, sync_integration):  # noqa: F811
    """Both sandboxes seeded with the same people (ActiveCampaign with their marketing history:
    sends, opens, clicks, tags, automations), then one contact and its account synced by the
    engine's single-record sync, as "Sync this record now" does."""
    from sync.models import SyncRun
    from sync.services import record_sync

    sides.dv_app.seed(12)
    sides.ac_app.seed(12)
    [row] = sides.dv.find_contacts_by_email(SYNCED_EMAIL, ["parentcustomerid"])
    for entity, record_id in (("account", row.get("parentcustomerid").id), ("contact", row.id)):
        run = record_sync(integration=sync_integration, entity=entity, dynamics_id=record_id)
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
    return sides


def link_make(integration, *, entity="contact", n=1, first="Ana", last="Silva", company="", **kw):
    """A linked record as the engine leaves it (names in what both sides agreed)."""
    from sync.models import RecordLink

    base = {"firstName|firstname": first, "lastName|lastname": last}
    if company:
        base["@account"] = company
    values = {
        "integration": integration,
        "entity": entity,
        "ac_object": "contact",
        "dynamics_id": f"00000000-0000-0000-0000-{n:012d}",
        "ac_id": str(n),
        "email": f"{first.lower()}.{last.lower()}{n}@contoso.example",
        "state": RecordLink.State.LINKED,
        "base_dynamics": base,
        **kw,
    }
    return RecordLink.objects.create(**values)


@pytest.fixture(autouse=True)
def marketing_cache_empty():
    """Each test starts without a cached marketing view (the keys are ids a later test reuses)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
