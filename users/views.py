from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from integrations.decorators import administrators_only
from integrations.roles import Role
from integrations.selectors import integration_current

from . import selectors, services
from .forms import AddUserForm, RoleForm
from .middleware import SESSION_KEY


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=self.request.user)
        self.request.session.pop(SESSION_KEY, None)
        messages.success(self.request, gettext("Your password was changed."))
        return response


def _integration(request: HttpRequest):
    """The integration whose users this page manages (administrators_only let the user in)."""
    return integration_current(request)


def _member(request: HttpRequest, pk: int):
    """A user with a role in the current integration; anyone else is "not found"."""
    integration = _integration(request)
    if integration is None or pk >= 2**63:  # a bigger number than a primary key can be
        raise Http404("No such user")
    return get_object_or_404(
        get_user_model().objects.filter(memberships__integration=integration), pk=pk
    )


@administrators_only
def manage(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    if integration is None:
        return redirect("integrations:add")
    return render(
        request,
        "users/manage.html",
        {
            "integration": integration,
            "managed": selectors.managed_users(integration=integration),
            "add_form": AddUserForm(
                initial={"role": Role.USER.value, "entity_access": ["lead", "contact"]}
            ),
        },
    )


@administrators_only
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    candidates, note = (
        selectors.candidates_search(
            query=request.GET.get("q", ""), integration=integration, actor=request.user
        )
        if integration is not None
        else ([], None)
    )
    return render(
        request,
        "users/_suggestions.html",
        {
            "candidates": candidates,
            "note": note,
            "query": request.GET.get("q", ""),
        },
    )


@administrators_only
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    integration = _integration(request)
    form = AddUserForm(request.POST)
    if integration is None or not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("users:manage")
    data = form.cleaned_data
    candidate = services.Candidate(data["source"], data["key"], data["name"], data["email"])
    try:
        user, password = services.user_add(
            candidate=candidate,
            role=data["role"],
            entity_access=data["entity_access"],
            actor=request.user,
            integration=integration,
        )
    except services.UserManagementError as error:
        messages.error(request, str(error))
        return redirect("users:manage")
    text = gettext("Added %(name)s as %(role)s.") % {
        "name": user.get_full_name() or user.username,
        "role": data["role"].label,
    }
    if password:
        text += " " + gettext(
            "Their account '%(username)s' was created with the one-time password %(password)s "
            "(shown only now); they choose their own at first login."
        ) % {"username": user.username, "password": password}
    messages.success(request, text)
    return redirect("users:manage")


@administrators_only
@require_POST
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = _member(request, pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.user_role_set(
                user=user,
                role=form.cleaned_data["role"],
                entity_access=form.cleaned_data["entity_access"],
                actor=request.user,
                integration=_integration(request),
            )
            messages.success(
                request,
                gettext("%(username)s is now %(role)s.")
                % {"username": user.username, "role": form.cleaned_data["role"].label},
            )
        except services.UserManagementError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, gettext("Choose a valid role."))
    return redirect("users:manage")


@administrators_only
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _member(request, pk)
    integration = _integration(request)
    try:
        services.user_remove(user=user, actor=request.user, integration=integration)
        messages.success(
            request,
            gettext("Removed %(username)s from %(name)s.")
            % {"username": user.username, "name": integration.name},
        )
    except services.UserManagementError as error:
        messages.error(request, str(error))
    return redirect("users:manage")
