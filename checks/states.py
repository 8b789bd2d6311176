"""An endpoint's state as support staff care about it, and when a change of it
becomes an event. Pure functions on plain dicts; no database.

A probe that could not determine something (None) never changes the state: "could
not test" is kept apart from a real "no". A new state must be seen in
`confirm_after` probes in a row before it is confirmed, so a flapping server
does not flood the alert inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checks.outcomes import NOT_ALLOWED

FACTS = ("working", "cert_names", "cert_expiring", "tls_versions", "plaintext_auth")


def observed_state(result: dict[str, Any], expiry_days: int) -> dict[str, Any]:
    """The facts one probe result shows (as ProbeResult.as_dict() gives it)."""
    certificate = result.get("certificate")
    versions = result.get("tls_versions_accepted")
    error = result.get("error")
    return {
        "working": None if error == NOT_ALLOWED else error is None,
        "cert_names": sorted(certificate["sans"]) if certificate else None,
        "cert_expiring": certificate["days_left"] <= expiry_days if certificate else None,
        "tls_versions": list(versions) if versions is not None else None,
        "plaintext_auth": result.get("plaintext_auth_before_tls"),
    }


def failures_counted(previous: int, observed: dict[str, Any]) -> int:
    """Failed probes in a row: one more after a failure, none after a success, the same
    when the probe could not tell (an endpoint not probed)."""
    if observed["working"] is None:
        return previous
    return 0 if observed["working"] else previous + 1


def merged(previous: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    """What is known now: each observed fact, or the previous one where the probe could not tell."""
    return {
        fact: observed.get(fact) if observed.get(fact) is not None else previous.get(fact)
        for fact in FACTS
    }


def changes(previous: dict[str, Any], current: dict[str, Any]) -> list[tuple[str, str]]:
    """(event kind, detail) for each fact that changed. On first sight only what is
    wrong is an event: an unknown previous state is taken as a healthy one."""

    def was(fact: str, default: Any) -> Any:
        return previous.get(fact, default) if previous.get(fact) is not None else default

    found = []
    if current["working"] is False and was("working", True):
        found.append(("unreachable", ""))
    elif current["working"] is True and was("working", True) is False:
        found.append(("reachable", ""))
    if current["cert_expiring"] is True and not was("cert_expiring", False):
        found.append(("cert-expiring", ""))
    elif current["cert_expiring"] is False and was("cert_expiring", False):
        found.append(("cert-renewed", ""))
    if current["plaintext_auth"] is True and not was("plaintext_auth", False):
        found.append(("plaintext-auth", ""))
    elif current["plaintext_auth"] is False and was("plaintext_auth", False):
        found.append(("plaintext-auth-gone", ""))
    for fact, kind in (("cert_names", "cert-names"), ("tls_versions", "tls-versions")):
        before, after = previous.get(fact), current.get(fact)
        if before is not None and after is not None and before != after:
            found.append((kind, f"{', '.join(before) or '-'} → {', '.join(after) or '-'}"))
    return found


@dataclass
class Transition:
    state: dict[str, Any]
    pending_state: dict[str, Any]
    pending_count: int
    events: list[tuple[str, str]] = field(default_factory=list)


def transition(
    state: dict[str, Any],
    pending_state: dict[str, Any],
    pending_count: int,
    observed: dict[str, Any],
    *,
    confirm_after: int,
) -> Transition:
    """The endpoint's next (state, pending state, count) and the events to record."""
    candidate = merged(state, observed)
    if state and candidate == state:
        return Transition(state, {}, 0)
    count = pending_count + 1 if candidate == pending_state else 1
    if count < confirm_after:
        return Transition(state, candidate, count)
    return Transition(candidate, {}, 0, changes(state, candidate))
