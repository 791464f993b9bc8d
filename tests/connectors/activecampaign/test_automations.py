"""Automations: listed with their status, a contact enrolled once, only in an active one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import RecordError, RetryableError

from .conftest import BASE, body

AUTOMATIONS = {
    "automations": [
        {
            "id": "1",
            "name": "Email Subscription",
            "status": "2",
            "entered": "0",
            "exited": "0",
            "cdate": "2018-08-06T16:28:43-05:00",
            "mdate": "2018-08-06T16:33:10-05:00",
        },
        {
            "id": "2",
            "name": "Welcome series",
            "status": 1,
            "entered": "2",
            "exited": "2",
            "cdate": "2018-09-18T10:46:32-05:00",
            "mdate": "2018-09-18T10:54:30-05:00",
        },
    ],
    "meta": {"total": "2", "starts": []},
}


def test_it_lists_automations_with_their_status(rsps, client):
    rsps.get(BASE + "automations", json=AUTOMATIONS)

    automations = list(client.automations.all())

    assert [(a.id, a.name, a.active) for a in automations] == [
        ("1", "Email Subscription", False),
        ("2", "Welcome series", True),  # status as an int: ids and flags flip types
    ]
    assert automations[1].entered == 2


def test_it_adds_a_contact_to_an_active_automation(rsps, client):
    rsps.get(BASE + "automations/2", json={"automation": AUTOMATIONS["automations"][1]})
    rsps.post(
        BASE + "contactAutomations",
        status=201,
        json={
            "contacts": [{"id": "117"}],
            "contactAutomation": {
                "id": "9",
                "contact": "117",
                "seriesid": "2",
                "status": "1",
                "adddate": "2024-05-01T10:00:00-05:00",
            },
        },
    )

    enrolment = client.automations.add_contact("117", "2")

    assert body(rsps.calls[1]) == {"contactAutomation": {"contact": 117, "automation": 2}}
    assert (enrolment.id, enrolment.automation_id) == ("9", "2")
    assert enrolment.added_at == datetime(2024, 5, 1, 15, 0, tzinfo=UTC)


def test_it_refuses_an_inactive_automation_clearly(rsps, client):
    rsps.get(BASE + "automations/1", json=AUTOMATIONS)  # the reference's list-shaped example

    with pytest.raises(RecordError, match="not active") as caught:
        client.automations.add_contact("117", "1")

    assert caught.value.code == "automation_inactive"
    assert [call.request.method for call in rsps.calls] == ["GET"]


def test_it_reports_an_enrolment_ac_refuses_as_a_record_error(rsps, client):
    rsps.get(BASE + "automations/2", json={"automation": AUTOMATIONS["automations"][1]})
    rsps.post(
        BASE + "contactAutomations",
        status=403,
        json={"message": "Could not create SubscriberSeries"},
    )
    rsps.get(BASE + "users/me", json={"user": {"id": "1"}})

    with pytest.raises(RecordError, match="SubscriberSeries"):
        client.automations.add_contact("117", "2")


def test_it_never_repeats_an_enrolment_that_may_have_happened(rsps, client):
    rsps.get(BASE + "automations/2", json={"automation": AUTOMATIONS["automations"][1]})
    rsps.post(BASE + "contactAutomations", status=500, json={"message": "oops"})

    with pytest.raises(RetryableError):
        client.automations.add_contact("117", "2")

    assert [call.request.method for call in rsps.calls].count("POST") == 1


def test_it_lists_a_contacts_automations(rsps, client):
    rsps.get(
        BASE + "contacts/6/contactAutomations",
        json={
            "contactAutomations": [
                {
                    "id": "6",
                    "contact": "6",
                    "seriesid": "2",
                    "status": "2",
                    "completed": 1,
                    "completeValue": 100,
                    "adddate": "2022-03-01T08:51:57-06:00",
                    "remdate": "2022-03-01T08:51:58-06:00",
                    "automation": "2",
                }
            ]
        },
    )

    (enrolment,) = client.automations.for_contact("6")

    assert enrolment.automation_id == "2"
    assert enrolment.completed is True and enrolment.complete_percent == 100
    assert enrolment.removed_at == datetime(2022, 3, 1, 14, 51, 58, tzinfo=UTC)
