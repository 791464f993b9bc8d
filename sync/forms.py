from __future__ import annotations

from django import forms

from .models import SyncSettings


class SyncSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label="Global sync",
        required=False,
        help_text="Off pauses every direction: nothing is read or written until it is on again; "
        "changes made meanwhile are caught up then.",
    )
    schedule_hours = forms.TypedChoiceField(
        label="Job frequency",
        choices=SyncSettings.Schedule.choices,
        coerce=int,
        help_text="How often the scheduled sync runs.",
    )
