"""Tasks go to their queues, and a worker started without -Q (as `make run` starts it)
consumes every one of them."""

import os
import subprocess
import sys

from django.conf import settings

CODE = """
from portal.celery import app
app.loader.import_default_modules()
routes = {app.amqp.router.route({}, name)["queue"].name for name in
          ("checks.tasks.sweep_start", "portal.tasks.notices_send",
           "accounts.tasks.import_batch_apply", "portal.tasks.audit_purge")}
consumed = set(app.amqp.queues.consume_from or app.amqp.queues)
print(sorted(routes)); print(sorted(consumed))
assert routes <= consumed, (routes, consumed)
"""


def test_a_worker_without_queue_options_consumes_every_routed_queue():
    env = {k: v for k, v in os.environ.items() if k != "CELERY_QUEUE"}
    result = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=settings.BASE_DIR,
        env=env | {"DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "probing" in result.stdout and "campaigns" in result.stdout
