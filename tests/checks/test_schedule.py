"""The sweep runs on its schedule: real Celery beat (database scheduler) sends it,
a real worker probes and records, on the configured broker (Redis in CI)."""

from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.sheets import SheetValues
from checks.models import ProbeResult, Sweep
from portal.celery import app as celery_app
from tests.checks import misbehaving
from tests.conftest import make_mailbox
from tests.processes import celery, logs, wait_for

CLOSED = "closed.local-test.example"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_starts_sweeps_that_a_worker_runs(alpha, tmp_path):
    closed = misbehaving.unused_port()
    make_mailbox(
        alpha,
        "info@alpha.example",
        SheetValues(CLOSED, closed, "ssl", CLOSED, closed, "ssl", "smtp-auth"),
    )
    # The migration made this row; earlier transactional tests flush it away, so make it
    # again the migration's way.
    import_module("checks.migrations.0002_sweep_schedule").schedule_create(django_apps, None)
    task = PeriodicTask.objects.get(task="checks.tasks.sweep_start")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")
    task.interval = IntervalSchedule.objects.create(every=2, period="seconds")
    task.save()
    celery_app.conf.task_always_eager = False

    env = {
        "PROBE_RETRY_DELAY": "0.05",
        "PROBE_RESOLVE": f"{CLOSED}=127.0.0.1",
        "PROBE_PORTS": str(closed),
    }
    with celery("worker", "beat", log_dir=tmp_path, env=env):
        finished = wait_for(
            lambda: Sweep.objects.filter(status=Sweep.Status.FINISHED).count() >= 2, 90
        )

    assert finished, logs(tmp_path)
    assert (
        not Sweep.objects.filter(status=Sweep.Status.RUNNING)
        .exclude(pk=Sweep.objects.order_by("-pk").first().pk)
        .exists()
    )  # never two running
    result = ProbeResult.objects.filter(sweep__status=Sweep.Status.FINISHED).first()
    assert (result.reachable, result.error) == (False, "refused")
