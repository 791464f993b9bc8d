"""The few inputs of the records section: search, and the ids of what a sales action picks."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .selectors import SORTS

# ActiveCampaign ids are numbers (sent as strings); anything else never reaches the API.
AC_ID = RegexValidator(r"^[0-9]{1,18}\Z", _("Not an ActiveCampaign id."))


class RecordSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-synced", _("Last synced, newest first")),
            ("synced", _("Last synced, oldest first")),
        ],
    )

    def values(self) -> tuple[str, str]:
        """(query, sort), the defaults for anything invalid."""
        if not self.is_valid():
            return "", SORTS[0]
        return self.cleaned_data["q"].strip(), self.cleaned_data["sort"] or SORTS[0]


class PickerSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)

    def query(self) -> str:
        return self.cleaned_data["q"].strip() if self.is_valid() else ""


class AutomationForm(forms.Form):
    automation = forms.CharField(max_length=18, validators=[AC_ID])


class CampaignForm(forms.Form):
    campaign = forms.CharField(max_length=18, validators=[AC_ID])
    message = forms.CharField(max_length=18, validators=[AC_ID])


class CampaignPickForm(forms.Form):
    campaign = forms.CharField(max_length=18, validators=[AC_ID])
