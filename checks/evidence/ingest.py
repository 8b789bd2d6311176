"""Log lines posted over HTTP by a shipper (Vector, Fluent Bit, rsyslog's omhttp): tokens,
receiving a batch (stored, answered at once) and counting it in a worker.

A batch is counted with `evidence_ingest`, whose every transaction skips sessions already
counted: a worker killed halfway leaves its finished transactions, and counting the batch
again (redelivery, or `batches_resume`) adds only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from checks.evidence.models import IngestBatch, IngestToken, LogSource
from checks.evidence.parse import MAX_LINE
from checks.evidence.recording import evidence_ingest
from checks.findings import findings_recompute


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(source: LogSource) -> tuple[IngestToken, str]:
    """A new token for the source: the row (hash only) and the token, to be shown once."""
    token = secrets.token_urlsafe(32)
    row = IngestToken.objects.create(source=source, token_hash=_hash(token), hint=token[:8])
    return row, token


def token_source(authorization: str) -> LogSource | None:
    """The source of an `Authorization: Bearer …` header's live token, else None."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = (
        IngestToken.objects.filter(token_hash=_hash(token.strip()), revoked_at__isnull=True)
        .select_related("source")
        .first()
    )
    return row.source if row else None


def batch_receive(source: LogSource, body: bytes) -> IngestBatch:
    """Store a posted body and hand it to a worker once stored."""
    from checks.tasks import evidence_batch

    batch = IngestBatch.objects.create(source=source, body=body)
    transaction.on_commit(lambda: evidence_batch.delay(batch.pk))
    return batch


def batch_lines(body: bytes) -> Iterator[bytes | str]:
    """The log lines of a body: newline-delimited lines, JSON objects with a `message`
    (one per line, or a JSON array of them). Anything else is passed on as a line, for
    the reader to count as garbage."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        try:
            items = json.loads(body)
        except ValueError:
            items = None
        if isinstance(items, list):
            for item in items:
                message = item.get("message") if isinstance(item, dict) else None
                yield message if isinstance(message, str) else b"\x00"
            return
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        if line.lstrip().startswith(b"{") and len(line) <= MAX_LINE * 2:
            try:
                item = json.loads(line)
            except ValueError:
                item = None
            message = item.get("message") if isinstance(item, dict) else None
            yield message if isinstance(message, str) else b"\x00"
        else:
            yield line


def batch_process(batch_id: int) -> None:
    """Count a stored batch (at most once per session, however often this runs), then
    drop its lines."""
    batch = IngestBatch.objects.filter(pk=batch_id, done_at__isnull=True).first()
    if batch is None:
        return
    # A shipper may cut between a Postfix connection's TLS line and its login.
    state_key = f"evidence:postfix-tls:{batch.source_id}"
    postfix_tls = cache.get(state_key) or {}
    counts, touched = evidence_ingest(
        batch_lines(bytes(batch.body)), source=batch.source, postfix_tls=postfix_tls
    )
    cache.set(state_key, postfix_tls, timeout=24 * 60 * 60)
    IngestBatch.objects.filter(pk=batch.pk).update(
        done_at=timezone.now(), body=b"", counts=dict(counts)
    )
    if touched:
        findings_recompute(sorted(touched), evidence_only=True)


def batches_resume() -> int:
    """Hand batches a worker has not finished within LOG_INGEST_RESUME_MINUTES to a worker
    again (a worker killed mid-batch, a lost message); returns how many."""
    from checks.tasks import evidence_batch

    cutoff = timezone.now() - timedelta(minutes=settings.LOG_INGEST_RESUME_MINUTES)
    stale = list(
        IngestBatch.objects.filter(done_at__isnull=True, received_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for pk in stale:
        evidence_batch.delay(pk)
    return len(stale)
