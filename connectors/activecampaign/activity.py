"""A contact's activity feed (/activities) as Activity records with words a person can read,
for the record views (https://developers.activecampaign.com/reference/list-all-contact-activities).

The feed's items name what happened only by reference (`reference: {type, id}`,
`reference_type`, `referenceModelName`, `reference_action`); the named things (campaigns,
links, automations, lists…) arrive side-loaded when asked for with `include=`. The type
tokens are not documented beyond one example ("contact-email" / "SubscriberEmail", in the
list-contact-activities reference); the table below also accepts the model names AC uses elsewhere
(log, link, series, list, note, deal, tag, sms), and anything else is described by its own
type and action rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from .api import Resource
from .records import Activity
from .values import api_timestamp, as_id, parse_timestamp

# What the feed asks AC to side-load so that items can be named.
DEFAULT_INCLUDE = (
    "reference.campaign",
    "reference.campaignMessage",
    "reference.link",
    "reference.log",
    "reference.log.campaign",
    "reference.automation",
    "reference.list",
    "reference.deal",
    "reference.note",
    # Not in the doc's list of examples; asked by analogy with reference.automation and
    # reference.list so that tag items can be named (an include AC does not know is ignored).
    "reference.tag",
)

_KINDS = {
    "campaign": "campaign",
    "log": "campaign",
    "campaignlog": "campaign",
    "message": "campaign",
    "campaignmessage": "campaign",
    "link": "link",
    "linkdata": "link",
    "automation": "automation",
    "series": "automation",
    "subscriberseries": "automation",
    "contactautomation": "automation",
    "list": "list",
    "subscriberlist": "list",
    "contactlist": "list",
    "contactemail": "email",
    "subscriberemail": "email",
    "email": "email",
    "emailactivity": "email",
    "note": "note",
    "subscribernote": "note",
    "deal": "deal",
    "dealactivity": "deal",
    "tag": "tag",
    "subscribertag": "tag",
    "contacttag": "tag",
    "sms": "sms",
    "form": "form",
}


def _norm(token: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(token or "").lower())


def _index(body: Mapping) -> dict[str, dict[str, Mapping]]:
    """Every side-loaded collection, by id: {"campaigns": {"7": {...}}, …}."""
    index: dict[str, dict[str, Mapping]] = {}
    for key, value in body.items():
        if key == "activities" or not isinstance(value, list):
            continue
        by_id = {
            as_id(item.get("id")) or "": item
            for item in value
            if isinstance(item, Mapping) and item.get("id") is not None
        }
        if by_id:
            index[key] = by_id
    return index


def _lookup(index: Mapping, collection: str, item_id: Any) -> Mapping:
    return index.get(collection, {}).get(as_id(item_id) or "", {})


def _name(item: Mapping, *keys: str) -> str:
    for key in keys:
        value = item.get(key)
        if value not in (None, ""):
            return " ".join(str(value).split())
    return ""


def _resolve(kind: str, raw_type: str, ref_id: str | None, index: Mapping) -> tuple[str, str]:
    """(name of the referenced thing, URL for clicks) from the side-loads."""
    if kind == "campaign":
        if raw_type in ("log", "campaignlog"):
            log = _lookup(index, "logs", ref_id)
            campaign = _lookup(index, "campaigns", log.get("campaign") or log.get("campaignid"))
            return _name(campaign, "name"), ""
        if raw_type in ("message", "campaignmessage"):
            item = _lookup(index, "campaignMessages", ref_id) or _lookup(index, "messages", ref_id)
            return _name(item, "subject", "name"), ""
        return _name(_lookup(index, "campaigns", ref_id), "name"), ""
    if kind == "link":
        link = _lookup(index, "links", ref_id)
        campaign = _lookup(index, "campaigns", link.get("campaign") or link.get("campaignid"))
        return _name(campaign, "name"), _name(link, "link", "url")
    if kind == "automation" and raw_type in ("contactautomation", "subscriberseries"):
        # The item names the enrolment; the enrolment names the automation.
        enrolment = _lookup(index, "contactAutomations", ref_id)
        automation = enrolment.get("automation") or enrolment.get("seriesid")
        return _name(_lookup(index, "automations", automation), "name")[:200], ""
    if kind == "tag" and raw_type in ("contacttag", "subscribertag"):
        # The item names the contact-tag link; the link names the tag.
        tag = _lookup(index, "contactTags", ref_id).get("tag")
        return _name(_lookup(index, "tags", tag), "tag")[:200], ""
    collections = {
        "automation": ("automations", ("name",)),
        "list": ("lists", ("name",)),
        "deal": ("deals", ("title", "name")),
        "note": ("notes", ("note",)),
        "tag": ("tags", ("tag",)),
        "form": ("forms", ("name",)),
    }
    if kind in collections:
        collection, keys = collections[kind]
        return _name(_lookup(index, collection, ref_id), *keys)[:200], ""
    return "", ""


def _quoted(name: str, fallback: str) -> str:
    return f"“{name}”" if name else fallback


def describe(kind: str, action: str, subject: str, url: str, raw_type: str) -> str:
    act = _norm(action)
    if kind == "campaign":
        what = _quoted(subject, "a campaign")
        return {
            "open": f"Opened campaign {what}",
            "read": f"Opened campaign {what}",
            "click": f"Clicked a link in campaign {what}",
            "bounce": f"Campaign {what} bounced",
            "unsubscribe": f"Unsubscribed through campaign {what}",
            "forward": f"Forwarded campaign {what}",
            "reply": f"Replied to campaign {what}",
        }.get(act, f"Was sent campaign {what}")
    if kind == "link":
        target = url or "a link"
        where = f" in campaign “{subject}”" if subject else ""
        return f"Clicked {target}{where}"
    if kind == "automation":
        what = _quoted(subject, "an automation")
        if act in ("complete", "completed", "end", "finish", "finished"):
            return f"Completed automation {what}"
        if act in ("remove", "removed", "exit", "exited", "unsubscribe"):
            return f"Left automation {what}"
        return f"Entered automation {what}"
    if kind == "list":
        what = _quoted(subject, "a list")
        if act in ("unsubscribe", "unsubscribed", "remove"):
            return f"Unsubscribed from list {what}"
        return f"Subscribed to list {what}"
    if kind == "email":
        return "Was sent a 1:1 e-mail"
    if kind == "note":
        return f"Note: {subject}" if subject else "A note was added"
    if kind == "deal":
        what = _quoted(subject, "a deal")
        return f"Deal {what} {act}".strip() if act else f"Deal {what} updated"
    if kind == "tag":
        what = _quoted(subject, "a tag")
        return f"Tag {what} removed" if act.startswith("remove") else f"Tag {what} added"
    if kind == "sms":
        return f"SMS {act}".strip() if act else "SMS sent"
    if kind == "form":
        return f"Submitted form {_quoted(subject, '')}".strip()
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", raw_type or "activity").replace("-", " ")
    return f"{words.strip().capitalize()} {action}".strip()


def activities(body: Mapping, *, tz: tzinfo = UTC) -> list[Activity]:
    index = _index(body)
    result = []
    for item in body.get("activities") or ():
        if not isinstance(item, Mapping):
            continue
        reference = item.get("reference") if isinstance(item.get("reference"), Mapping) else {}
        raw = reference.get("type") or item.get("referenceModelName") or item.get("reference_type")
        raw_type = _norm(raw)
        kind = _KINDS.get(raw_type) or _KINDS.get(_norm(item.get("reference_type")), raw_type)
        ref_id = as_id(reference.get("id") or item.get("reference_id"))
        action = str(item.get("reference_action") or "")
        subject, url = _resolve(kind, raw_type, ref_id, index)
        result.append(
            Activity(
                id=as_id(item.get("id")) or "",
                contact_id=as_id(item.get("subscriberid") or item.get("contact")) or "",
                occurred_at=parse_timestamp(item.get("tstamp"), default_tz=tz),
                kind=kind or "activity",
                action=action,
                description=describe(kind, action, subject, url, str(raw or "")),
                reference_id=ref_id,
                subject=subject,
                url=url,
            )
        )
    return result


class Activities(Resource):
    """ActiveCampaignClient.activities."""

    def for_contact(
        self,
        contact_id: str,
        *,
        after: datetime | None = None,
        include: Sequence[str] = DEFAULT_INCLUDE,
        max_items: int = 500,
    ) -> Iterator[Activity]:
        """The contact's recent activity, newest first, as readable Activity records.

        The docs say activity rows are generated when the contact is read via
        GET /contacts/{id}; read the contact first if the feed looks stale.
        """
        params: dict[str, Any] = {"contact": contact_id, "orders[tstamp]": "DESC"}
        if after is not None:
            params["after"] = api_timestamp(after)
        if include:
            params["include"] = ",".join(include)
        emitted = 0
        # A feed, not a collection to finish: the bound ends it quietly (pages of 20 on a
        # server that caps `limit` still reach max_items).
        pages = self.api.pages(
            "activities", "activities", params, max_pages=max_items, truncate=True
        )
        for page in pages:
            for item in activities(page, tz=self.api.account_tz):
                yield item
                emitted += 1
                if emitted >= max_items:
                    return
