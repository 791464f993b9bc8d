"""Sync settings (S-4), Sync now, run history and run detail: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from integrations.decorators import administrators_only
from integrations.selectors import integration_current
from mapping.core.standard import ENTITIES

from . import selectors, services
from .engine import ENTITY_ORDER
from .forms import SyncSettingsForm
from .models import RunRecord, SyncRun, SyncSettings
from .webhooks.selectors import webhook_deliveries_failed


def _integration(request: HttpRequest):
    integration = integration_current(request)
    if integration is None:
        raise Http404("No integration")
    return integration


def _entities() -> list[tuple[str, str]]:
    return [(key, ENTITIES[key].label) for key in ENTITY_ORDER]


@administrators_only
def settings_page(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    # Read only: the defaults until the first save (a refused form changes nothing).
    current = selectors.sync_settings_current(integration=integration) or SyncSettings(
        integration=integration
    )
    if request.method == "POST":
        form = SyncSettingsForm(request.POST)
        if form.is_valid():
            saved = services.sync_settings_save(
                integration=integration,
                enabled=form.cleaned_data["enabled"],
                schedule_hours=form.cleaned_data["schedule_hours"],
                actor=request.user,
            )
            if saved.initial_run is not None:
                messages.success(request, gettext("Saved. The initial sync has started."))
            elif form.cleaned_data["enabled"]:
                messages.success(request, gettext("Saved. The schedule is updated."))
            else:
                messages.success(request, gettext("Saved. Global sync is off: nothing syncs."))
            return redirect("sync:settings")
    else:
        form = SyncSettingsForm(
            initial={"enabled": current.enabled, "schedule_hours": current.schedule_hours}
        )
    active = selectors.run_active(integration=integration)
    latest = active or selectors.run_latest(integration=integration)
    return render(
        request,
        "sync/settings.html",
        {
            "integration": integration,
            "settings": current,
            "form": form,
            "entities": _entities(),
            "progress": selectors.run_progress(run=latest) if latest else None,
        },
    )


@administrators_only
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    """The live progress card (htmx polls it while a run is going)."""
    integration = _integration(request)
    run_id = request.GET.get("run")
    run = None
    if run_id and run_id.isdigit():
        run = SyncRun.objects.filter(integration=integration, pk=int(run_id)).first()
    run = run or selectors.run_active(integration=integration)
    run = run or selectors.run_latest(integration=integration)
    return render(
        request,
        "sync/_progress.html",
        {"progress": selectors.run_progress(run=run) if run else None},
    )


@administrators_only
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    entity = request.POST.get("entity", "")
    if entity and entity not in ENTITY_ORDER:
        messages.error(request, gettext("Unknown entity."))
        return redirect("sync:settings")
    try:
        run = services.run_start(integration=integration, entity=entity, actor=request.user)
    except services.RunRefused as refused:
        messages.error(request, refused.message)
        return redirect(
            "sync:history" if request.POST.get("next") == "history" else "sync:settings"
        )
    if entity:
        text = gettext("Sync of %(entity)s queued (run %(run)s).") % {
            "entity": gettext(ENTITIES[entity].label),
            "run": run.pk,
        }
    else:
        text = gettext("Sync of everything queued (run %(run)s).") % {"run": run.pk}
    messages.success(request, text)
    return redirect("sync:run", run_pk=run.pk)


@administrators_only
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    return render(
        request,
        "sync/history.html",
        {
            "integration": integration,
            "runs": selectors.runs_list(integration=integration),
            "failed_deliveries": webhook_deliveries_failed(integration=integration),
            "entities": _entities(),
        },
    )


@administrators_only
@require_GET
def run_detail(request: HttpRequest, run_pk: int) -> HttpResponse:
    integration = _integration(request)
    run = get_object_or_404(SyncRun, pk=run_pk, integration=integration)
    entity = request.GET.get("entity", "")
    outcome = request.GET.get("outcome", "")
    if entity not in dict(_entities()):
        entity = ""
    if outcome not in RunRecord.Outcome.values:
        outcome = ""
    return render(
        request,
        "sync/run.html",
        {
            "run": run,
            "progress": selectors.run_progress(run=run),
            "records": selectors.run_records(run=run, entity=entity, outcome=outcome),
            "entity": entity,
            "outcome": outcome,
            "entities": _entities(),
            "outcomes": RunRecord.Outcome.choices,
            # A webhook's run is retried as its delivery (the webhook page): the same entity.
            "can_retry": not run.is_active
            and run.trigger != SyncRun.Trigger.WEBHOOK
            and run.records.filter(outcome=RunRecord.Outcome.FAILED, retried=False).exists(),
        },
    )


@administrators_only
@require_POST
def retry(request: HttpRequest, run_pk: int) -> HttpResponse:
    integration = _integration(request)
    run = get_object_or_404(SyncRun, pk=run_pk, integration=integration)
    try:
        retry_run = services.run_retry(run=run, actor=request.user)
    except services.RunRefused as refused:
        messages.error(request, refused.message)
        return redirect("sync:run", run_pk=run.pk)
    messages.success(
        request, gettext("Retrying the failed records (run %(run)s).") % {"run": retry_run.pk}
    )
    return redirect("sync:run", run_pk=retry_run.pk)
