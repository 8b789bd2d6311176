"""Which host names a request may carry, and what it reaches on each.

The portal's own pages answer only on its own hosts (ALLOWED_HOSTS, which includes
PORTAL_URL's). Mail programs ask for their settings on the customer's domain —
`autoconfig.<d>`, `autodiscover.<d>` or `<d>` itself — so the autoconfig and
Autodiscover paths answer there for every known mail domain, and on the portal's
hosts; on any other host they are a bare 404. A Host header that is not a host name
at all is a bare 400. One function decides (`host_route`), for the middleware below
(first in MIDDLEWARE) and for the WSGI fast path (portal/wsgi.py) alike.

The machines' paths (mail programs, Caddy's certificate question, health and metrics)
are answered by the middleware itself, before sessions, CSRF or locale: they need
none of it and must answer on hosts Django's ALLOWED_HOSTS does not list.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve

MAIL_PATHS = frozenset(
    {
        "/mail/config-v1.1.xml",
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
    }
)
WELL_KNOWN_AUTOCONFIG = "/.well-known/autoconfig/"
# Asked by machines on whatever name they reach the web server by (Caddy asks gunicorn on
# loopback, a load balancer a machine's address): no page of the portal, no host check.
SERVICE_PATHS = frozenset({"/healthz", "/metrics", "/tls/ask"})
MAIL_HOST_PREFIXES = ("autoconfig.", "autodiscover.")
MAX_HOST_LENGTH = 253


class Route(enum.Enum):
    PORTAL = "portal"  # the portal's pages, on its own host
    MAIL = "mail"  # a mail program's question, on a host it may be asked on
    SERVICE = "service"  # health, metrics, certificate question
    NOT_FOUND = "not-found"  # a mail program's path on a host that serves no mail domain
    BAD_HOST = "bad-host"  # not a host name, too long, or a foreign host for a page


def is_mail_path(path: str) -> bool:
    return path in MAIL_PATHS or path.startswith(WELL_KNOWN_AUTOCONFIG)


def host_name(raw: str) -> str | None:
    """The host name of a Host header (lower case, no port, no trailing dot), or None
    when it is not a host name or an address."""
    if not raw or len(raw) > MAX_HOST_LENGTH + len(":65535"):
        return None
    domain, _port = split_domain_port(raw)
    if not domain or len(domain) > MAX_HOST_LENGTH:
        return None
    return domain


def _idna(name: str) -> str:
    try:
        return name.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return name.rstrip(".").lower()


_known: tuple[float, frozenset[str]] = (0.0, frozenset())


def known_mail_domains() -> frozenset[str]:
    """Every mail domain's name in ASCII (punycode), read at most once per
    AUTOCONFIG_CACHE_SECONDS per process: one query, however many hosts ask."""
    global _known
    expires, names = _known
    now = time.monotonic()
    if expires > now:
        return names
    from accounts.models import MailDomain

    names = frozenset(_idna(d) for d in MailDomain.objects.values_list("domain", flat=True))
    _known = (now + settings.AUTOCONFIG_CACHE_SECONDS, names)
    return names


@receiver(post_save, sender="accounts.MailDomain")
@receiver(post_delete, sender="accounts.MailDomain")
def _forget_known_mail_domains(**kwargs: object) -> None:
    # This process at once; others within AUTOCONFIG_CACHE_SECONDS.
    global _known
    _known = (0.0, frozenset())


def mail_domain_of_host(host: str) -> str | None:
    """The known mail domain `host` serves mail programs for: `<d>`,
    `autoconfig.<d>` or `autodiscover.<d>`."""
    known = known_mail_domains()
    if host in known:
        return host
    for prefix in MAIL_HOST_PREFIXES:
        if host.startswith(prefix) and host[len(prefix) :] in known:
            return host[len(prefix) :]
    return None


def is_portal_host(host: str) -> bool:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django's own check does
    return validate_host(host, allowed)


def host_route(raw_host: str, path: str) -> Route:
    """Where a request for `path` with Host `raw_host` goes."""
    host = host_name(raw_host)
    if host is None:
        return Route.BAD_HOST
    if is_mail_path(path):
        if is_portal_host(host) or mail_domain_of_host(host):
            return Route.MAIL
        return Route.NOT_FOUND
    if path in SERVICE_PATHS:
        return Route.SERVICE
    return Route.PORTAL if is_portal_host(host) else Route.BAD_HOST


def raw_host(meta: dict) -> str:
    """The Host header, or the server's name and port without one (as Django reads it)."""
    if host := meta.get("HTTP_HOST"):
        return host
    server, port = meta.get("SERVER_NAME", ""), str(meta.get("SERVER_PORT", ""))
    return f"{server}:{port}" if port and port not in ("80", "443") else server


BARE = {
    400: (b"Bad Request", "400 Bad Request"),
    404: (b"Not Found", "404 Not Found"),
}


def bare_response(status: int) -> HttpResponse:
    """The same few bytes whoever asks: nothing about the portal, nothing from the request."""
    return HttpResponse(BARE[status][0], status=status, content_type="text/plain")


class HostRoutingMiddleware:
    """First in MIDDLEWARE: refuses foreign and malformed hosts, and answers the
    machines' paths itself (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        route = host_route(raw_host(request.META), request.path_info)
        if route is Route.PORTAL:
            return self.get_response(request)
        if route is Route.BAD_HOST:
            return bare_response(400)
        if route is Route.NOT_FOUND:
            return bare_response(404)
        try:
            match = resolve(request.path_info)
            response = match.func(request, *match.args, **match.kwargs)
        except (Resolver404, Http404):
            return bare_response(404)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
