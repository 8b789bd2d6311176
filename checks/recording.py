"""The only code that writes probe results: one transaction per batch, with the
endpoints' state transitions and the events they cause."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction

from checks.models import Endpoint, Event, ProbeResult, Sweep
from checks.probes import ProbeResult as ProbeOutcome
from checks.states import failures_counted, observed_state, transition


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
        error_message=(outcome.error_message or "")[:300],
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


def results_record(
    outcomes: dict[int, ProbeOutcome], *, sweep: Sweep | None, at: datetime
) -> list[ProbeResult]:
    """Store one outcome per endpoint id; move each endpoint's state on; record events."""
    with transaction.atomic():
        endpoints = Endpoint.objects.select_for_update().in_bulk(list(outcomes))
        rows = ProbeResult.objects.bulk_create(
            _row(endpoints[pk], outcome, sweep, at) for pk, outcome in outcomes.items()
        )
        events = []
        for row in rows:
            endpoint = endpoints[row.endpoint_id]
            observed = observed_state(
                outcomes[endpoint.pk].as_dict(), settings.PROBE_EXPIRY_WARNING_DAYS
            )
            step = transition(
                endpoint.state,
                endpoint.pending_state,
                endpoint.pending_count,
                observed,
                confirm_after=settings.PROBE_CONFIRM_AFTER,
            )
            endpoint.consecutive_failures = failures_counted(
                endpoint.consecutive_failures, observed
            )
            endpoint.last_result = row
            endpoint.state, endpoint.pending_state = step.state, step.pending_state
            endpoint.pending_count = step.pending_count
            events += [Event(endpoint=endpoint, kind=k, detail=d) for k, d in step.events]
        Endpoint.objects.bulk_update(
            endpoints.values(),
            ["last_result", "state", "pending_state", "pending_count", "consecutive_failures"],
        )
        Event.objects.bulk_create(events)
    return rows
