"""Typed ActiveCampaign records: what leaves connectors.activecampaign (never a vendor dict).

Ids are strings (AC flips between "12" and 12); timestamps are aware UTC datetimes.
Inputs (ContactChanges, ImportContact, AccountFieldInput, CustomObjectSchemaSpec…) say what
the caller wants written; outputs say what AC holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

from connectors.types import ChoiceOption

# A custom field value as read: str, Decimal, date, aware datetime, a tuple of option values
# (multi-value fields) or None (empty or unreadable: the raw string is kept next to it).
FieldScalar = str | Decimal | date | datetime | tuple[str, ...] | None


@dataclass(frozen=True)
class AccountInfo:
    """Who the API key belongs to, and where: the answer to a connection check."""

    user_id: str
    username: str
    email: str
    first_name: str
    last_name: str
    api_url: str
    api_host: str

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.username or self.email


# -- contacts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldValue:
    """One custom field value of one contact."""

    field_id: str
    raw: str  # exactly as AC stores it ("||a||b||", "2024-05-31", "12.5")
    value: FieldScalar  # typed by the field's type (see values.decode_contact_value)
    id: str | None = None  # the fieldValue id (not the field id)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Contact:
    """A contact as AC holds it.

    `field_values_loaded` says whether `field_values` is the contact's whole set: only then
    does a field without a value mean "blank in ActiveCampaign". When it is False the values
    were not read (or not all of them), and a missing one says nothing: never clear the other
    side's field because of it.
    """

    id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None  # `udate`, converted from the account's offset to UTC
    field_values: tuple[FieldValue, ...] = ()
    field_values_loaded: bool = False
    # Bounces AC counted for the address (`bounced_hard`, `bounced_soft`): a hard bounce means
    # mail to it does not arrive.
    bounced_hard: int = 0
    bounced_soft: int = 0

    def field_value(self, field_id: str) -> FieldValue | None:
        for item in self.field_values:
            if item.field_id == str(field_id):
                return item
        return None

    @property
    def version(self) -> tuple[str, datetime | None]:
        """(id, updated_at): the key that tells one state of a contact from the next."""
        return (self.id, self.updated_at)


@dataclass(frozen=True)
class ContactChanges:
    """What to write on a contact: only the attributes given (not None, not "") are sent.

    AC clears an attribute sent as an empty string, so an empty value is not
    sent unless its key is in `clear`: "firstName", "lastName", "phone" or a custom field id.
    field_values: custom field id -> value (str, number, date, aware datetime, a sequence of
    option values for multi-value fields).
    """

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    field_values: Mapping[str, Any] = field(default_factory=dict)
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ContactSyncResult:
    contact: Contact
    created: bool  # AC answers cdate == udate for a contact it has just created


# -- custom fields --------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomField:
    """A contact custom field definition (/fields)."""

    id: str
    title: str
    type: str  # AC's own type: text, textarea, number, date, datetime, dropdown, listbox…
    perstag: str = ""
    description: str = ""
    default: str = ""
    required: bool = False
    options: tuple[ChoiceOption, ...] = ()
    list_ids: tuple[str, ...] = ()  # the lists it is related to ("0" = all lists)


@dataclass(frozen=True)
class AccountCustomField:
    """An account custom field definition (/accountCustomFieldMeta)."""

    id: str
    label: str
    type: str  # text, textarea, number, currency, date, datetime, dropdown, multiselect…
    options: tuple[str, ...] = ()
    default_currency: str = ""
    required: bool = False
    personalization: str = ""


# -- tags -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tag:
    id: str
    name: str
    type: str = "contact"
    description: str = ""


@dataclass(frozen=True)
class ContactTag:
    """The association of a tag with a contact (its id is what DELETE takes)."""

    id: str
    contact_id: str
    tag_id: str
    created_at: datetime | None = None


# -- lists ----------------------------------------------------------------------------------
class ListStatus(IntEnum):
    """A contact's status on a list (0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced)."""

    UNCONFIRMED = 0
    ACTIVE = 1
    UNSUBSCRIBED = 2
    BOUNCED = 3


@dataclass(frozen=True)
class MailingList:
    id: str
    name: str
    string_id: str = ""


@dataclass(frozen=True)
class ListMembership:
    """A contact's place on a list (/contactLists)."""

    id: str
    contact_id: str
    list_id: str
    status: ListStatus | None  # None: a code AC did not document
    updated_at: datetime | None = None


# -- accounts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountFieldValue:
    field_id: str
    raw: str
    value: FieldScalar  # currency in major units (AC stores cents)
    currency: str = ""


@dataclass(frozen=True)
class AccountFieldInput:
    """One account custom field value to write. Currency amounts in major units (100.50)."""

    field_id: str
    value: Any
    currency: str | None = None


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    url: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    contact_count: int = 0
    field_values: tuple[AccountFieldValue, ...] = ()


@dataclass(frozen=True)
class AccountContact:
    """A contact's link to its account (one account per contact); the job title lives here."""

    id: str
    account_id: str
    contact_id: str
    job_title: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


# -- custom objects -------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomObjectField:
    """A custom-object schema field (as specified by the caller, or as AC holds it)."""

    id: str  # the stable key we choose ("est-revenue"); AC keeps it
    label: str
    type: str  # text, textarea, number, decimal, currency, date, datetime, dropdown, multiselect
    plural_label: str = ""
    required: bool = False
    scale: int | None = None  # number/decimal
    options: tuple[str, ...] = ()  # dropdown/multiselect option values
    default_currency: str | None = None  # currency
    description: str = ""
    deleted: bool = False  # AC: status "marked_for_deletion" (shown with showFields=all)


