"""The only code that writes probe results: each endpoint's result with its state
transition and the events it causes, every value a server chose cleaned first.

Each result is written in a savepoint of its own: a result the database refuses
is logged and left out, and never costs the other endpoints of the batch theirs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction

from checks.models import Endpoint, Event, ProbeResult, Sweep
from checks.probes import ProbeResult as ProbeOutcome
from checks.probes import result_cleaned
from checks.states import failures_counted, observed_state, transition

logger = logging.getLogger(__name__)

EVENT_DETAIL_LENGTH = Event._meta.get_field("detail").max_length


def _row(
    endpoint: Endpoint, outcome: ProbeOutcome, sweep: Sweep | None, at: datetime
) -> ProbeResult:
    data = outcome.as_dict()
    return ProbeResult(
        endpoint=endpoint,
        sweep=sweep,
        checked_at=at,
        reachable=outcome.reachable,
        error=outcome.error or "",
        error_message=outcome.error_message or "",
        banner=outcome.banner or "",
        starttls_offered=outcome.starttls_offered,
        tls_version=outcome.tls_version or "",
        cipher=outcome.cipher or "",
        tls_versions_accepted=data["tls_versions_accepted"],
        certificate=data["certificate"],
        plaintext_auth_before_tls=outcome.plaintext_auth_before_tls,
        elapsed_ms=outcome.elapsed_ms,
        cert_not_after=outcome.certificate.not_after if outcome.certificate else None,
        cert_trusted=outcome.certificate.trusted if outcome.certificate else None,
        cert_hostname_match=outcome.certificate.hostname_match if outcome.certificate else None,
    )


def _record_one(
    endpoint: Endpoint, outcome: ProbeOutcome, *, sweep: Sweep | None, at: datetime
) -> ProbeResult:
    """Store one cleaned outcome, move the endpoint's state on, record its events."""
    row = _row(endpoint, outcome, sweep, at)
    row.save()
    observed = observed_state(outcome.as_dict(), settings.PROBE_EXPIRY_WARNING_DAYS)
    step = transition(
        endpoint.state,
        endpoint.pending_state,
        endpoint.pending_count,
        observed,
        confirm_after=settings.PROBE_CONFIRM_AFTER,
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(
        last_result=row,
        state=step.state,
        pending_state=step.pending_state,
        pending_count=step.pending_count,
        consecutive_failures=failures_counted(endpoint.consecutive_failures, observed),
    )
    Event.objects.bulk_create(
        Event(endpoint=endpoint, kind=kind, detail=detail[:EVENT_DETAIL_LENGTH])
        for kind, detail in step.events
    )
    return row


def results_record(
    outcomes: dict[int, ProbeOutcome], *, sweep: Sweep | None, at: datetime
) -> list[ProbeResult]:
    """Store one outcome per endpoint id, each on its own (see the module's docstring);
    returns the results stored."""
    rows = []
    with transaction.atomic():
        endpoints = Endpoint.objects.select_for_update().in_bulk(list(outcomes))
        for pk, outcome in outcomes.items():
            if pk not in endpoints:
                continue  # deleted since the batch was made
            try:
                with transaction.atomic():
                    rows.append(
                        _record_one(endpoints[pk], result_cleaned(outcome), sweep=sweep, at=at)
                    )
            except DatabaseError:
                logger.exception("the probe result of %s could not be stored", endpoints[pk])
    return rows
