"""Campaigns and their messages, and "send this campaign to this contact" (the v1 call that
v3 lacks).

https://developers.activecampaign.com/reference/list-all-campaigns
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from connectors.errors import ConfigReason, ConfigurationError, RecordError

from . import parse
from .api import Resource, seg
from .errors import VENDOR
from .records import Campaign, CampaignSendResult, Message
from .values import as_id, as_int


class Campaigns(Resource):
    """ActiveCampaignClient.campaigns."""

    def all(self) -> Iterator[Campaign]:
        """Campaigns, most recently sent first."""
        for item in self.api.items("campaigns", "campaigns", {"orders[sdate]": "DESC"}):
            yield parse.campaign(item, self.api.learn_tz(item.get("cdate")))

    def messages(self, campaign_id: str) -> list[Message]:
        """A campaign's messages (the `campaignMessages` link of every campaign; items carry
        `messageid` and `subject`, singer-io/tap-activecampaign schemas/campaign_messages.json)."""
        items, _ = self.api.sub_items(
            f"campaigns/{seg(campaign_id)}/campaignMessages", "campaignMessages"
        )
        messages = []
        for item in items:
            message_id = as_id(item.get("messageid") or item.get("message"))
            if message_id is None:
                continue
            messages.append(
                Message(
                    id=message_id,
                    subject=str(item.get("subject") or ""),
                    name=str(item.get("name") or ""),
                    campaign_id=str(campaign_id),
                )
            )
        return messages

    def send(
        self, *, email: str, campaign_id: str, message_id: str, type: str = "mime"
    ) -> CampaignSendResult:
        """Send an existing campaign's message to one contact (v1 `campaign_send`).

        v3 has no such call (only a test send); the v1 API is still live and documented at
        https://www.activecampaign.com/api/example.php?call=campaign_send : GET
        /admin/api.php?api_action=campaign_send&api_output=json with email, campaignid,
        messageid, type (mime/html/text) and action=send ("send a campaign to this contact and
        append him to the recipients list"). The key goes in the Api-Token header, as for v3
        (singer-io/tap-activecampaign client_v1.py), never in the URL. The answer is HTTP 200
        either way; success is result_code 1, a refusal result_code 0 with result_message.
        Doubt: whether action=send still works on every current account and counts as a
        tracked send. Never retried once it may have been sent: a second try could e-mail
        the person twice.
        """
        if type not in ("mime", "html", "text"):
            raise ValueError(f"type must be mime, html or text, not {type!r}")
        params = {
            "api_action": "campaign_send",
            "api_output": "json",
            "email": email,
            "campaignid": campaign_id,
            "messageid": message_id,
            "type": type,
            "action": "send",
        }
        response = self.api.http.request(
            "GET", f"{self.api.api_url}/admin/api.php", params=params, idempotent=False
        )
        body = self.api.json(response)
        if not isinstance(body, Mapping) or "result_code" not in body:
            raise ConfigurationError(
                "the v1 API answered without a result_code",
                vendor=VENDOR,
                status=response.status_code,
                reason=ConfigReason.NOT_AN_API,
            )
        message = " ".join(str(body.get("result_message") or "").split())
        if as_int(body.get("result_code")) == 1:
            self.api.key_proven = True
            return CampaignSendResult(email, str(campaign_id), str(message_id), message)
        if "not authorized" in message.lower():
            # v1 reports a refused key as result_code 0 "You are not authorized to access this
            # file" with HTTP 200 (ActiveCampaign/activecampaign-api-php issue #8).
            raise ConfigurationError(
                message, vendor=VENDOR, status=200, reason=ConfigReason.UNAUTHORIZED
            )
        raise RecordError(message or "the campaign was not sent", vendor=VENDOR, status=200)
