"""GET /healthz for load balancers and monitors: each part ok or failing, 503 when one
fails; heartbeats as a real worker and beat leave them (tests/deploy/test_stack.py
checks them with real processes)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checks.models import Sweep
from portal.health import beat_tick_record, broker_check, worker_heartbeat_record


def healthz(host="10.0.0.5:8000"):
    # A load balancer asks on the machine's address, not the portal's name.
    return Client().get("/healthz", HTTP_HOST=host)


def all_alive():
    worker_heartbeat_record(["celery", "probing"])
    beat_tick_record()


@pytest.fixture(autouse=True)
def fresh_heartbeats():
    from portal import health

    health._last_written.clear()


def test_a_working_installation_is_ok(db):
    all_alive()
    Sweep.objects.create(status=Sweep.Status.FINISHED, finished_at=timezone.now())

    response = healthz()

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert {name: part["status"] for name, part in report["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "worker": "ok",
        "beat": "ok",
        "sweep": "ok",
    }
    assert report["checks"]["worker"]["queues"]["probing"] < 5
    assert report["checks"]["worker"]["queues"]["campaigns"] is None  # no such worker


def test_no_worker_and_no_beat_is_a_503_naming_them(db):
    response = healthz()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["worker"] == {
        "status": "failing",
        "age_seconds": None,
        "queues": {q: None for q in checks["worker"]["queues"]},
    }
    assert checks["beat"]["status"] == "failing"
    assert checks["database"]["status"] == "ok"


def test_a_stale_sweep_fails(db, settings):
    all_alive()
    Sweep.objects.create(
        status=Sweep.Status.FINISHED, finished_at=timezone.now() - timedelta(hours=7)
    )
    settings.PROBE_SWEEP_STALE_HOURS = 6

    response = healthz()

    assert response.status_code == 503
    assert response.json()["checks"]["sweep"]["status"] == "failing"


def test_a_new_installation_without_a_sweep_yet_is_ok(db):
    all_alive()
    assert healthz().status_code == 200


def test_an_old_heartbeat_fails(db, settings):
    all_alive()
    settings.HEALTH_WORKER_STALE_SECONDS = -1  # every heartbeat is now too old

    response = healthz()

    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["status"] == "failing"


def test_a_broker_that_does_not_answer_is_failing():
    assert broker_check("redis://127.0.0.1:1/0")["status"] == "failing"


def test_health_is_answered_on_plain_http_on_any_host_but_not_on_a_malformed_one(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    all_alive()
    assert healthz("127.0.0.1:8000").status_code == 200
    assert healthz("bad host").status_code == 400
