"""Staff pages: search, mailboxes with their sheet history, sheet edits, registry."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.models import (
    Customer,
    Mailbox,
    ServerName,
    SettingsSheet,
    mailbox_settings_save,
)
from checks.findings import open_findings
from checks.fixes import code_labels, explanation, recommended_sheet, sheet_comparison
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.forms import SheetForm

SEARCH_LIMIT = 50


@staff_required
def staff_home(request):
    query = request.GET.get("q", "").strip()[:200]
    mailboxes = customers = overview = None
    more = False
    if not query:
        overview = {
            "customers": Customer.objects.count(),
            "mailboxes": Mailbox.objects.count(),
            "legacy": ServerName.objects.filter(status=ServerName.Status.LEGACY).count(),
        }
    else:
        found = list(
            Mailbox.objects.search(query, SEARCH_LIMIT).select_related("customer", "current_sheet")
        )
        mailboxes, more = found[:SEARCH_LIMIT], len(found) > SEARCH_LIMIT
        customers = Customer.objects.filter(slug__startswith=query.lower()) | (
            Customer.objects.filter(name__icontains=query)
        )
        customers = customers[:20]
    return render(
        request,
        "staff/home.html",
        {
            "query": query,
            "mailboxes": mailboxes,
            "more": more,
            "customers": customers,
            "limit": SEARCH_LIMIT,
            "overview": overview,
        },
    )


def _mailbox(code):
    return get_object_or_404(
        Mailbox.objects.select_related("customer__server", "current_sheet"), code=code
    )


@staff_required
def staff_mailbox(request, code):
    mailbox = _mailbox(code)
    history = SettingsSheet.objects.filter(mailbox=mailbox).select_related("created_by")
    labels = code_labels()
    findings = [
        (finding, labels[finding.code], explanation(finding))
        for finding in open_findings().filter(mailbox=mailbox).order_by("side", "code")
    ]
    return render(
        request,
        "staff/mailbox.html",
        {
            "mailbox": mailbox,
            "history": history,
            "findings": findings,
            "comparison": sheet_comparison(mailbox),
        },
    )


@staff_required
def staff_sheet_edit(request, code):
    mailbox = _mailbox(code)
    recommended = recommended_sheet(mailbox)
    if recommended is not None and recommended == mailbox.current_sheet.values:
        recommended = None
    if request.method == "POST" and "recommended" in request.POST and recommended is not None:
        # The second button fills the form; staff still review it and save.
        form = SheetForm.with_recommended(mailbox, request.POST, recommended)
        messages.info(
            request,
            _("The form now holds the recommended settings. Check them, then save."),
        )
        return render(
            request,
            "staff/sheet_edit.html",
            {"mailbox": mailbox, "form": form, "recommended": recommended},
        )
    form = SheetForm.for_mailbox(mailbox, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        sheet = mailbox_settings_save(
            mailbox,
            username=form.cleaned_data["username"],
            protocol=form.cleaned_data["protocol"],
            values=form.sheet_values(),
            source=SettingsSheet.Source.STAFF,
            by=request.user,
            note=form.cleaned_data["note"],
        )
        if sheet is None:
            messages.info(request, _("The sheet is unchanged: no new version was recorded."))
        else:
            audit_record(
                action=AuditEntry.Action.SHEET_EDIT,
                request=request,
                customer=mailbox.customer,
                target=mailbox.email,
                detail={"version": sheet.version},
            )
            messages.success(
                request, _("Saved as version %(version)d.") % {"version": sheet.version}
            )
        return redirect("staff_mailbox", code=mailbox.code)
    return render(
        request,
        "staff/sheet_edit.html",
        {"mailbox": mailbox, "form": form, "recommended": recommended},
    )


@staff_required
def staff_servers(request):
    servers = ServerName.objects.select_related("replaced_by")
    return render(request, "staff/servers.html", {"servers": servers})
