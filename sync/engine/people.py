"""People: Dynamics 365 leads and contacts ↔ ActiveCampaign contacts (push, confirm, pull)."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from connectors.activecampaign.records import (
    Contact,
    ImportContact,
    ImportOutcome,
)
from connectors.dynamics.records import RecordWrite
from connectors.errors import (
    NotFoundError,
    RecordError,
)
from mapping.core.directions import Direction
from mapping.core.merge import merge_record
from mapping.core.records import (
    RecordChanges,
    Skip,
    SkipReason,
    ac_values,
    encode_values,
    record_changes,
)
from mapping.core.snapshot import (
    DELETED_TAG,
    DeletionPolicy,
)

from ..models import RecordLink, RunRecord, StagedRecord, WorkUnit
from .base import (
    ACCOUNT_LINK,
    ACTIVECAMPAIGN,
    BULK_IMPORT_MIN,
    DYNAMICS,
    ENTITY_TAGS,
    JOB_TITLE_KEY,
    PERSON,
    QUIET_SKIPS,
    TAG_PUSHED,
    Context,
    _ac_changes,
    _by_pair,
    _chunks,
    _criteria_ok,
    _decode,
    _decode_criteria,
    _dt,
    _dv_write_values,
    _link_set_base,
    _links_save,
    _record_error,
    _Writer,
)
from .collect import ac_overlap


@dataclass
class _NewContact:
    record: StagedRecord
    link: RecordLink
    changes: RecordChanges
    values: dict
    account_id: str = ""  # the AC account to put the contact on
    account_name: str = ""  # … or its name, for a bulk import
    rel_ac: str = ""  # the base of the account relationship on the AC side
    job_title: str | None = None


class PeoplePush(_Writer):
    """Dynamics leads or contacts → ActiveCampaign contacts (one unit)."""

    def __init__(self, ctx: Context, entity_key: str) -> None:
        super().__init__(ctx)
        self.key = entity_key
        self.entity = ctx.entity(entity_key)
        self.ac = ctx.clients.ac
        self.account_pair = next((pair for pair in self.entity.pairs if pair.relationship), None)
        self.job_pair = self.entity.pair(JOB_TITLE_KEY)
        self._accounts_by_name: dict[str, str] = {}
        self._account_links: dict[str, RecordLink | None] = {}
        self._by_ac_id: dict[str, RecordLink] = {}  # the same links by AC account id
        self._by_ac_id_of: dict[str, None] = {}  # … built from these keys of _account_links
        self._owners: dict[str, list[RecordLink]] = {}  # e-mail -> links owning an AC contact

    def process(self, records: list[StagedRecord], unit: WorkUnit) -> None:
        integration = self.ctx.integration
        # Merges first: a merged record's link moves to its survivor before the survivor
        # itself is looked at (it then pushes its own values to the moved contact).
        merged = [r for r in records if r.payload.get("master") and not r.payload.get("deleted")]
        for record in merged:
            self._merged(
                record,
                RecordLink.objects.filter(
                    integration=integration, entity=self.key, dynamics_id=record.record_id
                ).first(),
            )
        if merged:
            StagedRecord.objects.filter(pk__in=[r.pk for r in merged]).update(handled=True)
            records = [r for r in records if r not in merged]
        links = {
            link.dynamics_id: link
            for link in RecordLink.objects.filter(
                integration=integration,
                entity=self.key,
                dynamics_id__in=[r.record_id for r in records],
            )
        }
        staged_ac = {
            s.record_id: s
            for s in StagedRecord.objects.filter(
                run=self.run,
                entity=PERSON,
                side=ACTIVECAMPAIGN,
                record_id__in=[link.ac_id for link in links.values() if link.ac_id],
            )
        }
        if self.key == "contact" and self.account_pair is not None:
            wanted = {
                r.payload.get("values", {}).get(self.account_pair.key)
                for r in records
                if not r.payload.get("deleted")
            } - {None, ""}
            wanted -= set(self._account_links)
            found = {
                link.dynamics_id: link
                for link in RecordLink.objects.filter(
                    integration=integration,
                    entity="account",
                    dynamics_id__in=list(wanted),
                    state=RecordLink.State.LINKED,
                )
            }
            for value in wanted:
                self._account_links[value] = found.get(value)
        self._owners = {}
        for owner in RecordLink.objects.filter(
            integration=integration,
            ac_object="contact",
            email__in=[r.email for r in records if r.email],
            state__in=[RecordLink.State.LINKED, RecordLink.State.PENDING],
        ):
            self._owners.setdefault(owner.email, []).append(owner)
        new: list[_NewContact] = []
        dv_writes: list[RecordWrite] = []
        saves: list[RecordLink] = []
        handled_ac: list[int] = []
        for record in records:
            link = links.get(record.record_id)
            ids = {"dynamics_id": record.record_id, "email": record.email}
            if record.payload.get("deleted"):
                self._deleted(record, link)
                continue
            values = _decode(self.entity, record.payload["values"], DYNAMICS)
            criteria = _decode_criteria(self.entity, record.payload.get("criteria") or {})
            try:
                if link is not None and link.state == RecordLink.State.LINKED and link.ac_id:
                    other = staged_ac.get(link.ac_id)
                    if other is not None:
                        handled_ac.append(other.pk)
                    self._update(record, link, values, criteria, other, dv_writes)
                    saves.append(link)
                    continue
                item = self._new(record, link, values, criteria)
                if item is not None:
                    new.append(item)
            except RecordError as error:
                self.fail(self.key, _record_error(error), ac_id=link.ac_id if link else "", **ids)
        self._create(new, unit, saves)
        results = self.dv_write(dv_writes)
        for ref, result in results.items():
            if not result.ok:
                self.fail(self.key, _record_error(result.error), dynamics_id=str(ref))
        with transaction.atomic():
            _links_save(saves)
            StagedRecord.objects.filter(pk__in=handled_ac).update(handled=True)
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)

    # - linked records -
    def _update(self, record, link, values, criteria, other, dv_writes) -> None:
        entity = self.entity
        ids = {"dynamics_id": record.record_id, "ac_id": link.ac_id, "email": record.email}
        if entity.criteria and not _criteria_ok(entity, criteria):
            # Left the selection: no longer synced, nothing deleted.
            self.skip(self.key, str(Skip(SkipReason.CRITERIA)), record=False, **ids)
            return
        ac_now = None
        if other is not None:
            ac_now = _decode(entity, other.payload["values"].get(self.key, {}), ACTIVECAMPAIGN)
        result = merge_record(
            entity,
            base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
            base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
            dynamics=values,
            ac=ac_now,
            dynamics_changed_at=_dt(record.payload.get("modified")),
            ac_changed_at=_dt(other.payload.get("modified")) if other else None,
        )
        if result.problems:
            self.fail(self.key, "; ".join(result.problems), **ids)
            return
        self.conflicts(self.key, result, **ids)
        ac_writes = dict(result.ac_writes)
        job_title = ac_writes.pop(JOB_TITLE_KEY, None) if JOB_TITLE_KEY in ac_writes else None
        rel_dv, rel_ac = self._relationship(record, link)
        if ac_writes:
            try:
                self.ac.contacts.update(link.ac_id, _ac_changes(ac_writes))
            except NotFoundError:
                self._ac_gone(record, link)
                return
            self.work.count(self.key, "push", "updated")
        if rel_ac is not None or job_title is not None:
            self._account_link(link.ac_id, rel_ac, job_title)
        if result.dynamics_writes:
            dv_writes.append(
                RecordWrite.update(
                    self.key,
                    record.record_id,
                    _dv_write_values(entity, result.dynamics_writes),
                    ref=record.record_id,
                )
            )
            self.work.count(self.key, "pull", "updated")
        link.email = record.email
        extra_dv = {ACCOUNT_LINK: rel_dv} if rel_dv is not None else {}
        extra_ac = {ACCOUNT_LINK: rel_ac} if rel_ac is not None else {}
        extra_dv = {
            **{k: v for k, v in link.base_dynamics.items() if k == ACCOUNT_LINK},
            **extra_dv,
        }
        extra_ac = {**{k: v for k, v in link.base_ac.items() if k == ACCOUNT_LINK}, **extra_ac}
        _link_set_base(link, result.base_dynamics, result.base_ac, extra_dv, extra_ac, entity)

    def _relationship(self, record: StagedRecord, link: RecordLink | None):
        """(Dynamics value, AC account id) of the account link when it changed, else (v, None)."""
        if self.account_pair is None or not self.account_pair.pushes:
            return None, None
        value = record.payload["values"].get(self.account_pair.key)
        if link is not None and link.base_dynamics.get(ACCOUNT_LINK) == value:
            return value, None
        if not value:
            return value, None
        if self.key == "lead":
            return value, str(value)  # a lead's AC side is the account's name: no call yet
        return value, self._ac_account(value)

    def _ac_account(self, value: str) -> str | None:
        """The AC account for a contact's parent account id, or a lead's company name."""
        if self.key == "contact":
            if value not in self._account_links:
                self._account_links[value] = RecordLink.objects.filter(
                    integration=self.ctx.integration,
                    entity="account",
                    dynamics_id=value,
                    state=RecordLink.State.LINKED,
                ).first()
            link = self._account_links[value]
            return link.ac_id if link else None
        name = value.strip()
        key = name.lower()
        if key in self._accounts_by_name:
            return self._accounts_by_name[key]
        linked = RecordLink.objects.filter(
            integration=self.ctx.integration,
            ac_object="account",
            email=key,
            state=RecordLink.State.LINKED,
        ).first()
        staged = StagedRecord.objects.filter(
            run=self.run, entity="account", side=ACTIVECAMPAIGN, email=key
        ).first()
        if linked is not None:
            found = linked.ac_id
        elif staged is not None:
            found = staged.record_id
        else:
            found = self.ac.accounts.ensure(name).id
        self._accounts_by_name[key] = found
        return found

    def _account_link_by_ac_id(self, ac_id: str) -> RecordLink | None:
        """The account link of an AC account: among the unit's (read once for all its
        contacts), else from the database."""
        if len(self._by_ac_id_of) != len(self._account_links):
            self._by_ac_id = {
                link.ac_id: link for link in self._account_links.values() if link is not None
            }
            self._by_ac_id_of = dict.fromkeys(self._account_links)
        if ac_id in self._by_ac_id:
            return self._by_ac_id[ac_id]
        return RecordLink.objects.filter(
            integration=self.ctx.integration, ac_object="account", ac_id=ac_id
        ).first()

    def _account_link(self, contact_id: str, account_id: str | None, job_title) -> None:
        if account_id is not None and self.key == "lead":
            account_id = self._ac_account(account_id)  # the company name, as an account
        if account_id is None:
            current = self.ac.accounts.contact_link(contact_id)
            if current is None:
                return  # the job title lives on the account link: nothing to put it on
            account_id = current.account_id
        self.ac.accounts.link_contact(contact_id, account_id, job_title=job_title or None)

    # - new records -
    def _new(self, record, link, values, criteria) -> _NewContact | None:
        ids = {"dynamics_id": record.record_id, "email": record.email}
        changes = record_changes(values, self.entity, Direction.PUSH, criteria_values=criteria)
        if isinstance(changes, Skip):
            quiet = changes.reason in QUIET_SKIPS
            self.skip(self.key, str(changes), record=not quiet, **ids)
            self._remember(record, link, changes)
            return None
        email = record.email
        owner = next(
            (
                other
                for other in self._owners.get(email, ())
                if not (other.entity == self.key and other.dynamics_id == record.record_id)
            ),
            None,
        )
        if owner is not None:
            if self.key == "lead" or owner.entity == "contact":
                reason = (
                    f"shares the ActiveCampaign contact of Dynamics {owner.entity} "
                    f"{owner.dynamics_id} (one contact per e-mail)"
                )
                self.skip(self.key, reason, **ids)
                self._remember(record, link, Skip(SkipReason.NOTHING_TO_WRITE, reason))
                return None
            # A contact takes over the AC contact of a lead with its e-mail (a qualified
            # lead): the link and the tags move.
            self._take_over(owner)
        link = link or RecordLink(
            integration=self.ctx.integration,
            entity=self.key,
            ac_object="contact",
            dynamics_id=record.record_id,
        )
        link.email = email
        item = _NewContact(record=record, link=link, changes=changes, values=values)
        self._owners.setdefault(email, []).append(link)  # a twin in this unit shares it
        rel_dv, rel_ac = self._relationship(record, None)
        if self.job_pair is not None and JOB_TITLE_KEY in changes.values:
            item.job_title = changes.values[JOB_TITLE_KEY]
        if self.key == "lead" and rel_ac:
            if item.job_title:
                # The title goes on the account link, made with it after the import.
                item.account_id = self._ac_account(rel_ac) or ""
            else:
                item.account_name = rel_ac.strip()  # the import links the account by name
        else:
            item.account_id = rel_ac or ""
            if item.account_id and not item.job_title:
                # Bulk import puts a contact on an account by its exact name: no extra call.
                account_link = self._account_link_by_ac_id(item.account_id)
                if account_link is not None:
                    item.account_name = str(account_link.base_ac.get("name|name") or "")
        item.rel_ac = rel_ac or ""
        item.link.base_dynamics = {ACCOUNT_LINK: rel_dv} if rel_dv is not None else {}
        return item

    def _remember(self, record, link, why: Skip) -> None:
        """An unsynced person keeps a row: its e-mail matches contacts coming from AC."""
        link = link or RecordLink(
            integration=self.ctx.integration,
            entity=self.key,
            ac_object="contact",
            dynamics_id=record.record_id,
        )
        if link.state in (RecordLink.State.LINKED, RecordLink.State.PENDING):
            return
        link.email, link.state, link.note = record.email, RecordLink.State.UNLINKED, str(why)[:255]
        link.save()

    def _take_over(self, lead_link: RecordLink) -> None:
        ac_id = lead_link.ac_id
        lead_link.state = RecordLink.State.UNLINKED
        lead_link.note = "qualified: its contact now owns the ActiveCampaign contact"
        lead_link.ac_id = ""
        lead_link.save(update_fields=["state", "note", "ac_id"])
        if ac_id:
            with contextlib.suppress(NotFoundError):
                self.ac.tags.remove(ac_id, ENTITY_TAGS["lead"])

    def _create(self, new: list[_NewContact], unit: WorkUnit, saves: list) -> None:
        if not new:
            return
        tags = (ENTITY_TAGS[self.key], TAG_PUSHED)
        if len(new) >= BULK_IMPORT_MIN:
            self._bulk(new, unit, tags)
            return
        for item in new:
            ids = {"dynamics_id": item.record.record_id, "email": item.link.email}
            try:
                result = self.ac.contacts.sync(_ac_changes(dict(item.changes.values)))
            except RecordError as error:
                self.fail(self.key, _record_error(error), **ids)
                continue
            contact = result.contact
            for tag in tags:
                self.ac.tags.add(contact.id, tag)
            account_id = item.account_id
            if not account_id and item.account_name:
                account_id = self._ac_account(item.account_name) or ""
            if account_id:
                self.ac.accounts.link_contact(
                    contact.id, account_id, job_title=item.job_title or None
                )
            self.work.count(self.key, "push", "created" if result.created else "linked")
            item.link.ac_id, item.link.state = contact.id, RecordLink.State.LINKED
            rel = item.link.base_dynamics
            _link_set_base(
                item.link,
                item.values,
                ac_values(contact, self.entity.value_pairs),
                rel,
                {ACCOUNT_LINK: item.rel_ac} if item.rel_ac else {},
                self.entity,
            )
            saves.append(item.link)

    def _bulk(self, new: list[_NewContact], unit: WorkUnit, tags) -> None:
        contacts = []
        for item in new:
            changes = _ac_changes(dict(item.changes.values))
            contacts.append(
                ImportContact(
                    email=changes.email or item.link.email,
                    first_name=changes.first_name,
                    last_name=changes.last_name,
                    phone=changes.phone,
                    account_name=item.account_name or None,
                    tags=tags,
                    field_values=dict(changes.field_values),
                )
            )
        # Write-ahead: the links exist (PENDING, keyed by e-mail) before the import is sent;
        # an import is idempotent by e-mail, so a unit done twice imports nothing twice.
        with transaction.atomic():
            for item in new:
                item.link.state = RecordLink.State.PENDING
                item.link.ac_id = ""
                pending_ac = {
                    **item.link.base_dynamics,
                    "@pending": {
                        "values": encode_values(
                            _by_pair(self.entity, dict(item.changes.values), ACTIVECAMPAIGN)
                        ),
                        "account": item.account_id if not item.account_name else "",
                        "rel": item.rel_ac,
                        "job_title": item.job_title or "",
                        "entity": self.key,
                    },
                }
                item.link.base_ac = pending_ac
                item.link.base_dynamics = {
                    **encode_values(item.values),
                    **{k: v for k, v in item.link.base_dynamics.items() if k == ACCOUNT_LINK},
                }
            _links_save([item.link for item in new])
        result = self.ac.imports.bulk(contacts, wait=0, poll_interval=1)
        pending_batches = set()
        for outcome in result.results:
            item = new[outcome.index]
            ids = {"dynamics_id": item.record.record_id, "email": item.link.email}
            if outcome.outcome in (ImportOutcome.REJECTED, ImportOutcome.FAILED):
                self.fail(self.key, f"ActiveCampaign refused the import: {outcome.reason}", **ids)
                RecordLink.objects.filter(pk=item.link.pk).update(
                    state=RecordLink.State.UNLINKED, note=outcome.reason[:255]
                )
            elif outcome.batch_id and outcome.outcome is ImportOutcome.PENDING:
                pending_batches.add(outcome.batch_id)
        state = dict(unit.state)
        state["batches"] = sorted(set(state.get("batches", [])) | pending_batches)
        state["imported"] = sorted(set(result.batch_ids))
        unit.state = state
        WorkUnit.objects.filter(pk=unit.pk).update(state=state)

    # - deletions and merges -
    def _deleted(self, record: StagedRecord, link: RecordLink | None) -> None:
        if link is None or link.state not in (RecordLink.State.LINKED, RecordLink.State.PENDING):
            if link is not None:
                link.delete()
            return
        policy = self.entity.deletion_policy
        ids = {"dynamics_id": record.record_id, "ac_id": link.ac_id, "email": link.email}
        if policy is DeletionPolicy.DELETE and link.ac_id:
            self.ac.contacts.delete(link.ac_id)  # gone already is done
            reason = "Deleted in Dynamics 365: the ActiveCampaign contact was deleted too."
        elif policy is DeletionPolicy.TAG and link.ac_id:
            with contextlib.suppress(NotFoundError):
                self.ac.tags.add(link.ac_id, DELETED_TAG)
            reason = (
                f"Deleted in Dynamics 365: the ActiveCampaign contact was tagged “{DELETED_TAG}”."
            )
        else:
            reason = "Deleted in Dynamics 365: the ActiveCampaign contact was kept as it is."
        link.state, link.note = RecordLink.State.DELETED, reason[:255]
        link.save(update_fields=["state", "note"])
        self.work.count(self.key, "push", "updated")
        self.work.record(self.run, self.key, "push", RunRecord.Outcome.DELETED, reason, **ids)

    def _ac_gone(self, record: StagedRecord, link: RecordLink) -> None:
        reason = "The ActiveCampaign contact was deleted; the Dynamics record was kept."
        link.state, link.note = RecordLink.State.DELETED, reason
        link.save(update_fields=["state", "note"])
        self.work.record(
            self.run,
            self.key,
            "push",
            RunRecord.Outcome.DELETED,
            reason,
            dynamics_id=record.record_id,
            ac_id=link.ac_id,
            email=record.email,
        )

    def _merged(self, record: StagedRecord, link: RecordLink | None) -> bool:
        """A record merged into another (its master): the link moves to the survivor."""
        master = record.payload["master"]
        if link is None or link.state != RecordLink.State.LINKED:
            if link is not None:
                link.delete()  # the merged record is gone for good; its e-mail too
            return True
        survivor = RecordLink.objects.filter(
            integration=self.ctx.integration, entity=self.key, dynamics_id=master
        ).first()
        if survivor is None or survivor.state != RecordLink.State.LINKED:
            if survivor is not None:
                survivor.delete()
            RecordLink.objects.filter(pk=link.pk).update(dynamics_id=master)
            reason = f"Merged in Dynamics 365 into {master}: the link moved to it."
        else:
            reason = f"Merged in Dynamics 365 into {master}, which has its own contact."
            link.state, link.note = RecordLink.State.DELETED, reason[:255]
            link.save(update_fields=["state", "note"])
        self.work.record(
            self.run,
            self.key,
            "push",
            RunRecord.Outcome.DELETED,
            reason,
            dynamics_id=record.record_id,
            ac_id=link.ac_id,
            email=record.email,
        )
        return True


def confirm(ctx: Context, step: dict) -> None:
    """Wait for this run's bulk imports, then learn the new contacts' ids by e-mail."""
    pending = RecordLink.objects.filter(
        integration=ctx.integration, ac_object="contact", state=RecordLink.State.PENDING
    )
    if not pending.exists():
        return
    ac = ctx.clients.ac
    # In the order they were sent: ActiveCampaign works through a queue of imports, so each
    # round asks about the oldest unfinished one and stops there (a call per import, plus one
    # per wait), instead of asking about every unfinished import every round.
    batches: list[str] = []
    for state in (
        WorkUnit.objects.filter(run=ctx.run).order_by("step", "seq").values_list("state", flat=True)
    ):
        batches += [batch for batch in state.get("batches", []) if batch not in batches]
    waited = 0.0
    limit = getattr(settings, "SYNC_IMPORT_WAIT_SECONDS", 600)
    interval = getattr(settings, "SYNC_IMPORT_POLL_SECONDS", 2.0)
    while batches and waited <= limit:
        while batches and ac.imports.status(batches[0]).completed:
            batches.pop(0)
        if batches:
            ctx.heartbeat()
            time.sleep(interval)
            waited += interval
    initial = step.get("initial")
    stream = (
        ac.contacts.all()
        if initial
        else ac.contacts.changed_since(ctx.run.started_at, overlap=ac_overlap())
    )
    for chunk in _chunks(stream, 500):
        _confirm_chunk(ctx, chunk)
        ctx.heartbeat()
    # Whatever is still pending was not imported.
    for link in RecordLink.objects.filter(
        integration=ctx.integration, ac_object="contact", state=RecordLink.State.PENDING
    ):
        entity = (link.base_ac.get("@pending") or {}).get("entity", link.entity)
        ctx.work.count(entity, "push", "failed")
        ctx.work.record(
            ctx.run,
            entity,
            "push",
            RunRecord.Outcome.FAILED,
            "ActiveCampaign did not import this contact (the import skipped it).",
            dynamics_id=link.dynamics_id,
            email=link.email,
        )
        link.state, link.note = RecordLink.State.UNLINKED, "not imported by ActiveCampaign"
        link.base_ac = {}
        link.save(update_fields=["state", "note", "base_ac"])


def _confirm_chunk(ctx: Context, contacts: list[Contact]) -> None:
    by_email = {c.email.strip().lower(): c for c in contacts}
    links = list(
        RecordLink.objects.filter(
            integration=ctx.integration,
            ac_object="contact",
            state=RecordLink.State.PENDING,
            email__in=list(by_email),
        )
    )
    if not links:
        return
    ac = ctx.clients.ac
    taken = set(
        RecordLink.objects.filter(
            integration=ctx.integration,
            ac_object="contact",
            state=RecordLink.State.LINKED,
            ac_id__in=[c.id for c in by_email.values()],
        ).values_list("ac_id", flat=True)
    )
    # Two Dynamics records with one e-mail (sent by units side by side) share one contact:
    # a contact owns it before a lead, then the older record.
    links.sort(key=lambda item: (item.entity != "contact", item.created_at, item.pk))
    twins = []
    for link in links:
        if by_email[link.email].id in taken:
            twins.append(link)
        else:
            taken.add(by_email[link.email].id)
    for link in twins:
        link.state, link.ac_id, link.base_ac = RecordLink.State.UNLINKED, "", {}
        link.note = "shares the ActiveCampaign contact of another record with its e-mail"
    links = [link for link in links if link not in twins]
    for link in links:
        contact = by_email[link.email]
        entity = ctx.entity(link.entity)
        pending = link.base_ac.get("@pending") or {}
        if pending.get("account") or pending.get("job_title"):
            with contextlib.suppress(RecordError):
                account_id = pending.get("account") or None
                if account_id is None:
                    current = ac.accounts.contact_link(contact.id)
                    account_id = current.account_id if current else None
                if account_id:
                    ac.accounts.link_contact(
                        contact.id, account_id, job_title=pending.get("job_title") or None
                    )
        # ActiveCampaign's cdate has whole seconds: a contact imported in the second the run
        # started is this run's, not an older one.
        existed = (
            contact.created_at is not None
            and contact.created_at < ctx.run.started_at.replace(microsecond=0)
        )
        ctx.work.count(link.entity, "push", "linked" if existed else "created")
        base_dv = _decode(entity, link.base_dynamics, DYNAMICS)
        extra_dv = {k: v for k, v in link.base_dynamics.items() if k == ACCOUNT_LINK}
        account = pending.get("rel") or pending.get("account")
        link.ac_id, link.state, link.note = contact.id, RecordLink.State.LINKED, ""
        _link_set_base(
            link,
            base_dv,
            ac_values(contact, entity.value_pairs),
            extra_dv,
            {ACCOUNT_LINK: account} if account else {},
            entity,
        )
    with transaction.atomic():
        _links_save([*twins, *links])
