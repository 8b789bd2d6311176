"""What production must have before it serves anyone. Checked when the web server
(portal/wsgi.py: gunicorn, runserver) or a Celery worker starts, not by every
manage.py command: migrations and collectstatic run in build steps without it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


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


def production_check() -> None:
    """Refuse to serve in production (DEBUG off) with settings that break customers' links."""
    if settings.DEBUG:
        return
    if problem := portal_url_problem(settings.PORTAL_URL):
        raise ImproperlyConfigured(problem)
