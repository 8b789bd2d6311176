"""The endpoints mail programs ask for their settings, and the Apple profile download.

The autoconfig and Autodiscover endpoints are public by design (mail programs ask
before anyone logs in): they answer per domain, never per mailbox, and an
unknown domain or a malformed address gets the same bare 404.
"""

import time

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import MailDomain
from accounts.sheets import SheetValueError, normalize_email
from checks.fixes import recommended_sheet
from portal.autoconfig.answers import (
    BadRequest,
    autodiscover_email,
    autodiscover_xml,
    domain_settings,
    mailbox_settings,
    mobileconfig,
    profile_sign,
    thunderbird_xml,
)
from portal.guide_views import _customer_mailbox

XML = "application/xml; charset=utf-8"


def _domain_for(address: str) -> tuple[MailDomain, str]:
    try:
        email = normalize_email(address)
    except SheetValueError:
        raise Http404 from None
    domain = (
        MailDomain.objects.select_related("server").filter(domain=email.rpartition("@")[2]).first()
    )
    if domain is None:
        raise Http404
    return domain, email


@require_GET
@cache_control(max_age=3600)
def thunderbird(request):
    answer = thunderbird_answer(request.GET.get("emailaddress", ""))
    if answer is None:
        raise Http404
    return HttpResponse(answer, content_type=XML)


_answers: dict[str, tuple[float, bytes | None]] = {}


def thunderbird_answer(address: str) -> bytes | None:
    """The clientConfig for an address, or None (unknown domain, malformed address).

    Kept AUTOCONFIG_CACHE_SECONDS per domain — per address only for a fixed login
    form, the one case where the answer names the address — because mail programs
    ask often and the answer changes rarely. Serves both the Django view and the
    WSGI fast path (portal/wsgi.py).
    """
    try:
        email = normalize_email(address)
    except SheetValueError:
        return None
    domain_name = email.rpartition("@")[2]
    now = time.monotonic()
    for key in (domain_name, email):
        cached = _answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
    domain = MailDomain.objects.select_related("server").filter(domain=domain_name).first()
    answer = thunderbird_xml(domain, domain_settings(domain, email)) if domain else None
    fixed = domain is not None and domain.login == MailDomain.Login.FIXED
    if len(_answers) > 10_000:
        _answers.clear()
    _answers[email if fixed else domain_name] = (now + settings.AUTOCONFIG_CACHE_SECONDS, answer)
    return answer


@csrf_exempt
@require_POST
def autodiscover(request):
    try:
        address = autodiscover_email(request.body)
    except BadRequest as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    domain, email = _domain_for(address)
    return HttpResponse(autodiscover_xml(domain_settings(domain, email)), content_type=XML)


def customer_profile(request, slug, code):
    """The mailbox's own recommended settings as an Apple configuration profile."""
    mailbox = _customer_mailbox(request, slug, code)
    values = recommended_sheet(mailbox)
    auto = mailbox_settings(mailbox.email, mailbox.username, mailbox.protocol, values)
    data = profile_sign(mobileconfig(auto, name=mailbox.email))
    response = HttpResponse(data, content_type="application/x-apple-aspen-config")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{mailbox.email}.mobileconfig"
    )
    return response
