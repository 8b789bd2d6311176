"""A task sent through Celery is executed by a real worker process (the configured
broker: Redis in CI, the file-system broker by default) and its result lands in
the database."""

import pytest

from accounts.import_batches import import_batch_create
from accounts.models import ImportBatch, Mailbox
from accounts.tasks import import_batch_apply_task, import_batch_preview_task
from portal.celery import app as celery_app
from tests.accounts.test_imports import GOOD
from tests.processes import celery, logs, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_queued_import_is_applied_by_a_real_worker(support, tmp_path):
    batch = import_batch_create(kind="sheets", filename="w.csv", content=GOOD.encode(), by=support)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    celery_app.conf.task_always_eager = False
    with celery("worker", log_dir=tmp_path) as running:
        import_batch_apply_task.apply_async(args=[batch.pk], queue=running.queue)
        done = wait_for(
            lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.APPLIED, 60
        )
    assert done, logs(tmp_path)
    assert Mailbox.objects.count() == 3
    assert ImportBatch.objects.get(pk=batch.pk).result["counts"]["created"] == 3
    assert "Task accounts.tasks.import_batch_apply[" in logs(tmp_path)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_is_previewed_by_a_real_worker(support, tmp_path):
    with_password = (
        GOOD.replace("smtp_auth\n", "smtp_auth,password\n")
        .replace("smtp-auth\n", "smtp-auth,Secret\n")
        .replace("pop-before-smtp\n", "pop-before-smtp,Secret\n")
    )
    batch = import_batch_create(
        kind=None, filename="w.csv", content=with_password.encode(), by=support
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.CHECKING, preview={"ignored": ["password"]}
    )
    celery_app.conf.task_always_eager = False
    with celery("worker", log_dir=tmp_path) as running:
        import_batch_preview_task.apply_async(args=[batch.pk], queue=running.queue)
        done = wait_for(
            lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.PREVIEW, 60
        )
    assert done, logs(tmp_path)
    batch.refresh_from_db()
    assert batch.preview["counts"] == {"created": 3, "changed": 0, "unchanged": 0}
    assert batch.preview["ignored"] == ["password"]
    assert b"Secret" not in bytes(batch.content)
    assert Mailbox.objects.count() == 0
