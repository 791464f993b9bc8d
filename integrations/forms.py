from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Integration
from .selectors import secrets_to_retype
from .validators import validate_connection_url

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A tenant is a GUID or a verified domain (contoso.onmicrosoft.com).
TENANT = re.compile(r"^([0-9a-fA-F-]{36}|[A-Za-z0-9.-]+\.[A-Za-z]{2,})$")


SECRET_NAMES = {"ac_api_key": _("API key"), "dynamics_client_secret": _("client secret")}


class SecretInput(forms.PasswordInput):
    """Never renders the stored value; a placeholder says whether one is stored."""

    def __init__(self, *, stored: bool = False):
        placeholder = "•••••••• " + _("stored (leave blank to keep)") if stored else ""
        super().__init__(
            render_value=False, attrs={"placeholder": placeholder, "autocomplete": "new-password"}
        )


class ConnectionForm(forms.Form):
    ac_api_url = forms.CharField(
        label=_("API URL"),
        max_length=200,
        help_text=_("From ActiveCampaign: Settings > Developer."),
    )
    ac_api_key = forms.CharField(label=_("API key"), required=False, max_length=200)
    dynamics_org_url = forms.CharField(
        label=_("Org URL"),
        max_length=200,
        help_text=_("For example https://contoso.crm.dynamics.com"),
    )
    dynamics_tenant_id = forms.CharField(
        label=_("Tenant id"),
        max_length=100,
        help_text=_("Microsoft Entra tenant (directory) id or domain."),
    )
    dynamics_client_id = forms.CharField(
        label=_("Client id"),
        max_length=100,
        help_text=_("The app registration's application (client) id."),
    )
    dynamics_client_secret = forms.CharField(
        label=_("Client secret"), required=False, max_length=500
    )
    dynamics_authority_host = forms.CharField(label=_("Authority host"), max_length=200)
    ac_budget_share = forms.IntegerField(
        label=_("Share of ActiveCampaign's 5 requests/second (%)"), min_value=10, max_value=100
    )
    dynamics_budget_share = forms.IntegerField(
        label=_("Share of Dataverse's limits (%)"), min_value=10, max_value=100
    )

    def __init__(self, *args, integration: Integration, **kwargs):
        initial = {
            field: getattr(integration, field)
            for field in (
                "ac_api_url",
                "dynamics_org_url",
                "dynamics_tenant_id",
                "dynamics_client_id",
                "dynamics_authority_host",
                "ac_budget_share",
                "dynamics_budget_share",
            )
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.integration = integration
        self.fields["ac_api_key"].widget = SecretInput(stored=integration.has_secret("ac_api_key"))
        self.fields["dynamics_client_secret"].widget = SecretInput(
            stored=integration.has_secret("dynamics_client_secret")
        )

    def clean_ac_api_url(self):
        return validate_connection_url(self.cleaned_data["ac_api_url"])

    def clean_dynamics_org_url(self):
        return validate_connection_url(self.cleaned_data["dynamics_org_url"])

    def clean_dynamics_authority_host(self):
        url = validate_connection_url(self.cleaned_data["dynamics_authority_host"])
        if not url.startswith("https://"):
            # MSAL accepts only https authorities.
            raise forms.ValidationError(_("The authority host must use https://."))
        return url

    def clean_dynamics_tenant_id(self):
        value = self.cleaned_data["dynamics_tenant_id"].strip()
        if not TENANT.match(value):
            raise forms.ValidationError(_("Enter the tenant id (a GUID) or its domain."))
        return value

    def clean_dynamics_client_id(self):
        value = self.cleaned_data["dynamics_client_id"].strip()
        if not GUID.match(value):
            raise forms.ValidationError(_("The client id is a GUID (xxxxxxxx-xxxx-…)."))
        return value

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("ac_api_key") and not self.integration.has_secret("ac_api_key"):
            self.add_error("ac_api_key", _("Enter the API key."))
        if not cleaned.get("dynamics_client_secret") and not self.integration.has_secret(
            "dynamics_client_secret"
        ):
            self.add_error("dynamics_client_secret", _("Enter the client secret."))
        # cleaned_data holds only the fields that passed their own checks.
        for secret, moved in secrets_to_retype(
            integration=self.integration, values=cleaned
        ).items():
            labels = _(" and ").join(str(self.fields[f].label) for f in moved)
            self.add_error(
                secret,
                _(
                    "%(labels)s changed, so type the %(name)s again: a stored %(name)s is never "
                    "sent to a new address."
                )
                % {"labels": labels, "name": SECRET_NAMES[secret]},
            )
        return cleaned


class IntegrationCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("For example the client's company name.")
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Integration.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("An integration with this name exists already."))
        return name
