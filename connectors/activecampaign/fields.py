"""Custom field definitions: contact fields (/fields) and account fields
(/accountCustomFieldMeta), with the options and list relations a contact field needs.

https://developers.activecampaign.com/reference/retrieve-fields-1
https://developers.activecampaign.com/reference/create-a-contact-custom-field
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.errors import FatalError
from connectors.types import ChoiceOption

from . import parse
from .api import Api, Resource, int_id, mapping, seg
from .errors import VENDOR
from .records import AccountCustomField, CustomField
from .values import as_int

CHOICE_FIELD_TYPES = frozenset({"dropdown", "radio", "listbox", "checkbox"})


class CustomFields(Resource):
    """Contact and account custom field definitions; their types are remembered, so that
    contact and account values are read typed (ActiveCampaignClient.custom_fields)."""

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self._contact_types: dict[str, str] | None = None
        self._account_types: dict[str, str] | None = None

    def for_contacts(self) -> list[CustomField]:
        """Contact custom field definitions with their options and list relations."""
        fields: list[CustomField] = []
        for page in self.api.pages("fields", "fields"):
            fields.extend(parse.custom_fields(page))
        self._contact_types = {field.id: field.type for field in fields}
        return fields

    def for_accounts(self) -> list[AccountCustomField]:
        """Account custom field definitions."""
        fields = [
            parse.account_custom_field(item)
            for item in self.api.items("accountCustomFieldMeta", "accountCustomFieldMeta")
        ]
        self._account_types = {field.id: field.type for field in fields}
        return fields

    def contact_types(self) -> dict[str, str]:
        """Contact custom field id -> AC type, read once per client."""
        if self._contact_types is None:
            self.for_contacts()
        return self._contact_types or {}

    def account_types(self) -> dict[str, str]:
        """Account custom field id -> AC type, read once per client."""
        if self._account_types is None:
            self.for_accounts()
        return self._account_types or {}

    def create(
        self,
        *,
        title: str,
        type: str,
        perstag: str | None = None,
        description: str | None = None,
        default: str | None = None,
        options: Sequence[ChoiceOption | str] = (),
        list_ids: Sequence[str | int] = (0,),
    ) -> CustomField:
        """Create a contact custom field, its options (choice types) and its list relations.

        Choice fields are created empty and take options from /fieldOption/bulk; a field is
        only visible on contacts of lists it is related to, list 0 = all lists
        (https://developers.activecampaign.com/reference/create-a-contact-custom-field).
        A title that exists -> ConflictError.
        """
        field: dict[str, Any] = {"title": title, "type": type}
        if perstag:
            field["perstag"] = perstag
        if description:
            field["descript"] = description
        if default:
            field["defval"] = default
        body = mapping(self.api.call("POST", "fields", json={"field": field}), "fields")
        item = body.get("field")
        if not isinstance(item, Mapping):
            # Some answers carry `fields` (the doc example does): pick ours by title.
            item = next(
                (
                    candidate
                    for candidate in body.get("fields") or ()
                    if isinstance(candidate, Mapping) and candidate.get("title") == title
                ),
                None,
            )
        if not isinstance(item, Mapping) or item.get("id") is None:
            raise FatalError("the new custom field has no id", vendor=VENDOR)
        created = parse.custom_field(item)
        added: tuple[ChoiceOption, ...] = ()
        if options and created.type in CHOICE_FIELD_TYPES:
            added = self._options_post(created.id, _choices(options), first_order=1)
        for relid in list_ids:
            self.api.call(
                "POST",
                "fieldRels",
                json={"fieldRel": {"field": int_id(created.id), "relid": int(relid)}},
            )
        if self._contact_types is not None:
            self._contact_types[created.id] = created.type
        return CustomField(
            id=created.id,
            title=created.title,
            type=created.type,
            perstag=created.perstag,
            description=created.description,
            default=created.default,
            required=created.required,
            options=added,
            list_ids=tuple(str(relid) for relid in list_ids),
        )

    def options_add(
        self, field_id: str, options: Sequence[ChoiceOption | str]
    ) -> tuple[ChoiceOption, ...]:
        """Add the options a choice field lacks, after the ones it has; the options added.

        Values that are not options are stored inconsistently: pre-create them. The field's
        options are read first (GET fields/{id} side-loads `fieldOptions`,
        https://developers.activecampaign.com/reference/retrieve-a-custom-field-contact): a
        value it has is not sent again (AC would list it twice), and `orderid` continues after
        the last one, so new options are appended rather than sorted among the existing ones.
        """
        body = self.api.get_mapping(f"fields/{seg(field_id)}")
        existing = [item for item in body.get("fieldOptions") or () if isinstance(item, Mapping)]
        have = {str(item.get("value", "")) for item in existing}
        last = max((as_int(item.get("orderid")) for item in existing), default=0)
        wanted = [choice for choice in _choices(options) if choice.value not in have]
        return self._options_post(field_id, wanted, first_order=last + 1)

    def _options_post(
        self, field_id: str, choices: Sequence[ChoiceOption], *, first_order: int
    ) -> tuple[ChoiceOption, ...]:
        if not choices:
            return ()
        payload = {
            "fieldOptions": [
                {
                    "field": int_id(field_id),
                    "label": choice.label or choice.value,
                    "value": choice.value,
                    "orderid": order,
                    "isdefault": False,
                }
                for order, choice in enumerate(choices, start=first_order)
            ]
        }
        body = mapping(self.api.call("POST", "fieldOption/bulk", json=payload), "fieldOptions")
        answered = [item for item in body.get("fieldOptions") or () if isinstance(item, Mapping)]
        if not answered:
            return tuple(choices)
        return tuple(
            ChoiceOption(str(item.get("value", "")), str(item.get("label") or item.get("value")))
            for item in answered
        )


def _choices(options: Sequence[ChoiceOption | str]) -> list[ChoiceOption]:
    return [
        option if isinstance(option, ChoiceOption) else ChoiceOption(option, option)
        for option in options
    ]
