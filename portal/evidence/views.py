"""`POST /ingest/maillog/`: a log shipper's batch, stored and answered at once; a worker
counts it (checks.evidence.ingest)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from checks.evidence.ingest import batch_receive, token_source


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
