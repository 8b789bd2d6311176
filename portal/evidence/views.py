"""`POST /ingest/maillog/`: a log shipper's batch, stored and answered at once; a worker
counts it (checks.evidence.ingest). The staff forecast of what a change would break."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from checks.evidence.ingest import batch_receive, token_source
from checks.evidence.summary import (
    endpoint_text,
    evidence_configured,
    forecast_rows,
    proposed_changes,
)
from checks.exports import csv_lines
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record


@csrf_exempt  # a token, not a browser session, authenticates the shipper
@require_POST
def maillog_ingest(request: HttpRequest) -> JsonResponse:
    source = token_source(request.headers.get("Authorization", ""))
    if source is None:
        response = JsonResponse({"error": "unauthorized"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="maillog"'
        return response
    limit = settings.LOG_INGEST_MAX_BYTES
    body = request.read(limit + 1)  # a body without a declared length is capped here
    if len(body) > limit:
        return JsonResponse({"error": "body too large", "limit": limit}, status=413)
    batch = batch_receive(source, body)
    return JsonResponse({"batch": batch.pk, "bytes": len(body)}, status=202)


maillog_ingest.upload_limit = lambda: settings.LOG_INGEST_MAX_BYTES


FORECAST_COLUMNS = (
    "customer",
    "email",
    "protocol",
    "endpoint",
    "tls_version",
    "last_seen",
    "count",
)
FORECAST_SHOWN = 500


def _forecast_csv_rows(rows):
    for row in rows:
        yield {
            "customer": row.mailbox.customer.slug,
            "email": row.mailbox.email,
            "protocol": row.protocol,
            "endpoint": endpoint_text(row),
            "tls_version": row.tls_version if row.tls else "none",
            "last_seen": timezone.localtime(row.last_seen).isoformat(timespec="minutes"),
            "count": str(row.count),
        }


@staff_required
def forecast(request):
    """For a proposed change on the servers (minimum TLS 1.2, close a port, retire a name):
    the mailboxes and customers seen in the window that it would break."""
    changes = proposed_changes()
    key = request.GET.get("change", "")[:300] or changes[0].key
    chosen = next((change for change in changes if change.key == key), None)
    if chosen is None:
        raise Http404
    rows = forecast_rows(key) or []
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditEntry.Action.EXPORT, request=request, target="forecast",
            detail={"change": key},
        )  # fmt: skip
        response = StreamingHttpResponse(
            csv_lines(_forecast_csv_rows(rows), bom=True, columns=FORECAST_COLUMNS),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="forecast.csv"'
        return response
    return render(
        request,
        "staff/forecast.html",
        {
            "changes": changes,
            "chosen": chosen,
            "rows": [(row, endpoint_text(row)) for row in rows[:FORECAST_SHOWN]],
            "mailbox_count": len(rows),
            "customer_count": len({row.mailbox.customer_id for row in rows}),
            "window_days": settings.LOG_EVIDENCE_WINDOW_DAYS,
            "configured": evidence_configured(),
        },
    )
