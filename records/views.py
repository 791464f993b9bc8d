"""The records section (S-6): parse, check access, call a selector or service, render.

Access: ActiveCampaign Users and Administrators of the current integration
(`record_users_only`), and for leads / contacts only with that entity's access (S-2.3): without
it the entity is not in the section and its URLs answer the 403 page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from connectors.errors import ConnectorError, NotFoundError, user_message
from integrations.access import integration_current, permissions_current
from integrations.decorators import administrators_only, record_users_only
from integrations.models import Integration
from integrations.roles import ENTITY_PERMISSIONS
from sync.models import RecordLink, SyncRun

from . import selectors, services
from .forms import (
    AutomationForm,
    CampaignForm,
    CampaignPickForm,
    PickerSearchForm,
    RecordSearchForm,
)


def _entities_allowed(request: HttpRequest) -> list[str]:
    held = permissions_current(request)
    return [entity for entity in selectors.PEOPLE if ENTITY_PERMISSIONS[entity] in held]


def _integration(request: HttpRequest, entity: str | None = None) -> Integration:
    integration = integration_current(request)
    if integration is None:
        raise Http404("No integration")
    if entity is not None and entity not in _entities_allowed(request):
        raise PermissionDenied
    return integration


def _record(request: HttpRequest, entity: str, record_id) -> tuple[Integration, RecordLink]:
    integration = _integration(request, entity)
    link = selectors.record_get(integration=integration, entity=entity, dynamics_id=str(record_id))
    if link is None:
        raise Http404("No such synced record")
    return integration, link


def _context(entity: str, **extra) -> dict:
    return {"entity": entity, **extra}


@record_users_only
def index(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    allowed = _entities_allowed(request)
    counts = selectors.record_counts(integration=integration, entities=allowed)
    sections = [(entity, counts[entity]) for entity in allowed]
    return render(request, "records/index.html", {"integration": integration, "sections": sections})


@record_users_only
def record_list(request: HttpRequest, entity: str) -> HttpResponse:
    integration = _integration(request, entity)
    form = RecordSearchForm(request.GET)
    query, sort = form.values()
    page = selectors.records_page(
        integration=integration,
        entity=entity,
        query=query,
        sort=sort,
        page=request.GET.get("page"),
    )
    return render(
        request,
        "records/list.html",
        _context(
            entity,
            integration=integration,
            page=page,
            query=query,
            sort=sort,
            other_sort="synced" if sort == "-synced" else "-synced",
            pager_query=urlencode({"q": query, "sort": sort}) + "&",
            sections=_entities_allowed(request),
        ),
    )


@record_users_only
def record_detail(request: HttpRequest, entity: str, record_id) -> HttpResponse:
    integration, link = _record(request, entity, record_id)
    fields = selectors.dynamics_fields(integration=integration, link=link)
    marketing = selectors.marketing(integration=integration, ac_id=link.ac_id)
    return render(
        request,
        "records/detail.html",
        _context(
            entity,
            integration=integration,
            link=link,
            fields=fields,
            marketing=marketing,
            activity=selectors.activity_page(marketing.activities, request.GET.get("page")),
            state=selectors.sync_state(
                integration=integration, link=link, direction=fields.direction
            ),
            ac_url=selectors.contact_url(integration=integration, ac_id=link.ac_id),
        ),
    )


@administrators_only
@require_POST
def record_sync(request: HttpRequest, entity: str, record_id) -> HttpResponse:
    integration, link = _record(request, entity, record_id)
    try:
        run = services.record_sync_now(integration=integration, link=link, actor=request.user)
    except services.ActionRefused as refused:
        messages.error(request, refused.message)
    else:
        if (
            run.status == SyncRun.Status.SUCCEEDED
            and not run.records.filter(outcome="failed").exists()
        ):
            messages.success(request, _("The record was synced."))
        else:
            messages.warning(
                request,
                _("The record sync finished with problems (run #%(run)s): see the sync state.")
                % {"run": run.pk},
            )
    return redirect("records:record", entity, link.dynamics_id)


@record_users_only
def automation(request: HttpRequest, entity: str, record_id) -> HttpResponse:
    """Add to automation (S-6.2): search, pick, confirm (POST)."""
    integration, link = _record(request, entity, record_id)
    if request.method == "POST":
        form = AutomationForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Pick an automation first."))
            return redirect("records:automation", entity, link.dynamics_id)
        try:
            services.automation_enrol(
                integration=integration,
                link=link,
                automation_id=form.cleaned_data["automation"],
                actor=request.user,
            )
        except services.ActionRefused as refused:
            messages.error(request, refused.message)
            return redirect("records:automation", entity, link.dynamics_id)
        messages.success(
            request, _("%(email)s was added to the automation.") % {"email": link.email}
        )
        return redirect("records:record", entity, link.dynamics_id)
    search = PickerSearchForm(request.GET)
    picked = AutomationForm(request.GET)
    context = _context(entity, integration=integration, link=link, query=search.query())
    if not integration.is_connected:
        context["problem"] = _("ActiveCampaign is not connected.")
        return render(request, "records/automation.html", context)
    try:
        if "automation" in request.GET and picked.is_valid():
            chosen = selectors.automation_active(
                integration=integration, automation_id=picked.cleaned_data["automation"]
            )
            if chosen is None:
                messages.error(request, _("That automation is not active."))
            context["chosen"] = chosen
        if not context.get("chosen"):
            context["automations"] = selectors.automations_active(
                integration=integration, query=search.query()
            )
    except NotFoundError:
        messages.error(request, _("That automation does not exist in ActiveCampaign."))
        return redirect("records:automation", entity, link.dynamics_id)
    except ConnectorError as error:
        context["problem"] = _("ActiveCampaign cannot be reached right now: %(reason)s") % {
            "reason": user_message(error)
        }
    return render(request, "records/automation.html", context)


@record_users_only
def campaign(request: HttpRequest, entity: str, record_id) -> HttpResponse:
    """Send campaign (S-6.3): search, pick a campaign and its message, confirm (POST)."""
    integration, link = _record(request, entity, record_id)
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Pick a campaign and its message first."))
            return redirect("records:campaign", entity, link.dynamics_id)
        try:
            services.campaign_send(
                integration=integration,
                link=link,
                campaign_id=form.cleaned_data["campaign"],
                message_id=form.cleaned_data["message"],
                actor=request.user,
            )
        except services.ActionRefused as refused:
            messages.error(request, refused.message)
            return redirect("records:campaign", entity, link.dynamics_id)
        messages.success(request, _("The campaign was sent to %(email)s.") % {"email": link.email})
        return redirect("records:record", entity, link.dynamics_id)
    search = PickerSearchForm(request.GET)
    picked = CampaignPickForm(request.GET)
    marketing = selectors.marketing(integration=integration, ac_id=link.ac_id)
    context = _context(
        entity, integration=integration, link=link, query=search.query(), marketing=marketing
    )
    if not integration.is_connected:
        context["problem"] = _("ActiveCampaign is not connected.")
        return render(request, "records/campaign.html", context)
    try:
        if "campaign" in request.GET and picked.is_valid():
            chosen = selectors.campaign_get(
                integration=integration, campaign_id=picked.cleaned_data["campaign"]
            )
            if chosen is None:
                messages.error(request, _("That campaign does not exist in ActiveCampaign."))
            else:
                context["chosen"] = chosen
                context["campaign_messages"] = selectors.campaign_messages(
                    integration=integration, campaign_id=chosen.id
                )
        if not context.get("chosen"):
            context["campaigns"] = selectors.campaigns_sendable(
                integration=integration, query=search.query()
            )
    except ConnectorError as error:
        context["problem"] = _("ActiveCampaign cannot be reached right now: %(reason)s") % {
            "reason": user_message(error)
        }
    return render(request, "records/campaign.html", context)
