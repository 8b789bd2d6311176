"""Password-reset mail, at most a few an hour per e-mail address and per client address.

The form answers the same whether a mail was sent, throttled or the address is unknown,
so it tells nobody which addresses have a login."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpRequest

from portal.logins.lockout import client_address

log = logging.getLogger(__name__)

HOUR = 60 * 60


def _count(key: str) -> int:
    """Adds one to an hourly counter (the hour starts at its first count) and returns it."""
    cache.add(key, 0, HOUR)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, HOUR)
        return 1


def password_reset_allowed(request: HttpRequest, email: str) -> bool:
    """Counts this request against the e-mail address and the client address."""
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    client = client_address(request) or "unknown"
    per_email = _count(f"password-reset:email:{address}")
    per_client = _count(f"password-reset:client:{client}")
    allowed = (
        per_email <= settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR
        and per_client <= settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR
    )
    if not allowed:
        log.warning("Password reset throttled for client %s", client)
    return allowed


class ThrottledPasswordResetForm(PasswordResetForm):
    def save(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        if request is not None and not password_reset_allowed(request, self.cleaned_data["email"]):
            return
        super().save(*args, request=request, **kwargs)
