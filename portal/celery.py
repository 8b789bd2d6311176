"""The Celery application: configured from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import celeryd_after_setup, heartbeat_sent, task_failure, worker_init
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_to_start_misconfigured(**kwargs) -> None:
    """A worker sends the mail with the links: like the web server, it will not start in
    production with an address customers cannot reach, a weak key or mail that goes
    nowhere (portal/deployment.py). (Celery logs and ignores exceptions from this
    signal, hence the exit.)"""
    from portal.deployment import production_check

    try:
        production_check()
    except ImproperlyConfigured as error:
        raise SystemExit(f"ImproperlyConfigured: {error}") from error


_consumed: list[str] = []


@celeryd_after_setup.connect
def remember_queues(sender, instance, **kwargs) -> None:
    _consumed[:] = sorted(instance.app.amqp.queues.consume_from or [])


@heartbeat_sent.connect
def heartbeat_record(sender, **kwargs) -> None:
    """Each worker's heartbeat, per queue it serves, for GET /healthz and the metrics."""
    from portal.health import worker_heartbeat_record

    worker_heartbeat_record(_consumed)


@task_failure.connect
def task_failure_count(sender=None, **kwargs) -> None:
    from portal.metrics import task_failure_record

    task_failure_record(getattr(sender, "name", "unknown"))
