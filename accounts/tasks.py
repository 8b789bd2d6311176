"""Celery tasks of the accounts app: thin wrappers that take ids."""

from celery import shared_task

from accounts import import_batches


@shared_task(name="accounts.tasks.import_batch_preview")
def import_batch_preview_task(batch_id: int) -> None:
    import_batches.import_batch_preview(batch_id)


@shared_task(name="accounts.tasks.import_batch_apply")
def import_batch_apply_task(batch_id: int) -> None:
    import_batches.import_batch_apply(batch_id)


@shared_task(name="accounts.tasks.import_batches_purge")
def import_batches_purge() -> int:
    return import_batches.import_batches_purge()
