from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .access import integration_current_set, integrations_visible
from .decorators import administrators_only, superusers_only
from .forms import ConnectionForm, IntegrationCreateForm
from .selectors import audit_entries, integration_current
from .services import integration_connect, integration_create

CONNECTED_DIALOG = "connected_dialog"


@administrators_only
def settings_page(request: HttpRequest) -> HttpResponse:
    integration = integration_current(request)
    if integration is None:
        return redirect("integrations:add")
    check = None
    if request.method == "POST":
        form = ConnectionForm(request.POST, integration=integration)
        if form.is_valid():
            outcome = integration_connect(
                integration=integration, values=form.cleaned_data, actor=request.user
            )
            if outcome.saved:
                request.session[CONNECTED_DIALOG] = [
                    outcome.check.activecampaign.message,
                    outcome.check.dynamics.message,
                ]
                return redirect("integrations:settings")
            check = outcome.check
    else:
        form = ConnectionForm(integration=integration)
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
        messages.success(request, f"Added {integration.name}. Connect it to both services below.")
        return redirect("integrations:settings")
    return render(request, "integrations/add.html", {"form": form})


@login_required
@require_POST
def integration_switch(request: HttpRequest) -> HttpResponse:
    # Only to an integration this user may see: another one is "not found", never revealed.
    picked = request.POST.get("integration", "")
    visible = integrations_visible(user=request.user)
    pk = int(picked) if picked.isdigit() and len(picked) < 19 else None  # fits a bigint
    integration = get_object_or_404(visible, pk=pk)
    integration_current_set(request, integration)
    messages.info(request, f"Now working on {integration.name}.")
    return redirect(request.POST.get("next") or "dashboard")


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
