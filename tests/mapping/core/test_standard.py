"""Standard mappings and the entity list: the pairs of S-3.5 and their invariants."""

from __future__ import annotations

import pytest

from connectors.types import FieldType
from mapping.core.compat import conversion
from mapping.core.directions import Direction
from mapping.core.standard import (
    ENTITIES,
    SYNCED_ENTITIES,
    StandardMapping,
    standard_mapping,
    standard_mappings,
)

T = FieldType
AC_KEYS = {"email", "firstName", "lastName", "phone", "jobTitle", "account", "name", "accountUrl"}

# (name, ac_key, dynamics_key, locked) per entity, as the brief lists them.
EXPECTED = {
    "contact": [
        ("Email", "email", "emailaddress1", True),
        ("First name", "firstName", "firstname", False),
        ("Last name", "lastName", "lastname", False),
        ("Phone", "phone", "telephone1", False),
        ("Job title", "jobTitle", "jobtitle", False),
        ("Account", "account", "parentcustomerid", True),
    ],
    "lead": [
        ("Email", "email", "emailaddress1", True),
        ("First name", "firstName", "firstname", False),
        ("Last name", "lastName", "lastname", False),
        ("Phone", "phone", "telephone1", False),
        ("Job title", "jobTitle", "jobtitle", False),
        ("Account", "account", "companyname", True),
    ],
    "account": [
        ("Account name", "name", "name", True),
        ("Website", "accountUrl", "websiteurl", False),
    ],
}


@pytest.mark.parametrize("entity", SYNCED_ENTITIES)
def test_it_lists_the_standard_pairs_of_each_entity(entity):
    assert [
        (m.name, m.ac_key, m.dynamics_key, m.locked) for m in standard_mappings(entity)
    ] == EXPECTED[entity]


@pytest.mark.parametrize("entity", SYNCED_ENTITIES)
def test_it_keeps_names_and_keys_unique_per_entity(entity):
    mappings = standard_mappings(entity)
    for attribute in ("name", "ac_key", "dynamics_key"):
        values = [getattr(m, attribute) for m in mappings]
        assert len(values) == len(set(values)), attribute


@pytest.mark.parametrize("entity", SYNCED_ENTITIES)
def test_it_uses_only_the_agreed_activecampaign_keys(entity):
    assert {m.ac_key for m in standard_mappings(entity)} <= AC_KEYS


@pytest.mark.parametrize("entity", ["lead", "contact"])
def test_it_locks_email_and_account_of_people(entity):
    locked = {m.name for m in standard_mappings(entity) if m.locked}
    assert locked == {"Email", "Account"}


@pytest.mark.parametrize("entity", SYNCED_ENTITIES)
def test_it_keeps_value_pairs_compatible_both_ways_by_the_table(entity):
    for mapping in standard_mappings(entity):
        if mapping.is_relationship:
            continue
        assert conversion(mapping.ac_type, mapping.dynamics_type) is not None, mapping.name
        assert conversion(mapping.dynamics_type, mapping.ac_type) is not None, mapping.name
        assert not conversion(mapping.ac_type, mapping.dynamics_type).needs_value_map


@pytest.mark.parametrize("entity", SYNCED_ENTITIES)
def test_it_treats_only_the_locked_account_link_as_a_relationship(entity):
    relationships = [m for m in standard_mappings(entity) if m.is_relationship]
    if entity == "account":
        assert relationships == []
    else:
        assert [(m.name, m.locked) for m in relationships] == [("Account", True)]
        # A lookup is never a value conversion: the sync engine resolves the link.
        (link,) = relationships
        assert conversion(link.ac_type, link.dynamics_type) is None


def test_it_types_the_standard_fields_like_the_vendors_do():
    contact = {m.ac_key: m for m in standard_mappings("contact")}
    assert (contact["email"].ac_type, contact["email"].dynamics_type) == (T.EMAIL, T.EMAIL)
    assert (contact["phone"].ac_type, contact["phone"].dynamics_type) == (T.PHONE, T.PHONE)
    assert contact["account"].dynamics_type is T.LOOKUP  # parentcustomerid is a Customer
    lead = {m.ac_key: m for m in standard_mappings("lead")}
    assert lead["account"].dynamics_type is T.TEXT  # companyname is a String
    account = {m.ac_key: m for m in standard_mappings("account")}
    assert account["accountUrl"].dynamics_type is T.URL


def test_it_explains_the_locked_and_the_odd_mappings():
    for entity in SYNCED_ENTITIES:
        for mapping in standard_mappings(entity):
            if mapping.locked or mapping.ac_key == "jobTitle":
                assert mapping.note, (entity, mapping.name)
    assert "account" in standard_mapping("contact", "jobTitle").note


def test_it_finds_one_standard_mapping_by_its_activecampaign_key():
    assert standard_mapping("lead", "jobTitle").dynamics_key == "jobtitle"
    with pytest.raises(KeyError, match="jobTitle"):
        standard_mapping("account", "jobTitle")


def test_it_has_no_standard_mappings_for_opportunities():
    assert standard_mappings("opportunity") == []


def test_it_refuses_unknown_entities():
    with pytest.raises(ValueError, match="unknown entity 'leads'"):
        standard_mappings("leads")


def test_it_hands_out_copies():
    standard_mappings("lead").clear()
    assert len(standard_mappings("lead")) == 6
    with pytest.raises(AttributeError):
        standard_mappings("lead")[0].locked = False  # frozen


def test_it_lists_the_entities_with_their_directions():
    assert list(ENTITIES) == ["lead", "contact", "account", "opportunity"]
    assert SYNCED_ENTITIES == ("lead", "contact", "account")
    assert [ENTITIES[key].label for key in ENTITIES] == [
        "Leads",
        "Contacts",
        "Accounts",
        "Opportunities",
    ]
    for key in SYNCED_ENTITIES:
        assert set(ENTITIES[key].directions) == set(Direction)
    # Opportunities: one way, Dynamics → ActiveCampaign.
    assert ENTITIES["opportunity"].directions == (Direction.PUSH,)
    assert ENTITIES["lead"].ac_object == ENTITIES["contact"].ac_object == "contact"
    assert ENTITIES["account"].ac_object == "account"


def test_it_builds_standard_mappings_as_plain_data():
    mapping = StandardMapping("X", "x", "x", False, T.TEXT, T.TEXT)
    assert mapping.note == ""
    assert not mapping.is_relationship
