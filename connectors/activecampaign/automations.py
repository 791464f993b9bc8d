"""Automations and a contact's enrolments: "add to automation" from a record.

https://developers.activecampaign.com/reference/list-all-automations
https://developers.activecampaign.com/reference/create-new-contactautomation
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from connectors.errors import NotFoundError, RecordError

from . import parse
from .api import Resource, int_id, mapping, seg
from .errors import VENDOR
from .records import Automation, ContactAutomation
from .values import as_id


class Automations(Resource):
    """ActiveCampaignClient.automations."""

    def all(self) -> Iterator[Automation]:
        for item in self.api.items("automations", "automations"):
            yield parse.automation(item, self.api.learn_tz(item.get("mdate")))

    def get(self, automation_id: str) -> Automation:
        body = self.api.get_mapping(f"automations/{seg(automation_id)}")
        item = body.get("automation")
        if not isinstance(item, Mapping):
            # The reference's example shows this path answering a list; take ours from it.
            item = next(
                (
                    candidate
                    for candidate in body.get("automations") or ()
                    if isinstance(candidate, Mapping)
                    and as_id(candidate.get("id")) == str(automation_id)
                ),
                None,
            )
        if not isinstance(item, Mapping):
            raise NotFoundError(f"automation {automation_id} not found", vendor=VENDOR, status=404)
        return parse.automation(item, self.api.account_tz)

    def add_contact(self, contact_id: str, automation: str | Automation) -> ContactAutomation:
        """Enrol a contact in an automation (POST /contactAutomations).

        Refused here for an inactive automation: AC accepts the enrolment and nothing
        happens. Not retried after a failure that may have reached AC: a second enrolment
        could run the automation twice.
        """
        target = automation if isinstance(automation, Automation) else self.get(automation)
        if not target.active:
            raise RecordError(
                f"automation “{target.name}” is not active; activate it in ActiveCampaign first",
                vendor=VENDOR,
                code="automation_inactive",
            )
        payload = {
            "contactAutomation": {"contact": int_id(contact_id), "automation": int_id(target.id)}
        }
        body = mapping(
            self.api.call(
                "POST",
                "contactAutomations",
                json=payload,
                idempotent=False,
                # 403 {"message": "Could not create SubscriberSeries"} is AC refusing this
                # enrolment, not the key (create-new-contactautomation).
                forbidden_is_record=True,
            ),
            "contactAutomation",
        )
        return parse.contact_automation(
            mapping(body.get("contactAutomation"), "contactAutomation"), self.api.account_tz
        )

    def for_contact(self, contact_id: str) -> list[ContactAutomation]:
        """The contact's enrolments, past and present."""
        items, _ = self.api.sub_items(
            f"contacts/{seg(contact_id)}/contactAutomations", "contactAutomations"
        )
        return [
            parse.contact_automation(item, self.api.learn_tz(item.get("adddate"))) for item in items
        ]
