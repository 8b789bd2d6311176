"""An import queued for a worker when Redis restarts empty (SIGKILL, no persistence)
loses its message with the queue: beat's imports tick finds it in the database, still
queued after IMPORT_RESEND_SECONDS, hands it out again, and it is applied once; its page
says when it stopped and went on."""

import time

import pytest
from django.utils import timezone

from accounts.import_batches import import_batch_create
from accounts.interruptions import Reason
from accounts.models import ImportBatch, Mailbox, SettingsSheet
from accounts.tasks import import_batch_apply_task
from portal.celery import app as celery_app
from tests.accounts.test_imports import GOOD
from tests.processes import celery, logs, wait_for


@pytest.mark.worker
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_message_redis_lost_is_applied_once(support, tmp_path, redis_server):
    batch = import_batch_create(kind="sheets", filename="w.csv", content=GOOD.encode(), by=support)
    batch.refresh_from_db()
    assert batch.status == "preview"  # checked (eagerly, in this process)
    celery_app.conf.task_always_eager = False
    queue = "test-import-restart"
    # What "Apply" does (import_batch_queue), the message going to this test's Redis,
    # where no worker takes it before Redis goes.
    ImportBatch.objects.filter(pk=batch.pk).update(status="queued", queued_at=timezone.now())
    with celery_app.connection_for_write(redis_server.url()) as broker:
        import_batch_apply_task.apply_async(args=[batch.pk], queue=queue, connection=broker)
    redis_server.kill()
    time.sleep(1)
    redis_server.start()

    env = {"CELERY_BROKER_URL": redis_server.url(), "IMPORT_RESEND_SECONDS": "4"}
    with celery("worker", "beat", log_dir=tmp_path, env=env, queue=queue):
        applied = wait_for(
            lambda: ImportBatch.objects.filter(pk=batch.pk, status="applied").exists(), 90
        )
    assert applied, logs(tmp_path)

    assert Mailbox.objects.count() == 3
    assert list(SettingsSheet.objects.values_list("version", flat=True)) == [1, 1, 1]
    batch.refresh_from_db()
    [interruption] = batch.interruption_list()
    assert interruption.reason == Reason.STALLED
    assert interruption.at < interruption.resumed_at < batch.applied_at
