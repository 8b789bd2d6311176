"""A real worker killed (SIGKILL, its whole process group) with a batch in flight does
not hold its sweep for the broker's visibility timeout: beat's sweeps tick sends the
dead worker's batch again once its lease ran out, and the sweep finishes within two
minutes of a live worker being there, with one result per endpoint, and only the
killed batch's endpoints probed twice."""

import time
from collections import Counter

import pytest
from django_celery_beat.models import PeriodicTask

from accounts.sheets import SheetValues
from checks.models import Endpoint, ProbeResult, Sweep, SweepBatch
from checks.tasks import sweep_start
from portal.celery import app as celery_app
from tests.checks import misbehaving
from tests.conftest import make_mailbox
from tests.processes import celery, kill_group, logs, wait_for

SLOW_SERVERS = 10
OUT = "out.local-test.example"


def counting_silent_server(hits: Counter, n: int) -> misbehaving.TcpServer:
    """A server that never speaks (each probe waits for its timeout) and counts connections."""

    def handle(conn):
        hits[n] += 1
        misbehaving.silent(conn)

    return misbehaving.TcpServer(handle)


def slow_endpoints(customer, servers: list[misbehaving.TcpServer], *, timeout: float) -> dict:
    """A mailbox of `customer` per server, its incoming side that server (a probe of one
    that never speaks waits out its timeout, twice), its outgoing side a closed port;
    returns the settings a worker needs to probe them, two endpoints a batch. Only the
    sweeps' tick, nothing hourly, runs from beat."""
    closed = misbehaving.unused_port()
    names = {f"s{n}.local-test.example": server for n, server in enumerate(servers)}
    for name, server in names.items():
        make_mailbox(
            customer,
            f"info@{name}",
            SheetValues(name, server.port, "none", OUT, closed, "none", "smtp-auth"),
        )
    PeriodicTask.objects.filter(task="checks.tasks.sweep_start").update(enabled=False)
    return {
        "PROBE_OFFERED": "",
        "PROBE_TIMEOUT": str(timeout),
        "PROBE_RETRY_DELAY": "0.05",
        "PROBE_BATCH_SIZE": "2",
        "PROBE_RESOLVE": ",".join(f"{name}=127.0.0.1" for name in [*names, OUT]),
        "PROBE_PORTS": ",".join(str(s.port) for s in servers) + f",{closed}",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_sweep_finishes_soon_after_its_worker_is_killed_mid_batch(alpha, tmp_path):
    hits: Counter = Counter()
    servers = [counting_silent_server(hits, n) for n in range(SLOW_SERVERS)]
    # The lease and the tick at their defaults: the two minutes hold as deployed.
    env = slow_endpoints(alpha, servers, timeout=3)
    celery_app.conf.task_always_eager = False

    def in_flight():
        return SweepBatch.objects.filter(done_at=None, claims=1).first()

    with celery("worker", log_dir=tmp_path, env=env) as first:
        sweep_start.apply_async(queue=first.queue)
        assert wait_for(
            lambda: SweepBatch.objects.exclude(done_at=None).exists() and in_flight(), 60
        ), logs(tmp_path)
        killed = in_flight()
        kill_group(first.processes[0])
    sweep = Sweep.objects.get()
    assert sweep.status == Sweep.Status.RUNNING
    assert sweep.batches_done < sweep.batch_count

    with celery("worker", "beat", log_dir=tmp_path, env=env, queue=first.queue):
        started = time.monotonic()
        finished = wait_for(
            lambda: Sweep.objects.filter(pk=sweep.pk, status=Sweep.Status.FINISHED).exists(),
            150,
        )
        took = time.monotonic() - started
    for server in servers:
        server.close()

    assert finished, logs(tmp_path)
    assert took <= 120, f"the sweep took {took:.0f} s after a live worker was there"
    results = Counter(ProbeResult.objects.filter(sweep=sweep).values_list("endpoint", flat=True))
    assert set(results) == set(Endpoint.objects.values_list("pk", flat=True))
    assert set(results.values()) == {1}  # one result per endpoint in this sweep
    sweep.refresh_from_db()
    assert [i.reason for i in sweep.interruption_list()] == ["stalled"]  # for its page
    killed_servers = {
        n
        for n, server in enumerate(servers)
        if Endpoint.objects.filter(pk__in=killed.endpoint_ids, port=server.port).exists()
    }
    assert killed_servers, "the killed batch held a slow server"
    # A probe connects again after a timeout; the killed batch's servers saw the killed
    # probe (cut short) and one whole probe more, every other server one probe.
    once = {hits[n] for n in range(SLOW_SERVERS) if n not in killed_servers}
    assert len(once) == 1, hits
    per_probe = once.pop()
    assert all(per_probe < hits[n] <= 2 * per_probe for n in killed_servers), hits
