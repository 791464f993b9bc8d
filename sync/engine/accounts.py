"""Accounts: Dynamics 365 accounts ↔ ActiveCampaign accounts, paired by link, else by name."""

from __future__ import annotations

import uuid

from django.db import transaction

from connectors.activecampaign.records import (
    Account,
    AccountFieldInput,
)
from connectors.dynamics.records import Outcome, RecordWrite
from connectors.errors import (
    ConflictError,
    RecordError,
)
from mapping.core.directions import Direction
from mapping.core.merge import merge_record
from mapping.core.records import (
    Skip,
    ac_values,
    record_changes,
)
from mapping.core.snapshot import (
    DeletionPolicy,
)

from ..models import RecordLink, RunRecord, StagedRecord
from .base import (
    ACTIVECAMPAIGN,
    DYNAMICS,
    QUIET_SKIPS,
    _by_pair,
    _decode,
    _decode_criteria,
    _dt,
    _dv_write_values,
    _link_set_base,
    _links_save,
    _record_error,
    _same_ac,
    _Writer,
)


class AccountPush(_Writer):
    """Dynamics accounts → ActiveCampaign accounts, paired by link, else by name."""

    def process(self, records: list[StagedRecord]) -> None:
        entity = self.ctx.entity("account")
        ids = [r.record_id for r in records]
        links = {
            link.dynamics_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, entity="account", dynamics_id__in=ids
            )
        }
        staged_ac = {
            s.record_id: s
            for s in StagedRecord.objects.filter(
                run=self.run,
                entity="account",
                side=ACTIVECAMPAIGN,
                record_id__in=[link.ac_id for link in links.values() if link.ac_id],
            )
        }
        names = {r.email for r in records if r.email}
        by_name = {}
        for s in StagedRecord.objects.filter(
            run=self.run, entity="account", side=ACTIVECAMPAIGN, email__in=names
        ):
            by_name.setdefault(s.email, s)
        dv_writes: list[RecordWrite] = []
        saves: list[tuple[RecordLink, StagedRecord | None]] = []
        for record in records:
            if record.payload.get("deleted"):
                self._deleted(record, links.get(record.record_id))
                continue
            values = _decode(entity, record.payload["values"], DYNAMICS)
            criteria = _decode_criteria(entity, record.payload.get("criteria") or {})
            link = links.get(record.record_id)
            ids = {"dynamics_id": record.record_id, "email": record.email}
            try:
                if link is not None and link.state == RecordLink.State.LINKED and link.ac_id:
                    other = staged_ac.get(link.ac_id)
                    ac_now = (
                        _decode(entity, other.payload["values"], ACTIVECAMPAIGN) if other else None
                    )
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
                        self.fail("account", "; ".join(result.problems), ac_id=link.ac_id, **ids)
                        continue
                    self.conflicts("account", result, ac_id=link.ac_id, **ids)
                    if result.ac_writes:
                        self._update(link.ac_id, result.ac_writes)
                        self.work.count("account", "push", "updated")
                    if result.dynamics_writes:
                        dv_writes.append(
                            RecordWrite.update(
                                "account",
                                record.record_id,
                                _dv_write_values(entity, result.dynamics_writes),
                                ref=record.record_id,
                            )
                        )
                    _link_set_base(link, result.base_dynamics, result.base_ac, {}, {}, entity)
                    saves.append((link, other))
                    continue
                changes = record_changes(values, entity, Direction.PUSH, criteria_values=criteria)
                if isinstance(changes, Skip):
                    self.skip(
                        "account",
                        str(changes),
                        record=changes.reason not in QUIET_SKIPS,
                        **ids,
                    )
                    continue
                name = str(changes.values.get("name") or "").strip()
                if not name:
                    self.skip("account", "the account has no name to match on", **ids)
                    continue
                match = by_name.get(name.lower())
                if (
                    match is not None
                    and not RecordLink.objects.filter(
                        integration=self.ctx.integration,
                        ac_object="account",
                        ac_id=match.record_id,
                        state=RecordLink.State.LINKED,
                    )
                    .exclude(dynamics_id=record.record_id)
                    .exists()
                ):
                    account_id = match.record_id
                    ac_now = _decode(entity, match.payload["values"], ACTIVECAMPAIGN)
                    wanted = {
                        k: v
                        for k, v in changes.values.items()
                        if not _same_ac(entity, k, v, ac_now)
                    }
                    if wanted:
                        self._update(account_id, wanted)
                        self.work.count("account", "push", "updated")
                    self.work.count("account", "push", "linked")
                    base_ac = {**ac_now, **_by_pair(entity, wanted, ACTIVECAMPAIGN)}
                else:
                    created = self._create(name, changes.values)
                    account_id = created.id
                    self.work.count("account", "push", "created")
                    base_ac = ac_values(created, entity.value_pairs)
                link = link or RecordLink(
                    integration=self.ctx.integration,
                    entity="account",
                    ac_object="account",
                    dynamics_id=record.record_id,
                )
                link.ac_id, link.state, link.email = (
                    account_id,
                    RecordLink.State.LINKED,
                    name.lower(),
                )
                _link_set_base(link, values, base_ac, {}, {}, entity)
                saves.append((link, match))
            except RecordError as error:
                self.fail("account", _record_error(error), **ids)
        results = self.dv_write(dv_writes)
        for ref, result in results.items():
            if not result.ok:
                self.fail("account", _record_error(result.error), dynamics_id=str(ref))
        with transaction.atomic():
            _links_save([link for link, _ in saves])
            handled = [r.pk for r in records] + [o.pk for _, o in saves if o is not None]
            StagedRecord.objects.filter(pk__in=handled).update(handled=True)

    def _create(self, name: str, values: dict) -> Account:
        fields = [
            AccountFieldInput(key, value)
            for key, value in values.items()
            if key not in ("name", "accountUrl")
        ]
        ac = self.ctx.clients.ac
        try:
            # Every AC account was read by the collect step: a name not among them is new.
            return ac.accounts.create(name, url=values.get("accountUrl"), fields=fields)
        except ConflictError:  # created meanwhile (or by a first try whose answer was lost)
            return ac.accounts.ensure(name, url=values.get("accountUrl"), fields=fields)

    def _update(self, account_id: str, values: dict) -> None:
        fields = [
            AccountFieldInput(key, value)
            for key, value in values.items()
            if key not in ("name", "accountUrl") and value is not None
        ]
        self.ctx.clients.ac.accounts.update(
            account_id, name=values.get("name"), url=values.get("accountUrl"), fields=fields
        )

    def _deleted(self, record: StagedRecord, link: RecordLink | None) -> None:
        if link is None or link.state == RecordLink.State.DELETED:
            return
        policy = self.ctx.entity("account").deletion_policy
        ids = {"dynamics_id": record.record_id, "ac_id": link.ac_id, "email": link.email}
        if policy is DeletionPolicy.DELETE and link.ac_id:
            self.ctx.clients.ac.accounts.delete(link.ac_id)  # gone already is done
            reason = "Deleted in Dynamics 365: the ActiveCampaign account was deleted too."
        else:
            reason = "Deleted in Dynamics 365: the ActiveCampaign account was kept."
        link.state, link.note = RecordLink.State.DELETED, reason[:255]
        link.save(update_fields=["state", "note"])
        self.work.count("account", "push", "updated")
        self.work.record(self.run, "account", "push", RunRecord.Outcome.DELETED, reason, **ids)


