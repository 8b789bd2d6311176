"""WSGI entry point (gunicorn portal.wsgi).

Thunderbird's autoconfig requests are answered before Django's request
machinery: they are the bulk of the traffic (every mail program at every
start), need no session, user or CSRF, and read a cached per-domain answer; the
host check is the middleware's (portal/hosts.py).
Everything else goes to Django.
"""

import os
from urllib.parse import parse_qs

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_wsgi_application()

from portal.autoconfig.views import thunderbird_answer  # noqa: E402  (needs Django set up)
from portal.deployment import production_check  # noqa: E402
from portal.hosts import BARE, Route, host_route, raw_host  # noqa: E402

production_check()

AUTOCONFIG_PATHS = {"/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"}


def application(environ, start_response):
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") not in AUTOCONFIG_PATHS:
        return django_application(environ, start_response)
    route = host_route(raw_host(environ), environ["PATH_INFO"])
    if route is not Route.MAIL:
        return _bare(400 if route is Route.BAD_HOST else 404, start_response)
    address = parse_qs(environ.get("QUERY_STRING", "")).get("emailaddress", [""])[0]
    answer = thunderbird_answer(address)
    if answer is None:
        return _bare(404, start_response)
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Content-Length", str(len(answer))),
            ("Cache-Control", "max-age=3600"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [answer]


def _bare(status: int, start_response) -> list[bytes]:
    body, line = BARE[status]
    start_response(line, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
