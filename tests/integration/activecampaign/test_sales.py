"""The sales side against the sandbox: automations, campaigns and their messages, a campaign
sent to one contact (v1), the activity feed, and webhook registration."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
import requests

from connectors.activecampaign import ContactChanges
from connectors.errors import RecordError

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(ac):
    """The demo account with automations, campaigns, sends and activity (about 30 people)."""
    ac.seed(40)
    return ac


def a_contact(ac) -> tuple[str, str]:
    row = ac.db.execute_one("SELECT id, email FROM contacts ORDER BY id LIMIT 1")
    return str(row["id"]), row["email"]


def test_it_tells_active_from_inactive_automations_and_enrols_only_into_active_ones(client, seeded):
    automations = list(client.automations.all())
    active = [a for a in automations if a.active]
    inactive = [a for a in automations if not a.active]
    assert active and inactive
    contact_id, _ = a_contact(seeded)
    before = {e.automation_id for e in client.automations.for_contact(contact_id)}
    target = next(a for a in active if a.id not in before)

    enrolment = client.automations.add_contact(contact_id, target.id)

    assert (enrolment.contact_id, enrolment.automation_id) == (contact_id, target.id)
    assert target.id in {e.automation_id for e in client.automations.for_contact(contact_id)}
    with pytest.raises(RecordError) as caught:
        client.automations.add_contact(contact_id, inactive[0])
    assert caught.value.code == "automation_inactive"
    posts = seeded.log.entries(method="POST", path_prefix="/api/3/contactAutomations")
    assert len(posts) == 1  # nothing was sent for the inactive one


def test_it_lists_campaigns_newest_first_with_their_messages(client, seeded):
    campaigns = list(client.campaigns.all())
    sent = [c for c in campaigns if c.sent_at is not None]
    assert len(sent) >= 2
    assert [c.sent_at for c in sent] == sorted((c.sent_at for c in sent), reverse=True)
    assert sent[0].send_amount > 0

    messages = client.campaigns.messages(sent[0].id)

    assert messages and all(m.subject for m in messages)
    assert {m.campaign_id for m in messages} == {sent[0].id}


def test_it_sends_a_campaign_to_one_contact_and_the_feed_shows_it(client, ac):
    contact = client.contacts.sync(
        ContactChanges(email="ana@contoso.example", first_name="Ana")
    ).contact
    ac.seed(10)  # campaigns with messages
    campaign = next(c for c in client.campaigns.all() if c.sent_at is not None)
    message = client.campaigns.messages(campaign.id)[0]
    before = campaign.send_amount

    result = client.campaigns.send(
        email=contact.email, campaign_id=campaign.id, message_id=message.id
    )

    assert (result.email, result.campaign_id, result.message_id) == (
        contact.email,
        campaign.id,
        message.id,
    )
    sends = ac.log.entries(method="GET", path_prefix="/admin/api.php")
    assert len(sends) == 1 and "api_key" not in sends[0].query  # the key is a header
    assert dict(parse_qsl(sends[0].query))["action"] == "send"
    feed = list(client.activities.for_contact(contact.id))
    assert feed[0].kind == "campaign"
    assert feed[0].description == f"Was sent campaign “{campaign.name}”"
    after = next(c for c in client.campaigns.all() if c.id == campaign.id)
    assert after.send_amount == before + 1


def test_it_refuses_a_send_to_an_unknown_address_as_a_record_error(client, seeded):
    campaign = next(c for c in client.campaigns.all() if c.sent_at is not None)
    message = client.campaigns.messages(campaign.id)[0]

    with pytest.raises(RecordError):
        client.campaigns.send(
            email="nobody@nowhere.example", campaign_id=campaign.id, message_id=message.id
        )


def test_it_reads_a_contacts_activity_feed_in_words(client, seeded):
    row = seeded.db.execute_one(
        "SELECT contact, COUNT(*) AS n FROM activities GROUP BY contact ORDER BY n DESC LIMIT 1"
    )
    contact_id = str(row["contact"])

    feed = list(client.activities.for_contact(contact_id))

    assert len(feed) == row["n"]
    assert all(item.contact_id == contact_id for item in feed)
    stamps = [item.occurred_at for item in feed]
    assert stamps == sorted(stamps, reverse=True)
    assert all(item.description for item in feed)
    kinds = {item.kind for item in feed}
    assert kinds & {"campaign", "link", "automation", "list", "tag"}
    # Nothing is left unnamed that the side-loads can name.
    named = [i for i in feed if i.kind in ("campaign", "automation", "list")]
    assert named and all(i.subject for i in named)
    later = list(client.activities.for_contact(contact_id, after=stamps[len(stamps) // 2]))
    assert 0 < len(later) < len(feed)


def test_it_registers_a_webhook_that_does_not_echo_our_own_writes(client, ac, receiver, sandboxes):
    webhook = client.webhooks.create(
        name="d365-sync", url=receiver.url, events=["subscribe", "update"]
    )
    assert set(webhook.sources) == {"public", "admin", "system"}
    assert [w.id for w in client.webhooks.all(url=receiver.url)] == [webhook.id]
    contact = client.contacts.sync(ContactChanges(email="ana@contoso.example")).contact
    client.contacts.sync(ContactChanges(email="ana@contoso.example", first_name="Ana"))

    # A person edits the contact in AC's UI: source "admin", delivered.
    control = f"{sandboxes.activecampaign.api_url}/_sandbox/activecampaign"
    requests.post(
        f"{control}/demo/contacts/{contact.id}",
        json={"contact": {"lastName": "Silva"}},
        headers=sandboxes.control_headers,
        timeout=5,
    ).raise_for_status()
    requests.post(
        f"{control}/drain?timeout=5", headers=sandboxes.control_headers, timeout=10
    ).raise_for_status()
    forms = [delivery.form for delivery in receiver.wait(1)]
    assert [(f["type"], f["initiated_from"]) for f in forms] == [("update", "admin")]
    assert forms[0]["contact[last_name]"] == "Silva"

    client.webhooks.delete(webhook.id)
    client.webhooks.delete(webhook.id)  # already gone: done
    assert client.webhooks.all(url=receiver.url) == []
