"""A task sent through Celery is executed by a real worker process (the configured
broker: Redis in CI, the file-system broker by default) and its result lands in
the database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.import_batches import import_batch_create
from accounts.models import ImportBatch, Mailbox
from accounts.tasks import import_batch_apply_task
from portal.celery import app as celery_app
from tests.accounts.test_imports import GOOD

PROJECT = Path(settings.BASE_DIR)


def test_database_url() -> str:
    """The URL of the database this test runs on, for the worker process to use."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_queued_import_is_applied_by_a_real_worker(support, tmp_path):
    batch = import_batch_create(kind="sheets", filename="w.csv", content=GOOD.encode(), by=support)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.QUEUED)
    # A queue of its own, so no other worker on this machine can take the task.
    queue = f"test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    env = os.environ | {"DATABASE_URL": test_database_url(), "SECRET_KEY": settings.SECRET_KEY}
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "INFO"]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    celery_app.conf.task_always_eager = False
    try:
        import_batch_apply_task.apply_async(args=[batch.pk], queue=queue)
        done = wait_for(
            lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.APPLIED, 60
        )
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert done, log.read_text(errors="replace")[-3000:]
    assert Mailbox.objects.count() == 3
    assert ImportBatch.objects.get(pk=batch.pk).result["counts"]["created"] == 3
    assert "Task accounts.tasks.import_batch_apply[" in log.read_text(errors="replace")
