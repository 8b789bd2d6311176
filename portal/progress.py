"""How far a job someone started is (a sweep, a DNS check), for the page that started
it: it shows a bar with counts and refreshes itself until the outcome is there. Kept in
the cache that web and workers share; a lost entry only loses the bar, never the job."""

from __future__ import annotations

import logging
import time
from typing import TypedDict

from django.core.cache import cache

log = logging.getLogger(__name__)
# A request no worker takes up stops being shown as waiting after this.
PROGRESS_SECONDS = 10 * 60


class Progress(TypedDict):
    requested_at: float  # a Unix time
    done: int
    total: int  # 0 until a worker has counted the work


def _key(job: str) -> str:
    return f"job-progress:{job}"


def job_requested(job: str) -> None:
    """Someone started `job`: its page waits for a worker from now on."""
    cache.set(_key(job), Progress(requested_at=time.time(), done=0, total=0), PROGRESS_SECONDS)


def job_advance(job: str, done: int, total: int) -> None:
    """A worker has done `done` of `total` steps of `job`."""
    try:
        started = (cache.get(_key(job)) or {}).get("requested_at", time.time())
        cache.set(
            _key(job), Progress(requested_at=started, done=done, total=total), PROGRESS_SECONDS
        )
    except Exception:  # the bar is for the eyes only: never fail a job over it
        log.warning("progress of %s not recorded", job, exc_info=True)


def job_finished(job: str) -> None:
    try:
        cache.delete(_key(job))
    except Exception:
        log.warning("progress of %s not cleared", job, exc_info=True)


def job_progress(job: str) -> Progress | None:
    """The job's progress while someone waits for it, else None."""
    return cache.get(_key(job))
