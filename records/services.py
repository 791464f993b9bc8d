"""Sales actions on a synced record (S-6.2, S-6.3) and "Sync this record now".

Each action talks to ActiveCampaign through the connector, is written to the integration's
audit log with who did it, and forgets the cached marketing view of the contact so that the
next page shows the result.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from connectors.activecampaign.records import CampaignSendResult, ContactAutomation
from connectors.errors import ConnectorError, NotFoundError, user_message
from integrations.models import Integration
from integrations.services import audit_record
from sync.models import RecordLink, SyncRun
from sync.services import RunRefused, record_sync

from .selectors import CAMPAIGN_DRAFT, ac_client, contact_status, marketing_forget

logger = logging.getLogger(__name__)


class ActionRefused(Exception):
    """The action was not done; `message` says why, in words for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _client(integration: Integration):
    """The integration's ActiveCampaign client, or ActionRefused."""
    if not integration.is_connected:
        raise ActionRefused(_("ActiveCampaign is not connected."))
    try:
        return ac_client(integration)
    except ConnectorError as error:
        raise ActionRefused(user_message(error)) from None


def _who(link: RecordLink) -> str:
    return link.email or f"{link.entity} {link.dynamics_id}"


def record_sync_now(*, integration: Integration, link: RecordLink, actor) -> SyncRun:
    """The engine's single-record sync, both ways. Raises ActionRefused."""
    try:
        run = record_sync(
            integration=integration,
            entity=link.entity,
            dynamics_id=link.dynamics_id,
            ac_id=link.ac_id or None,
            actor=actor,
        )
    except RunRefused as refused:
        raise ActionRefused(str(refused)) from None
    marketing_forget(integration=integration, ac_id=link.ac_id)
    return run


def automation_enrol(
    *, integration: Integration, link: RecordLink, automation_id: str, actor
) -> ContactAutomation:
    """Enrol the record's ActiveCampaign contact in an active automation (S-6.2)."""
    client = _client(integration)
    try:
        automation = client.automations.get(automation_id)
    except NotFoundError:
        raise ActionRefused(_("That automation does not exist in ActiveCampaign.")) from None
    except ConnectorError as error:
        raise ActionRefused(user_message(error)) from None
    if not automation.active:
        raise ActionRefused(
            _("The automation “%(name)s” is not active: activate it in ActiveCampaign first.")
            % {"name": automation.name}
        )
    details = {
        "contact": link.ac_id,
        "dynamics_id": link.dynamics_id,
        "entity": link.entity,
        "automation": automation.id,
        "automation_name": automation.name,
    }
    try:
        enrolment = client.automations.add_contact(link.ac_id, automation)
    except ConnectorError as error:
        # It may have reached ActiveCampaign: the attempt is on record either way.
        audit_record(
            integration=integration,
            actor=actor,
            action="records.automation_failed",
            summary=f"Adding {_who(link)} to automation “{automation.name}” failed",
            changes={**details, "error": user_message(error)},
        )
        raise ActionRefused(user_message(error)) from None
    audit_record(
        integration=integration,
        actor=actor,
        action="records.automation",
        summary=f"Added {_who(link)} to automation “{automation.name}”",
        changes={**details, "enrolment": enrolment.id},
    )
    marketing_forget(integration=integration, ac_id=link.ac_id)
    return enrolment


def campaign_send(
    *, integration: Integration, link: RecordLink, campaign_id: str, message_id: str, actor
) -> CampaignSendResult:
    """Send an existing campaign's message to the record's contact (S-6.3).

    The route: ActiveCampaign's v1 `campaign_send` with action=send, the one documented call
    that sends an existing campaign to one address (the reference's §7; v3 has only a test
    send). Refused for a contact who unsubscribed from a list or whose address bounced: their
    consent (or their mailbox) says no, and AC would not tell us.
    """
    client = _client(integration)
    try:
        status = contact_status(client, link.ac_id)
        messages = client.campaigns.messages(campaign_id)
        campaign = next((c for c in client.campaigns.all() if c.id == str(campaign_id)), None)
        if campaign is not None and campaign.status == CAMPAIGN_DRAFT:
            raise ActionRefused(_("That campaign is a draft: finish it in ActiveCampaign first."))
    except NotFoundError:
        raise ActionRefused(
            _("That campaign or contact does not exist in ActiveCampaign.")
        ) from None
    except ConnectorError as error:
        raise ActionRefused(user_message(error)) from None
    contact = status.contact
    if contact is None or not contact.email:
        raise ActionRefused(_("The contact has no e-mail address in ActiveCampaign."))
    if status.bounced:
        raise ActionRefused(
            _("Not sent: e-mail to %(email)s bounced, so ActiveCampaign would not deliver it.")
            % {"email": contact.email}
        )
    if status.unsubscribed:
        raise ActionRefused(
            _("Not sent: %(email)s has unsubscribed in ActiveCampaign.") % {"email": contact.email}
        )
    if campaign is None:
        raise ActionRefused(_("That campaign does not exist in ActiveCampaign."))
    message = next((m for m in messages if m.id == str(message_id)), None)
    if message is None:
        raise ActionRefused(_("That message is not part of the campaign."))
    details = {
        "contact": link.ac_id,
        "dynamics_id": link.dynamics_id,
        "entity": link.entity,
        "campaign": campaign.id,
        "campaign_name": campaign.name,
        "message": message.id,
        "subject": message.subject,
    }
    try:
        result = client.campaigns.send(
            email=contact.email, campaign_id=campaign.id, message_id=message.id
        )
    except ConnectorError as error:
        audit_record(
            integration=integration,
            actor=actor,
            action="records.campaign_failed",
            summary=f"Sending campaign “{campaign.name}” to {_who(link)} failed",
            changes={**details, "error": user_message(error)},
        )
        raise ActionRefused(user_message(error)) from None
    audit_record(
        integration=integration,
        actor=actor,
        action="records.campaign",
        summary=f"Sent campaign “{campaign.name}” to {_who(link)}",
        changes=details,
    )
    marketing_forget(integration=integration, ac_id=link.ac_id)
    return result
