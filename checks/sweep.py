"""Which endpoints to probe, and sweeps: one at a time, in batches that workers
probe concurrently, each batch done once however often it is delivered."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Mailbox, ServerName
from checks.models import Endpoint, Sweep, SweepBatch
from checks.probes import Endpoint as Target
from checks.probes import ProbeOptions, probe_many
from checks.recording import results_record

logger = logging.getLogger(__name__)


def probe_options() -> ProbeOptions:
    """The probe's settings, with what it may connect to: the mail ports (PROBE_PORTS and
    those offered) and, of the internal addresses, only the registered servers'."""
    registered = ServerName.objects.exclude(addresses="").values_list("addresses", flat=True)
    return ProbeOptions(
        timeout=settings.PROBE_TIMEOUT,
        retry_delay=settings.PROBE_RETRY_DELAY,
        ca_file=settings.PROBE_CA_FILE,
        resolve=dict(settings.PROBE_RESOLVE),
        port_map=dict(settings.PROBE_PORT_MAP),
        ports=frozenset(settings.PROBE_PORTS) | {port for _p, port, _s in offered()},
        allowed_addresses=frozenset(
            a for text in registered for a in text.replace(",", " ").split()
        ),
    )


def offered() -> list[tuple[str, int, str]]:
    """(protocol, port, security) of each endpoint the company offers (PROBE_OFFERED)."""
    found = []
    for item in settings.PROBE_OFFERED:
        protocol, port, security = item.split(":")
        found.append((protocol, int(port), security))
    return found


def offered_endpoints() -> set[tuple[str, int, str, str]]:
    """Each current server name × each endpoint the company offers (PROBE_OFFERED)."""
    hosts = ServerName.objects.filter(status=ServerName.Status.CURRENT).values_list(
        "hostname", flat=True
    )
    return {
        (host, port, protocol, security) for host in hosts for protocol, port, security in offered()
    }


def sheet_endpoints() -> set[tuple[str, int, str, str]]:
    """Every distinct endpoint in the current sheets, legacy names included."""
    current = Mailbox.objects.filter(current_sheet__isnull=False)
    incoming = current.values_list(
        "current_sheet__incoming_host",
        "current_sheet__incoming_port",
        "protocol",
        "current_sheet__incoming_security",
    ).distinct()
    outgoing = current.values_list(
        "current_sheet__outgoing_host",
        "current_sheet__outgoing_port",
        "current_sheet__outgoing_security",
    ).distinct()
    return set(incoming.order_by()) | {
        (host, port, "smtp", security) for host, port, security in outgoing.order_by()
    }


def endpoints_sync() -> int:
    """Create the endpoints that are new and mark where each comes from; returns the count."""
    offered, used = offered_endpoints(), sheet_endpoints()
    keys = offered | used
    Endpoint.objects.bulk_create(
        (Endpoint(host=h, port=p, protocol=pr, security=s) for h, p, pr, s in keys),
        ignore_conflicts=True,
    )
    for endpoint in Endpoint.objects.all():
        key = (endpoint.host, endpoint.port, endpoint.protocol, endpoint.security)
        flags = (key in offered, key in used)
        if flags != (endpoint.in_registry, endpoint.in_sheets):
            endpoint.in_registry, endpoint.in_sheets = flags
            endpoint.save(update_fields=["in_registry", "in_sheets"])
    return len(keys)


def sweep_start() -> Sweep | None:
    """Start a sweep of every endpoint in use or on offer; None when one is running."""
    stale = timezone.now() - timedelta(hours=settings.PROBE_SWEEP_STALE_HOURS)
    Sweep.objects.filter(status=Sweep.Status.RUNNING, started_at__lt=stale).update(
        status=Sweep.Status.ABANDONED, finished_at=timezone.now()
    )
    endpoints_sync()
    ids = list(
        Endpoint.objects.filter(Q(in_registry=True) | Q(in_sheets=True)).values_list(
            "pk", flat=True
        )
    )
    size = settings.PROBE_BATCH_SIZE
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    try:
        with transaction.atomic():
            sweep = Sweep.objects.create(endpoint_count=len(ids), batch_count=len(chunks))
            batches = SweepBatch.objects.bulk_create(
                SweepBatch(sweep=sweep, endpoint_ids=chunk) for chunk in chunks
            )
            if not batches:
                sweep_finish(sweep.pk)
            transaction.on_commit(lambda: batches_send(batches))
    except IntegrityError:
        return None  # another sweep is running
    return sweep


def batches_send(batches: list[SweepBatch]) -> None:
    from checks.tasks import probe_batch

    for batch in batches:
        probe_batch.delay(batch.pk)


def probe_endpoints(endpoints: list[Endpoint]) -> dict[int, object]:
    targets = [Target(e.host, e.port, e.protocol, e.security) for e in endpoints]
    outcomes = asyncio.run(
        probe_many(
            targets,
            probe_options(),
            total=settings.PROBE_CONCURRENCY,
            per_address=settings.PROBE_PER_ADDRESS,
        )
    )
    return {endpoint.pk: outcome for endpoint, outcome in zip(endpoints, outcomes, strict=True)}


def sweep_batch_run(batch_id: int) -> None:
    """Probe a batch and record it, once: a redelivered batch that is done does nothing,
    and one whose worker died before recording is simply probed again. A batch whose
    results cannot be recorded at all is still counted done, so its sweep finishes."""
    batch = SweepBatch.objects.select_related("sweep").filter(pk=batch_id).first()
    if batch is None or batch.done_at is not None:
        return
    endpoints = list(Endpoint.objects.filter(pk__in=batch.endpoint_ids))
    outcomes = probe_endpoints(endpoints)
    try:
        with transaction.atomic():
            if _batch_done(batch):
                results_record(outcomes, sweep=batch.sweep, at=timezone.now())
    except DatabaseError:
        logger.exception("the results of %s could not be recorded", batch)
        with transaction.atomic():
            _batch_done(batch)


def _batch_done(batch: SweepBatch) -> bool:
    """Mark the batch done and count it, finishing its sweep after the last; False when
    it was done already."""
    claimed = SweepBatch.objects.filter(pk=batch.pk, done_at__isnull=True).update(
        done_at=timezone.now()
    )
    if not claimed:
        return False
    Sweep.objects.filter(pk=batch.sweep_id).update(batches_done=F("batches_done") + 1)
    sweep = Sweep.objects.get(pk=batch.sweep_id)
    if sweep.batches_done >= sweep.batch_count:
        sweep_finish(sweep.pk)
    return True


def sweep_finish(sweep_id: int) -> None:
    from checks.tasks import events_mail, findings_recompute_all

    finished = Sweep.objects.filter(pk=sweep_id, status=Sweep.Status.RUNNING).update(
        status=Sweep.Status.FINISHED, finished_at=timezone.now()
    )
    if finished:
        transaction.on_commit(events_mail.delay)
        transaction.on_commit(findings_recompute_all.delay)


def endpoint_check(endpoint_id: int) -> None:
    """ "Check now": probe one endpoint outside any sweep and record the result."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return
    outcomes = probe_endpoints([endpoint])
    with transaction.atomic():
        results_record(outcomes, sweep=None, at=timezone.now())
        Endpoint.objects.filter(pk=endpoint_id).update(check_requested_at=None)
        from checks.tasks import findings_recompute_all

        transaction.on_commit(findings_recompute_all.delay)
