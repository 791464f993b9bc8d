from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from connectors.errors import ConnectorError, user_message
from integrations.decorators import administrators_only
from integrations.redirects import safe_next
from integrations.selectors import integration_current

from . import page as pages
from . import selectors, services
from .core.compat import compatibility_rows
from .core.directions import Direction
from .core.standard import ENTITIES, SYNCED_ENTITIES
from .forms import entity_input_from_post, opportunity_input_from_post

TABS = [*SYNCED_ENTITIES, "opportunity"]


def _integration(request: HttpRequest):
    integration = integration_current(request)
    if integration is None:
        raise Http404("No integration")
    return integration


def _tabs(active: str) -> list[dict]:
    return [
        {"key": key, "label": gettext(ENTITIES[key].label), "active": key == active} for key in TABS
    ]


@administrators_only
def configuration(request: HttpRequest) -> HttpResponse:
    return entity(request, SYNCED_ENTITIES[0])


@administrators_only
def entity(request: HttpRequest, entity: str) -> HttpResponse:
    if entity not in SYNCED_ENTITIES:
        raise Http404("Unknown entity")
    integration = _integration(request)
    metadata, metadata_problem = services.metadata_ensure(integration=integration)
    services.entity_syncs_ensure(integration=integration)
    problems = []
    if request.method == "POST":
        data = entity_input_from_post(entity, request.POST)
        problems = services.entity_config_save(
            integration=integration, data=data, actor=request.user, metadata=metadata
        )
        if not problems:
            messages.success(
                request,
                gettext("Saved the %(entity)s configuration. It takes effect at the next sync.")
                % {"entity": gettext(ENTITIES[entity].label)},
            )
            return redirect("mapping:entity", entity=entity)
    else:
        saved = selectors.entity_syncs(integration=integration)[entity]
        data = services.entity_input_from_saved(saved)
    return render(
        request,
        "mapping/entity.html",
        {
            "integration": integration,
            "tabs": _tabs(entity),
            "metadata": metadata,
            "metadata_problem": metadata_problem,
            "page": pages.entity_page(data, metadata=metadata, problems=problems),
            "directions": list(Direction),
            "problems": problems,
        },
        status=400 if problems else 200,
    )


@administrators_only
def opportunity(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    metadata, metadata_problem = services.metadata_ensure(integration=integration)
    saved = selectors.opportunity_sync(integration=integration)
    problems = []
    if request.method == "POST":
        data = opportunity_input_from_post(request.POST)
        problems = services.opportunity_config_save(
            integration=integration, data=data, actor=request.user, metadata=metadata
        )
        if not problems:
            messages.success(
                request,
                gettext("Saved the Opportunities configuration. It takes effect at the next sync."),
            )
            return redirect("mapping:opportunity")
    else:
        data = services.opportunity_input_from_saved(saved)
    return render(
        request,
        "mapping/opportunity.html",
        {
            "integration": integration,
            "tabs": _tabs("opportunity"),
            "metadata": metadata,
            "metadata_problem": metadata_problem,
            "problems": problems,
            "page": pages.opportunity_page(data, saved=saved, metadata=metadata, problems=problems),
        },
        status=400 if problems else 200,
    )


@administrators_only
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    try:
        services.metadata_refresh(integration=integration)
        messages.success(request, gettext("Read the fields of both services again."))
    except ConnectorError as error:
        messages.error(
            request,
            gettext("Could not read the fields: %(reason)s") % {"reason": user_message(error)},
        )
    return safe_next(request, "mapping:configuration")


# -- htmx fragments: rows added in the browser -----------------------------------------------
@administrators_only
@require_GET
def criterion_row(request: HttpRequest, entity: str) -> HttpResponse:
    if entity not in SYNCED_ENTITIES:
        raise Http404("Unknown entity")
    metadata = selectors.metadata_cached(integration=_integration(request))
    dv_fields = metadata.dynamics_fields_for(entity)
    fields = pages.criteria_fields(dv_fields)
    field_key = request.GET.get("field") or (fields[0].key if fields else "")
    row = pages.criterion_row(
        _index(request),
        field_key,
        request.GET.get("operator", ""),
        request.GET.getlist("value") or None,
        dv_fields=dv_fields,
    )
    return render(
        request,
        "mapping/_criterion_row.html",
        {"row": row, "page": {"entity": entity, "criteria_fields": fields}},
    )


@administrators_only
@require_GET
def mapping_rows(request: HttpRequest, entity: str) -> HttpResponse:
    """Rows for ActiveCampaign fields picked in the "Edit" dialog, or one row re-rendered after
    its Dynamics field or direction changed (to show the matching value map)."""
    if entity not in SYNCED_ENTITIES:
        raise Http404("Unknown entity")
    metadata = selectors.metadata_cached(integration=_integration(request))
    direction = _direction(request.GET.get("entity_direction"))
    start = _index(request)
    rows = [
        pages.proposed_mapping_row(
            start + offset,
            entity=entity,
            direction=direction,
            ac_key=ac_key,
            dynamics_key=request.GET.get("dynamics_key", ""),
            field_direction=request.GET.get("direction", ""),
            metadata=metadata,
        )
        for offset, ac_key in enumerate(request.GET.getlist("ac"))
    ]
    return render(
        request,
        "mapping/_mapping_rows.html",
        {
            "rows": rows,
            "bidirectional": direction is Direction.BIDIRECTIONAL,
            "entity": entity,
        },
    )


@administrators_only
@require_GET
def opportunity_rows(request: HttpRequest) -> HttpResponse:
    metadata = selectors.metadata_cached(integration=_integration(request))
    start = _index(request)
    rows = [
        pages.opportunity_row(
            start + offset,
            dynamics_key=key,
            ac_type="",
            required=False,
            enabled=True,
            in_schema=False,
            label=key,
            metadata=metadata,
        )
        for offset, key in enumerate(request.GET.getlist("dv"))
    ]
    return render(request, "mapping/_opportunity_rows.html", {"rows": rows})


@administrators_only
def compatibility(request: HttpRequest) -> HttpResponse:
    return render(request, "mapping/compatibility.html", {"rows": compatibility_rows()})


def _index(request: HttpRequest) -> int:
    try:
        return max(0, min(int(request.GET.get("index", "0")), 100_000))
    except ValueError:
        return 0


def _direction(value: str | None) -> Direction:
    try:
        return Direction(value or Direction.BIDIRECTIONAL.value)
    except ValueError:
        return Direction.BIDIRECTIONAL
