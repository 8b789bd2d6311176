"""Findings: what is wrong with each side of each mailbox's current settings,
computed from the sheet, the server-name registry and the latest probe of the
endpoint that side uses.

Set-based: one SQL statement computes the wanted findings of every mailbox
(or of a few) into a temporary table; three more statements add what is new,
update what changed and resolve what is gone. Nothing loops over mailboxes in
Python. The SQL is plain enough for PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from checks.models import Endpoint, Finding, FindingSummary

HIGH, MEDIUM = "high", "medium"

# code -> (severity, condition on a row `s` of sides, or of probed for PROBE_RULES, value shown)
SHEET_RULES: dict[str, tuple[str, str, str]] = {
    "legacy-hostname": (
        HIGH,
        "s.host IN (SELECT hostname FROM accounts_servername WHERE status = 'legacy')",
        "s.host",
    ),
    "unknown-hostname": (
        MEDIUM,
        "s.host NOT IN (SELECT hostname FROM accounts_servername)",
        "s.host",
    ),
    "plaintext-port": (HIGH, "s.security = 'none'", "s.port"),
    "port-security-mismatch": (
        HIGH,
        "((s.security = 'ssl' AND s.port IN (110, 143, 25, 587))"
        " OR (s.security = 'starttls' AND s.port IN (995, 993, 465)))",
        "s.port",
    ),
    "swapped-ports": (
        HIGH,
        "((s.side = 'incoming' AND s.port IN (25, 465, 587))"
        " OR (s.side = 'outgoing' AND s.port IN (110, 995, 143, 993)))",
        "s.port",
    ),
    "pop-before-smtp": (MEDIUM, "s.side = 'outgoing' AND s.smtp_auth = 'pop-before-smtp'", "''"),
    "no-smtp-auth": (HIGH, "s.side = 'outgoing' AND s.smtp_auth = 'none'", "''"),
}
PROBE_RULES: dict[str, tuple[str, str, str]] = {
    "endpoint-unreachable": (HIGH, "s.error <> ''", "s.error"),
    "cert-name-mismatch": (HIGH, "s.cert_hostname_match = %(false)s", "s.host"),
    "cert-expired": (HIGH, "s.cert_not_after < %(now)s", "s.cert_not_after"),
    "cert-expiring": (
        MEDIUM,
        "s.cert_not_after >= %(now)s AND s.cert_not_after < %(soon)s",
        "s.cert_not_after",
    ),
    "cert-untrusted": (HIGH, "s.cert_trusted = %(false)s", "''"),
    "tls-outdated": (MEDIUM, "s.tls_version IN ('TLSv1', 'TLSv1.1')", "s.tls_version"),
    "plaintext-auth-exposed": (MEDIUM, "s.plaintext_auth_before_tls = %(true)s", "''"),
}
CODES: tuple[str, ...] = (*SHEET_RULES, *PROBE_RULES)
SEVERITY: dict[str, str] = {code: rule[0] for code, rule in {**SHEET_RULES, **PROBE_RULES}.items()}

SIDES = """
    SELECT m.id AS mailbox_id, m.customer_id AS customer_id, 'incoming' AS side,
           m.protocol AS protocol, h.incoming_host AS host, h.incoming_port AS port,
           h.incoming_security AS security, h.smtp_auth AS smtp_auth
    FROM accounts_mailbox m JOIN accounts_settingssheet h ON h.id = m.current_sheet_id {where}
    UNION ALL
    SELECT m.id, m.customer_id, 'outgoing', 'smtp', h.outgoing_host, h.outgoing_port,
           h.outgoing_security, h.smtp_auth
    FROM accounts_mailbox m JOIN accounts_settingssheet h ON h.id = m.current_sheet_id {where}
"""
PROBED = """
    SELECT s.*, r.error, r.cert_not_after, r.cert_trusted, r.cert_hostname_match,
           r.tls_version, r.plaintext_auth_before_tls
    FROM sides s
    JOIN checks_endpoint e ON e.host = s.host AND e.port = s.port
         AND e.protocol = s.protocol AND e.security = s.security
    JOIN checks_proberesult r ON r.id = e.last_result_id
