"""Customer pages: a person sees the customers they belong to, and nothing else.

Every read goes through `visible_to` / `get_visible_or_404`.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from accounts.models import Customer, Mailbox, SettingsSheet
from accounts.roles import is_staff_member
from accounts.scoping import get_visible_or_404

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
    mailboxes = (
        Mailbox.objects.visible_to(request.user)
        .filter(customer=customer)
        .select_related("current_sheet")
    )
    page = Paginator(mailboxes, MAILBOXES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "customer/home.html", {"customer": customer, "page": page})


@login_required
def customer_mailbox(request, slug, code):
    mailbox = get_visible_or_404(
        Mailbox.objects.filter(customer__slug=slug).select_related("customer", "current_sheet"),
        request.user,
        code=code,
    )
    history = SettingsSheet.objects.visible_to(request.user).filter(mailbox=mailbox)
    return render(
        request,
        "customer/mailbox.html",
        {"customer": mailbox.customer, "mailbox": mailbox, "history": history},
    )
