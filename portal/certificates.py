"""Which names the company's web server may get a certificate for.

Caddy obtains a certificate at the first TLS handshake for a name (on-demand TLS),
after asking `GET /tls/ask?domain=<name>`: any answer but 200 refuses. Yes only for
the `autoconfig.`/`autodiscover.` names of a known mail domain and for the portal's
own name, so nobody can make the company ask a certificate authority for any other
name (and run into its rate limits).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.models import MailDomain
from portal.hosts import MAIL_HOST_PREFIXES, bare_response, host_name


def certificate_allowed(name: str) -> bool:
    """Whether `name` (as Caddy sends it: lower case, no port) may have a certificate.
    Read from the database each time, so a domain added a moment ago is included."""
    if not name or ":" in name or "[" in name:
        return False
    host = host_name(name)
    if host is None:
        return False
    if host == (urlsplit(settings.PORTAL_URL).hostname or "").lower().rstrip("."):
        return True
    for prefix in MAIL_HOST_PREFIXES:
        if host.startswith(prefix) and len(host) > len(prefix):
            return MailDomain.objects.filter(domain__iexact=host[len(prefix) :]).exists()
    return False


@require_GET
def tls_ask(request: HttpRequest) -> HttpResponse:
    if not certificate_allowed(request.GET.get("domain", "")):
        return bare_response(404)
    return HttpResponse(b"OK", content_type="text/plain")
