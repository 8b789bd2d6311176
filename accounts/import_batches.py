"""Imports uploaded through the staff pages: stored, previewed, then applied by a worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.csvfiles import ImportRefused
from accounts.imports import ImportPlan
from accounts.models import ImportBatch
from accounts.server_imports import servers_import, servers_plan
from accounts.sheet_imports import sheets_import, sheets_plan

log = logging.getLogger(__name__)

# By ImportBatch.Kind: check only (preview), and check then write (apply).
PLANNERS: dict[str, Callable[[bytes], ImportPlan]] = {
    "servers": servers_plan,
    "sheets": sheets_plan,
}
IMPORTERS: dict[str, Callable[..., ImportPlan]] = {
    "servers": servers_import,
    "sheets": sheets_import,
}


def import_batch_create(*, kind: str, filename: str, content: bytes, by: Any) -> ImportBatch:
    """Store the upload with its preview (in the current language); a file with problems
    is kept as refused."""
    plan = PLANNERS[kind](content)
    status = ImportBatch.Status.INVALID if plan.problems else ImportBatch.Status.PREVIEW
    return ImportBatch.objects.create(
        kind=kind,
        filename=filename[:255],
        content=content,
        uploaded_by=by,
        status=status,
        preview=plan.summary(),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def import_batch_queue(batch: ImportBatch) -> bool:
    """Hand a previewed batch to a worker, once; False when it is not waiting to be applied."""
    from accounts.tasks import import_batch_apply_task

    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).update(
        status=ImportBatch.Status.QUEUED
    )
    if claimed:
        transaction.on_commit(lambda: import_batch_apply_task.delay(batch.pk))
    return bool(claimed)


def import_batch_apply(batch_id: int) -> None:
    """Apply a queued batch and record the outcome on it, all in one transaction.

    A worker that dies half-way leaves the batch queued and nothing written, so
    the redelivered task starts again from the beginning.
    """
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update()
            .filter(pk=batch_id, status=ImportBatch.Status.QUEUED)
            .first()
        )
        if batch is None:
            return
        try:
            with translation.override(batch.language):
                plan = IMPORTERS[batch.kind](bytes(batch.content), by=batch.uploaded_by)
        except ImportRefused as refused:
            batch.status = ImportBatch.Status.FAILED
            with translation.override(batch.language):
                batch.result = {"problems": [str(p) for p in refused.problems[:500]]}
        except DatabaseError as error:
            log.exception("import batch %s failed", batch_id)
            batch.status = ImportBatch.Status.FAILED
            with translation.override(batch.language):
                message = _("the database refused the change (%(error)s); nothing was written")
            batch.result = {"problems": [message % {"error": type(error).__name__}]}
        else:
            with translation.override(batch.language):
                batch.status, batch.result = ImportBatch.Status.APPLIED, plan.summary()
        batch.applied_at = timezone.now()
        batch.save(update_fields=["status", "result", "applied_at"])


def import_batches_purge() -> int:
    """Drop the file content of old uploads (it holds customer data); keep the record."""
    cutoff = timezone.now() - timedelta(days=settings.IMPORT_KEEP_DAYS)
    return (
        ImportBatch.objects.filter(created_at__lt=cutoff)
        .exclude(content=b"")
        .exclude(status=ImportBatch.Status.QUEUED)
        .update(content=b"")
    )
