"""A real-shaped ActiveCampaign webhook body (tests/vendor), and helpers to post it."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "vendor" / "activecampaign_webhook_update.txt"
FORM = "application/x-www-form-urlencoded"


def sample_pairs() -> list[tuple[str, str]]:
    return urllib.parse.parse_qsl(SAMPLE.read_text(), keep_blank_values=True)


def body(**contact: str) -> bytes:
    """The vendored delivery, with contact[...] values replaced (id="1", email=…) in place."""
    pairs = []
    for key, value in sample_pairs():
        name = key[len("contact[") : -1] if key.startswith("contact[") and "][" not in key else ""
        pairs.append((key, contact.get(name, value)))
    return urllib.parse.urlencode(pairs).encode()


def hook_url(secret: str, entity: str | None = None) -> str:
    from django.urls import reverse

    url = reverse("hook_activecampaign", args=[secret])
    return f"{url}?entity={entity}" if entity else url


@pytest.fixture
def webhook_secret(db):
    """The Default integration's webhook URL secret (created as an administrator would)."""
    from sync.webhooks.services import webhook_secret_rotate
    from tests.personas import default_integration

    return webhook_secret_rotate(integration=default_integration())


@pytest.fixture
def no_enqueue(monkeypatch):
    """Deliveries stored, not sent to a worker: the ids that would have been queued."""
    queued: list[int] = []
    monkeypatch.setattr(
        "sync.webhooks.services._enqueue",
        lambda delivery_id, countdown=0: queued.append(delivery_id),
    )
    return queued


def automation_updates(sandboxes, contact_id: str, *, source: str = "system", **values) -> None:
    """Edit an ActiveCampaign sandbox contact as an automation's "Update contact" step does
    (source `system`; `admin` for a user of AC's UI): the sandbox fires its webhooks."""
    import requests

    ac = sandboxes.activecampaign
    base = urllib.parse.urlsplit(ac.api_url)
    response = requests.post(
        f"{base.scheme}://{base.netloc}/_sandbox/activecampaign/{ac.account}/contacts/{contact_id}",
        json={"contact": values, "source": source},
        headers=sandboxes.control_headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
