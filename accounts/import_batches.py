"""Imports uploaded through the staff pages: stored without the columns they do not use,
previewed by a worker, then applied by a worker; the page follows both with a progress bar.

Progress is kept in the cache (shared by the web and the workers), not on the batch: the
apply runs in one transaction, and what it writes to the batch row nobody sees until the end.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.csvfiles import ImportRefused, Problem, columns_keep, decode, header_names
from accounts.imports import CHANGED, CREATED, ImportPlan
from accounts.interruptions import DATABASE_LOST, Reason, interruption_record
from accounts.models import ImportBatch
from accounts.server_imports import (
    SERVER_COLUMNS,
    SERVER_OPTIONAL_COLUMNS,
    servers_import,
    servers_plan,
)
from accounts.sheet_imports import SHEET_COLUMNS, sheets_import, sheets_plan

log = logging.getLogger(__name__)

# By ImportBatch.Kind: check only (preview), and check then write (apply).
PLANNERS: dict[str, Callable[..., ImportPlan]] = {
    "servers": servers_plan,
    "sheets": sheets_plan,
}
IMPORTERS: dict[str, Callable[..., ImportPlan]] = {
    "servers": servers_import,
    "sheets": sheets_import,
}
# The columns each kind of file has, as the README documents them, and the example row
# of its downloadable template.
COLUMNS: dict[str, tuple[str, ...]] = {
    "servers": (*SERVER_COLUMNS, *SERVER_OPTIONAL_COLUMNS),
    "sheets": SHEET_COLUMNS,
}
EXAMPLES: dict[str, tuple[str, ...]] = {
    "servers": ("mail.hosting.example", "current", "", "", "192.0.2.10"),
    "sheets": (
        "aaabb",
        "株式会社エーエービービー",
        "test01@aaabb.co.jp",
        "test01",
        "pop3",
        "mail.hosting.example",
        "995",
        "ssl",
        "mail.hosting.example",
        "465",
        "ssl",
        "smtp-auth",
    ),
}
# A preview nobody applied is discarded after this long (the file holds customer data).
PREVIEW_LIFETIME = timedelta(days=1)
PROGRESS_SECONDS = 24 * 60 * 60


class ImportKindUnclear(Exception):
    """The header does not say which kind of file it is: the uploader has to."""


def import_template(kind: str) -> bytes:
    """An empty file of the kind with its header and one example row, as Excel opens it
    cleanly: UTF-8 with a byte order mark, lines ending in CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[kind])
    writer.writerow(EXAMPLES[kind])
    return "\ufeff".encode() + out.getvalue().encode()


def import_kind(text: str) -> str | None:
    """The kind whose columns the header names most; None when none or a tie."""
    names = set(header_names(text, {c for columns in COLUMNS.values() for c in columns}))
    matches = {kind: len(names & set(columns)) for kind, columns in COLUMNS.items()}
    best = max(matches.values())
    winners = [kind for kind, count in matches.items() if count == best]
    return winners[0] if best and len(winners) == 1 else None


def _problems_json(problems: list[Problem]) -> list[list[Any]]:
    return [[p.line, p.column, p.message] for p in problems]


def import_batch_create(*, kind: str | None, filename: str, content: bytes, by: Any) -> ImportBatch:
    """Store an upload with only the columns its import uses and have a worker preview it.

    What the file holds is read from its header; `kind` counts only when the header does
    not say (ImportKindUnclear when neither does). A file that cannot be read at all is
    kept as refused, without its content.
    """
    language = translation.get_language() or settings.LANGUAGE_CODE
    fields = {"filename": filename[:255], "uploaded_by": by, "language": language}
    try:
        text = decode(content)
        kind = import_kind(text) or kind
        if kind is None:
            raise ImportKindUnclear
        kept = columns_keep(text, COLUMNS[kind])
    except ImportRefused as refused:
        plan = ImportPlan(kind=kind or "", problems=refused.problems)
        return ImportBatch.objects.create(
            kind=kind or "",
            content=b"",
            status=ImportBatch.Status.INVALID,
            preview=plan.summary(),
            **fields,
        )
    batch = ImportBatch.objects.create(
        kind=kind,
        content=kept.content,
        status=ImportBatch.Status.CHECKING,
        preview={"ignored": kept.ignored, "read_problems": _problems_json(kept.problems)},
        queued_at=timezone.now(),
        **fields,
    )
    _work_send(batch.pk, batch.status)
    return batch


def _work_send(batch_id: int, status: str) -> None:
    """Have a worker do what the batch waits for, its preview or its apply, once the
    transaction commits."""
    from accounts.tasks import import_batch_apply_task, import_batch_preview_task

    checking = status == ImportBatch.Status.CHECKING
    task = import_batch_preview_task if checking else import_batch_apply_task
    transaction.on_commit(lambda: task.delay(batch_id))


def import_batch_progress(batch: ImportBatch) -> dict[str, int] | None:
    """How far the worker is with the batch's preview or apply: {"done": n, "total": m}."""
    return cache.get(f"import-progress:{batch.code}")


def _progress_recorder(batch: ImportBatch) -> Callable[[int, int], None]:
    key, done = f"import-progress:{batch.code}", 0

    def advance(step: int, total: int) -> None:
        nonlocal done
        done += step
        try:
            cache.set(key, {"done": min(done, total), "total": total}, PROGRESS_SECONDS)
        except Exception:  # the bar is for the eyes only: never fail an import over it
            log.warning("import progress not recorded", exc_info=True)

    cache.delete(key)
    return advance


