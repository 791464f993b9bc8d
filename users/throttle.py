"""Login throttling: the client address that django-axes locks on, and the log of logins."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger("syncadmin.login")


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent this request.

    REMOTE_ADDR, unless SYNCADMIN_TRUSTED_PROXY_COUNT reverse proxies stand in front of the app:
    then the address the outermost trusted proxy saw, i.e. that many entries from the right of
    X-Forwarded-For (each proxy appends the address it received the request from). Entries
    further left are written by the client and never trusted, so a client cannot pick its own
    address to dodge a lockout.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.SYNCADMIN_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        # Fewer hops than configured: the request did not come through every proxy.
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The username django-axes counts failures for, cut to what a username can be.

    Django usernames are at most 150 characters; a longer one typed at the login form can name
    no account, and kept whole it would overflow axes' 255-character column (a 500).
    """
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(typed)[:150]


def login_logged(*, request: HttpRequest, username: str) -> None:
    logger.info("login: %s signed in from %s", username, client_ip(request) or "unknown address")


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The page django-axes shows a locked-out username and address: 429, saying for how long."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    logger.warning(
        "login: %s locked out from %s", username[:150], client_ip(request) or "unknown address"
    )
    return render(
        request,
        "registration/locked_out.html",
        {
            "username": username[:150],
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": minutes,
        },
        status=429,
    )
