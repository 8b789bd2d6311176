"""Celery tasks of the accounts app: thin wrappers that take ids."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task, shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts import import_batches
from accounts.interruptions import DATABASE_LOST

log = logging.getLogger(__name__)
RETRY_AT_MOST_EVERY = 60  # seconds between tries while the database is away


def _until_done(
    task: Task, work: Callable[..., None], batch_id: int, interrupted: str | None
) -> None:
    """Do the batch's work; when the database connection is lost (a restart, a failover)
    try again after 2, 4, 8 … up to RETRY_AT_MOST_EVERY seconds, for as long as it takes,
    telling each try since when the work has stopped."""
    stopped = parse_datetime(interrupted) if interrupted else None
    try:
        work(batch_id, interrupted=stopped)
    except DATABASE_LOST as error:
        stopped = stopped or timezone.now()
        delay = min(RETRY_AT_MOST_EVERY, 2 ** (task.request.retries + 1))
        log.warning(
            "import batch %s: the database connection was lost (%s); trying again in %s s",
            batch_id,
            error,
            delay,
        )
        raise task.retry(
            kwargs={"batch_id": batch_id, "interrupted": stopped.isoformat()},
            countdown=delay,
            exc=error,
        ) from error


@shared_task(name="accounts.tasks.import_batch_preview", bind=True, max_retries=None)
def import_batch_preview_task(self: Task, batch_id: int, interrupted: str | None = None) -> None:
    _until_done(self, import_batches.import_batch_preview, batch_id, interrupted)


@shared_task(name="accounts.tasks.import_batch_apply", bind=True, max_retries=None)
def import_batch_apply_task(self: Task, batch_id: int, interrupted: str | None = None) -> None:
    _until_done(self, import_batches.import_batch_apply, batch_id, interrupted)


@shared_task(name="accounts.tasks.import_batches_resume")
def import_batches_resume() -> int:
    return import_batches.import_batches_resume()


@shared_task(name="accounts.tasks.import_batches_purge")
def import_batches_purge() -> int:
    return import_batches.import_batches_purge()
