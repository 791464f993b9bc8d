"""FieldInfo builders and a few realistic fields shared by the mapping tests."""

from __future__ import annotations

from connectors.types import ChoiceOption, FieldInfo, FieldType, Vendor


def options(*pairs: tuple[str, str]) -> tuple[ChoiceOption, ...]:
    return tuple(ChoiceOption(value, label) for value, label in pairs)


def ac(field_type: FieldType, key: str = "12", label: str = "AC field", **kwargs) -> FieldInfo:
    kwargs.setdefault("entity", "contact")
    kwargs.setdefault("vendor_type", str(field_type))
    return FieldInfo(vendor=Vendor.ACTIVECAMPAIGN, key=key, label=label, type=field_type, **kwargs)


def dv(field_type: FieldType, key: str = "new_field", label: str = "D365 field", **kwargs):
    kwargs.setdefault("entity", "lead")
    kwargs.setdefault("vendor_type", "")
    return FieldInfo(vendor=Vendor.DYNAMICS, key=key, label=label, type=field_type, **kwargs)


# Dataverse lead.leadsourcecode (§7.1 of sandbox/dataverse/README.md).
LEAD_SOURCE = dv(
    FieldType.CHOICE,
    "leadsourcecode",
    "Lead source",
    vendor_type="Picklist",
    options=options(
        ("1", "Advertisement"),
        ("2", "Employee Referral"),
        ("3", "External Referral"),
        ("4", "Partner"),
        ("5", "Public Relations"),
        ("6", "Seminar"),
        ("7", "Trade Show"),
        ("8", "Web"),
        ("9", "Word of Mouth"),
        ("10", "Other"),
    ),
)
# An AC dropdown: option values are the texts themselves.
AC_SOURCE = ac(
    FieldType.CHOICE,
    "14",
    "Source",
    vendor_type="dropdown",
    options=options(
        ("Web", "Web"),
        ("Partner", "Partner"),
        ("trade show", "trade show"),
        ("Newsletter", "Newsletter"),
    ),
)
# Dataverse boolean with the org's own labels (the Dynamics connector's convention).
DO_NOT_EMAIL = dv(
    FieldType.BOOLEAN,
    "donotemail",
    "Do not allow e-mails",
    vendor_type="Boolean",
    options=options(("true", "Do Not Allow"), ("false", "Allow")),
)
AC_YES_NO = ac(
    FieldType.CHOICE,
    "15",
    "Opted out",
    vendor_type="dropdown",
    options=options(("Yes", "Yes"), ("No", "No"), ("Maybe", "Maybe")),
)
# An AC checkbox (multi choice) and a Dataverse multi-select whose values sort differently
# as text ("10" < "2") than in the field's own order.
AC_INTERESTS = ac(
    FieldType.MULTI_CHOICE,
    "16",
    "Interests",
    vendor_type="checkbox",
    options=options(("Webinar", "Webinar"), ("Newsletter", "Newsletter"), ("Events", "Events")),
)
DV_INTERESTS = dv(
    FieldType.MULTI_CHOICE,
    "new_interests",
    "Interests",
    vendor_type="MultiSelectPicklist",
    options=options(("2", "Webinar"), ("3", "Newsletter"), ("10", "Events")),
)
