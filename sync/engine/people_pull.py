"""People pulled: ActiveCampaign contacts that changed alone → their Dynamics lead or contact."""

from __future__ import annotations

import contextlib
import uuid

from django.db import transaction

from connectors.activecampaign.records import (
    ImportContact,
)
from connectors.dynamics.records import Outcome, RecordWrite
from connectors.errors import (
    RecordError,
)
from mapping.core.directions import Direction
from mapping.core.merge import merge_record
from mapping.core.records import (
    SKIP_TEXT,
    Skip,
    SkipReason,
    record_changes,
)

from ..models import RecordLink, StagedRecord
from .base import (
    ACCOUNT_LINK,
    ACTIVECAMPAIGN,
    BULK_IMPORT_MIN,
    DYNAMICS,
    ENTITY_TAGS,
    PEOPLE,
    QUIET_SKIPS,
    TAG_PULLED,
    _by_pair,
    _decode,
    _dv_write_values,
    _link_set_base,
    _links_save,
    _record_error,
    _Writer,
)


class PeoplePull(_Writer):
    """ActiveCampaign contacts that changed alone → their Dynamics lead or contact."""

    direction = "pull"

    def process(self, records: list[StagedRecord]) -> None:
        integration = self.ctx.integration
        links = {
            link.ac_id: link
            for link in RecordLink.objects.filter(
                integration=integration,
                ac_object="contact",
                ac_id__in=[r.record_id for r in records],
                state__in=[RecordLink.State.LINKED, RecordLink.State.PENDING],
            )
        }
        gone = set(
            RecordLink.objects.filter(
                integration=integration,
                ac_object="contact",
                ac_id__in=[r.record_id for r in records if r.record_id not in links],
                state=RecordLink.State.DELETED,
            ).values_list("ac_id", flat=True)
        )
        unlinked = [r for r in records if r.record_id not in links]
        known = {}
        for link in RecordLink.objects.filter(
            integration=integration,
            ac_object="contact",
            email__in=[r.email for r in unlinked if r.email],
        ).exclude(state=RecordLink.State.DELETED):
            known.setdefault(link.email, []).append(link)
        writes: list[RecordWrite] = []
        saves: list[RecordLink] = []
        new_ids: list[tuple[RecordLink, str]] = []
        for record in records:
            link = links.get(record.record_id)
            ids = {"ac_id": record.record_id, "email": record.email}
            if record.record_id in gone:
                # Its Dynamics record was deleted (and the deletion policy applied): a change
                # in ActiveCampaign does not bring it back.
                self.skip(
                    "contact",
                    "its Dynamics 365 record was deleted; it is not created again",
                    record=False,
                    **ids,
                )
                continue
            if link is not None and link.state == RecordLink.State.LINKED:
                self._update(record, link, writes, saves)
                continue
            # A create written ahead by a run that stopped before it knew the answer (a
            # configuration error, a dead worker): sent again with the same GUID, which
            # Dataverse answers "already exists" if the first one got there.
            resumed = link if link is not None and link.ac_id and link.dynamics_id else None
            if link is not None and resumed is None:
                continue
            entity_key = (
                resumed.entity if resumed else self._target(record, known.get(record.email, []))
            )
            if entity_key is None:
                continue
            entity = self.ctx.entity(entity_key)
            values = _decode(entity, record.payload["values"].get(entity_key, {}), ACTIVECAMPAIGN)
            changes = record_changes(values, entity, Direction.PULL)
            if isinstance(changes, Skip):
                self.skip(
                    entity_key,
                    str(changes),
                    record=changes.reason not in QUIET_SKIPS,
                    **ids,
                )
                continue
            existing = resumed or next(
                (item for item in known.get(record.email, []) if item.entity == entity_key),
                None,
            )
            if existing is not None and existing.note.startswith(SKIP_TEXT[SkipReason.CRITERIA]):
                # It exists in Dynamics and the criteria leave it out: not synced either way.
                self.skip(entity_key, str(Skip(SkipReason.CRITERIA)), record=False, **ids)
                continue
            if resumed is not None:
                link = resumed
                writes.append(
                    RecordWrite.create(
                        entity_key,
                        _dv_write_values(entity, dict(changes.values)),
                        id=link.dynamics_id,
                        ref=link.dynamics_id,
                    )
                )
                new_ids.append((link, entity_key))
                link.state = RecordLink.State.LINKED
            elif existing is not None:
                # A Dynamics record with this e-mail exists but was not synced: link it and
                # write AC's values into it (the AC contact is the one that changed).
                link = existing
                link.ac_id, link.state = record.record_id, RecordLink.State.LINKED
                writes.append(
                    RecordWrite.update(
                        entity_key,
                        link.dynamics_id,
                        _dv_write_values(entity, dict(changes.values)),
                        ref=link.dynamics_id,
                    )
                )
                self.work.count(entity_key, "pull", "linked")
            else:
                link = RecordLink(
                    integration=integration,
                    entity=entity_key,
                    ac_object="contact",
                    dynamics_id=str(uuid.uuid4()),
                    ac_id=record.record_id,
                    email=record.email,
                    state=RecordLink.State.PENDING,
                )
                writes.append(
                    RecordWrite.create(
                        entity_key,
                        _dv_write_values(entity, dict(changes.values)),
                        id=link.dynamics_id,
                        ref=link.dynamics_id,
                    )
                )
                new_ids.append((link, entity_key))
            base_dv = {pair.key: None for pair in entity.value_pairs}
            base_dv.update(_by_pair(entity, dict(changes.values), DYNAMICS))
            _link_set_base(link, base_dv, values, {}, {}, entity)
            saves.append(link)
        # Write-ahead: the new links (PENDING, with their GUIDs) are stored, in one statement,
        # before the creates are sent.
        RecordLink.objects.bulk_create([link for link, _ in new_ids], batch_size=500)
        for link, _ in new_ids:
            link.state = RecordLink.State.LINKED
        results = self.dv_write(writes)
        failed = set()
        for ref, result in results.items():
            entity_key = result.write.table
            if not result.ok:
                failed.add(ref)
                link = next((item for item in saves if item.dynamics_id == ref), None)
                self.fail(
                    entity_key,
                    _record_error(result.error),
                    dynamics_id=str(ref),
                    ac_id=link.ac_id if link else "",
                    email=link.email if link else "",
                )
            elif result.outcome in (Outcome.CREATED, Outcome.ALREADY_EXISTS):
                self.work.count(entity_key, "pull", "created")
        tagged = [link for link, _ in new_ids if link.dynamics_id not in failed]
        self._tag(tagged)
        new_links = {id(link) for link, _ in new_ids}
        with transaction.atomic():
            RecordLink.objects.filter(
                pk__in=[
                    link.pk
                    for link in saves
                    if link.dynamics_id in failed and link.pk and id(link) in new_links
                ]
            ).delete()
            _links_save([link for link in saves if link.dynamics_id not in failed])
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)

    def _target(self, record: StagedRecord, known: list[RecordLink]) -> str | None:
        """Which Dynamics entity a new AC contact becomes: contact if contacts pull, else lead
        (or the one a single-record sync asked for)."""
        prefer = record.payload.get("prefer")
        preferred = self.ctx.snapshot.entity(prefer) if prefer in PEOPLE else None
        if (
            preferred is not None
            and preferred.pulls
            and (not known or any(link.entity == prefer for link in known))
        ):
            return prefer
        for key in PEOPLE:
            config = self.ctx.snapshot.entity(key)
            if (
                config is not None
                and config.pulls
                and (not known or any(link.entity == key for link in known))
            ):
                return key
        return None

    def _update(self, record, link, writes, saves) -> None:
        entity = self.ctx.entity(link.entity)
        values = _decode(entity, record.payload["values"].get(link.entity, {}), ACTIVECAMPAIGN)
        ids = {"ac_id": record.record_id, "dynamics_id": link.dynamics_id, "email": record.email}
        result = merge_record(
            entity,
            base_dynamics=_decode(entity, link.base_dynamics, DYNAMICS),
            base_ac=_decode(entity, link.base_ac, ACTIVECAMPAIGN),
            dynamics=None,
            ac=values,
        )
        if result.problems:
            self.fail(link.entity, "; ".join(result.problems), **ids)
            return
        if result.dynamics_writes:
            writes.append(
                RecordWrite.update(
                    link.entity,
                    link.dynamics_id,
                    _dv_write_values(entity, result.dynamics_writes),
                    ref=link.dynamics_id,
                )
            )
            self.work.count(link.entity, "pull", "updated")
        link.email = record.email
        keep_dv = {k: v for k, v in link.base_dynamics.items() if k == ACCOUNT_LINK}
        keep_ac = {k: v for k, v in link.base_ac.items() if k == ACCOUNT_LINK}
        _link_set_base(link, result.base_dynamics, result.base_ac, keep_dv, keep_ac, entity)
        saves.append(link)

    def _tag(self, links: list[RecordLink]) -> None:
        """Tag the contacts pulled into Dynamics: by bulk import (tags by name) when many."""
        if not links:
            return
        ac = self.ctx.clients.ac
        if len(links) >= BULK_IMPORT_MIN:
            contacts = [
                ImportContact(email=link.email, tags=(ENTITY_TAGS[link.entity], TAG_PULLED))
                for link in links
            ]
            ac.imports.bulk(contacts, wait=0, poll_interval=1)
            return
        for link in links:
            for tag in (ENTITY_TAGS[link.entity], TAG_PULLED):
                with contextlib.suppress(RecordError):
                    ac.tags.add(link.ac_id, tag)
