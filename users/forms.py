from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from integrations.roles import ENTITY_PERMISSIONS, ROLE_LABELS, Role

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]
ENTITY_CHOICES = [("lead", gettext_lazy("Leads")), ("contact", gettext_lazy("Contacts"))]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ROLE_CHOICES)
    entity_access = forms.MultipleChoiceField(
        choices=ENTITY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("May see"),
        help_text=gettext_lazy("Records of these entities are shown to the user."),
    )

    def clean_role(self):
        return Role(self.cleaned_data["role"])

    def clean_entity_access(self):
        return set(self.cleaned_data["entity_access"]) & set(ENTITY_PERMISSIONS)


class AddUserForm(RoleForm):
    source = forms.ChoiceField(
        choices=[("local", "local"), ("dynamics", "dynamics")], widget=forms.HiddenInput
    )
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    name = forms.CharField(max_length=300, widget=forms.HiddenInput)
    email = forms.EmailField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("key"):
            raise forms.ValidationError(gettext_lazy("Pick a person from the suggestions first."))
        return cleaned
