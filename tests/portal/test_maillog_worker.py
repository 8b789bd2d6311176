"""A real worker killed in the middle of a shipper's batch: another worker finishes it,
and every login counts exactly once."""

import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Customer
from checks.evidence.models import IngestBatch, LoginEvidence, LogSource
from checks.evidence.recording import sessions_counted
from checks.tasks import evidence_batch, evidence_batches_resume
from portal.celery import app as celery_app
from tests.conftest import make_mailbox
from tests.processes import celery, logs, wait_for

LINES = 120_000


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(tmp_path):
    mailbox = make_mailbox(Customer.objects.create(slug="alpha", name="アルファ"), "info@a.example")
    at = (timezone.now() - timedelta(hours=1)).isoformat(timespec="seconds")
    body = "\n".join(
        f"{at} mail dovecot[9]: pop3-login: Login: user=<info>, method=PLAIN, rip=203.0.113.9,"
        f" lip=192.0.2.10, lport=995, mpid=1, TLS, session=<s{n}>"
        for n in range(LINES)
    ).encode()
    batch = IngestBatch.objects.create(source=LogSource.objects.create(name="m"), body=body)
    celery_app.conf.task_always_eager = False
    env = {"LOG_INGEST_RESUME_MINUTES": "0"}

    with celery("worker", log_dir=tmp_path, env=env) as first:
        evidence_batch.apply_async(args=[batch.pk], queue=first.queue)
        assert wait_for(lambda: sessions_counted() >= 5000, 60), logs(tmp_path)
        first.processes[0].send_signal(signal.SIGKILL)
        first.processes[0].wait(10)
    counted = sessions_counted()
    assert counted < LINES, "the worker finished before it was killed"
    batch.refresh_from_db()
    assert batch.done_at is None

    with celery("worker", log_dir=tmp_path, env=env, queue=first.queue) as second:
        # What the beat does every five minutes: hand unfinished batches out again.
        evidence_batches_resume.apply_async(queue=second.queue)
        assert wait_for(
            lambda: IngestBatch.objects.filter(pk=batch.pk, done_at__isnull=False).exists(), 120
        ), logs(tmp_path)

    assert LoginEvidence.objects.get(mailbox=mailbox).count == LINES
    assert sessions_counted() == LINES
    assert bytes(IngestBatch.objects.get(pk=batch.pk).body) == b""
