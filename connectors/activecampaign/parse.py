"""ActiveCampaign JSON -> typed records. Defensive: ids flip between str and int, keys go
missing, dates are null or zero dates ("0000-00-00")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, tzinfo
from typing import Any

from connectors.types import ChoiceOption

from .records import (
    Account,
    AccountContact,
    AccountCustomField,
    AccountFieldValue,
    Automation,
    BulkImportStatus,
    Campaign,
    Contact,
    ContactAutomation,
    ContactTag,
    CustomField,
    CustomObjectField,
    CustomObjectRecord,
    CustomObjectRelationship,
    CustomObjectSchema,
    FieldValue,
    ListMembership,
    ListStatus,
    MailingList,
    RecordFieldValue,
    Tag,
    Webhook,
)
from .values import (
    as_bool,
    as_id,
    as_int,
    decode_account_value,
    decode_contact_value,
    decode_record_value,
    parse_timestamp,
    split_multi,
)

# AC's automation status codes are undocumented; in the examples of
# https://developers.activecampaign.com/reference/list-all-automations the
# automation that people entered is "1" and the untouched one "2", and the v1 docs list the
# same codes. "1" = active is the reading every public client uses; anything else is refused.
AUTOMATION_ACTIVE = "1"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def field_values_by_contact(items: Iterable[Any]) -> dict[str, list[Mapping]]:
    """The side-loaded top-level `fieldValues` (objects), grouped by contact id."""
    grouped: dict[str, list[Mapping]] = defaultdict(list)
    for item in items or ():
        # Inside `contact`, `fieldValues` is a list of id strings; only the top-level
        # side-load holds objects (the answer of
        # https://developers.activecampaign.com/reference/sync-a-contacts-data). Skip anything else.
        if isinstance(item, Mapping):
            owner = as_id(item.get("contact") or item.get("owner"))
            if owner:
                grouped[owner].append(item)
    return grouped


def field_value(item: Mapping, field_types: Mapping[str, str], tz: tzinfo) -> FieldValue | None:
    field_id = as_id(item.get("field"))
    if field_id is None:
        return None
    raw = _text(item.get("value"))
    return FieldValue(
        field_id=field_id,
        raw=raw,
        value=decode_contact_value(raw, field_types.get(field_id), default_tz=tz),
        id=as_id(item.get("id")),
        updated_at=parse_timestamp(item.get("udate"), default_tz=tz),
    )


def contact(
    item: Mapping,
    values: Iterable[Mapping] = (),
    *,
    field_types: Mapping[str, str] | None = None,
    tz: tzinfo = UTC,
    field_values_loaded: bool = False,
) -> Contact:
    types = field_types or {}
    parsed_values = [field_value(value, types, tz) for value in values]
    updated = parse_timestamp(item.get("udate"), default_tz=tz)
    if updated is None:
        # `updated_utc_timestamp` is zoneless; its name says UTC (not documented).
        updated = parse_timestamp(item.get("updated_utc_timestamp"), default_tz=UTC)
    created = parse_timestamp(item.get("cdate"), default_tz=tz)
    if created is None:
        created = parse_timestamp(item.get("created_utc_timestamp"), default_tz=UTC)
    return Contact(
        id=as_id(item.get("id")) or "",
        email=_text(item.get("email")),
        first_name=_text(item.get("firstName")),
        last_name=_text(item.get("lastName")),
        phone=_text(item.get("phone")),
        created_at=created,
        updated_at=updated,
        field_values=tuple(sorted((v for v in parsed_values if v), key=lambda v: v.field_id)),
        field_values_loaded=field_values_loaded,
        bounced_hard=as_int(item.get("bounced_hard")) or 0,
        bounced_soft=as_int(item.get("bounced_soft")) or 0,
    )


def custom_fields(body: Mapping) -> list[CustomField]:
    """/fields answers: `fields`, with `fieldOptions` and `fieldRels` side-loaded."""
    options: dict[str, list[tuple[int, ChoiceOption]]] = defaultdict(list)
    for item in body.get("fieldOptions") or ():
        if isinstance(item, Mapping) and as_id(item.get("field")):
            value = _text(item.get("value"))
            label = _text(item.get("label")) or value
            order = as_int(item.get("orderid"))
            options[as_id(item.get("field")) or ""].append((order, ChoiceOption(value, label)))
    relations: dict[str, list[str]] = defaultdict(list)
    for item in body.get("fieldRels") or ():
        if isinstance(item, Mapping) and as_id(item.get("field")):
            relations[as_id(item.get("field")) or ""].append(as_id(item.get("relid")) or "0")
    result = []
    for item in body.get("fields") or ():
        if isinstance(item, Mapping):
            field_id = as_id(item.get("id")) or ""
            ordered = tuple(option for _, option in sorted(options.get(field_id, ()), key=_first))
            result.append(custom_field(item, ordered, tuple(relations.get(field_id, ()))))
    return result


def _first(pair: tuple) -> Any:
    return pair[0]


def custom_field(
    item: Mapping, options: tuple[ChoiceOption, ...] = (), list_ids: tuple[str, ...] = ()
) -> CustomField:
    return CustomField(
        id=as_id(item.get("id")) or "",
        title=_text(item.get("title")),
        type=_text(item.get("type")).lower(),
        perstag=_text(item.get("perstag")),
        description=_text(item.get("descript")),
        default=_text(item.get("defval")),
        required=as_bool(item.get("isrequired")),
        options=options,
        list_ids=list_ids,
    )


def account_custom_field(item: Mapping) -> AccountCustomField:
    raw_options = item.get("fieldOptions")
    return AccountCustomField(
        id=as_id(item.get("id")) or "",
        label=_text(item.get("fieldLabel")),
        type=_text(item.get("fieldType")).lower(),
        options=split_multi(raw_options) if raw_options else (),
        default_currency=_text(item.get("fieldDefaultCurrency")),
        required=as_bool(item.get("isRequired")),
        personalization=_text(item.get("personalization")),
    )


def tag(item: Mapping) -> Tag:
    return Tag(
        id=as_id(item.get("id")) or "",
        name=_text(item.get("tag")),
        type=_text(item.get("tagType")) or "contact",
        description=_text(item.get("description")),
    )


def contact_tag(item: Mapping, tz: tzinfo = UTC) -> ContactTag:
    return ContactTag(
        id=as_id(item.get("id")) or "",
        contact_id=as_id(item.get("contact")) or "",
        tag_id=as_id(item.get("tag")) or "",
        created_at=parse_timestamp(item.get("cdate"), default_tz=tz),
    )


def mailing_list(item: Mapping) -> MailingList:
    return MailingList(
        id=as_id(item.get("id")) or "",
        name=_text(item.get("name")),
        string_id=_text(item.get("stringid")),
    )


def list_membership(item: Mapping, tz: tzinfo = UTC) -> ListMembership:
    code = as_int(item.get("status"), default=-1)
    return ListMembership(
        id=as_id(item.get("id")) or "",
        contact_id=as_id(item.get("contact")) or "",
        list_id=as_id(item.get("list")) or "",
        status=ListStatus(code) if code in ListStatus._value2member_map_ else None,
        updated_at=parse_timestamp(item.get("udate"), default_tz=tz),
    )


def account(
    item: Mapping,
    field_types: Mapping[str, str],
    tz: tzinfo = UTC,
    *,
    values: Iterable[Mapping] = (),
) -> Account:
    """An account; its field values from `fields` (POST/PUT answers) or, when the answer has
    none, from `values` (accountCustomFieldData items, keyed by customFieldId too)."""
    raw_values = item.get("fields") if isinstance(item.get("fields"), list) else values
    parsed = []
    for value in raw_values or ():
        if not isinstance(value, Mapping):
            continue
        field_id = as_id(value.get("customFieldId") or value.get("accountCustomFieldMetumId"))
        if field_id is None:
            continue
        raw = value.get("fieldValue")
        parsed.append(
            AccountFieldValue(
                field_id=field_id,
                raw="||" + "||".join(map(str, raw)) + "||" if isinstance(raw, list) else _text(raw),
                value=decode_account_value(raw, field_types.get(field_id)),
                currency=_text(value.get("fieldCurrency")),
            )
        )
    return Account(
        id=as_id(item.get("id")) or "",
        name=_text(item.get("name")),
        url=_text(item.get("accountUrl")),
        created_at=parse_timestamp(item.get("createdTimestamp"), default_tz=tz),
        updated_at=parse_timestamp(item.get("updatedTimestamp"), default_tz=tz),
        contact_count=as_int(item.get("contactCount")),
        field_values=tuple(parsed),
    )


def account_contact(item: Mapping, tz: tzinfo = UTC) -> AccountContact:
    return AccountContact(
        id=as_id(item.get("id")) or "",
        account_id=as_id(item.get("account")) or "",
        contact_id=as_id(item.get("contact")) or "",
        job_title=_text(item.get("jobTitle")),
        created_at=parse_timestamp(item.get("createdTimestamp"), default_tz=tz),
        updated_at=parse_timestamp(item.get("updatedTimestamp"), default_tz=tz),
    )


def _labels(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return _text(value.get("singular")), _text(value.get("plural"))
    return "", ""


def custom_object_field(item: Mapping) -> CustomObjectField:
    singular, plural = _labels(item.get("labels"))
    options = tuple(
        _text(option.get("value")) if isinstance(option, Mapping) else _text(option)
        for option in item.get("options") or ()
    )
    scale = item.get("scale")
    return CustomObjectField(
        id=_text(item.get("id")),
        label=singular,
        plural_label=plural,
        type=_text(item.get("type")),
        required=as_bool(item.get("required", item.get("isRequired"))),
        scale=as_int(scale) if scale is not None else None,
        options=options,
        default_currency=_text(item.get("defaultCurrency")) or None,
        description=_text(item.get("description")),
        deleted=_text(item.get("status")) == "marked_for_deletion",
    )


def custom_object_schema(item: Mapping) -> CustomObjectSchema:
    singular, plural = _labels(item.get("labels"))
    relationships = []
    for relation in item.get("relationships") or ():
        if isinstance(relation, Mapping):
            relationships.append(
                CustomObjectRelationship(
                    id=_text(relation.get("id")),
                    namespace=_text(relation.get("namespace")),
                    label=_labels(relation.get("labels"))[0],
                    has_many=as_bool(relation.get("hasMany")),
                )
            )
    return CustomObjectSchema(
        id=_text(item.get("id")),
        slug=_text(item.get("slug")),
        label=singular,
        plural_label=plural,
        description=_text(item.get("description")),
        fields=tuple(
            custom_object_field(field)
            for field in item.get("fields") or ()
            if isinstance(field, Mapping)
        ),
        relationships=tuple(relationships),
    )


def custom_object_record(
    item: Mapping, schema_id: str, field_types: Mapping[str, str] | None = None
) -> CustomObjectRecord:
    relationships = item.get("relationships")
    contacts: tuple[str, ...] = ()
    if isinstance(relationships, Mapping):
        contacts = tuple(as_id(value) or "" for value in relationships.get("primary-contact") or ())
    return CustomObjectRecord(
        id=_text(item.get("id")),
        schema_id=_text(item.get("schemaId")) or schema_id,
        external_id=_text(item.get("externalId")),
        fields=tuple(
            RecordFieldValue(
                _text(field.get("id")),
                decode_record_value(field.get("value"), (field_types or {}).get(field.get("id"))),
            )
            for field in item.get("fields") or ()
            if isinstance(field, Mapping)
        ),
        contact_ids=contacts,
        created_at=parse_timestamp(item.get("createdTimestamp")),
        updated_at=parse_timestamp(item.get("updatedTimestamp")),
    )


def automation(item: Mapping, tz: tzinfo = UTC) -> Automation:
    status = _text(item.get("status"))
    return Automation(
        id=as_id(item.get("id")) or "",
        name=_text(item.get("name")),
        status=status,
        active=status == AUTOMATION_ACTIVE,
        entered=as_int(item.get("entered")),
        exited=as_int(item.get("exited")),
        created_at=parse_timestamp(item.get("cdate"), default_tz=tz),
        modified_at=parse_timestamp(item.get("mdate"), default_tz=tz),
    )


def contact_automation(item: Mapping, tz: tzinfo = UTC) -> ContactAutomation:
    return ContactAutomation(
        id=as_id(item.get("id")) or "",
        contact_id=as_id(item.get("contact")) or "",
        automation_id=as_id(item.get("automation") or item.get("seriesid")) or "",
        status=_text(item.get("status")),
        added_at=parse_timestamp(item.get("adddate"), default_tz=tz),
        removed_at=parse_timestamp(item.get("remdate"), default_tz=tz),
        last_at=parse_timestamp(item.get("lastdate"), default_tz=tz),
        completed=as_bool(item.get("completed")),
        complete_percent=as_int(item.get("completeValue")),
    )


def campaign(item: Mapping, tz: tzinfo = UTC) -> Campaign:
    series = as_id(item.get("seriesid"))
    return Campaign(
        id=as_id(item.get("id")) or "",
        name=_text(item.get("name")),
        type=_text(item.get("type")),
        status=_text(item.get("status")),
        automation_id=series if series not in (None, "0") else None,
        sent_at=parse_timestamp(item.get("sdate"), default_tz=tz),
        last_sent_at=parse_timestamp(item.get("ldate"), default_tz=tz),
        send_amount=as_int(item.get("send_amt")),
        opens=as_int(item.get("opens")),
        unique_opens=as_int(item.get("uniqueopens")),
        link_clicks=as_int(item.get("linkclicks")),
        unique_link_clicks=as_int(item.get("uniquelinkclicks")),
    )


def webhook(item: Mapping, tz: tzinfo = UTC) -> Webhook:
    return Webhook(
        id=as_id(item.get("id")) or "",
        name=_text(item.get("name")),
        url=_text(item.get("url")),
        events=tuple(_text(event) for event in item.get("events") or ()),
        sources=tuple(_text(source) for source in item.get("sources") or ()),
        list_id=as_id(item.get("listid")) or "0",
        created_at=parse_timestamp(item.get("cdate"), default_tz=tz),
    )


def bulk_import_status(body: Mapping, batch_id: str) -> BulkImportStatus:
    """GET /import/info: the docs show `success`/`failure` as lists (contact ids / e-mails);
    a public client reads counts under `contacts` — both are read
    (https://developers.activecampaign.com/reference/bulk-import-status-info)."""
    status = _text(body.get("status")).lower()
    success = body.get("success")
    failure = body.get("failure")
    success_ids = tuple(as_id(x) or "" for x in success) if isinstance(success, list) else ()
    failed = tuple(_text(x) for x in failure) if isinstance(failure, list) else ()
    counts = body.get("contacts") if isinstance(body.get("contacts"), Mapping) else {}
    return BulkImportStatus(
        batch_id=batch_id,
        status=status,
        completed=status in ("completed", "complete", "finished"),
        success_contact_ids=success_ids,
        failed_emails=failed,
        success_count=len(success_ids) if success_ids else as_int(counts.get("success")),
        failure_count=len(failed) if failed else as_int(counts.get("failure")),
    )
