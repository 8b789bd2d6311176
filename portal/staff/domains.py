"""Staff page of the customers' mail domains: what their DNS publishes and the
records still to add for self-configuring mail programs."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import MailDomain
from portal.access import staff_required
from portal.autoconfig.dns import DNS_CHECK_JOB
from portal.deployment import portal_url_problem
from portal.progress import job_progress, job_requested
from portal.tasks import domains_dns_check


@staff_required
def domain_list(request):
    domains = list(MailDomain.objects.select_related("customer", "server"))
    # Advice to point customers' DNS at an address they cannot reach would be worse than none.
    unreachable = portal_url_problem(settings.PORTAL_URL) is not None
    checked = [d for d in domains if d.dns_checked_at]
    return render(
        request,
        "staff/domains.html",
        {
            "domains": domains,
            "portal_url": settings.PORTAL_URL,
            "portal_unreachable": unreachable,
            "progress": job_progress(DNS_CHECK_JOB),
            "checked": len(checked),
            "to_fix": sum(1 for d in checked if not all(c["ok"] for c in d.dns_checks)),
            "last_checked": max((d.dns_checked_at for d in checked), default=None),
        },
    )


@staff_required
@require_POST
def domains_check_now(request):
    job_requested(DNS_CHECK_JOB)
    transaction.on_commit(domains_dns_check.delay)
    messages.info(
        request,
        _(
            "The DNS of every mail domain is being checked; this page shows the result when it is done."
        ),
    )
    return redirect("domain_list")
