"""While Redis (the broker, and the cache on the database after it) is away, nothing that
only leaves a note in the cache breaks the work: beat ticks on, a failed task is simply
not counted, and a campaign's sender goes on. Workers never give up reconnecting to the
broker, and never wait forever on a Redis that stopped answering. (The restarts
themselves: tests/checks/test_sweep_broker_restart.py,
tests/portal/test_campaign_broker_restart.py.)"""

import json
import subprocess
import sys

import pytest
from django.core.cache import cache

from portal import health
from portal.campaigns import sending
from portal.health import beat_tick_record
from portal.metrics import task_failure_record
from tests.checks.misbehaving import unused_port
from tests.portal.test_configuration import environment
from tests.processes import PROJECT


@pytest.fixture
def cache_away(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port()}/1",
        }
    }
    health._last_written.clear()
    with pytest.raises(Exception, match="onnect"):
        cache.get("anything")
    yield
    health._last_written.clear()


def test_beats_heartbeat_is_skipped_not_raised_while_the_cache_is_away(cache_away):
    beat_tick_record()  # at every beat tick: an error here would end beat

    assert health._last_written == {}  # written at the next tick the cache is back


def test_a_failed_task_is_not_counted_while_the_cache_is_away(cache_away):
    task_failure_record("portal.tasks.notices_send")


def test_a_campaign_sender_goes_on_while_the_cache_is_away(cache_away):
    assert sending.sender_continues(1, "sender") is True


def test_workers_never_give_up_on_the_broker_nor_wait_forever_on_redis():
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "from portal.celery import app; print(json.dumps({"
        "'retries': app.conf.broker_connection_max_retries, "
        "'cancel': app.conf.worker_cancel_long_running_tasks_on_connection_loss, "
        "'transport': app.conf.broker_transport_options, "
        "'cache': settings.CACHES['default'].get('OPTIONS', {})}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        env=environment(CELERY_BROKER_URL="redis://redis.internal:6379/0", CACHE_URL=None),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    conf = json.loads(found.stdout.strip().splitlines()[-1])

    assert conf["retries"] is None  # Celery's default gives up after 100 tries
    assert conf["cancel"] is False  # a running task finishes its work in the database
    transport = conf["transport"]
    assert transport["visibility_timeout"] == 900
    assert 0 < transport["socket_connect_timeout"] <= 10
    assert 0 < transport["socket_timeout"] <= 10
    assert transport["socket_keepalive"] is True
    assert 0 < transport["health_check_interval"] <= 30
    assert conf["cache"] == {"socket_connect_timeout": 10, "socket_timeout": 10}