def _interruption_record(batch_id: int, stopped: datetime | None, status: str) -> None:
    """The task tries again after the database connection was lost at `stopped`: note
    it on the batch, if it still waits for that work, before the work starts again (and
    the work counts as handed out now: beat's resume leaves it to this try)."""
    if stopped is not None:
        interruption_record(
            ImportBatch, batch_id, reason=Reason.DATABASE, at=stopped, count=1, status=status
        )
        ImportBatch.objects.filter(pk=batch_id, status=status).update(queued_at=timezone.now())


def import_batch_preview(batch_id: int, *, interrupted: datetime | None = None) -> None:
    """Check a stored upload against the database and record the preview. A file with
    problems or with nothing to change loses its content at once. `interrupted`: when
    an earlier try lost the database connection."""
    _interruption_record(batch_id, interrupted, ImportBatch.Status.CHECKING)
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.CHECKING).first()
    if batch is None:
        return
    with translation.override(batch.language):
        plan = PLANNERS[batch.kind](bytes(batch.content), progress=_progress_recorder(batch))
        read = [Problem(*p) for p in batch.preview.get("read_problems", [])]
        plan.problems = sorted([*read, *plan.problems], key=lambda p: p.line)
        preview = plan.summary() | {"ignored": batch.preview.get("ignored", [])}
    counts = plan.counts()
    if plan.problems:
        status = ImportBatch.Status.INVALID
    elif counts[CREATED] + counts[CHANGED] == 0:
        status = ImportBatch.Status.NOTHING
    else:
        status = ImportBatch.Status.PREVIEW
    emptied = {} if status == ImportBatch.Status.PREVIEW else {"content": b""}
    ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.CHECKING).update(
        status=status, preview=preview, **emptied
    )
    cache.delete(f"import-progress:{batch.code}")


def import_batch_discard(batch: ImportBatch) -> bool:
    """Drop a previewed file without applying it; False when it is not waiting to be applied."""
    return bool(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).update(
            status=ImportBatch.Status.DISCARDED, content=b""
        )
    )


def import_batch_queue(batch: ImportBatch) -> bool:
    """Hand a previewed batch to a worker, once; False when it is not waiting to be applied."""
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).update(
        status=ImportBatch.Status.QUEUED, queued_at=timezone.now()
    )
    if claimed:
        _work_send(batch.pk, ImportBatch.Status.QUEUED)
    return bool(claimed)


def import_batches_resume() -> int:
    """Beat's imports tick: hand out again the work of each batch still checking or
    queued IMPORT_RESEND_SECONDS after it was handed to a worker — its message lost
    with a restarted broker's queue, or a retry that could not be queued — unless a
    worker is applying it now (an apply holds its row locked). A message that was only
    slow does no harm when it comes: the work is done once. Returns how many."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_RESEND_SECONDS)
    waiting = ImportBatch.objects.filter(
        status__in=[ImportBatch.Status.CHECKING, ImportBatch.Status.QUEUED]
    ).filter(Q(queued_at__lt=stale) | Q(queued_at__isnull=True, created_at__lt=stale))
    if connection.features.has_select_for_update_skip_locked:
        waiting = waiting.select_for_update(skip_locked=True)
    with transaction.atomic():
        batches = list(waiting.only("pk", "status", "queued_at", "created_at"))
        for batch in batches:
            ImportBatch.objects.filter(pk=batch.pk).update(queued_at=now)
            interruption_record(
                ImportBatch,
                batch.pk,
                reason=Reason.STALLED,
                at=batch.queued_at or batch.created_at,
                resumed_at=now,
            )
            _work_send(batch.pk, batch.status)
    if batches:
        log.warning("import work handed out again: %s", ", ".join(str(b.pk) for b in batches))
    return len(batches)


def import_batch_apply(batch_id: int, *, interrupted: datetime | None = None) -> None:
    """Apply a queued batch and record the outcome on it, all in one transaction.

    A worker that dies half-way, or loses its database connection, leaves the batch
    queued and nothing written (the server rolls the transaction back), so the task
    starts again from the beginning; `interrupted` says when an earlier try lost the
    database connection. A change the database refuses fails the batch.
    """
    _interruption_record(batch_id, interrupted, ImportBatch.Status.QUEUED)
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
                plan = IMPORTERS[batch.kind](
                    bytes(batch.content), by=batch.uploaded_by, progress=_progress_recorder(batch)
                )
        except ImportRefused as refused:
            batch.status = ImportBatch.Status.FAILED
            with translation.override(batch.language):
                batch.result = {"problems": [str(p) for p in refused.problems[:500]]}
        except DATABASE_LOST:
            raise  # nothing is written; the task tries again once the database answers
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
    cache.delete(f"import-progress:{batch.code}")


def import_batches_purge() -> int:
    """Discard previews nobody applied within a day, and drop the file content of old
    uploads (it holds customer data); keep the records."""
    now = timezone.now()
    # A check still running after a day has died (tasks stop after minutes).
    discarded = ImportBatch.objects.filter(
        status__in=[ImportBatch.Status.PREVIEW, ImportBatch.Status.CHECKING],
        created_at__lt=now - PREVIEW_LIFETIME,
    ).update(status=ImportBatch.Status.DISCARDED, content=b"")
    emptied = (
        ImportBatch.objects.filter(created_at__lt=now - timedelta(days=settings.IMPORT_KEEP_DAYS))
        .exclude(content=b"")
        .exclude(status__in=[ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING])
        .update(content=b"")
    )
    return discarded + emptied
