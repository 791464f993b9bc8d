from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from connectors.services import ConnectionCheck
from connectors.types import Vendor

from .access import integration_current_set, integrations_visible
from .decorators import administrators_only, superusers_only
from .forms import SECRET_NAMES, ConnectionForm, IntegrationCreateForm
from .redirects import safe_next
from .selectors import audit_entries, integration_current
from .services import SecretRequired, integration_connect, integration_create

CONNECTED_DIALOG = "connected_dialog"
_FIELD_PREFIX = {Vendor.ACTIVECAMPAIGN: "ac_", Vendor.DYNAMICS: "dynamics_"}


def _point_at_fields(form: ConnectionForm, check: ConnectionCheck) -> None:
    """Mark the field each failed side names (an authority host error opens Advanced)."""
    for side in check.sides:
        field = _FIELD_PREFIX[side.vendor] + side.setting if side.setting else ""
        if not side.ok and field in form.fields:
            form.add_error(field, side.message)


def _focus_first_error(form: ConnectionForm) -> None:
    """The browser lands on the first field with an error (inside Advanced, which opens)."""
    for name in form.fields:
        if name in form.errors:
            form.fields[name].widget.attrs["autofocus"] = True
            return


@administrators_only
@sensitive_post_parameters("ac_api_key", "dynamics_client_secret")
def settings_page(request: HttpRequest) -> HttpResponse:
    integration = integration_current(request)
    if integration is None:
        return redirect("integrations:add")
    check = None
    if request.method == "POST":
        form = ConnectionForm(request.POST, integration=integration)
        if form.is_valid():
            try:
                outcome = integration_connect(
                    integration=integration, values=form.cleaned_data, actor=request.user
                )
            except SecretRequired as refused:  # the endpoint changed since the form checked
                for secret in refused.secrets:
                    form.add_error(
                        secret, _("Type the %(name)s again.") % {"name": SECRET_NAMES[secret]}
                    )
            else:
                if outcome.saved:
                    request.session[CONNECTED_DIALOG] = [
                        outcome.check.activecampaign.message,
                        outcome.check.dynamics.message,
                    ]
                    return redirect("integrations:settings")
                check = outcome.check
                _point_at_fields(form, check)
    else:
        form = ConnectionForm(integration=integration)
    _focus_first_error(form)
    return render(
        request,
        "integrations/settings.html",
        {
            "integration": integration,
            "form": form,
            "check": check,
            "connected_dialog": request.session.pop(CONNECTED_DIALOG, None),
        },
    )


@superusers_only
def integration_add(request: HttpRequest) -> HttpResponse:
    form = IntegrationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        integration = integration_create(name=form.cleaned_data["name"], actor=request.user)
        integration_current_set(request, integration)
        messages.success(
            request,
            _("Added %(name)s. Connect it to both services below.") % {"name": integration.name},
        )
        return redirect("integrations:settings")
    return render(request, "integrations/add.html", {"form": form})


@login_required
@require_POST
def integration_switch(request: HttpRequest) -> HttpResponse:
    # Only to an integration this user may see: another one is "not found", never revealed.
    picked = request.POST.get("integration", "")
    integration = None
    if picked.isascii() and picked.isdigit() and len(picked) < 19:  # fits a bigint
        integration = integrations_visible(user=request.user).filter(pk=int(picked)).first()
    if integration is None:
        # The same words for a deleted integration and for one this user may not see.
        messages.error(request, _("That integration does not exist (any more)."))
        return safe_next(request, "dashboard")
    integration_current_set(request, integration)
    messages.info(request, _("Now working on %(name)s.") % {"name": integration.name})
    return safe_next(request, "dashboard")


@administrators_only
def audit_log(request: HttpRequest) -> HttpResponse:
    integration = integration_current(request)
    # Every integration's entries: for superusers only (they see every integration anyway).
    show_all = request.GET.get("all") == "1" and request.user.is_superuser
    entries = audit_entries(integration=None if show_all else integration)
    return render(
        request,
        "integrations/audit.html",
        {
            "entries": entries,
            "integration": integration,
            "show_all": show_all,
        },
    )
