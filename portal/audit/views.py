"""The audit log for staff admins: search by person, customer, action and date; CSV."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from checks.exports import csv_lines
from portal.access import staff_admin_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record

PER_PAGE = 100
CSV_COLUMNS = ("at", "person", "action", "customer", "target", "detail", "address")


class AuditFilterForm(forms.Form):
    person = forms.CharField(label=_("Person"), required=False, max_length=150)
    customer = forms.SlugField(label=_("Customer ID"), required=False, max_length=64)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", "—"), *AuditEntry.Action.choices]
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def entries(self) -> QuerySet[AuditEntry]:
        entries = AuditEntry.objects.select_related("customer")
        if not self.is_valid():
            return entries.none()
        data = self.cleaned_data
        if data["person"]:
            entries = entries.filter(actor_name=data["person"].strip())
        if data["customer"]:
            entries = entries.filter(customer__slug=data["customer"].lower())
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["since"]:
            entries = entries.filter(at__date__gte=data["since"])
        if data["until"]:
            entries = entries.filter(at__date__lte=data["until"])
        return entries


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@staff_admin_required
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = form.entries() if request.GET else AuditEntry.objects.select_related("customer")
    page = _page_number(request)
    start = (page - 1) * PER_PAGE
    rows = list(entries[start : start + PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form if request.GET else AuditFilterForm(),
            "rows": rows[:PER_PAGE],
            "page": page,
            "has_next": len(rows) > PER_PAGE,
            "query": query.urlencode(),
            "keep_days": settings.AUDIT_KEEP_DAYS,
        },
        status=400 if request.GET and not form.is_valid() else 200,
    )


def _csv_rows(entries: QuerySet[AuditEntry]):
    for entry in entries.iterator(chunk_size=2000):
        yield {
            "at": timezone.localtime(entry.at).isoformat(timespec="seconds"),
            "person": entry.actor_name,
            "action": entry.action,
            "customer": entry.customer.slug if entry.customer else "",
            "target": entry.target,
            "detail": json.dumps(entry.detail, ensure_ascii=False) if entry.detail else "",
            "address": entry.address or "",
        }


@staff_admin_required
def audit_export(request):
    form = AuditFilterForm(request.GET)
    entries = form.entries()
    audit_record(
        action=AuditEntry.Action.EXPORT, request=request, target="audit", detail=request.GET.dict()
    )
    response = StreamingHttpResponse(
        csv_lines(_csv_rows(entries), bom=True, columns=CSV_COLUMNS),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
