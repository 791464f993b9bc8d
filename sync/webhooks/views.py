"""The webhook endpoint ActiveCampaign calls, and its page for administrators."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.crypto import decrypt, encrypt
from integrations.decorators import administrators_only
from integrations.selectors import integration_current

from ..forms import WebhookEntityForm
from ..models import WebhookDelivery
from . import selectors, services
from .payload import PayloadError

SHOWN_ONCE = "sync.webhook_secret"  # session key: the new secret, encrypted, until shown


@csrf_exempt  # ActiveCampaign has no CSRF token: the secret in the URL authenticates it
@never_cache
def receive(request: HttpRequest, secret: str) -> HttpResponse:
    """`POST /hooks/activecampaign/<secret>/`: store the delivery, process it on a worker."""
    if services.webhook_endpoint_for(secret) is None:
        # Any method, any body: a wrong secret gets the site's own "page not found".
        raise Http404
    if request.method != "POST":
        response = HttpResponse(status=405)
        response["Allow"] = "POST"
        return response
    try:
        receipt = services.webhook_receive(
            secret=secret,
            body=request.body,
            content_type=request.META.get("CONTENT_TYPE", ""),
            entity=request.GET.get("entity"),
        )
    except services.WebhookNotFound:  # rotated meanwhile
        raise Http404 from None
    except PayloadError as error:
        return JsonResponse({"error": str(error)}, status=400)
    except services.WebhookRateLimited as limited:
        response = JsonResponse({"error": "too many deliveries"}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    return JsonResponse(
        {
            "delivery": receipt.delivery.pk,
            "status": "duplicate" if receipt.duplicate else "accepted",
        },
        status=200 if receipt.duplicate else 202,
    )


def _integration(request: HttpRequest):
    integration = integration_current(request)
    if integration is None:
        raise Http404("No integration")
    return integration


@administrators_only
def page(request: HttpRequest) -> HttpResponse:
    """The webhook URL (shown once), what it creates, and the deliveries received."""
    integration = _integration(request)
    endpoint = selectors.webhook_endpoint_current(integration=integration)
    if request.method == "POST":
        if endpoint is None:
            messages.error(request, _("Create the webhook URL first."))
            return redirect("sync:webhook")
        form = WebhookEntityForm(request.POST)
        if form.is_valid():
            services.webhook_entity_save(
                integration=integration, entity=form.cleaned_data["entity"], actor=request.user
            )
            messages.success(request, _("Saved."))
            return redirect("sync:webhook")
    else:
        form = WebhookEntityForm(initial={"entity": endpoint.entity if endpoint else "contact"})
    url = None
    token = request.session.pop(SHOWN_ONCE, None)
    if token and endpoint is not None:
        secret = decrypt(token)
        if services.secret_hash(secret) == endpoint.secret_hash:
            url = request.build_absolute_uri(reverse("hook_activecampaign", args=[secret]))
    deliveries = Paginator(selectors.webhook_deliveries(integration=integration), 25).get_page(
        request.GET.get("page")
    )
    response = render(
        request,
        "sync/webhook.html",
        {
            "integration": integration,
            "endpoint": endpoint,
            "form": form,
            "url": url,
            "deliveries": deliveries,
            "retryable": WebhookDelivery.RETRYABLE,
        },
    )
    if url:
        response["Cache-Control"] = "no-store"
    return response


@administrators_only
@require_POST
def rotate(request: HttpRequest) -> HttpResponse:
    """Create or rotate the secret; the page shows the new URL once."""
    integration = _integration(request)
    secret = services.webhook_secret_rotate(integration=integration, actor=request.user)
    # Shown by the page this redirects to, then forgotten (the session keeps it encrypted).
    request.session[SHOWN_ONCE] = encrypt(secret)
    return redirect("sync:webhook")


@administrators_only
@require_POST
def retry(request: HttpRequest, delivery_pk: int) -> HttpResponse:
    integration = _integration(request)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, integration=integration)
    if services.webhook_delivery_retry(delivery=delivery):
        messages.success(request, _("Delivery %(id)s is processed again.") % {"id": delivery.pk})
    else:
        messages.error(request, _("Only a failed delivery can be retried."))
    return redirect("sync:webhook")
