"""The endpoints mail programs ask for their settings, and the Apple profile download.

The autoconfig and Autodiscover endpoints are public by design (mail programs ask
before anyone logs in): they answer per domain, never per mailbox, and an
unknown domain or a malformed address gets the same bare 404.
"""

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import MailDomain
from accounts.sheets import SheetValueError, normalize_email
from checks.fixes import recommended_sheet
from portal.autoconfig import (
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
    domain, email = _domain_for(request.GET.get("emailaddress", ""))
    return HttpResponse(thunderbird_xml(domain, domain_settings(domain, email)), content_type=XML)


@csrf_exempt
@require_POST
def autodiscover(request):
    try:
        address = autodiscover_email(request.body)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error))
    domain, email = _domain_for(address)
    return HttpResponse(autodiscover_xml(domain_settings(domain, email)), content_type=XML)


def customer_profile(request, slug, code):
    """The mailbox's own recommended settings as an Apple configuration profile."""
    mailbox = _customer_mailbox(request, slug, code)
    values = recommended_sheet(mailbox)
    auto = mailbox_settings(mailbox.email, mailbox.username, mailbox.protocol, values)
    data = profile_sign(mobileconfig(auto, name=mailbox.email))
    response = HttpResponse(data, content_type="application/x-apple-aspen-config")
    response["Content-Disposition"] = f'attachment; filename="{mailbox.email}.mobileconfig"'
    return response
