"""The synced entities and their standard mappings (S-3.5), as data.

Dynamics leads and contacts both become ActiveCampaign contacts; Dynamics accounts become AC
accounts. Opportunities are separate: one way, Dynamics → AC custom-object records
(`mapping.core.opportunity`), with no standard mappings.

Two kinds of standard mapping:
- value pairs (e-mail, names, phone, job title, website, account name): compatible both ways
  in `mapping.core.compat`, converted by `mapping.core.transforms`;
- the **Account relationship** (`is_relationship`): which account a person belongs to. It is
  not a value copied across but a link the sync engine resolves record by record: on a
  contact, the AC account the contact is linked to (`/accountContacts`) ↔ the contact's parent
  account (`parentcustomerid`); on a lead, the name of that AC account ↔ the lead's company
  name (`companyname`, plain text in Dataverse).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.types import FieldType
from mapping.core.directions import Direction
from mapping.core.words import gettext_noop


@dataclass(frozen=True)
class Entity:
    key: str  # the Dynamics table's logical name
    label: str  # plural, as a page heading: "Leads"
    label_singular: str
    ac_object: str  # what it becomes in ActiveCampaign
    directions: tuple[Direction, ...]  # the entity-level settings offered (S-3.2)


_ALL_DIRECTIONS = (Direction.BIDIRECTIONAL, Direction.PUSH, Direction.PULL)

ENTITIES: dict[str, Entity] = {
    "lead": Entity("lead", gettext_noop("Leads"), gettext_noop("Lead"), "contact", _ALL_DIRECTIONS),
    "contact": Entity(
        "contact", gettext_noop("Contacts"), gettext_noop("Contact"), "contact", _ALL_DIRECTIONS
    ),
    "account": Entity(
        "account", gettext_noop("Accounts"), gettext_noop("Account"), "account", _ALL_DIRECTIONS
    ),
    # One way only (S-3.7); configured apart from the three above (mapping.core.opportunity).
    "opportunity": Entity(
        "opportunity",
        gettext_noop("Opportunities"),
        gettext_noop("Opportunity"),
        "custom object",
        (Direction.PUSH,),
    ),
}
# The entities with a direction, record selection, standard and custom mappings (S-3.1 to S-3.6).
SYNCED_ENTITIES: tuple[str, ...] = ("lead", "contact", "account")


@dataclass(frozen=True)
class StandardMapping:
    name: str  # shown to people; unique per entity
    ac_key: str  # the AC standard field key, as the AC connector's FieldInfo.key
    dynamics_key: str  # the Dataverse column's logical name
    locked: bool  # always on: no toggle (S-3.5)
    ac_type: FieldType
    dynamics_type: FieldType
    note: str = ""

    @property
    def is_relationship(self) -> bool:
        """The Account link, resolved by the sync engine rather than converted as a value."""
        return FieldType.LOOKUP in (self.ac_type, self.dynamics_type)


_EMAIL_NOTE = gettext_noop("Records are matched by e-mail address, so this mapping is always on.")
_JOB_TITLE_NOTE = gettext_noop(
    "ActiveCampaign keeps the job title on the contact's link to its account, so it is synced "
    "only for contacts linked to an account."
)


def _person_mappings(account: StandardMapping) -> tuple[StandardMapping, ...]:
    """Leads and contacts share these columns.

    https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/lead and
    …/entities/contact list them.
    """
    T = FieldType
    return (
        StandardMapping(
            gettext_noop("Email"), "email", "emailaddress1", True, T.EMAIL, T.EMAIL, _EMAIL_NOTE
        ),
        StandardMapping(
            gettext_noop("First name"), "firstName", "firstname", False, T.TEXT, T.TEXT
        ),
        StandardMapping(gettext_noop("Last name"), "lastName", "lastname", False, T.TEXT, T.TEXT),
        StandardMapping(
            gettext_noop("Phone"),
            "phone",
            "telephone1",
            False,
            T.PHONE,
            T.PHONE,
            gettext_noop("Dynamics 365 Business Phone."),
        ),
        StandardMapping(
            gettext_noop("Job title"),
            "jobTitle",
            "jobtitle",
            False,
            T.TEXT,
            T.TEXT,
            _JOB_TITLE_NOTE,
        ),
        account,
    )


_STANDARD_MAPPINGS: dict[str, tuple[StandardMapping, ...]] = {
    "contact": _person_mappings(
        StandardMapping(
            gettext_noop("Account"),
            "account",
            "parentcustomerid",
            True,
            FieldType.LOOKUP,
            FieldType.LOOKUP,
            gettext_noop(
                "The ActiveCampaign account the contact is linked to ↔ the contact's parent "
                "account in Dynamics 365; the accounts themselves are paired by the account sync."
            ),
        )
    ),
    "lead": _person_mappings(
        StandardMapping(
            gettext_noop("Account"),
            "account",
            "companyname",
            True,
            FieldType.LOOKUP,
            FieldType.TEXT,
            gettext_noop(
                "The name of the ActiveCampaign account the contact is linked to ↔ the lead's "
                "Company Name (plain text in Dynamics 365)."
            ),
        )
    ),
    "account": (
        StandardMapping(
            gettext_noop("Account name"),
            "name",
            "name",
            True,
            FieldType.TEXT,
            FieldType.TEXT,
            gettext_noop("Accounts are paired by name, so this mapping is always on."),
        ),
        StandardMapping(
            gettext_noop("Website"), "accountUrl", "websiteurl", False, FieldType.URL, FieldType.URL
        ),
    ),
    "opportunity": (),
}


def standard_mappings(entity: str) -> list[StandardMapping]:
    """The default field pairs of an entity, in display order ([] for opportunities)."""
    try:
        return list(_STANDARD_MAPPINGS[entity])
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}; expected one of {list(ENTITIES)}") from None


def standard_mapping(entity: str, ac_key: str) -> StandardMapping:
    """One standard mapping of an entity by its ActiveCampaign key ("jobTitle")."""
    for mapping in standard_mappings(entity):
        if mapping.ac_key == ac_key:
            return mapping
    raise KeyError(f"{entity} has no standard mapping of the ActiveCampaign field {ac_key!r}")
