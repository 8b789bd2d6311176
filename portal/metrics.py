"""GET /metrics in Prometheus' text format, read from the database and the shared
cache at each scrape (so every web process gives the same figures): the last sweep,
endpoints by state, open findings by code and severity, campaign notices by state,
task failures, heartbeats, and the mail servers' certificate expiry dates.

Only for a scraper with the token (METRICS_TOKEN, as "Authorization: Bearer …") or
from an allowed address (METRICS_ALLOWED_ADDRESSES, behind Caddy the client's address
as TRUSTED_PROXY_COUNT reads it); with neither configured, nothing is served.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections import Counter
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector, CollectorRegistry

from portal.health import beat_tick_age, worker_heartbeat_ages
from portal.hosts import bare_response
from portal.logins.lockout import client_address

log = logging.getLogger(__name__)

FAILURE_KEY = "metrics:task-failures:{task}"


def task_failure_record(task: str) -> None:
    """Count a failed task (called in the worker, on Celery's task_failure signal); not
    while the cache is away (a Redis restart, which also empties it)."""
    key = FAILURE_KEY.format(task=task)
    try:
        cache.add(key, 0, timeout=None)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=None)
    except Exception as error:  # whatever the cache backend raises when it is away
        log.warning("failure of %s not counted (%s)", task, error)


def _task_names() -> list[str]:
    from portal.celery import app

    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


class PortalCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from checks.models import Endpoint, Finding, Sweep
        from portal.models import Notice

        sweep = Sweep.objects.filter(status=Sweep.Status.FINISHED).order_by("-finished_at").first()
        duration = GaugeMetricFamily(
            "portal_sweep_duration_seconds", "How long the last finished sweep took."
        )
        finished = GaugeMetricFamily(
            "portal_sweep_last_finished_timestamp_seconds", "When the last sweep finished."
        )
        if sweep is not None:
            duration.add_metric([], (sweep.finished_at - sweep.started_at).total_seconds())
            finished.add_metric([], sweep.finished_at.timestamp())
        yield duration
        yield finished

        states = Counter(
            "unknown" if error is None else ("failing" if error else "working")
            for error in Endpoint.objects.values_list("last_result__error", flat=True)
        )
        endpoints = GaugeMetricFamily(
            "portal_endpoints", "Endpoints by the state of their latest probe.", labels=["state"]
        )
        for state in ("working", "failing", "unknown"):
            endpoints.add_metric([state], states[state])
        yield endpoints

        findings = GaugeMetricFamily(
            "portal_findings_open",
            "Open findings by code and severity.",
            labels=["code", "severity"],
        )
        for row in (
            Finding.objects.filter(resolved_at__isnull=True)
            .values("code", "severity")
            .annotate(n=Count("id"))
            .order_by("code", "severity")
        ):
            findings.add_metric([row["code"], row["severity"]], row["n"])
        yield findings

        notices = GaugeMetricFamily(
            "portal_campaign_notices", "Campaign notices by state.", labels=["state"]
        )
        counted = dict(
            Notice.objects.values_list("status").annotate(n=Count("id")).order_by("status")
        )
        for status in Notice.Status.values:
            notices.add_metric([status], counted.get(status, 0))
        yield notices

        certificates = GaugeMetricFamily(
            "portal_certificate_expiry_timestamp_seconds",
            "When the certificate of each mail server endpoint the company offers expires.",
            labels=["host", "port"],
        )
        for host, port, not_after in Endpoint.objects.filter(
            in_registry=True, last_result__cert_not_after__isnull=False
        ).values_list("host", "port", "last_result__cert_not_after"):
            certificates.add_metric([host, str(port)], not_after.timestamp())
        yield certificates

        names = _task_names()
        failures = CounterMetricFamily(
            "portal_task_failures", "Tasks that ended in an error, by task.", labels=["task"]
        )
        counts = cache.get_many([FAILURE_KEY.format(task=n) for n in names])
        for name in names:
            failures.add_metric([name], counts.get(FAILURE_KEY.format(task=name), 0))
        yield failures

        workers = GaugeMetricFamily(
            "portal_worker_heartbeat_age_seconds",
            "Seconds since a worker of each queue sent a heartbeat (absent: never).",
            labels=["queue"],
        )
        for queue, age in worker_heartbeat_ages().items():
            if age is not None:
                workers.add_metric([queue], age)
        yield workers
        beat = GaugeMetricFamily(
            "portal_beat_tick_age_seconds", "Seconds since Celery beat last ticked."
        )
        if (age := beat_tick_age()) is not None:
            beat.add_metric([], age)
        yield beat


def _address_allowed(address: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_ADDRESSES:
        try:
            if client in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def scraper_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return _address_allowed(client_address(request))


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_ADDRESSES):
        return bare_response(404)
    if not scraper_allowed(request):
        return HttpResponse(b"Forbidden", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
