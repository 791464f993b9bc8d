"""The top navigation: only pages that exist and that the user may open are linked."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# (label, URL name, permission needed or None). Later issues add their pages by URL name:
# an entry whose URL name is not registered yet is simply not shown.
NAVIGATION = [
    ("Dashboard", "dashboard", None),
    ("Settings", "integrations:settings", "integrations.manage_integration"),
    ("User management", "users:manage", "integrations.manage_integration"),
    ("Data configuration", "mapping:configuration", "integrations.manage_integration"),
    ("Sync settings", "sync:settings", "integrations.manage_integration"),
    ("Records", "records:list", "integrations.use_records"),
    ("Sync history", "sync:history", "integrations.manage_integration"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    items = []
    for label, url_name, permission in NAVIGATION:
        if permission and not user.has_perm(permission):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": label, "url": url, "active": active})
    return {"navigation": items}