class AccountPull(_Writer):
    """ActiveCampaign accounts that changed alone → Dynamics accounts."""

    direction = "pull"

    def process(self, records: list[StagedRecord]) -> None:
        entity = self.ctx.entity("account")
        links = {
            link.ac_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                ac_object="account",
                ac_id__in=[r.record_id for r in records],
                state__in=[RecordLink.State.LINKED, RecordLink.State.PENDING],
            )
        }
        writes, saves = [], []
        for record in records:
            values = _decode(entity, record.payload["values"], ACTIVECAMPAIGN)
            link = links.get(record.record_id)
            ids = {"ac_id": record.record_id, "email": record.email}
            if link is not None and link.state == RecordLink.State.LINKED:
                result = merge_record(
                    entity,
                    base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
                    base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
                    dynamics=None,
                    ac=values,
                )
                if result.problems:
                    self.fail(
                        "account", "; ".join(result.problems), dynamics_id=link.dynamics_id, **ids
                    )
                    continue
                if result.dynamics_writes:
                    writes.append(
                        RecordWrite.update(
                            "account",
                            link.dynamics_id,
                            _dv_write_values(entity, result.dynamics_writes),
                            ref=link.dynamics_id,
                        )
                    )
                    self.work.count("account", "pull", "updated")
                _link_set_base(link, result.base_dynamics, result.base_ac, {}, {}, entity)
                saves.append(link)
                continue
            if not entity.pulls:
                continue
            changes = record_changes(values, entity, Direction.PULL)
            if isinstance(changes, Skip):
                self.skip("account", str(changes), record=changes.reason not in QUIET_SKIPS, **ids)
                continue
            if link is None:
                link = RecordLink(
                    integration=self.ctx.integration,
                    entity="account",
                    ac_object="account",
                    dynamics_id=str(uuid.uuid4()),
                    ac_id=record.record_id,
                    email=record.email,
                    state=RecordLink.State.PENDING,
                )
                link.save()  # write-ahead: the GUID is known before the create is sent
            writes.append(
                RecordWrite.create(
                    "account",
                    _dv_write_values(entity, dict(changes.values)),
                    id=link.dynamics_id,
                    ref=link.dynamics_id,
                )
            )
            link.state = RecordLink.State.LINKED
            base_dv = {pair.key: None for pair in entity.value_pairs}
            base_dv.update(_by_pair(entity, changes.values, DYNAMICS))
            _link_set_base(link, base_dv, values, {}, {}, entity)
            saves.append(link)
        results = self.dv_write(writes)
        failed = set()
        for ref, result in results.items():
            if not result.ok:
                failed.add(ref)
                self.fail("account", _record_error(result.error), dynamics_id=str(ref))
            elif result.outcome in (Outcome.CREATED, Outcome.ALREADY_EXISTS):
                self.work.count("account", "pull", "created")
        with transaction.atomic():
            _links_save([link for link in saves if link.dynamics_id not in failed])
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)
