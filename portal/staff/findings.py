"""The findings dashboard: counts, the filtered list, and its download."""

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Customer
from checks.exports import (
    FILTERS,
    SORTS,
    FilterError,
    csv_lines,
    export_rows,
    findings_filter,
    sorted_findings,
)
from checks.findings import CODES, SEVERITY, findings_pending_since, pending_text
from checks.fixes import code_labels, explanation
from checks.models import Finding, FindingSummary
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record

PER_PAGE = 50
TOP = 15


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@staff_required
def findings_dashboard(request):
    params = {name: request.GET.get(name, "").strip()[:200] for name in FILTERS}
    sort = request.GET.get("sort", "email")
    error = ""
    try:
        findings = findings_filter(params)
    except FilterError as problem:
        # The page again with the message (escaped by the template), never the raw value as HTML.
        error, findings = str(problem), Finding.objects.none()
    page = _page_number(request)
    start = (page - 1) * PER_PAGE
    rows = list(
        sorted_findings(findings, sort).select_related("mailbox__customer")[
            start : start + PER_PAGE + 1
        ]
    )
    summary = FindingSummary.objects.first()
    labels = code_labels()
    counts = summary.counts if summary else {}
    return render(
        request,
        "staff/findings.html",
        {
            "params": params,
            "error": error,
            "filtered": any(params.values()),
            "sort": sort,
            "sorts": list(SORTS),
            "rows": [(f, labels[f.code], explanation(f)) for f in rows[:PER_PAGE]],
            "page": page,
            "has_next": len(rows) > PER_PAGE,
            "summary": summary,
            "total": counts.get("total", {}).get("", 0),
            "by_code": [
                (code, labels[code], SEVERITY[code], counts.get("code", {}).get(code, 0))
                for code in CODES
            ],
            "labels": labels,
            "by_severity": sorted(counts.get("severity", {}).items()),
            "by_customer": _top_customers(counts.get("customer", {})),
            "by_host": sorted(counts.get("host", {}).items(), key=lambda kv: -kv[1])[:TOP],
            "query": _without_page(request),
        },
        status=400 if error else 200,
    )


def _top_customers(counts: dict[str, int]) -> list[tuple[Customer, int]]:
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:TOP]
    customers = Customer.objects.in_bulk([int(pk) for pk, _ in top])
    return [(customers[int(pk)], n) for pk, n in top if int(pk) in customers]


def _without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_required
def findings_export(request):
    params = {name: request.GET.get(name, "").strip()[:200] for name in FILTERS}
    try:
        findings = findings_filter(params)
    except FilterError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    audit_record(
        action=AuditEntry.Action.EXPORT,
        request=request,
        target="findings",
        detail={k: v for k, v in params.items() if v},
    )
    pending = findings_pending_since()
    response = StreamingHttpResponse(
        csv_lines(export_rows(findings), bom=True, notice=pending_text(pending) if pending else ""),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="findings-{stamp}.csv"'
    return response
