"""Customer pages: a person sees the customers they belong to, and nothing else.

Every read goes through `visible_to` / `get_visible_or_404`.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import translation

from accounts.models import Customer, Mailbox, SettingsSheet
from accounts.roles import is_staff_member
from accounts.scoping import get_visible_or_404
from checks.evidence.summary import mailbox_connections
from portal.mailbox_states import (
    State,
    mailbox_statuses,
    problem_sentences,
    states_summary,
    with_states,
)

MAILBOXES_PER_PAGE = 50


@login_required
def home(request):
    customers = list(Customer.objects.visible_to(request.user))
    if is_staff_member(request.user) and not customers:
        return redirect("staff_home")
    if len(customers) == 1:
        return redirect("customer_home", slug=customers[0].slug)
    return render(request, "customer/choose.html", {"customers": customers})


@login_required
def customer_home(request, slug):
    customer = get_visible_or_404(Customer, request.user, slug=slug)
    mailboxes = Mailbox.objects.visible_to(request.user).filter(customer=customer)
    listed = with_states(mailboxes).select_related("current_sheet", "customer__server")
    page = Paginator(listed.order_by("state_order", "email"), MAILBOXES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "customer/home.html",
        {
            "customer": customer,
            "page": page,
            "statuses": mailbox_statuses(list(page.object_list), _language()),
            "summary": states_summary(mailboxes),
        },
    )


@login_required
def customer_mailbox(request, slug, code):
    mailbox = get_visible_or_404(
        with_states(Mailbox.objects.filter(customer__slug=slug)).select_related(
            "customer__server", "current_sheet"
        ),
        request.user,
        code=code,
    )
    status = mailbox_statuses([mailbox], _language())[0]
    connections = mailbox_connections(mailbox.pk)
    history = SettingsSheet.objects.visible_to(request.user).filter(mailbox=mailbox)
    return render(
        request,
        "customer/mailbox.html",
        {
            "customer": mailbox.customer,
            "mailbox": mailbox,
            "status": status,
            "explanations": problem_sentences(mailbox) if status.changes_pending else [],
            "history": history,
            "connections": connections,
            # Nothing to change on record, yet the servers still see the mail program log
            # in without encryption: the page says so instead of "done" (the mailbox's
            # state in lists stays the sheet's: counting the logs there doubled the pages'
            # time, bench/README.md).
            "program_behind": status.state in (State.DONE, State.FINE)
            and any(not c.secure and not c.secure_since for c in connections),
        },
    )


def _language() -> str:
    return translation.get_language() or "ja"