@dataclass(frozen=True)
class CustomObjectRelationship:
    id: str  # "primary-contact"
    namespace: str  # contacts, accounts, deals
    label: str = ""
    has_many: bool = False


@dataclass(frozen=True)
class CustomObjectSchema:
    id: str
    slug: str
    label: str
    plural_label: str
    description: str = ""
    fields: tuple[CustomObjectField, ...] = ()
    relationships: tuple[CustomObjectRelationship, ...] = ()

    def field(self, field_id: str) -> CustomObjectField | None:
        for item in self.fields:
            if item.id == field_id and not item.deleted:
                return item
        return None

    @property
    def active_fields(self) -> tuple[CustomObjectField, ...]:
        return tuple(item for item in self.fields if not item.deleted)


@dataclass(frozen=True)
class CustomObjectSchemaSpec:
    """The schema the caller wants: created if missing, else extended (never shrunk)."""

    slug: str
    label: str
    plural_label: str
    fields: tuple[CustomObjectField, ...]
    description: str = ""
    contact_relationship: bool = True  # a "primary-contact" relationship to contacts


@dataclass(frozen=True)
class RecordFieldValue:
    id: str
    value: FieldScalar


@dataclass(frozen=True)
class CustomObjectRecord:
    id: str
    schema_id: str
    external_id: str = ""
    fields: tuple[RecordFieldValue, ...] = ()
    contact_ids: tuple[str, ...] = ()  # relationships["primary-contact"]
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def value(self, field_id: str) -> FieldScalar:
        for item in self.fields:
            if item.id == field_id:
                return item.value
        return None


# -- automations, campaigns, activity -------------------------------------------------------
@dataclass(frozen=True)
class Automation:
    id: str
    name: str
    status: str  # AC's code: "1" active, "2" inactive (see parse.AUTOMATION_ACTIVE)
    active: bool
    entered: int = 0
    exited: int = 0
    created_at: datetime | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class ContactAutomation:
    """One enrolment of a contact in an automation."""

    id: str
    contact_id: str
    automation_id: str
    status: str = ""
    added_at: datetime | None = None
    removed_at: datetime | None = None
    last_at: datetime | None = None
    completed: bool = False
    complete_percent: int = 0


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    type: str = ""
    status: str = ""
    automation_id: str | None = None  # seriesid: the campaign belongs to an automation
    sent_at: datetime | None = None  # sdate
    last_sent_at: datetime | None = None  # ldate
    send_amount: int = 0
    opens: int = 0
    unique_opens: int = 0
    link_clicks: int = 0
    unique_link_clicks: int = 0


@dataclass(frozen=True)
class Message:
    id: str
    subject: str
    name: str = ""
    from_name: str = ""
    from_email: str = ""
    campaign_id: str | None = None


@dataclass(frozen=True)
class CampaignSendResult:
    email: str
    campaign_id: str
    message_id: str
    message: str  # AC's result_message ("Message sent")


@dataclass(frozen=True)
class Activity:
    """One item of a contact's activity feed, with words a sales user can read."""

    id: str
    contact_id: str
    occurred_at: datetime | None
    kind: str  # normalized reference type: "campaign", "link", "automation", "list", …
    action: str  # AC's reference_action ("open", "click", "subscribe", …), may be ""
    description: str  # "Opened campaign “Spring offer”"
    reference_id: str | None = None
    subject: str = ""  # the named thing (campaign, automation, list…) when AC side-loads it
    url: str = ""  # the clicked link, for clicks


@dataclass(frozen=True)
class Webhook:
    id: str
    name: str
    url: str
    events: tuple[str, ...]
    sources: tuple[str, ...]
    list_id: str = "0"
    created_at: datetime | None = None


# -- bulk import ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportContact:
    """One contact for a bulk import (initial loads). Only non-empty values are sent."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    account_name: str | None = None  # attaches the contact to this account by name
    tags: tuple[str, ...] = ()  # added by name (created if missing); import cannot remove tags
    field_values: Mapping[str, Any] = field(default_factory=dict)  # custom field id -> value
    subscribe_list_ids: tuple[str, ...] = ()
    unsubscribe_list_ids: tuple[str, ...] = ()


class ImportOutcome(StrEnum):
    IMPORTED = "imported"  # the batch completed and accounts for this contact
    FAILED = "failed"  # the batch completed and lists this e-mail as failed
    REJECTED = "rejected"  # refused by validation before queueing (with AC's reason)
    UNCONFIRMED = "unconfirmed"  # the batch completed but skipped some contacts silently
    PENDING = "pending"  # the batch had not completed within the wait


@dataclass(frozen=True)
class ImportContactResult:
    index: int  # position in the caller's input
    email: str
    outcome: ImportOutcome
    reason: str = ""
    batch_id: str | None = None


@dataclass(frozen=True)
class BulkImportStatus:
    batch_id: str
    status: str
    completed: bool
    success_contact_ids: tuple[str, ...] = ()
    failed_emails: tuple[str, ...] = ()
    success_count: int = 0
    failure_count: int = 0


@dataclass(frozen=True)
class BulkImportResult:
    results: tuple[ImportContactResult, ...]
    batch_ids: tuple[str, ...] = ()

    def count(self, outcome: ImportOutcome) -> int:
        return sum(1 for item in self.results if item.outcome == outcome)
