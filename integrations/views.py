from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .decorators import administrators_only
from .forms import ConnectionForm, IntegrationCreateForm
from .models import Integration
from .selectors import SESSION_KEY, audit_entries, integration_current
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


@administrators_only
def integration_add(request: HttpRequest) -> HttpResponse:
    form = IntegrationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        integration = integration_create(name=form.cleaned_data["name"], actor=request.user)
        request.session[SESSION_KEY] = integration.pk
        request.__dict__.pop("_integration_current", None)
        messages.success(request, f"Added {integration.name}. Connect it to both services below.")
        return redirect("integrations:settings")
    return render(request, "integrations/add.html", {"form": form})


@administrators_only
@require_POST
def integration_switch(request: HttpRequest) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=request.POST.get("integration"))
    request.session[SESSION_KEY] = integration.pk
    request.__dict__.pop("_integration_current", None)
    messages.info(request, f"Now working on {integration.name}.")
    return redirect(request.POST.get("next") or "dashboard")


@administrators_only
def audit_log(request: HttpRequest) -> HttpResponse:
    integration = integration_current(request)
    show_all = request.GET.get("all") == "1"
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
