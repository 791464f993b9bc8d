"""The record page and the sales actions against both sandboxes over HTTP, after a real
initial sync: fields read from Dataverse, activity from ActiveCampaign, enrolment, sending,
refusals and the audit log."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from integrations.models import AuditEntry
from integrations.roles import Role
from sync.models import RecordLink
from tests.personas import make_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACTIVE, INACTIVE = "1", "4"  # seeded automations: "Welcome series"; "Re-engagement (paused)"
WEBINAR = ("3", "3")  # the seeded campaign "Webinar invitation" and its message


@pytest.fixture
def sales(synced):
    return make_user("uma", role=Role.USER)


def _contact(sides, email_prefix="nadia") -> RecordLink:
    return RecordLink.objects.get(entity="contact", email__startswith=email_prefix)


def _url(name, link, **kw):
    return reverse(f"records:{name}", args=[link.entity, link.dynamics_id], **kw)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _ac_requests(sides) -> int:
    return len(sides.ac_app.log.entries(path_prefix="/api/3/"))


def test_a_record_page_shows_dynamics_fields_sync_state_and_activity(client, synced, sales):
    link = _contact(synced)
    client.force_login(sales)

    response = client.get(_url("record", link))
    calls = _ac_requests(synced)
    again = client.get(_url("record", link))

    page = response.content.decode()
    assert response.status_code == 200
    fields = {row.label: row.value for row in response.context["fields"].rows}
    assert fields["First Name"] == "Nadia" and fields["Last Name"] == "O'Brien"
    assert fields["Company Name"] == "Contoso Ltd"  # the parent account, by name
    assert "D365: Contact" in response.context["marketing"].tags
    texts = [row.text for row in response.context["activity"].object_list]
    assert "Opened campaign “Webinar invitation”" in texts
    assert "Entered automation “Lead nurture”" in texts
    assert "Tag “Newsletter” added" in texts
    dates = [row.occurred_at for row in response.context["activity"].object_list]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert 'id="activecampaign-notice"' not in page and 'id="dynamics-notice"' not in page
    assert f"/app/contacts/{link.ac_id}" in page
    # Cached briefly: the second view asks ActiveCampaign nothing.
    assert again.status_code == 200 and _ac_requests(synced) == calls


def test_when_activecampaign_cannot_be_reached_the_page_says_so(
    client, synced, sales, sync_integration, settings
):
    link = _contact(synced)
    closed = socket_closed_port()
    sync_integration.ac_api_url = f"http://127.0.0.1:{closed}"
    sync_integration.save(update_fields=["ac_api_url"])
    client.force_login(sales)

    page = client.get(_url("record", link))
    picker = client.get(_url("automation", link))

    assert page.status_code == 200 and picker.status_code == 200
    assert 'id="activecampaign-notice"' in page.content.decode()
    assert "ActiveCampaign cannot be reached right now" in page.content.decode()
    assert 'id="dynamics-fields"' in page.content.decode()  # Dynamics still answers
    assert 'id="activecampaign-notice"' in picker.content.decode()


def socket_closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_contact_deleted_in_activecampaign_is_said_to_be_gone(client, synced, sales):
    link = _contact(synced)
    assert synced.ac.contacts.delete(link.ac_id)
    client.force_login(sales)

    page = client.get(_url("record", link)).content.decode()

    assert "ActiveCampaign has no such contact any more" in page
    assert 'id="dynamics-fields"' in page


def test_only_active_automations_are_offered_and_searchable(client, synced, sales):
    link = _contact(synced)
    client.force_login(sales)

    every = client.get(_url("automation", link))
    searched = client.get(_url("automation", link), {"q": "WEBINAR"})
    inactive = client.get(_url("automation", link), {"automation": INACTIVE})

    names = [a.name for a in every.context["automations"]]
    assert names == ["Lead nurture", "Webinar follow-up", "Welcome series"]
    assert [a.name for a in searched.context["automations"]] == ["Webinar follow-up"]
    assert "chosen" not in inactive.context or inactive.context["chosen"] is None
    assert "That automation is not active." in _messages(inactive)


def test_it_enrols_the_contact_and_records_who_did_it(client, synced, sales):
    link = _contact(synced)
    client.force_login(sales)

    confirm = client.get(_url("automation", link), {"automation": ACTIVE})
    response = client.post(_url("automation", link), {"automation": ACTIVE}, follow=True)

    assert confirm.context["chosen"].name == "Welcome series"
    assert response.redirect_chain[-1][0] == _url("record", link)
    assert f"{link.email} was added to the automation." in _messages(response)
    enrolments = synced.ac.automations.for_contact(link.ac_id)
    assert ACTIVE in [e.automation_id for e in enrolments]
    entry = AuditEntry.objects.get(action="records.automation")
    assert entry.actor == sales and entry.actor_name == "uma"
    assert entry.changes["automation"] == ACTIVE and entry.changes["contact"] == link.ac_id
    # The page shows the enrolment at once (the cached activity was forgotten).
    texts = [row.text for row in response.context["activity"].object_list]
    assert "Entered automation “Welcome series”" in texts


def test_an_inactive_automation_is_refused_and_nothing_happens(client, synced, sales):
    link = _contact(synced)
    before = synced.ac.automations.for_contact(link.ac_id)
    client.force_login(sales)

    response = client.post(_url("automation", link), {"automation": INACTIVE}, follow=True)

    assert any("is not active" in m for m in _messages(response))
    assert synced.ac.automations.for_contact(link.ac_id) == before
    assert not AuditEntry.objects.filter(action__startswith="records.").exists()


def test_it_sends_a_campaign_to_the_contact_and_records_who_did_it(client, synced, sales):
    link = _contact(synced)
    campaign, message = WEBINAR
    client.force_login(sales)

    picker = client.get(_url("campaign", link), {"q": "webinar"})
    confirm = client.get(_url("campaign", link), {"campaign": campaign})
    response = client.post(
        _url("campaign", link), {"campaign": campaign, "message": message}, follow=True
    )

    assert [c.name for c in picker.context["campaigns"]] == ["Webinar invitation"]
    every = client.get(_url("campaign", link)).context["campaigns"]
    assert "Customer survey (draft)" not in [c.name for c in every]
    draft = client.post(_url("campaign", link), {"campaign": "4", "message": "4"}, follow=True)
    assert any("is a draft" in m for m in _messages(draft))
    assert [m.id for m in confirm.context["campaign_messages"]] == [message]
    assert f"The campaign was sent to {link.email}." in _messages(response)
    sends = [
        a
        for a in synced.ac.activities.for_contact(link.ac_id)
        if a.kind == "campaign" and a.action == "sent" and a.subject == "Webinar invitation"
    ]
    assert len(sends) == 2  # the seeded send and ours
    entry = AuditEntry.objects.get(action="records.campaign")
    assert entry.actor == sales
    assert (entry.changes["campaign"], entry.changes["message"]) == WEBINAR


def _sent_count(sides, ac_id) -> int:
    return sum(
        1
        for a in sides.ac.activities.for_contact(ac_id)
        if a.kind == "campaign" and a.action == "sent"
    )


def test_it_refuses_to_send_to_an_unsubscribed_contact(client, synced, sales):
    link = _contact(synced)
    for membership in synced.ac.lists.for_contact(link.ac_id):
        synced.ac.lists.unsubscribe(link.ac_id, membership.list_id)
    sent = _sent_count(synced, link.ac_id)
    client.force_login(sales)

    page = client.get(_url("campaign", link))
    response = client.post(
        _url("campaign", link), {"campaign": WEBINAR[0], "message": WEBINAR[1]}, follow=True
    )

    assert 'id="send-refused"' in page.content.decode()
    assert f"Not sent: {link.email} has unsubscribed in ActiveCampaign." in _messages(response)
    assert _sent_count(synced, link.ac_id) == sent
    assert not AuditEntry.objects.filter(action__startswith="records.").exists()


def test_it_refuses_to_send_to_a_bounced_address(client, synced, sales, sandboxes):
    link = _contact(synced)
    ac = sandboxes.activecampaign
    bounced = requests.post(
        f"{ac.api_url}/_sandbox/activecampaign/{ac.account}/events",
        json={"type": "bounce", "contact": int(link.ac_id), "campaign": 3, "bounce": "hard"},
        headers=sandboxes.activecampaign_app.control_headers,
        timeout=10,
    )
    assert bounced.status_code == 200, bounced.text
    sent = _sent_count(synced, link.ac_id)
    client.force_login(sales)

    response = client.post(
        _url("campaign", link), {"campaign": WEBINAR[0], "message": WEBINAR[1]}, follow=True
    )

    assert any(m.startswith("Not sent: e-mail to") and "bounced" in m for m in _messages(response))
    assert _sent_count(synced, link.ac_id) == sent


def test_an_administrator_syncs_the_record_now(client, synced, admin_user):
    link = _contact(synced)
    synced.dv_update("contact", link.dynamics_id, {"firstname": "Nadine"})
    client.force_login(admin_user)

    response = client.post(_url("sync", link), follow=True)

    assert "The record was synced." in _messages(response)
    assert synced.ac.contacts.get(link.ac_id).first_name == "Nadine"
