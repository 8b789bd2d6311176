"""Celery tasks of the checks app: thin wrappers that take ids."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from checks import alerts, findings, sweep
from checks.models import Endpoint, ProbeResult


@shared_task(name="checks.tasks.sweep_start")
def sweep_start() -> int | None:
    started = sweep.sweep_start()
    return started.pk if started else None


@shared_task(name="checks.tasks.probe_batch")
def probe_batch(batch_id: int) -> None:
    sweep.sweep_batch_run(batch_id)


@shared_task(name="checks.tasks.sweeps_tick")
def sweeps_tick() -> int:
    return sweep.batches_reclaim()


@shared_task(name="checks.tasks.endpoint_check")
def endpoint_check(endpoint_id: int) -> None:
    sweep.endpoint_check(endpoint_id)


@shared_task(name="checks.tasks.events_mail")
def events_mail() -> int:
    return alerts.events_mail()


@shared_task(name="checks.tasks.results_purge")
def results_purge() -> int:
    """Delete results older than PROBE_KEEP_DAYS, except each endpoint's latest."""
    cutoff = timezone.now() - timedelta(days=settings.PROBE_KEEP_DAYS)
    latest = Endpoint.objects.exclude(last_result=None).values("last_result")
    deleted, _ = ProbeResult.objects.filter(Q(checked_at__lt=cutoff) & ~Q(pk__in=latest)).delete()
    return deleted


@shared_task(name="checks.tasks.findings_recompute_all")
def findings_recompute_all() -> bool:
    return findings.findings_recompute()


@shared_task(name="checks.tasks.evidence_batch")
def evidence_batch(batch_id: int) -> None:
    from checks.evidence.ingest import batch_process

    batch_process(batch_id)


@shared_task(name="checks.tasks.evidence_batches_resume")
def evidence_batches_resume() -> int:
    from checks.evidence.ingest import batches_resume
    from checks.evidence.recording import evidence_prune

    evidence_prune()
    return batches_resume()
