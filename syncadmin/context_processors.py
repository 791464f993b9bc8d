"""The top navigation: only pages that exist and that the user may open are linked."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from integrations.access import IntegrationPerms, integrations_of_request, permissions_current

# (label, URL name, permission needed in the current integration, or None). Later issues add
# their pages by URL name: an entry whose URL name is not registered yet is simply not shown.
NAVIGATION = [
    (_("Dashboard"), "dashboard", None),
    (_("Settings"), "integrations:settings", "integrations.manage_integration"),
    (_("User management"), "users:manage", "integrations.manage_integration"),
    (
        _("Data configuration"),
        "mapping:configuration",
        "integrations.manage_integration",
    ),
    (_("Sync settings"), "sync:settings", "integrations.manage_integration"),
    (_("Records"), "records:list", "integrations.use_records"),
    (_("Sync history"), "sync:history", "integrations.manage_integration"),
]


def navigation(request: HttpRequest) -> dict:
    """The navigation, the integrations to switch between, and `perms` for the current one.

    `perms.integrations.<codename>` in templates answers for the current integration (roles
    are per integration); other apps' permissions are Django's own.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    held = permissions_current(request)
    items = []
    for label, url_name, permission in NAVIGATION:
        if permission and permission not in held:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        matches = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": label, "url": url, "active": matches})
    # One current page: the longest link that holds the path (Sync history, not Sync settings,
    # on /sync/history/), so that only one link says aria-current="page".
    current = max(
        (item for item in items if item["active"]), key=lambda i: len(i["url"]), default=None
    )
    for item in items:
        item["active"] = item is current
    return {
        "navigation": items,
        "perms": IntegrationPerms(request),
        "switchable_integrations": integrations_of_request(request),
    }
