"""Which endpoints to probe, and sweeps: one at a time, in batches that workers
probe concurrently, each batch done once however often it is delivered.

A worker that dies mid-batch (killed, out of memory, a reboot) must not hold its
sweep until the broker redelivers the message (its visibility timeout, 15 minutes):
a worker claims a batch with a lease (a conditional UPDATE) that a heartbeat renews
while it probes, and the sweeps' tick (every PROBE_TICK_SECONDS) sends a batch again
once its lease ran out. Only the dead worker's batch is probed twice, and recording
stays once per batch (`_batch_done`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.interruptions import Reason, interruption_record
from accounts.models import Mailbox, ServerName
from checks.findings import findings_recompute_later
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
                SweepBatch(sweep=sweep, endpoint_ids=chunk, queued_at=sweep.started_at)
                for chunk in chunks
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


def _lease() -> timedelta:
    return timedelta(seconds=settings.PROBE_BATCH_LEASE_SECONDS)


def batch_claim(batch_id: int) -> SweepBatch | None:
    """Take a batch to probe: not done, of a running sweep, and not leased to a worker
    that is still alive (its lease renewed). None when there is nothing to take."""
    now = timezone.now()
    claimed = (
        SweepBatch.objects.filter(
            pk=batch_id,
            done_at__isnull=True,
            sweep__status=Sweep.Status.RUNNING,
            claims__lt=settings.PROBE_BATCH_CLAIMS,
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + _lease(), claims=F("claims") + 1)
    )
    if not claimed:
        return None
    return SweepBatch.objects.select_related("sweep").get(pk=batch_id)


@contextlib.contextmanager
def _heartbeat(batch_id: int) -> Iterator[None]:
    """Renew the batch's lease every third of it while the body runs (the probe holds
    this thread in its event loop), so only a dead worker's lease runs out."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.PROBE_BATCH_LEASE_SECONDS / 3):
                try:
                    SweepBatch.objects.filter(pk=batch_id, done_at__isnull=True).update(
                        lease_until=timezone.now() + _lease()
                    )
                except DatabaseError:
                    logger.warning("the lease of batch %s could not be renewed", batch_id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"batch-{batch_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(settings.PROBE_BATCH_LEASE_SECONDS)


def batches_reclaim() -> int:
    """The sweeps' tick: send again each batch of a running sweep whose worker died (its
    lease ran out) or that waits unclaimed while nothing of its sweep moves (its message
    went down with a worker before it started); give up a batch that has used up its
    claims, so that one endpoint that kills workers does not hold the sweep. Each batch
    is sent at most once per lease; the sweep notes the interruption for its page.
    Returns how many batches were sent again."""
    now = timezone.now()
    resent: list[SweepBatch] = []
    for sweep in Sweep.objects.filter(status=Sweep.Status.RUNNING):
        waiting = SweepBatch.objects.filter(sweep=sweep, done_at__isnull=True)
        for batch in waiting.filter(lease_until__lt=now, claims__gte=settings.PROBE_BATCH_CLAIMS):
            logger.error("%s gave up after %s claims; its endpoints have no result", batch,
                         batch.claims)  # fmt: skip
            with transaction.atomic():
                _batch_done(batch)
        last_done = sweep.batches.aggregate(last=Max("done_at"))["last"]
        still = not waiting.filter(lease_until__gte=now).exists() and (
            last_done is None or last_done < now - _lease()
        )
        due = waiting.filter(claims__lt=settings.PROBE_BATCH_CLAIMS).filter(
            Q(queued_at__isnull=True) | Q(queued_at__lt=now - _lease())
        )
        lost = Q(lease_until__lt=now)
        if still:
            lost |= Q(lease_until__isnull=True)
        again = [
            batch
            for batch in due.filter(lost)
            if SweepBatch.objects.filter(pk=batch.pk, queued_at=batch.queued_at).update(
                queued_at=now
            )
        ]
        if again:
            # Stopped when the dead worker last renewed its lease, or, for a batch whose
            # message was lost, when the sweep last moved.
            moved = last_done or sweep.started_at
            stopped = min(b.lease_until - _lease() if b.lease_until else moved for b in again)
            interruption_record(
                Sweep, sweep.pk, reason=Reason.STALLED, at=stopped, resumed_at=now, count=len(again)
            )
            resent += again
    if resent:
        logger.warning("sent again: %s", ", ".join(str(b) for b in resent))
        transaction.on_commit(lambda: batches_send(resent))
    return len(resent)


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
    """Probe a batch and record it, once: a redelivered batch that is done or leased does
    nothing, and one whose worker died before recording is probed again. A batch whose
    results cannot be recorded at all is still counted done, so its sweep finishes."""
    batch = batch_claim(batch_id)
    if batch is None:
        return  # done, being probed by a live worker, or its sweep is over
    endpoints = list(Endpoint.objects.filter(pk__in=batch.endpoint_ids))
    with _heartbeat(batch.pk):
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
    from checks.tasks import events_mail

    finished = Sweep.objects.filter(pk=sweep_id, status=Sweep.Status.RUNNING).update(
        status=Sweep.Status.FINISHED, finished_at=timezone.now()
    )
    if finished:
        transaction.on_commit(events_mail.delay)
        findings_recompute_later()


def endpoint_check(endpoint_id: int) -> None:
    """ "Check now": probe one endpoint outside any sweep and record the result."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return
    outcomes = probe_endpoints([endpoint])
    with transaction.atomic():
        results_record(outcomes, sweep=None, at=timezone.now())
        Endpoint.objects.filter(pk=endpoint_id).update(check_requested_at=None)
        findings_recompute_later()
