"""PostgreSQL restarted — by an operator (fast shutdown) or by a crash (immediate) — while
a worker applies a large import: the server rolls the apply's transaction back, the
worker drops the dead connection and tries again once the database answers, and the
import ends applied once, every row written and no sheet version twice; the import's
page says when it stopped and went on. Worker and beat, on production's persistent
connections (CONN_MAX_AGE=60), go on working after the restart."""

import csv
import os
import re
import subprocess
import sys
import time
from dataclasses import astuple

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections

from accounts.csvfiles import columns_keep
from accounts.import_batches import COLUMNS, import_batch_progress
from accounts.interruptions import Reason
from accounts.models import ImportBatch, Mailbox, SettingsSheet
from accounts.tasks import import_batch_apply_task
from portal.celery import app as celery_app
from portal.health import database_check
from tests.conftest import PLAIN_SHEET, SSL_SHEET
from tests.processes import PROJECT, celery, logs, wait_for
from tests.services import database_alias

EXISTING = 15_000  # mailboxes the file changes (a second sheet version each)
NEW = 5_000  # mailboxes it creates
DOWN_SECONDS = 5
# The fixtures' sheets, as the import file's cells.
OLD = tuple(str(value) for value in astuple(PLAIN_SHEET))
SSL = tuple(str(value) for value in astuple(SSL_SHEET))


def sheets_csv(path, rows: range, values: tuple) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS["sheets"])
        for n in rows:
            customer = f"c{n // 100}"
            email = f"m{n}@{customer}.example"
            writer.writerow([customer, f"顧客{customer}", email, f"m{n}", "pop3", *values])


def manage(url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=os.environ | {"DATABASE_URL": url},
        check=True,
        capture_output=True,
        timeout=300,
    )


def answer(alias: str, query):
    """`query()` on the test's own connection; None while the database is away (the
    connection the restart broke is dropped, and the next try opens a new one)."""
    try:
        return query()
    except DatabaseError:
        connections[alias].close()
        return None


@pytest.mark.worker
@pytest.mark.services
@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
def test_an_import_cut_off_by_a_database_restart_is_applied_once(
    shutdown,
    postgres_cluster,
    django_db_blocker,
    tmp_path,
):
    url = postgres_cluster.url()
    manage(url, "migrate", "--noinput")
    sheets_csv(tmp_path / "before.csv", range(EXISTING), OLD)
    manage(url, "import_sheets", str(tmp_path / "before.csv"))
    sheets_csv(tmp_path / "after.csv", range(EXISTING + NEW), SSL)
    content = columns_keep((tmp_path / "after.csv").read_text(), COLUMNS["sheets"]).content
    env = {"DATABASE_URL": url, "CONN_MAX_AGE": "60"}

    with django_db_blocker.unblock(), database_alias(url) as alias:
        staff = get_user_model().objects.db_manager(alias).create_user("sue", is_staff=True)
        batch = ImportBatch.objects.using(alias).create(
            kind="sheets", filename="after.csv", content=content, uploaded_by=staff, status="queued"
        )
        celery_app.conf.task_always_eager = False

        def resumes_run() -> int:
            return sum(
                len(re.findall(r"notices_resume\[[-0-9a-f]+\] succeeded", path.read_text()))
                for path in tmp_path.glob("worker-*.log")
            )

        with celery("worker", "beat", log_dir=tmp_path, env=env) as running:
            import_batch_apply_task.apply_async(args=[batch.pk], queue=running.queue)
            # Stopped while the worker writes the sheets, the apply's last and longest part.
            writing = wait_for(lambda: (import_batch_progress(batch) or {}).get("done"), 120)
            assert writing, logs(tmp_path)
            postgres_cluster.stop(shutdown)
            stopped_at = time.monotonic()
            assert database_check(alias)["status"] == "failing"  # GET /healthz's "database"
            time.sleep(DOWN_SECONDS)
            postgres_cluster.start()
            batches = ImportBatch.objects.using(alias).filter(pk=batch.pk)
            applied = wait_for(
                lambda: answer(alias, batches.filter(status=ImportBatch.Status.APPLIED).exists),
                180,
            )
            took = time.monotonic() - stopped_at
            assert applied, logs(tmp_path) + postgres_cluster.logs()
            assert database_check(alias)["status"] == "ok"
            # Beat's schedule and the worker's tasks, on the database again.
            before = resumes_run()
            assert wait_for(lambda: resumes_run() >= before + 2, 60), logs(tmp_path)
            worker, beat = running.processes
            assert worker.poll() is None and beat.poll() is None, logs(tmp_path)

        batch = ImportBatch.objects.using(alias).get(pk=batch.pk)
        assert batch.result["counts"] == {"created": NEW, "changed": EXISTING, "unchanged": 0}
        mailboxes = Mailbox.objects.using(alias)
        sheets = SettingsSheet.objects.using(alias)
        assert mailboxes.count() == EXISTING + NEW
        assert sheets.filter(version=1).count() == EXISTING + NEW
        assert sheets.filter(version=2).count() == EXISTING
        assert sheets.count() == 2 * EXISTING + NEW  # no version written twice
        assert not mailboxes.exclude(current_sheet__incoming_port=995).exists()
        assert mailboxes.filter(current_sheet__version=2).count() == EXISTING

        assert batch.interruption_list(), "the apply ended before the database went away"
        [interruption] = batch.interruption_list()
        assert interruption.reason == Reason.DATABASE
        assert interruption.at < interruption.resumed_at < batch.applied_at
        worker_log = "".join(path.read_text() for path in tmp_path.glob("worker-*.log"))
        assert "the database connection was lost" in worker_log
        assert "Retry in 2s" in worker_log  # then 4, 8 … at most 60 s apart
    assert took < 120, f"applied {took:.0f} s after the database went away"
