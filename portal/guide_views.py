"""Guide pages: customers pick their mail program and follow the steps for their own
mailbox; staff open the same page for any mailbox and mail its link to the customer."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Confirmation, Mailbox
from accounts.scoping import get_visible_or_404
from checks.fixes import recommended_sheet
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.campaigns import lifecycle
from portal.guides.builder import guide_build
from portal.guides.catalog import CATALOG


def _customer_mailbox(request, slug, code):
    mailbox = get_visible_or_404(
        Mailbox.objects.filter(customer__slug=slug).select_related(
            "customer__server", "current_sheet"
        ),
        request.user,
        code=code,
    )
    if mailbox.current_sheet is None:
        raise Http404
    return mailbox


def client_choices() -> list[dict]:
    """The catalog in the active language, for the program picker."""
    lang = translation.get_language() or "ja"
    return [
        {"id": c.id, "name": c.name(lang), "platforms": c.platforms(lang), "legacy": c.legacy}
        for c in CATALOG.values()
    ]


def _guide(mailbox, client_id, request):
    if client_id not in CATALOG:
        raise Http404
    return guide_build(mailbox, client_id, translation.get_language() or "ja")


@login_required
def guide_choose(request, slug, code):
    mailbox = _customer_mailbox(request, slug, code)
    if request.method == "POST":
        client_id = request.POST.get("client", "")
        if client_id not in CATALOG:
            messages.error(request, _("Please choose one of the programs in the list."))
        else:
            Mailbox.objects.filter(pk=mailbox.pk).update(mail_client=client_id)
            return redirect("customer_guide", slug=slug, code=code, client=client_id)
    return render(
        request,
        "guides/choose.html",
        {"mailbox": mailbox, "customer": mailbox.customer, "clients": client_choices()},
    )


@login_required
def customer_guide(request, slug, code, client):
    mailbox = _customer_mailbox(request, slug, code)
    return render(
        request,
        "guides/guide.html",
        {
            "mailbox": mailbox,
            "customer": mailbox.customer,
            "guide": _guide(mailbox, client, request),
            "confirmed": Confirmation.objects.visible_to(request.user)
            .filter(mailbox=mailbox)
            .first(),
        },
    )


@login_required
@require_POST
def customer_confirm(request, slug, code):
    mailbox = _customer_mailbox(request, slug, code)
    Confirmation.objects.create(
        mailbox=mailbox, confirmed_by=request.user, mail_client=mailbox.mail_client
    )
    lifecycle.mailbox_confirmed(mailbox.pk)
    audit_record(
        action=AuditEntry.Action.CUSTOMER_CONFIRM,
        request=request,
        customer=mailbox.customer,
        target=mailbox.email,
        detail={"client": mailbox.mail_client},
    )
    messages.success(request, _("Thank you. We have noted that you changed your settings."))
    if mailbox.mail_client in CATALOG:
        return redirect("customer_guide", slug=slug, code=code, client=mailbox.mail_client)
    return redirect("customer_mailbox", slug=slug, code=code)


@login_required
def customer_sheet(request, slug, code):
    mailbox = _customer_mailbox(request, slug, code)
    return render(request, "guides/sheet.html", _sheet_context(request, mailbox))


def _sheet_context(request, mailbox):
    settings_ = {
        "username": mailbox.username,
        "protocol": mailbox.protocol,
        **recommended_sheet(mailbox).as_dict(),
    }
    guide_url = request.build_absolute_uri(
        reverse("guide_choose", kwargs={"slug": mailbox.customer.slug, "code": mailbox.code})
    )
    return {
        "mailbox": mailbox,
        "customer": mailbox.customer,
        "settings": settings_,
        "guide_url": guide_url,
    }


def _staff_mailbox(code):
    mailbox = get_object_or_404(
        Mailbox.objects.select_related("customer__server", "current_sheet"), code=code
    )
    if mailbox.current_sheet is None:
        raise Http404
    return mailbox


@staff_required
def staff_guide(request, code, client):
    mailbox = _staff_mailbox(code)
    return render(
        request,
        "guides/guide.html",
        {
            "mailbox": mailbox,
            "customer": mailbox.customer,
            "guide": _guide(mailbox, client, request),
            "staff": True,
            "clients": client_choices(),
            "confirmed": mailbox.confirmations.first(),
        },
    )


@staff_required
def staff_sheet(request, code):
    return render(request, "guides/sheet.html", _sheet_context(request, _staff_mailbox(code)))


def guide_message(mailbox: Mailbox, client: str) -> tuple[str, str]:
    """(subject, body) of the mail that sends a customer one mailbox's guide for one
    program, in the customer's language, with a signed link that needs no login."""
    lang = lifecycle.customer_language(mailbox.customer)
    with translation.override(lang):
        values = {
            "customer_name": mailbox.customer.name,
            "email": mailbox.email,
            "program": CATALOG[client].name(lang),
            "valid_until": lifecycle.date_text(
                timezone.localdate() + timedelta(days=settings.GUIDE_LINK_DAYS), lang
            ),
            "mailboxes": lifecycle.mailbox_lines(
                [mailbox], lang, lambda m: lifecycle.guide_link_url(m, client)
            ),
        }
        return lifecycle.message_fill(
            _("How to set up {email} in {program}"),
            _(
                "Dear {customer_name},\n\n"
                "Here are the steps to set up {email} in {program}. The link below opens "
                "them for this mailbox without logging in to the portal; it works until "
                "{valid_until}.\n\n"
                "{mailboxes}\n\n"
                "We never send passwords by e-mail. If you have any questions, please "
                "contact us."
            ),
            values,
        )


@staff_required
@require_POST
def staff_guide_send(request, code, client):
    mailbox = _staff_mailbox(code)
    if client not in CATALOG:
        raise Http404
    recipients = mailbox.customer.contact_email_list
    if not recipients:
        messages.error(request, _("This customer has no contact address to send to."))
        return redirect("staff_guide", code=code, client=client)
    subject, body = guide_message(mailbox, client)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    audit_record(
        action=AuditEntry.Action.GUIDE_LINK_SENT,
        request=request,
        customer=mailbox.customer,
        target=mailbox.email,
        detail={"client": client, "to": recipients},
    )
    messages.success(
        request, _("The link was sent to %(addresses)s.") % {"addresses": ", ".join(recipients)}
    )
    return redirect("staff_guide", code=code, client=client)
