"""A property-based state machine over both sandboxes: random creates, edits, e-mail changes,
deletions and conflicting edits on either side between runs; after every run both sides agree
as the configuration says, with no duplicate on either side.

Configuration under test (contacts; leads and accounts off):
- bidirectional, conflicts to the most recent change (the default rule);
- last name push only (a field-level direction): ActiveCampaign edits to it never reach
  Dynamics 365;
- criteria: contacts whose last name contains "zz" are not synced;
- deletions in Dynamics 365 tag the ActiveCampaign contact (the default policy).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from connectors.activecampaign.records import ContactChanges
from sync.models import Checkpoint, RecordLink, StagedRecord, SyncRun, WorkUnit
from sync.services import run_inline, run_start
from tests.sync.conftest import Sides, duplicates

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NAMES = st.sampled_from(["Ana", "Ben", "Cleo", "Dev", "Eve"])
DELETED_TAG = "D365: Deleted in Dynamics"
_ids = itertools.count()


@dataclass
class Person:
    key: int
    email: str
    first_name: str
    last_name: str | None
    dynamics_id: str = ""
    ac_id: str = ""
    synced: bool = True  # meets the criteria
    deleted: bool = False  # deleted in Dynamics 365
    ac_last_name: str | None = None  # an ActiveCampaign-only edit of the push-only field
    history: list = field(default_factory=list)


def _configure(integration) -> None:
    from mapping.models import EntitySync, FieldMapping, SelectionCriterion

    EntitySync.objects.filter(integration=integration).exclude(entity="contact").update(
        enabled=False
    )
    contacts = EntitySync.objects.get(integration=integration, entity="contact")
    contacts.selection = EntitySync.Selection.CRITERIA
    contacts.save()
    SelectionCriterion.objects.create(
        entity_sync=contacts, field_key="lastname", operator="not_contains", value="zz"
    )
    FieldMapping.objects.filter(entity_sync=contacts, ac_key="jobTitle").update(enabled=False)
    FieldMapping.objects.filter(entity_sync=contacts, ac_key="lastName").update(direction="push")


class SyncMachine(RuleBasedStateMachine):
    def __init__(self, sides: Sides, integration) -> None:
        super().__init__()
        self.sides = sides
        self.integration = integration
        self.persons: dict[int, Person] = {}
        self.run_count = 0
        # People edited on each side since the last run: an edit on the other side waits a
        # second, so that "the most recent change" is well defined at the vendors' resolution.
        self.touched: dict[str, set[int]] = {"dv": set(), "ac": set()}
        # Each example starts from empty sandboxes and no sync state.
        for model in (RecordLink, Checkpoint, StagedRecord, WorkUnit, SyncRun):
            model.objects.all().delete()
        self._clear_sandboxes()
        for first in ("Ana", "Ben", "Cleo"):  # a few people synced from the start
            self._create_dynamics(first, excluded=False)
        self._sync(initial=True)
        self._check()

    def _clear_sandboxes(self) -> None:
        for contact in self.sides.ac_contacts():
            self.sides.ac.http.request("DELETE", f"contacts/{contact.id}")
        for row in self.sides.dv_rows("contact"):
            self.sides.dv_delete("contact", row.id)

    def _sync(self, initial: bool = False) -> SyncRun:
        trigger = SyncRun.Trigger.INITIAL if initial else SyncRun.Trigger.MANUAL
        run = run_inline(
            run=run_start(integration=self.integration, trigger=trigger, enqueue=False)
        )
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
        self.run_count += 1
        self.touched = {"dv": set(), "ac": set()}
        return run

    def _touch(self, side: str, key: int) -> None:
        other = "ac" if side == "dv" else "dv"
        if key in self.touched[other]:
            time.sleep(1.05)
            self.touched[other].clear()
        self.touched[side].add(key)

    # -- changes ---------------------------------------------------------------------------
    def _eligible(self, *, linked: bool = False, dynamics: bool = False) -> list[int]:
        return [
            key
            for key, person in self.persons.items()
            if not person.deleted
            and person.synced
            and (not dynamics or person.dynamics_id)
            and (not linked or (person.dynamics_id and person.ac_id))
        ]

    def _pick(self, data, **kwargs) -> int:
        return data.draw(st.sampled_from(sorted(self._eligible(**kwargs))))

    @rule(first=NAMES, excluded=st.booleans())
    def create_in_dynamics(self, first, excluded):
        self._create_dynamics(first, excluded)

    def _create_dynamics(self, first, excluded):
        key = next(_ids)
        last = f"{'zz' if excluded else ''}Last{key}"
        person = Person(
            key, f"p{key}.{time.time_ns()}@example.org", first, last, synced=not excluded
        )
        person.dynamics_id = self.sides.dv_create(
            "contact",
            {"emailaddress1": person.email, "firstname": first, "lastname": last},
        )
        self.persons[key] = person

    @rule(first=NAMES)
    def create_in_activecampaign(self, first):
        key = next(_ids)
        # Last name is push only: it stays in ActiveCampaign, Dynamics gets none.
        person = Person(key, f"a{key}.{time.time_ns()}@example.org", first, None)
        person.ac_last_name = f"Acl{key}"
        result = self.sides.ac.contacts.sync(
            ContactChanges(email=person.email, first_name=first, last_name=person.ac_last_name)
        )
        person.ac_id = result.contact.id
        self.persons[key] = person

    @precondition(lambda self: self._eligible(dynamics=True))
    @rule(data=st.data(), first=NAMES)
    def edit_in_dynamics(self, data, first):
        key = self._pick(data, dynamics=True)
        person = self.persons[key]
        self._touch("dv", key)
        self.sides.dv_update("contact", person.dynamics_id, {"firstname": first})
        person.first_name = first

    @precondition(lambda self: self._eligible(linked=True))
    @rule(data=st.data(), first=NAMES, last=st.booleans())
    def edit_in_activecampaign(self, data, first, last):
        key = self._pick(data, linked=True)
        person = self.persons[key]
        self._touch("ac", key)
        changes = ContactChanges(first_name=first)
        if last:
            changes = ContactChanges(first_name=first, last_name=f"AcEdit{key}")
            person.ac_last_name = f"AcEdit{key}"
        self.sides.ac.contacts.update(person.ac_id, changes)
        person.first_name = first

    @precondition(lambda self: self._eligible(linked=True))
    @rule(data=st.data(), first=NAMES, second=NAMES)
    def conflicting_edits(self, data, first, second):
        """Both sides edit the same field between runs; ActiveCampaign edits last."""
        key = self._pick(data, linked=True)
        person = self.persons[key]
        self._touch("dv", key)
        self.sides.dv_update("contact", person.dynamics_id, {"firstname": f"{first}D"})
        self._touch("ac", key)  # waits a second: both vendors stamp changes to the second
        self.sides.ac.contacts.update(person.ac_id, ContactChanges(first_name=f"{second}A"))
        person.first_name = f"{second}A"  # the most recent change wins

    @precondition(lambda self: self._eligible(dynamics=True))
    @rule(data=st.data())
    def change_email_in_dynamics(self, data):
        key = self._pick(data, dynamics=True)
        person = self.persons[key]
        self._touch("dv", key)
        person.email = f"moved{key}.{time.time_ns()}@example.org"
        self.sides.dv_update("contact", person.dynamics_id, {"emailaddress1": person.email})

    @precondition(lambda self: self._eligible(dynamics=True))
    @rule(data=st.data())
    def delete_in_dynamics(self, data):
        key = self._pick(data, dynamics=True)
        person = self.persons[key]
        self.sides.dv_delete("contact", person.dynamics_id)
        person.deleted = True

    @rule()
    def sync(self):
        self._sync()
        self._check()

    # -- what must hold after a run ---------------------------------------------------------
    def _check(self) -> None:
        ac = {c.id: c for c in self.sides.ac_contacts()}
        dv = {
            r.id: r
            for r in self.sides.dv.rows("contact", ["emailaddress1", "firstname", "lastname"])
        }
        assert not duplicates([c.email.lower() for c in ac.values()])
        assert not duplicates([r.text("emailaddress1").lower() for r in dv.values()])
        for person in self.persons.values():
            link = self._link(person)
            if person.deleted:
                if person.ac_id:
                    assert DELETED_TAG in self.sides.tags_of(person.ac_id)
                continue
            if not person.synced:
                assert link is None or link.state != RecordLink.State.LINKED
                assert person.email not in {c.email.lower() for c in ac.values()}
                continue
            assert link is not None and link.state == RecordLink.State.LINKED, person
            person.dynamics_id, person.ac_id = link.dynamics_id, link.ac_id
            contact, row = ac[link.ac_id], dv[link.dynamics_id]
            assert contact.email.lower() == row.text("emailaddress1").lower() == person.email
            assert contact.first_name == row.text("firstname") == person.first_name
            # Last name is push only: Dynamics keeps its own.
            assert row.text("lastname") == person.last_name
            if person.ac_last_name is None:
                assert contact.last_name == person.last_name

    def _link(self, person: Person) -> RecordLink | None:
        links = RecordLink.objects.filter(integration=self.integration, entity="contact")
        if person.dynamics_id:
            return links.filter(dynamics_id=person.dynamics_id).first()
        return links.filter(ac_id=person.ac_id).first()

    @invariant()
    def nothing_left_pending(self):
        assert not RecordLink.objects.filter(state=RecordLink.State.PENDING).exists()


def test_it_keeps_both_sides_in_agreement_whatever_happens_between_runs(sides, sync_integration):
    _configure(sync_integration)
    run_state_machine_as_test(
        lambda: SyncMachine(sides, sync_integration),
        settings=settings(
            max_examples=5,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
