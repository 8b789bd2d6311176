"""Celery beat's scheduler: the database schedule (django-celery-beat), leaving a
heartbeat at every tick for GET /healthz and the metrics."""

from __future__ import annotations

from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from portal.health import beat_tick_record


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        beat_tick_record()
        return super().tick(*args, **kwargs)
