"""The records section: synced people made by the engine against both sandboxes, and links
made directly for the page tests that need no vendor."""

from __future__ import annotations

import pytest

from tests.sync.conftest import sides, sync_integration  # noqa: F401 - shared fixtures


@pytest.fixture
def synced(sides, sync_integration):  # noqa: F811
    """Both sandboxes seeded with the same people, then the initial sync: linked records with
    marketing history in ActiveCampaign (sends, opens, clicks, tags, automations)."""
    from sync.models import SyncRun
    from sync.services import run_inline, run_start

    sides.dv_app.seed(12)
    sides.ac_app.seed(12)
    run = run_inline(
        run=run_start(integration=sync_integration, trigger=SyncRun.Trigger.INITIAL, enqueue=False)
    )
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
