"""ActiveCampaign's mappable fields in the normalized vocabulary of connectors.types.

Standard contact fields are the contact's own attributes (email, firstName, lastName, phone)
plus two that AC keeps elsewhere: the job title lives on the account-contact link and the
company is the AC account
(https://developers.activecampaign.com/reference/create-an-association); their `vendor_type`
says so, and the client writes them through accounts.link_contact().

Type table, contact custom fields (/fields `type`):
    text, hidden, "" (untyped) -> TEXT      textarea -> LONG_TEXT
    number -> DECIMAL (AC stores a numeric string and accepts decimals; DECIMAL is the type
              that loses nothing, an INTEGER source still maps onto it)
    date -> DATE     datetime -> DATETIME
    dropdown, radio -> CHOICE              listbox, checkbox -> MULTI_CHOICE ("||a||b||")
Account custom fields (/accountCustomFieldMeta `fieldType`): the same, plus
    currency -> MONEY (cents on the wire)  multiselect -> MULTI_CHOICE (arrays on the wire)
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.types import ChoiceOption, FieldInfo, FieldType, Vendor

from .records import AccountCustomField, CustomField

CONTACT_TYPES: dict[str, FieldType] = {
    "text": FieldType.TEXT,
    "hidden": FieldType.TEXT,
    "": FieldType.TEXT,
    "null": FieldType.TEXT,
    "textarea": FieldType.LONG_TEXT,
    "number": FieldType.DECIMAL,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "dropdown": FieldType.CHOICE,
    "radio": FieldType.CHOICE,
    "listbox": FieldType.MULTI_CHOICE,
    "checkbox": FieldType.MULTI_CHOICE,
}

ACCOUNT_TYPES: dict[str, FieldType] = {
    **CONTACT_TYPES,
    "currency": FieldType.MONEY,
    "multiselect": FieldType.MULTI_CHOICE,
}

# Where the two contact "fields" that are not contact attributes live.
JOB_TITLE_KEY = "jobTitle"
ACCOUNT_KEY = "account"

STANDARD_CONTACT_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="contact",
        key="email",
        label="Email",
        type=FieldType.EMAIL,
        vendor_type="email",
        required=True,
    ),
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="contact",
        key="firstName",
        label="First name",
        type=FieldType.TEXT,
        vendor_type="text",
    ),
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="contact",
        key="lastName",
        label="Last name",
        type=FieldType.TEXT,
        vendor_type="text",
    ),
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="contact",
        key="phone",
        label="Phone",
        type=FieldType.PHONE,
        vendor_type="phone",
    ),
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="contact",
        key=JOB_TITLE_KEY,
        label="Job title",
        type=FieldType.TEXT,
        vendor_type="accountContact.jobTitle",
    ),
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="contact",
        key=ACCOUNT_KEY,
        label="Account",
        type=FieldType.LOOKUP,
        vendor_type="accountContact.account",
        lookup_targets=("account",),
    ),
)

STANDARD_ACCOUNT_FIELDS: tuple[FieldInfo, ...] = (
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="account",
        key="name",
        label="Account name",
        type=FieldType.TEXT,
        vendor_type="text",
        required=True,
    ),
    FieldInfo(
        vendor=Vendor.ACTIVECAMPAIGN,
        entity="account",
        key="accountUrl",
        label="Website",
        type=FieldType.URL,
        vendor_type="url",
    ),
)


def contact_field_infos(custom_fields: Iterable[CustomField]) -> list[FieldInfo]:
    infos = list(STANDARD_CONTACT_FIELDS)
    for field in custom_fields:
        kind = field.type.lower()
        normalized = CONTACT_TYPES.get(kind, FieldType.TEXT)
        infos.append(
            FieldInfo(
                vendor=Vendor.ACTIVECAMPAIGN,
                entity="contact",
                key=field.id,
                label=field.title,
                type=normalized,
                vendor_type=kind or "text",
                options=field.options
                if normalized in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
                else (),
                required=field.required,
                custom=True,
                alias=field.perstag,
            )
        )
    return infos


def account_field_infos(custom_fields: Iterable[AccountCustomField]) -> list[FieldInfo]:
    infos = list(STANDARD_ACCOUNT_FIELDS)
    for field in custom_fields:
        kind = field.type.lower()
        normalized = ACCOUNT_TYPES.get(kind, FieldType.TEXT)
        infos.append(
            FieldInfo(
                vendor=Vendor.ACTIVECAMPAIGN,
                entity="account",
                key=field.id,
                label=field.label,
                type=normalized,
                vendor_type=kind or "text",
                options=tuple(ChoiceOption(value, value) for value in field.options)
                if normalized in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
                else (),
                required=field.required,
                custom=True,
                alias=field.personalization,
            )
        )
    return infos
