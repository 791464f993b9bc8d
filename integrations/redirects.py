"""Where to go after a POST: a `next` the page sent, if it stays on this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str, *args, **kwargs) -> HttpResponseRedirect:
    """Redirect to the request's `next` (POST, else GET) when it is a URL of this site, else to
    `default` (a URL name or path, with its arguments).

    Only a path on this site counts: a `next` naming another host or scheme
    (`https://elsewhere.example`, `//elsewhere`, `javascript:`), or holding blanks or control
    characters, is ignored: an open redirect would lend the site's name to a phishing link.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/")
        and not any(ord(c) < 0x21 or ord(c) == 0x7F for c in candidate)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        # A path, used as it is: never resolved as a view name.
        return HttpResponseRedirect(candidate)
    return redirect(default, *args, **kwargs)
