"""Staff pages of a customer: its details and contacts, its mail domains, and who
may log in (invitations, removing access) — without the Django admin."""

from smtplib import SMTPException

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Customer, MailDomain
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.forms import CustomerForm, InvitationForm, MailDomainForm
from portal.invitations import lifecycle as invitations
from portal.invitations.models import Invitation

CUSTOMER_FIELDS = ("name", "language", "contact_emails", "server")
DOMAIN_FIELDS = ("domain", "server", "protocol", "login", "login_format")


def _values(instance, names) -> dict[str, str]:
    return {name: str(getattr(instance, name) or "") for name in names}


def _changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {name: [before[name], after[name]] for name in after if before[name] != after[name]}


@staff_required
def staff_customer(request, slug):
    customer = get_object_or_404(Customer.objects.select_related("server"), slug=slug)
    mailboxes = customer.mailboxes.select_related("current_sheet")
    page = Paginator(mailboxes, 50).get_page(request.GET.get("page"))
    members = customer.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "staff/customer.html",
        {
            "customer": customer,
            "page": page,
            "members": members,
            "domains": customer.domains.select_related("server"),
            "invitations": customer.invitations.filter(accepted_at__isnull=True).select_related(
                "user"
            ),
        },
    )


@staff_required
def customer_edit(request, slug=None):
    customer = get_object_or_404(Customer, slug=slug) if slug else None
    before = _values(customer, CUSTOMER_FIELDS) if customer else None
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        customer = form.save()
        after = _values(customer, CUSTOMER_FIELDS)
        if before is None:
            audit_record(
                action=AuditEntry.Action.CUSTOMER_ADD,
                request=request,
                customer=customer,
                target=customer.slug,
                detail=after,
            )
            messages.success(request, _("The customer was added."))
        elif changes := _changes(before, after):
            audit_record(
                action=AuditEntry.Action.CUSTOMER_CHANGE,
                request=request,
                customer=customer,
                target=customer.slug,
                detail=changes,
            )
            messages.success(request, _("The changes were saved."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("staff_customer", slug=customer.slug)
    return render(request, "staff/customer_edit.html", {"customer": customer, "form": form})


@staff_required
def mail_domain_edit(request, slug, domain=None):
    customer = get_object_or_404(Customer, slug=slug)
    instance = get_object_or_404(MailDomain, customer=customer, domain=domain) if domain else None
    before = _values(instance, DOMAIN_FIELDS) if instance else None
    form = MailDomainForm(request.POST or None, instance=instance or MailDomain(customer=customer))
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        after = _values(saved, DOMAIN_FIELDS)
        detail = {"how": "added", **after} if before is None else _changes(before, after)
        if detail:
            if before is not None:
                detail = {"how": "changed", **detail}
            audit_record(
                action=AuditEntry.Action.MAIL_DOMAIN_CHANGE,
                request=request,
                customer=customer,
                target=saved.domain,
                detail=detail,
            )
        messages.success(request, _("The mail domain %(domain)s was saved.") % {"domain": saved})
        return redirect("staff_customer", slug=customer.slug)
    return render(
        request,
        "staff/mail_domain_edit.html",
        {"customer": customer, "domain": instance, "form": form},
    )


@staff_required
@require_POST
def mail_domain_delete(request, slug, domain):
    customer = get_object_or_404(Customer, slug=slug)
    mail_domain = get_object_or_404(MailDomain, customer=customer, domain=domain)
    mail_domain.delete()
    audit_record(
        action=AuditEntry.Action.MAIL_DOMAIN_CHANGE,
        request=request,
        customer=customer,
        target=domain,
        detail={"how": "deleted"},
    )
    messages.success(request, _("The mail domain %(domain)s was removed.") % {"domain": domain})
    return redirect("staff_customer", slug=customer.slug)


@staff_required
@require_POST
def member_remove(request, slug, username):
    """The person no longer sees this customer's pages (their login stays, with any
    other customers it belongs to)."""
    customer = get_object_or_404(Customer, slug=slug)
    membership = get_object_or_404(
        customer.memberships.select_related("user"), user__username=username
    )
    membership.delete()
    audit_record(
        action=AuditEntry.Action.MEMBER_REMOVE,
        request=request,
        customer=customer,
        target=username,
    )
    messages.success(
        request, _("%(name)s can no longer see this customer's pages.") % {"name": username}
    )
    return redirect("staff_customer", slug=customer.slug)


def _invitation_mail(request, invitation: Invitation, how: str) -> None:
    """Mail the invitation and record it, inside the caller's transaction: if the mail
    server refuses, nothing is kept."""
    invitations.invitation_send(invitation)
    audit_record(
        action=AuditEntry.Action.INVITATION_SEND,
        request=request,
        customer=invitation.customer,
        target=invitation.email,
        detail={"how": how, "login": invitation.user.get_username()},
    )


MAIL_FAILED = (SMTPException, OSError)


def _invite(request, customer: Customer, form: InvitationForm) -> str:
    """Invite the person the form names (a new login, or access for one that exists
    already) and mail them; returns what to tell staff. Call inside a transaction: if
    the mail server refuses, the caller rolls everything back."""
    if (login := form.existing) is not None:
        invitations.member_add(customer, login)
        audit_record(
            action=AuditEntry.Action.INVITATION_SEND,
            request=request,
            customer=customer,
            target=login.email,
            detail={"how": "existing login added", "login": login.get_username()},
        )
        return _(
            "%(name)s already had a login and can now see this customer's pages; "
            "a notice was mailed to %(address)s."
        ) % {"name": login.get_username(), "address": login.email}
    invitation = invitations.invitation_create(
        customer,
        email=form.cleaned_data["email"],
        username=form.cleaned_data["username"],
        by=request.user,
    )
    _invitation_mail(request, invitation, "sent")
    return _("The invitation was sent to %(address)s.") % {"address": invitation.email}


@staff_required
def invitation_new(request, slug):
    customer = get_object_or_404(Customer, slug=slug)
    form = InvitationForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                done = _invite(request, customer, form)
        except MAIL_FAILED as error:
            form.add_error(
                None,
                _("The invitation could not be mailed (%(error)s); nothing was saved.")
                % {"error": error.__class__.__name__},
            )
        else:
            messages.success(request, done)
            return redirect("staff_customer", slug=customer.slug)
    return render(
        request,
        "staff/invitation_new.html",
        {"customer": customer, "form": form, "invitation_days": settings.INVITATION_DAYS},
    )


@staff_required
@require_POST
def invitation_resend(request, slug, code):
    customer = get_object_or_404(Customer, slug=slug)
    invitation = get_object_or_404(
        Invitation.objects.select_related("user", "customer"),
        customer=customer,
        code=code,
        accepted_at__isnull=True,
    )
    try:
        with transaction.atomic():
            invitations.invitation_renew(invitation)
            _invitation_mail(request, invitation, "sent again")
    except MAIL_FAILED as error:
        messages.error(
            request,
            _("The invitation could not be mailed (%(error)s); nothing was saved.")
            % {"error": error.__class__.__name__},
        )
    else:
        messages.success(
            request,
            _("The invitation was sent to %(address)s.") % {"address": invitation.email},
        )
    return redirect("staff_customer", slug=customer.slug)
