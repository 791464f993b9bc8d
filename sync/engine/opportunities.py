"""Opportunities: one way, into the ActiveCampaign custom object on the synced contact."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connectors.errors import (
    RecordError,
)
from mapping.core.records import (
    decode_value,
    fingerprint,
)
from mapping.core.transforms import TransformError, convert

from ..models import RecordLink, StagedRecord
from .base import _record_error, _Writer


class OpportunityPush(_Writer):
    """Dynamics opportunities → records of the ActiveCampaign custom object, on the contact."""

    def process(self, records: list[StagedRecord]) -> None:
        config = self.ctx.snapshot.opportunity
        ac = self.ctx.clients.ac
        schema = ac.custom_objects.schema(config.schema_id)
        contacts = {
            link.dynamics_id: link.ac_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                entity="contact",
                state=RecordLink.State.LINKED,
                dynamics_id__in=[
                    r.payload.get("contact") for r in records if r.payload.get("contact")
                ],
            )
        }
        links = {
            link.dynamics_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                entity="opportunity",
                dynamics_id__in=[r.record_id for r in records],
            )
        }
        saves = []
        for record in records:
            ids = {"dynamics_id": record.record_id}
            link = links.get(record.record_id)
            if record.payload.get("deleted"):
                if link is not None:
                    link.state = RecordLink.State.DELETED
                    saves.append(link)
                continue
            contact_id = contacts.get(record.payload.get("contact") or "")
            if not contact_id:
                self.skip(
                    "opportunity",
                    "its contact is not synced with ActiveCampaign (opportunities sync only "
                    "with a synced contact)",
                    **ids,
                )
                continue
            values = {}
            problems = []
            for pair in config.fields:
                raw = record.payload["values"].get(pair.ac_field_id)
                try:
                    value = decode_value(raw, pair.dynamics.type)
                    values[pair.ac_field_id] = convert(
                        value, source=pair.dynamics, target=pair.ac, value_map=_label_map(pair)
                    )
                except (TransformError, ValueError, TypeError) as error:
                    problems.append(getattr(error, "message", str(error)))
            if problems:
                self.fail("opportunity", "; ".join(problems), **ids)
                continue
            digest = fingerprint(values)
            if link is not None and link.ac_fingerprint == digest and link.ac_id:
                continue  # no change since the last write: no echo
            try:
                written = ac.custom_objects.upsert(
                    schema, external_id=record.record_id, values=values, contact_id=contact_id
                )
            except RecordError as error:
                self.fail("opportunity", _record_error(error), **ids)
                continue
            self.work.count("opportunity", "push", "updated" if link else "created")
            link = link or RecordLink(
                integration=self.ctx.integration,
                entity="opportunity",
                ac_object="opportunity",
                dynamics_id=record.record_id,
            )
            link.ac_id, link.state = written.id, RecordLink.State.LINKED
            link.ac_fingerprint = digest
            link.email = (record.payload.get("name") or "")[:254]
            link.last_synced_at = timezone.now()
            saves.append(link)
        with transaction.atomic():
            for link in saves:
                link.save()
            StagedRecord.objects.filter(pk__in=[r.pk for r in records]).update(handled=True)


def _label_map(pair) -> dict[str, str]:
    """Choice options become the custom object's options, which are the option labels."""
    return {option.value: option.label for option in pair.dynamics.options} | {
        "true": "Yes",
        "false": "No",
    }
