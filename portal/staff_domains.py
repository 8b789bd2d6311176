"""Staff page of the customers' mail domains: what their DNS publishes and the
records still to add for self-configuring mail programs."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import MailDomain
from portal.access import staff_required
from portal.tasks import domains_dns_check


@staff_required
def domain_list(request):
    domains = MailDomain.objects.select_related("customer", "server")
    return render(request, "staff/domains.html", {"domains": domains})


@staff_required
@require_POST
def domains_check_now(request):
    transaction.on_commit(domains_dns_check.delay)
    messages.info(request, _("The DNS of every mail domain is being checked; reload in a moment."))
    return redirect("domain_list")
