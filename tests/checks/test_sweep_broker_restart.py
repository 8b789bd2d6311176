"""Redis, the broker and the cache, killed mid-sweep (SIGKILL, no persistence: every
queued batch is gone) and started again 15 seconds later: the worker and beat reconnect
by themselves, beat's sweeps tick sends the lost batches again, the sweep finishes with
one result per endpoint, and the endpoints page says when it stopped and went on."""

import time
from collections import Counter

import pytest
from django.test import Client

from accounts.interruptions import Reason
from checks.models import Endpoint, ProbeResult, Sweep, SweepBatch
from checks.tasks import sweep_start
from portal.celery import app as celery_app
from portal.health import broker_check
from tests.checks import misbehaving
from tests.checks.test_sweep_worker import slow_endpoints
from tests.conftest import login_staff
from tests.processes import celery, logs, wait_for

SLOW_SERVERS = 6
DOWN_SECONDS = 15  # longer than a batch: the idle worker and beat meet the dead broker


@pytest.mark.worker
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_sweep_finishes_after_redis_restarts_empty(alpha, support, tmp_path, redis_server):
    servers = [misbehaving.TcpServer(misbehaving.silent) for _ in range(SLOW_SERVERS)]
    env = slow_endpoints(alpha, servers, timeout=2) | {  # a batch takes 4 s
        "CELERY_BROKER_URL": redis_server.url(),  # the cache follows, on database 1
        # Shorter than deployed, so that the test is quick; the mechanism is the same.
        "PROBE_BATCH_LEASE_SECONDS": "9",
        "PROBE_TICK_SECONDS": "3",
    }
    celery_app.conf.task_always_eager = False

    def in_flight():
        return SweepBatch.objects.filter(done_at=None, claims=1).exists()

    with celery("worker", "beat", log_dir=tmp_path, env=env) as running:
        with celery_app.connection_for_write(redis_server.url()) as broker:
            sweep_start.apply_async(queue=running.queue, connection=broker)
        assert wait_for(
            lambda: SweepBatch.objects.exclude(done_at=None).exists() and in_flight(), 90
        ), logs(tmp_path)
        redis_server.kill()
        waiting = SweepBatch.objects.filter(done_at=None, claims=0).count()
        health_while_down = broker_check(redis_server.url())["status"]
        time.sleep(DOWN_SECONDS)
        redis_server.start()
        finished = wait_for(
            lambda: Sweep.objects.filter(status=Sweep.Status.FINISHED).exists(), 150
        )
        worker, beat = running.processes
        alive = worker.poll() is None and beat.poll() is None
        health_after = broker_check(redis_server.url())["status"]
    for server in servers:
        server.close()

    assert finished, logs(tmp_path)
    assert alive, logs(tmp_path)  # neither gave up nor died
    assert waiting, "no batch was waiting in the queue when Redis went"
    assert (health_while_down, health_after) == ("failing", "ok")  # GET /healthz's "broker"
    sweep = Sweep.objects.get()
    results = Counter(ProbeResult.objects.filter(sweep=sweep).values_list("endpoint", flat=True))
    assert set(results) == set(Endpoint.objects.values_list("pk", flat=True))
    assert set(results.values()) == {1}  # one result per endpoint

    [interruption] = sweep.interruption_list()
    assert interruption.reason == Reason.STALLED
    sent_again = sweep.batches.filter(queued_at__gt=sweep.started_at).count()
    assert 1 <= interruption.count == sent_again <= waiting  # lost with Redis, sent again
    assert interruption.at < interruption.resumed_at < sweep.finished_at
    client = Client()
    login_staff(client, support)
    page = client.get("/staff/endpoints/").content.decode()
    assert "中断と再開" in page and "送り直したバッチ: " + str(waiting) in page
