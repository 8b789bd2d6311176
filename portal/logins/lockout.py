"""Lockout after repeated failed logins (django-axes), and the login page that says so."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.forms import TextChecked


class LoginForm(TextChecked, AuthenticationForm):
    """The login form; a login name that cannot be one (too long, control characters) is
    refused before any authentication, so no backend ever stores or compares it."""


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the
    address the outermost trusted proxy saw (X-Forwarded-For entries before it are the
    client's to forge)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class LockoutBackend(AxesStandaloneBackend):
    """Refuses logins from a locked-out login name or client address.

    Only logins over HTTP can be attacked by guessing; `authenticate()` without a
    request (management commands, scripts) is left to the next backend."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The login page again, saying that logins are locked and what to do."""
    context = {
        "form": LoginForm(request),
        "locked_minutes": settings.LOGIN_COOLOFF_MINUTES,
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)
