from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SyncSettings, WebhookEndpoint


class SyncSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Global sync"),
        required=False,
        help_text=_(
            "Off pauses every direction: nothing is read or written until it is on again; "
            "changes made meanwhile are caught up then."
        ),
    )
    schedule_hours = forms.TypedChoiceField(
        label=_("Job frequency"),
        choices=SyncSettings.Schedule.choices,
        coerce=int,
        help_text=_("How often the scheduled sync runs."),
    )


class WebhookEntityForm(forms.Form):
    entity = forms.ChoiceField(
        label=_("A new ActiveCampaign contact becomes a Dynamics 365"),
        choices=WebhookEndpoint.Entity.choices,
        help_text=_(
            "When the URL does not say: add ?entity=lead or ?entity=contact to the URL of one "
            "automation's webhook step to choose for that automation."
        ),
    )
