"""Reads for the records section: synced people, their Dynamics fields, sync state and
ActiveCampaign marketing activity (S-6.1)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.activecampaign.client import ActiveCampaignClient
from connectors.activecampaign.records import (
    Activity,
    Automation,
    Campaign,
    Contact,
    ListStatus,
    Message,
)
from connectors.dynamics import odata
from connectors.dynamics.client import DynamicsClient
from connectors.dynamics.records import LookupValue
from connectors.errors import ConnectorError, NotFoundError, user_message
from connectors.http import RetryPolicy
from integrations.models import Integration
from mapping.core.directions import Direction
from mapping.core.snapshot import FieldPair
from mapping.selectors import config_snapshot
from sync.models import RecordLink, RunRecord
from sync.selectors import record_link_synced, record_links_synced, record_problems

logger = logging.getLogger(__name__)

PEOPLE = ("lead", "contact")
PAGE_SIZE = 25
ACTIVITY_PAGE_SIZE = 20
ACTIVITY_MAX = 200  # the newest items read from ActiveCampaign (10 pages of the feed)
# What ActiveCampaign says about a contact is read once a minute at most per contact: a sales
# user paging through the activity, or several users on one record, cost no more calls.
MARKETING_CACHE_SECONDS = 60
TAG_NAME_CACHE_SECONDS = 3600
SORTS = ("-synced", "synced")  # by last sync: newest first, oldest first

# The base keys of the standard person mappings (mapping.core.standard: "<ac key>|<column>").
FIRST_NAME, LAST_NAME = "firstName|firstname", "lastName|lastname"
ACCOUNT_LINK = "@account"  # sync.engine.base.ACCOUNT_LINK: a lead's company, a contact's account
ACCOUNT_NAME = "name|name"


# Someone is waiting for the page: two tries with a short backoff, and a Retry-After of more
# than a few seconds is reported instead of waited for (the engine's clients try five times).
PAGE_RETRY = RetryPolicy(attempts=2, backoff=0.3, backoff_max=1.0, retry_after_max=5.0)


def ac_client(integration: Integration) -> ActiveCampaignClient:
    """The integration's ActiveCampaign client for a page (raises ConnectorError)."""
    return ActiveCampaignClient(integration.activecampaign_config(), retry=PAGE_RETRY)


def dynamics_client(integration: Integration) -> DynamicsClient:
    return DynamicsClient(integration.dynamics_config(), retry=PAGE_RETRY)


# -- lists -----------------------------------------------------------------------------------
def _with_names(links: QuerySet[RecordLink], *, entity: str) -> QuerySet[RecordLink]:
    """Name and company as both sides agreed at the last sync (no call to either service)."""
    if entity == "lead":
        company = KeyTextTransform(ACCOUNT_LINK, "base_dynamics")
    else:
        accounts = RecordLink.objects.filter(
            integration=OuterRef("integration"),
            entity="account",
            dynamics_id=OuterRef("account_id"),
        )
        company = Subquery(
            accounts.annotate(name=KeyTextTransform(ACCOUNT_NAME, "base_dynamics")).values("name")[
                :1
            ]
        )
    return links.annotate(
        first_name=Coalesce(
            KeyTextTransform(FIRST_NAME, "base_dynamics"), Value(""), output_field=TextField()
        ),
        last_name=Coalesce(
            KeyTextTransform(LAST_NAME, "base_dynamics"), Value(""), output_field=TextField()
        ),
        account_id=KeyTextTransform(ACCOUNT_LINK, "base_dynamics"),
    ).annotate(company=Coalesce(company, Value(""), output_field=TextField()))