"""
WANTED = "finding_wanted"
MATCH = "f.mailbox_id = w.mailbox_id AND f.side = w.side AND f.code = w.code"


def _id_list(ids: list[int]) -> str:
    return ", ".join(str(int(pk)) for pk in ids) or "NULL"


def _select(code: str, rule: tuple[str, str, str], source: str) -> str:
    severity, condition, value = rule
    return (
        f"SELECT s.mailbox_id, s.customer_id, s.side, '{code}', '{severity}', s.host,"
        f" CAST({value} AS VARCHAR(300)) FROM {source} s WHERE {condition}"
    )


def _wanted_sql(mailbox_ids: list[int] | None) -> tuple[str, dict]:
    where = ""
    params: dict = {}
    if mailbox_ids is not None:
        where = f"WHERE m.id IN ({_id_list(mailbox_ids)})"
    now = timezone.now()
    params = {
        "now": now,
        "soon": now + timedelta(days=settings.PROBE_EXPIRY_WARNING_DAYS),
        "true": True,
        "false": False,
    }
    selects = [_select(code, rule, "sides") for code, rule in SHEET_RULES.items()]
    selects += [_select(code, rule, "probed") for code, rule in PROBE_RULES.items()]
    sql = (
        f"WITH sides AS ({SIDES.format(where=where)}), probed AS ({PROBED}) "
        f"INSERT INTO {WANTED} (mailbox_id, customer_id, side, code, severity, host, value) "
        + " UNION ALL ".join(selects)
    )
    return sql, params


def _temp_table(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {WANTED}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {WANTED} (mailbox_id BIGINT, customer_id BIGINT,"
        " side VARCHAR(8), code VARCHAR(32), severity VARCHAR(8), host VARCHAR(253),"
        " value VARCHAR(300))"
    )


def _apply(cursor, now: datetime, mailbox_ids: list[int] | None) -> Counter:
    """Write the difference between the wanted and the open findings; returns the
    change in counts per (dimension, key) for the summary."""
    scope = ""
    if mailbox_ids is not None:
        scope = f"AND f.mailbox_id IN ({_id_list(mailbox_ids)})"
    cursor.execute(f"CREATE INDEX {WANTED}_key ON {WANTED} (mailbox_id, side, code)")
    delta: Counter = Counter()
    # Resolved: open, in scope, no longer wanted.
    cursor.execute(
        f"SELECT f.code, f.severity, f.customer_id, f.host FROM checks_finding f"
        f" WHERE f.resolved_at IS NULL {scope}"
        f" AND NOT EXISTS (SELECT 1 FROM {WANTED} w WHERE {MATCH})"
    )
    for row in cursor.fetchall():
        _count(delta, row, -1)
    cursor.execute(
        f"UPDATE checks_finding SET resolved_at = %s WHERE resolved_at IS NULL {scope.replace('f.', '')}"
        f" AND NOT EXISTS (SELECT 1 FROM {WANTED} w WHERE w.mailbox_id = checks_finding.mailbox_id"
        " AND w.side = checks_finding.side AND w.code = checks_finding.code)",
        [now],
    )
    # Changed: the same finding with another value or host (e.g. another legacy name).
    cursor.execute(
        "UPDATE checks_finding SET"
        f" value = (SELECT w.value FROM {WANTED} w WHERE w.mailbox_id = checks_finding.mailbox_id"
        " AND w.side = checks_finding.side AND w.code = checks_finding.code),"
        f" host = (SELECT w.host FROM {WANTED} w WHERE w.mailbox_id = checks_finding.mailbox_id"
        " AND w.side = checks_finding.side AND w.code = checks_finding.code),"
        " last_seen = %s"
        f" WHERE resolved_at IS NULL {scope.replace('f.', '')} AND EXISTS (SELECT 1 FROM {WANTED} w"
        " WHERE w.mailbox_id = checks_finding.mailbox_id AND w.side = checks_finding.side"
        " AND w.code = checks_finding.code AND (w.value <> checks_finding.value"
        " OR w.host <> checks_finding.host))",
        [now],
    )
    # New: wanted, not open.
    cursor.execute(
        f"SELECT w.code, w.severity, w.customer_id, w.host FROM {WANTED} w"
        " WHERE NOT EXISTS (SELECT 1 FROM checks_finding f WHERE f.resolved_at IS NULL"
        f" AND {MATCH})"
    )
    for row in cursor.fetchall():
        _count(delta, row, +1)
    cursor.execute(
        "INSERT INTO checks_finding (mailbox_id, customer_id, side, code, severity, host, value,"
        " first_seen, last_seen, resolved_at)"
        " SELECT w.mailbox_id, w.customer_id, w.side, w.code, w.severity, w.host, w.value, %s, %s,"
        f" NULL FROM {WANTED} w WHERE NOT EXISTS (SELECT 1 FROM checks_finding f"
        f" WHERE f.resolved_at IS NULL AND {MATCH})",
        [now, now],
    )
    if mailbox_ids is not None:
        cursor.execute(
            f"UPDATE checks_finding SET last_seen = %s WHERE resolved_at IS NULL {scope.replace('f.', '')}",
            [now],
        )
    cursor.execute(f"DROP TABLE {WANTED}")
    return delta


def _count(delta: Counter, row: tuple, sign: int) -> None:
    code, severity, customer_id, host = row
    for key in (
        ("code", code),
        ("severity", severity),
        ("customer", str(customer_id)),
        ("host", host),
    ):
        delta[key] += sign
    delta[("total", "")] += sign


def fingerprint() -> str:
    """What full findings depend on, hashed: the sheets, the registry, and each
    endpoint's latest verdicts as of now. Equal fingerprints: nothing to recompute."""
    now = timezone.now()
    soon = now + timedelta(days=settings.PROBE_EXPIRY_WARNING_DAYS)
    parts = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM accounts_settingssheet")
        parts.append(cursor.fetchone())
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(current_sheet_id), 0), COALESCE(MAX(id), 0)"
            " FROM accounts_mailbox"
        )
        parts.append(cursor.fetchone())
        cursor.execute("SELECT hostname, status FROM accounts_servername ORDER BY hostname")
        parts.append(cursor.fetchall())
    for endpoint in Endpoint.objects.select_related("last_result").order_by("pk"):
        r = endpoint.last_result
        if r is None:
            continue
        parts.append(
            (
                endpoint.pk,
                r.error,
                r.cert_trusted,
                r.cert_hostname_match,
                r.cert_not_after is not None and r.cert_not_after < now,
                r.cert_not_after is not None and r.cert_not_after < soon,
                r.tls_version,
                r.plaintext_auth_before_tls,
            )
        )
    parts.append(settings.PROBE_EXPIRY_WARNING_DAYS)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def findings_recompute(mailbox_ids: list[int] | None = None, *, force: bool = False) -> bool:
    """Recompute the findings of some mailboxes, or of all (None). Returns False when
    a full recompute found nothing changed since the last one and did nothing."""
    now = timezone.now()
    with transaction.atomic():
        summary, _ = FindingSummary.objects.select_for_update().get_or_create(pk=1)
        if mailbox_ids is None:
            inputs = fingerprint()
            if not force and summary.fingerprint == inputs:
                return False
        sql, params = _wanted_sql(mailbox_ids)
        with connection.cursor() as cursor:
            _temp_table(cursor)
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {WANTED}")  # temporary tables have no statistics
            delta = _apply(cursor, now, mailbox_ids)
        if mailbox_ids is None:
            summary.counts = summary_counts()
            summary.fingerprint = inputs
            summary.computed_at = now
        else:
            summary.counts = _merged(summary.counts, delta)
            summary.fingerprint = ""  # the sheets changed: the next full run must look
        summary.save()
    return True


def _merged(counts: dict, delta: Counter) -> dict:
    merged = {dimension: dict(values) for dimension, values in counts.items()}
    for (dimension, key), change in delta.items():
        values = merged.setdefault(dimension, {})
        values[key] = values.get(key, 0) + change
        if values[key] <= 0:
            del values[key]
    return merged


def summary_counts() -> dict:
    """Open findings counted by code, severity, customer and host (set-based)."""
    counts: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        for dimension, column in (
            ("code", "code"),
            ("severity", "severity"),
            ("customer", "customer_id"),
            ("host", "host"),
        ):
            cursor.execute(
                f"SELECT {column}, COUNT(*) FROM checks_finding WHERE resolved_at IS NULL"
                f" GROUP BY {column}"
            )
            counts[dimension] = {str(key): n for key, n in cursor.fetchall()}
        cursor.execute("SELECT COUNT(*) FROM checks_finding WHERE resolved_at IS NULL")
        counts["total"] = {"": cursor.fetchone()[0]}
    return counts


def open_findings():
    return Finding.objects.filter(resolved_at__isnull=True)
