"""The Celery application: configured from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_to_start_misconfigured(**kwargs) -> None:
    """A worker sends the mail with the links: like the web server, it will not start in
    production with an address customers cannot reach. (Celery logs and ignores exceptions
    from this signal, hence the exit.)"""
    from portal.deployment import production_check

    try:
        production_check()
    except ImproperlyConfigured as error:
        raise SystemExit(f"ImproperlyConfigured: {error}") from error