def records_page(
    *, integration: Integration, entity: str, query: str = "", sort: str = "-synced", page=1
) -> Page:
    """One page of the entity's synced records, searched by name, e-mail or company, sorted by
    last sync (newest first unless `sort` is "synced")."""
    links = _with_names(record_links_synced(integration=integration, entity=entity), entity=entity)
    for word in query.split()[:5]:
        links = links.filter(
            Q(email__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(company__icontains=word)
        )
    if sort == "synced":
        links = links.order_by(F("last_synced_at").asc(nulls_first=True), "pk")
    else:
        links = links.order_by(F("last_synced_at").desc(nulls_last=True), "-pk")
    return Paginator(links, PAGE_SIZE).get_page(page)


def record_counts(*, integration: Integration, entities: Sequence[str]) -> dict[str, int]:
    return {
        entity: record_links_synced(integration=integration, entity=entity).count()
        for entity in entities
    }


def record_get(*, integration: Integration, entity: str, dynamics_id: str) -> RecordLink | None:
    link = record_link_synced(integration=integration, entity=entity, dynamics_id=dynamics_id)
    if link is None:
        return None
    return _with_names(RecordLink.objects.filter(pk=link.pk), entity=entity).first()


DIRECTION_LABELS = {
    Direction.BIDIRECTIONAL: gettext_lazy("Bidirectional"),
    Direction.PUSH: gettext_lazy("Push only (Dynamics 365 → ActiveCampaign)"),
    Direction.PULL: gettext_lazy("Pull only (ActiveCampaign → Dynamics 365)"),
}


# -- the record page: Dynamics fields ------------------------------------------------------------
@dataclass(frozen=True)
class FieldRow:
    label: str
    value: str


@dataclass(frozen=True)
class DynamicsFields:
    rows: tuple[FieldRow, ...] = ()
    direction: str = ""  # the entity's sync direction, in words
    problem: str = ""  # why the fields could not be read


def _account_name(integration: Integration, value: LookupValue) -> str:
    link = RecordLink.objects.filter(
        integration=integration, entity="account", dynamics_id=value.id
    ).first()
    name = (link.base_dynamics or {}).get(ACCOUNT_NAME) if link else None
    return str(name) if name else value.id


def _display(integration: Integration, pair: FieldPair, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, LookupValue):
        return _account_name(integration, value)
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    options = {option.value: option.label for option in pair.dynamics.options}
    if options:
        values = value if isinstance(value, list | tuple) else str(value).split(",")
        return ", ".join(options.get(str(v).strip(), str(v)) for v in values)
    return str(value)


def dynamics_fields(*, integration: Integration, link: RecordLink) -> DynamicsFields:
    """The record's mapped fields as Dynamics 365 holds them now (one read)."""
    config = config_snapshot(integration=integration).entity(link.entity)
    if config is None:
        return DynamicsFields(problem=_("This entity has no data configuration."))
    direction = str(DIRECTION_LABELS[config.direction])
    if not integration.is_connected:
        return DynamicsFields(direction=direction, problem=_("Dynamics 365 is not connected."))
    pairs = config.pairs
    try:
        dv = dynamics_client(integration)
        info = dv.table(link.entity)
        rows = list(
            dv.rows(
                link.entity,
                [pair.dynamics.key for pair in pairs],
                where=odata.eq(info.primary_id, link.dynamics_id),
                max_pages=1,
            )
        )
    except ConnectorError as error:
        logger.warning("record %s: Dynamics 365 read failed: %s", link.dynamics_id, error)
        return DynamicsFields(
            direction=direction,
            problem=_("Dynamics 365 cannot be reached right now: %(reason)s")
            % {"reason": user_message(error)},
        )
    if not rows:
        return DynamicsFields(
            direction=direction,
            problem=_("Dynamics 365 has no such record any more (deleted since the last sync?)."),
        )
    row = rows[0]
    return DynamicsFields(
        rows=tuple(
            FieldRow(pair.dynamics.label, _display(integration, pair, row.get(pair.dynamics.key)))
            for pair in pairs
        ),
        direction=direction,
    )


# -- the record page: ActiveCampaign ------------------------------------------------------------
@dataclass(frozen=True)
class Marketing:
    """What ActiveCampaign holds about the contact: read together, cached briefly."""

    contact: Contact | None = None
    tags: tuple[str, ...] = ()
    unsubscribed_lists: tuple[str, ...] = ()  # list ids
    bounced_lists: tuple[str, ...] = ()
    active_lists: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    problem: str = ""  # ActiveCampaign could not be reached: this, in words

    @property
    def bounced(self) -> bool:
        return bool(self.bounced_lists) or bool(self.contact and self.contact.bounced_hard)

    @property
    def unsubscribed(self) -> bool:
        return bool(self.unsubscribed_lists)


def contact_status(client, ac_id: str) -> Marketing:
    """The contact and its list statuses only (two calls): may it be sent a campaign?

    Raises ConnectorError.
    """
    contact = client.contacts.get(ac_id)
    memberships = client.lists.for_contact(ac_id)
    return Marketing(
        contact=contact,
        unsubscribed_lists=tuple(
            m.list_id for m in memberships if m.status is ListStatus.UNSUBSCRIBED
        ),
        bounced_lists=tuple(m.list_id for m in memberships if m.status is ListStatus.BOUNCED),
        active_lists=tuple(m.list_id for m in memberships if m.status is ListStatus.ACTIVE),
    )


def marketing_cache_key(integration: Integration, ac_id: str) -> str:
    return f"records:marketing:{integration.pk}:{ac_id}"


def _tag_names(client, integration: Integration, ac_id: str) -> tuple[str, ...]:
    names = []
    for link in client.tags.for_contact(ac_id):
        key = f"records:tag:{integration.pk}:{link.tag_id}"
        name = cache.get(key)
        if name is None:
            name = client.tags.get(link.tag_id).name
            cache.set(key, name, TAG_NAME_CACHE_SECONDS)
        names.append(name)
    return tuple(sorted(set(names), key=str.casefold))


def marketing(*, integration: Integration, ac_id: str, fresh: bool = False) -> Marketing:
    """The contact, its tags, list statuses and recent activity (newest first).

    Never raises for ActiveCampaign: a failure comes back as `problem`, and is not cached.
    """
    if not integration.is_connected:
        return Marketing(problem=_("ActiveCampaign is not connected."))
    key = marketing_cache_key(integration, ac_id)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    try:
        client = ac_client(integration)
        # The docs say the feed is brought up to date when the contact is read: read it first.
        status = contact_status(client, ac_id)
        result = Marketing(
            contact=status.contact,
            tags=_tag_names(client, integration, ac_id),
            unsubscribed_lists=status.unsubscribed_lists,
            bounced_lists=status.bounced_lists,
            active_lists=status.active_lists,
            activities=tuple(client.activities.for_contact(ac_id, max_items=ACTIVITY_MAX)),
        )
    except NotFoundError:
        return Marketing(
            problem=_(
                "ActiveCampaign has no such contact any more (deleted there since the last sync?)."
            )
        )
    except ConnectorError as error:
        logger.warning("contact %s: ActiveCampaign read failed: %s", ac_id, error)
        return Marketing(
            problem=_("ActiveCampaign cannot be reached right now: %(reason)s")
            % {"reason": user_message(error)}
        )
    cache.set(key, result, MARKETING_CACHE_SECONDS)
    return result


def marketing_forget(*, integration: Integration, ac_id: str) -> None:
    """After an action on the contact: the next page shows it."""
    cache.delete(marketing_cache_key(integration, ac_id))


@dataclass(frozen=True)
class ActivityRow:
    occurred_at: datetime | None
    kind: str
    text: str


def _named(name: str, fallback: str) -> str:
    return f"“{name}”" if name else fallback


def activity_text(activity: Activity) -> str:
    """What happened, in the user's language (the connector's own words are English)."""
    kind, action, subject = activity.kind, activity.action.lower(), activity.subject
    if kind == "campaign":
        what = _named(subject, _("a campaign"))
        texts = {
            "open": _("Opened campaign %(what)s"),
            "read": _("Opened campaign %(what)s"),
            "click": _("Clicked a link in campaign %(what)s"),
            "bounce": _("Campaign %(what)s bounced"),
            "unsubscribe": _("Unsubscribed through campaign %(what)s"),
            "forward": _("Forwarded campaign %(what)s"),
            "reply": _("Replied to campaign %(what)s"),
        }
        return texts.get(action, _("Was sent campaign %(what)s")) % {"what": what}
    if kind == "link":
        if subject:
            return _("Clicked %(url)s in campaign “%(campaign)s”") % {
                "url": activity.url or _("a link"),
                "campaign": subject,
            }
        return _("Clicked %(url)s") % {"url": activity.url or _("a link")}
    if kind == "automation":
        what = _named(subject, _("an automation"))
        if action in ("complete", "completed", "end", "finish", "finished"):
            return _("Completed automation %(what)s") % {"what": what}
        if action in ("remove", "removed", "exit", "exited", "unsubscribe"):
            return _("Left automation %(what)s") % {"what": what}
        return _("Entered automation %(what)s") % {"what": what}
    if kind == "tag":
        what = _named(subject, _("a tag"))
        if action.startswith("remove"):
            return _("Tag %(what)s removed") % {"what": what}
        return _("Tag %(what)s added") % {"what": what}
    if kind == "form":
        return _("Submitted form %(what)s") % {"what": _named(subject, _("a form"))}
    if kind == "list":
        what = _named(subject, _("a list"))
        if action in ("unsubscribe", "unsubscribed", "remove"):
            return _("Unsubscribed from list %(what)s") % {"what": what}
        return _("Subscribed to list %(what)s") % {"what": what}
    if kind == "email":
        return _("Was sent a 1:1 e-mail")
    # Notes, deals, SMS and what AC may add: the connector's description.
    return activity.description


def activity_page(activities: Sequence[Activity], page) -> Page:
    """One page of the activity (newest first), each item with its words."""
    rows = [ActivityRow(a.occurred_at, a.kind, activity_text(a)) for a in activities]
    return Paginator(rows, ACTIVITY_PAGE_SIZE).get_page(page)


def contact_url(*, integration: Integration, ac_id: str) -> str:
    """The contact in ActiveCampaign's web app.

    An account's API lives at https://<account>.api-us1.com and its app at
    https://<account>.activehosted.com (https://help.activecampaign.com/hc/en-us/articles/
    207317590); any other API URL (a sandbox, a proxy) gets the app path on its own host.
    """
    api = (integration.ac_api_url or "").strip().rstrip("/")
    parts = urlsplit(api)
    host = parts.hostname or ""
    if not parts.netloc:
        return ""
    account, _dot, domain = host.partition(".")
    if domain.startswith("api-") and domain.endswith(".com"):
        return f"https://{account}.activehosted.com/app/contacts/{ac_id}"
    return f"{parts.scheme or 'https'}://{parts.netloc}/app/contacts/{ac_id}"


# -- the record page: sync state ----------------------------------------------------------------
@dataclass(frozen=True)
class SyncState:
    last_synced_at: datetime | None
    direction: str
    problems: list[RunRecord] = field(default_factory=list)


def sync_state(*, integration: Integration, link: RecordLink, direction: str) -> SyncState:
    return SyncState(
        last_synced_at=link.last_synced_at,
        direction=direction,
        problems=record_problems(
            integration=integration, dynamics_id=link.dynamics_id, ac_id=link.ac_id
        ),
    )


# -- sales actions: what can be picked ----------------------------------------------------------
AUTOMATION_CHOICES_MAX = 50


def automations_active(*, integration: Integration, query: str = "") -> list[Automation]:
    """Active automations whose name contains `query` (AC has no name filter: read, match)."""
    wanted = query.strip().casefold()
    found = []
    for automation in ac_client(integration).automations.all():
        if automation.active and wanted in automation.name.casefold():
            found.append(automation)
    return sorted(found, key=lambda a: a.name.casefold())[:AUTOMATION_CHOICES_MAX]


def automation_active(*, integration: Integration, automation_id: str) -> Automation | None:
    automation = ac_client(integration).automations.get(automation_id)
    return automation if automation.active else None


CAMPAIGN_DRAFT = "0"  # AC's campaign status codes: 0 draft, 1 scheduled, 2 sending, 5 completed


def campaigns_sendable(*, integration: Integration, query: str = "") -> list[Campaign]:
    """Campaigns whose name contains `query`, most recently sent first; not drafts (a draft
    is not finished: its lists, sender or content may still be missing)."""
    wanted = query.strip().casefold()
    found = []
    for campaign in ac_client(integration).campaigns.all():
        if campaign.status == CAMPAIGN_DRAFT:
            continue
        if wanted in campaign.name.casefold():
            found.append(campaign)
        if len(found) >= AUTOMATION_CHOICES_MAX:
            break
    return found


def campaign_get(*, integration: Integration, campaign_id: str) -> Campaign | None:
    """One campaign by id (AC's list, read until found: the connector reads no single one)."""
    for campaign in ac_client(integration).campaigns.all():
        if campaign.id == str(campaign_id):
            return None if campaign.status == CAMPAIGN_DRAFT else campaign
    return None


def campaign_messages(*, integration: Integration, campaign_id: str) -> list[Message]:
    return ac_client(integration).campaigns.messages(campaign_id)
