"""What production must have before it serves anyone. Checked when the web server
(portal/wsgi.py: gunicorn, runserver) or a Celery worker starts, not by every
manage.py command: migrations and collectstatic run in build steps without it.

With DEBUG off the portal does not start with a PORTAL_URL customers cannot reach, a
weak SECRET_KEY (Django's own measure: at least 50 characters, 5 different ones, not
a generated insecure one) or an e-mail backend that sends nothing (the console
default): password resets and campaign mail would silently go nowhere."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

MAIL_GOES_NOWHERE = {
    "django.core.mail.backends.console.EmailBackend": "consolemail://",
    "django.core.mail.backends.dummy.EmailBackend": "dummymail://",
}


def portal_url_problem(url: str) -> str | None:
    """Why mailed links to `url` would not reach the portal from a customer's computer."""
    if not url:
        return "PORTAL_URL must be set when DEBUG is off: the address customers reach the portal at, e.g. https://portal.example.jp (every mailed link and the DNS advice use it)."
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host:
        return f"PORTAL_URL={url} is not an http(s) address such as https://portal.example.jp."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    else:
        local = address.is_loopback or address.is_unspecified
    if local:
        return f"PORTAL_URL={url} names this machine itself: links mailed to customers would be dead. Set it to the address customers reach the portal at, e.g. https://portal.example.jp."
    return None


def secret_key_problem(key: str) -> str | None:
    if (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        return (
            f"SECRET_KEY is too weak for production: use at least {SECRET_KEY_MIN_LENGTH} "
            "random characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    return None


def email_problem(backend: str) -> str | None:
    if backend in MAIL_GOES_NOWHERE:
        return (
            f"EMAIL_URL is {MAIL_GOES_NOWHERE[backend]} (the default), which sends no mail: "
            "set EMAIL_URL to the company's SMTP server, e.g. smtp+tls://user:password@smtp.example.jp:587."
        )
    return None


def production_check() -> None:
    """Refuse to serve in production (DEBUG off) with unsafe or broken settings."""
    if settings.DEBUG:
        return
    for problem in (
        portal_url_problem(settings.PORTAL_URL),
        secret_key_problem(settings.SECRET_KEY),
        email_problem(settings.EMAIL_BACKEND),
    ):
        if problem:
            raise ImproperlyConfigured(problem)
