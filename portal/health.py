"""Is the installation working? What a load balancer or a monitor asks (GET /healthz).

Five checks, each ok or failing: the database answers, the broker answers, some
worker has sent a heartbeat lately, beat has ticked lately, and a sweep of the mail
servers finished within PROBE_SWEEP_STALE_HOURS. Workers and beat leave their
heartbeats in the shared cache (Redis in production), so any web process sees them.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

WORKER_KEY = "health:worker:{queue}"
BEAT_KEY = "health:beat"
# Heartbeats are written at most this often (Celery's come every 2 s, beat ticks every 5 s).
WRITE_EVERY_SECONDS = 10
KEEP_SECONDS = 7 * 24 * 3600

_last_written: dict[str, float] = {}


def heartbeat_record(*keys: str) -> None:
    """Note that a process is alive now, under each key (throttled per process). While
    the cache is unreachable (Redis restarting) the note is skipped, never raised: beat
    calls this at every tick, and an error there would end beat."""
    now = time.time()
    due = [k for k in keys if now - _last_written.get(k, 0.0) >= WRITE_EVERY_SECONDS]
    if due:
        try:
            cache.set_many(dict.fromkeys(due, now), timeout=KEEP_SECONDS)
        except Exception as error:  # whatever the cache backend raises when it is away
            log.warning("heartbeat not recorded (%s: %s)", type(error).__name__, error)
            return
        _last_written.update(dict.fromkeys(due, now))


def worker_heartbeat_record(queues: list[str]) -> None:
    heartbeat_record(*(WORKER_KEY.format(queue=q) for q in queues))


def beat_tick_record() -> None:
    heartbeat_record(BEAT_KEY)


def worker_queues() -> list[str]:
    """The queues the portal routes work to (portal/settings.py), and the default one."""
    routed = {q for q in settings.PORTAL_TASK_QUEUES.values()}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})


def worker_heartbeat_ages() -> dict[str, float | None]:
    """Seconds since a worker of each queue last sent a heartbeat (None: never)."""
    queues = worker_queues()
    stamps = cache.get_many([WORKER_KEY.format(queue=q) for q in queues])
    now = time.time()
    return {
        q: (
            round(now - stamps[WORKER_KEY.format(queue=q)], 1)
            if WORKER_KEY.format(queue=q) in stamps
            else None
        )
        for q in queues
    }


def beat_tick_age() -> float | None:
    stamp = cache.get(BEAT_KEY)
    return None if stamp is None else round(time.time() - stamp, 1)


def database_check(using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure to answer is "failing"
        return {"status": "failing", "error": type(error).__name__}
    return {"status": "ok"}


def broker_check(url: str | None = None) -> dict[str, Any]:
    from portal.celery import app

    try:
        with app.connection_for_write(url) as broker:
            broker.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:  # refused, timed out, bad credentials: all "failing"
        return {"status": "failing", "error": type(error).__name__}
    return {"status": "ok"}


def _aged(age: float | None, limit: float, name: str) -> dict[str, Any]:
    ok = age is not None and age <= limit
    return {"status": "ok" if ok else "failing", name: age}


def sweep_check() -> dict[str, Any]:
    from checks.models import Sweep

    last = Sweep.objects.filter(status=Sweep.Status.FINISHED).order_by("-finished_at").first()
    if last is None:
        # A new installation: failing only once a sweep has been due for long enough.
        first = Sweep.objects.order_by("started_at").first()
        stale = first is not None and timezone.now() - first.started_at > timedelta(
            hours=settings.PROBE_SWEEP_STALE_HOURS
        )
        return {"status": "failing" if stale else "ok", "finished_at": None}
    age = (timezone.now() - last.finished_at).total_seconds()
    ok = age <= settings.PROBE_SWEEP_STALE_HOURS * 3600
    return {
        "status": "ok" if ok else "failing",
        "finished_at": last.finished_at.isoformat(),
        "age_seconds": round(age),
    }


def health_report() -> dict[str, Any]:
    ages = worker_heartbeat_ages()
    known = [a for a in ages.values() if a is not None]
    worker = _aged(
        min(known) if known else None, settings.HEALTH_WORKER_STALE_SECONDS, "age_seconds"
    )
    worker["queues"] = ages
    checks = {
        "database": database_check(),
        "broker": broker_check(),
        "worker": worker,
        "beat": _aged(beat_tick_age(), settings.HEALTH_BEAT_STALE_SECONDS, "age_seconds"),
    }
    checks["sweep"] = (
        sweep_check()
        if checks["database"]["status"] == "ok"
        else {"status": "failing", "finished_at": None}
    )
    failing = any(c["status"] != "ok" for c in checks.values())
    return {"status": "failing" if failing else "ok", "checks": checks}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] != "ok" else 200)
