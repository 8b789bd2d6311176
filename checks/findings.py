"""Findings: what is wrong with each side of each mailbox's current settings,
computed from the sheet, the server-name registry and the latest probe of the
endpoint that side uses.

Set-based: one SQL statement computes the wanted findings of every mailbox
(or of a few) into a temporary table; three more statements add what is new,
update what changed and resolve what is gone. Nothing loops over mailboxes in
Python. The SQL is plain enough for PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from checks.evidence.summary import OLD_TLS
from checks.models import Endpoint, Finding, FindingSummary
from checks.outcomes import NOT_ALLOWED

HIGH, MEDIUM = "high", "medium"

# Sent after a recompute that wrote: mailbox_ids (None for all).
findings_recomputed = Signal()

# code -> (severity, condition on a row `s` of the sides joined with the registry
# name `n` and the endpoint's latest probe `r`, value shown with the finding)
RULES: dict[str, tuple[str, str, str]] = {
    "legacy-hostname": (HIGH, "n.status = 'legacy'", "s.host"),
    "unknown-hostname": (MEDIUM, "n.status IS NULL", "s.host"),
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
    # Like an alert, only after PROBE_CONFIRM_AFTER failed probes in a row (one
    # network blip must not flag every mailbox on a server); gone at the first success.
    "endpoint-unreachable": (
        HIGH,
        f"r.error NOT IN ('', '{NOT_ALLOWED}') AND e.consecutive_failures >= %(confirm_after)s",
        "r.error",
    ),
    # Not probed (checks.probes.NOT_ALLOWED): could not test, which says nothing about the server.
    "endpoint-not-probed": (MEDIUM, f"r.error = '{NOT_ALLOWED}'", "''"),
    "cert-name-mismatch": (HIGH, "r.cert_hostname_match = %(false)s", "s.host"),
    "cert-expired": (HIGH, "r.cert_not_after < %(now)s", "r.cert_not_after"),
    "cert-expiring": (
        MEDIUM,
        "r.cert_not_after >= %(now)s AND r.cert_not_after < %(soon)s",
        "r.cert_not_after",
    ),
    "cert-untrusted": (HIGH, "r.cert_trusted = %(false)s", "''"),
    "tls-outdated": (MEDIUM, "r.tls_version IN ('TLSv1', 'TLSv1.1')", "r.tls_version"),
    "plaintext-auth-exposed": (MEDIUM, "r.plaintext_auth_before_tls = %(true)s", "''"),
}
# What the mail servers' own logs show (checks.evidence): code -> (severity, condition on
# a row `e` of login evidence last seen within LOG_EVIDENCE_WINDOW_DAYS, with its registry
# name `n`). Each finding names the endpoint of the latest such login and its day.
EVIDENCE_RULES: dict[str, tuple[str, str]] = {
    "insecure-login-seen": (HIGH, "e.tls = %(false)s"),
    "legacy-endpoint-seen": (
        HIGH,
        "(e.legacy_address = %(true)s OR n.status = 'legacy' OR {legacy_port})",
    ),
    "legacy-tls-seen": (MEDIUM, f"e.tls_version IN ({', '.join(map(repr, OLD_TLS))})"),
}
CODES: tuple[str, ...] = (*RULES, *EVIDENCE_RULES)
SEVERITY: dict[str, str] = {
    **{code: rule[0] for code, rule in RULES.items()},
    **{code: rule[0] for code, rule in EVIDENCE_RULES.items()},
}

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
# One pass over the sides: every rule's verdict as one bit of `mask`, every
# value the rules show; then one row per set bit, through the small codes table.
FLAGGED = """
    SELECT s.mailbox_id, s.customer_id, s.side, s.host, {mask} AS mask,
           CAST(s.port AS VARCHAR(300)) AS port_value, r.error AS error_value,
           CAST(r.cert_not_after AS VARCHAR(300)) AS expiry_value, r.tls_version AS tls_value
    FROM sides s
    LEFT JOIN accounts_servername n ON n.hostname = s.host
    LEFT JOIN checks_endpoint e ON e.host = s.host AND e.port = s.port
         AND e.protocol = s.protocol AND e.security = s.security
    LEFT JOIN checks_proberesult r ON r.id = e.last_result_id
"""
VALUE_COLUMNS = {"s.host": "f.host", "s.port": "f.port_value", "r.error": "f.error_value",
                 "r.cert_not_after": "f.expiry_value", "r.tls_version": "f.tls_value", "''": "''"}  # fmt: skip
WANTED, CODES_TABLE, GONE, NEW = "finding_wanted", "finding_codes", "finding_gone", "finding_new"
COLUMNS = "mailbox_id, customer_id, side, code, severity, host, value"
FINDINGS = "checks_finding"
FINDING_EXTRA = ", first_seen, last_seen, resolved_at"
FINDING_EXTRA_VALUES = ", %(now)s, %(now)s, NULL"
# The first-ever full computation (no findings at all) writes straight into the table,
# its secondary indexes and foreign keys made again after the insert (bench/README.md).
BULK_FIRST_FILL = True
SAME = (
    "f.mailbox_id = w.mailbox_id AND f.side = w.side AND f.code = w.code"
    " AND f.host = w.host AND f.value = w.value"
)


def _id_list(ids: list[int]) -> str:
    return ", ".join(str(int(pk)) for pk in ids) or "NULL"


def _wanted_sql(mailbox_ids: list[int] | None, *, into: str = WANTED) -> tuple[str, dict]:
    """The statement that writes the wanted findings into the temporary table, or (the
    first fill) straight into checks_finding as open findings seen now."""
    where = f"WHERE m.id IN ({_id_list(mailbox_ids)})" if mailbox_ids is not None else ""
    now = timezone.now()
    params = {
        "now": now,
        "soon": now + timedelta(days=settings.PROBE_EXPIRY_WARNING_DAYS),
        "true": True,
        "false": False,
        "confirm_after": settings.PROBE_CONFIRM_AFTER,
    }
    mask = " + ".join(
        f"(CASE WHEN {condition} THEN {1 << bit} ELSE 0 END)"
        for bit, (_severity, condition, _value) in enumerate(RULES.values())
    )
    value = (
        "CASE c.code "
        + " ".join(f"WHEN '{code}' THEN {VALUE_COLUMNS[rule[2]]}" for code, rule in RULES.items())
        + " END"
    )
    sql = (
        # MATERIALIZED: each row's mask is computed once, not again for the join
        # (PostgreSQL 12+, SQLite 3.35+).
        f"WITH sides AS ({SIDES.format(where=where)}),"
        f" flagged AS MATERIALIZED ({FLAGGED.format(mask=mask)}) "
        f"INSERT INTO {into} ({COLUMNS}{FINDING_EXTRA if into == FINDINGS else ''}) "
        f"SELECT f.mailbox_id, f.customer_id, f.side, c.code, c.severity, f.host,"
        f" COALESCE({value}, ''){FINDING_EXTRA_VALUES if into == FINDINGS else ''}"
        f" FROM flagged f JOIN {CODES_TABLE} c ON (f.mask & c.bit) <> 0 WHERE f.mask <> 0"
    )
    return sql, params


@contextlib.contextmanager
def _indexes_after(cursor) -> Iterator[None]:
    """On PostgreSQL, drop checks_finding's secondary indexes and foreign keys for the
    body (a bulk insert into the empty table) and make them again after it: building an
    index once and checking a foreign key with one join is far cheaper than keeping
    them up row by row (and deferred key checks queue an event per row). The table is
    locked until the transaction ends, so nobody sees it without them."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
        " AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        " WHERE c.conrelid = %s::regclass AND c.conname = i.indexname)",
        [FINDINGS, FINDINGS],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f'",
        [FINDINGS],
    )
    keys = cursor.fetchall()
    # Keys changed while checks deferred in this transaction still wait are refused
    # ("pending trigger events"): run those checks now, and defer again after.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each index sorted in memory
    for name, _definition in keys:
        cursor.execute(f'ALTER TABLE {FINDINGS} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in keys:
        cursor.execute(f'ALTER TABLE {FINDINGS} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute(f"ANALYZE {FINDINGS}")


def legacy_port_sql(row: str = "e") -> str:
    """True for a login on a port that is neither recommended nor the SMTP alternative
    (0, a port the log did not give, is not held against anyone)."""
    allowed = [(protocol, int(port)) for protocol, (port, _s) in settings.RECOMMENDED_PORTS.items()]
    allowed.append(("smtp", int(settings.RECOMMENDED_SMTP_ALTERNATIVE[0])))
    known = " OR ".join(
        f"({row}.protocol = '{protocol}' AND {row}.port = {port})"
        for protocol, port in allowed
        if protocol in ("pop3", "imap", "smtp")
    )
    return f"({row}.port <> 0 AND NOT ({known}))"


EVIDENCE_VALUE = (
    "e.protocol || ' ' || CASE WHEN e.address = '' THEN '' ELSE e.address || ':' END"
    " || CASE WHEN e.port = 0 THEN '?' ELSE CAST(e.port AS VARCHAR(5)) END"
    " || CASE WHEN e.tls_version = '' THEN '' ELSE ' ' || e.tls_version END"
    " || ' ' || SUBSTR(CAST(e.last_seen AS VARCHAR(40)), 1, 10)"
)


def _evidence_sql(mailbox_ids: list[int] | None, *, into: str = WANTED) -> tuple[str, dict]:
    """The log-evidence findings into the same wanted table (or, the first fill, straight
    into checks_finding): per mailbox, side and code, the latest matching login (its
    endpoint and day are the finding's value)."""
    where = f"AND e.mailbox_id IN ({_id_list(mailbox_ids)})" if mailbox_ids is not None else ""
    conditions = [
        condition.format(legacy_port=legacy_port_sql()) for _s, condition in EVIDENCE_RULES.values()
    ]
    # One pass over the evidence in the window: the rows any rule flags, each rule's verdict
    # kept (MATERIALIZED: worked out once); then a row per rule that flags it.
    flagged = (
        f"SELECT e.id, e.mailbox_id, m.customer_id,"
        f" CASE WHEN e.protocol = 'smtp' THEN 'outgoing' ELSE 'incoming' END AS side,"
        f" COALESCE(n.hostname, e.address) AS host, {EVIDENCE_VALUE} AS value, e.last_seen,"
        + ", ".join(
            f" CASE WHEN {c} THEN 1 ELSE 0 END AS rule{i}" for i, c in enumerate(conditions)
        )
        + " FROM checks_loginevidence e JOIN accounts_mailbox m ON m.id = e.mailbox_id"
        f" LEFT JOIN accounts_servername n ON n.id = e.server_id"
        f" WHERE e.last_seen >= %(window)s {where} AND ("
        + " OR ".join(f"({c})" for c in conditions)
        + ")"
    )
    seen = " UNION ALL ".join(
        f"SELECT f.id, f.mailbox_id, f.customer_id, f.side, '{code}' AS code,"
        f" '{severity}' AS severity, f.host, f.value, f.last_seen FROM evidence_flagged f"
        f" WHERE f.rule{i} = 1"
        for i, (code, (severity, _c)) in enumerate(EVIDENCE_RULES.items())
    )
    sql = (
        f"WITH evidence_flagged AS MATERIALIZED ({flagged}) "
        f"INSERT INTO {into} ({COLUMNS}{FINDING_EXTRA if into == FINDINGS else ''})"
        f" SELECT {COLUMNS}{FINDING_EXTRA_VALUES if into == FINDINGS else ''} FROM ("
        f"SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.mailbox_id, s.side, s.code"
        f" ORDER BY s.last_seen DESC, s.id DESC) AS latest FROM ({seen}) s) x WHERE x.latest = 1"
    )
    now = timezone.now()
    params = {
        "now": now,
        "window": now - timedelta(days=settings.LOG_EVIDENCE_WINDOW_DAYS),
        "true": True,
        "false": False,
    }
    return sql, params


def _temp_tables(cursor) -> None:
    for table in (WANTED, CODES_TABLE, GONE, NEW):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {WANTED} (mailbox_id BIGINT, customer_id BIGINT,"
        " side VARCHAR(8), code VARCHAR(32), severity VARCHAR(8), host VARCHAR(253),"
        " value VARCHAR(300))"
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE {CODES_TABLE} (code VARCHAR(32), severity VARCHAR(8), bit BIGINT)"
    )
    cursor.executemany(
        f"INSERT INTO {CODES_TABLE} (code, severity, bit) VALUES (%s, %s, %s)",
        [(code, rule[0], 1 << bit) for bit, (code, rule) in enumerate(RULES.items())],
    )


def _apply(
    cursor, now: datetime, mailbox_ids: list[int] | None, *, evidence_only: bool = False
) -> Counter:
    """Write the difference between the wanted and the open findings (of the evidence
    codes alone when only those were computed); returns the change in counts per
    (dimension, key) for the summary.

    A finding whose host or value changed (another legacy name, say) is resolved
    and opened anew: it is a new problem.
    """
    scope = f"AND f.mailbox_id IN ({_id_list(mailbox_ids)})" if mailbox_ids is not None else ""
    codes = f"AND f.code IN ({', '.join(map(repr, EVIDENCE_RULES))})" if evidence_only else ""
    scope += f" {codes}"
    cursor.execute(f"CREATE INDEX {WANTED}_key ON {WANTED} (mailbox_id, side, code)")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {GONE} AS SELECT f.id, f.code, f.severity, f.customer_id, f.host"
        f" FROM checks_finding f WHERE f.resolved_at IS NULL {scope}"
        f" AND NOT EXISTS (SELECT 1 FROM {WANTED} w WHERE {SAME})"
    )
    cursor.execute(
        f"UPDATE checks_finding SET resolved_at = %s WHERE id IN (SELECT id FROM {GONE})", [now]
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE {NEW} AS SELECT {COLUMNS} FROM {WANTED} w"
        f" WHERE NOT EXISTS (SELECT 1 FROM checks_finding f WHERE f.resolved_at IS NULL"
        # (the same rows: only those codes are wanted; the open findings of the others
        # are left out of the comparison)
        f" {codes} AND {SAME})"
    )
    cursor.execute(
        f"INSERT INTO checks_finding ({COLUMNS}, first_seen, last_seen, resolved_at)"
        f" SELECT {COLUMNS}, %s, %s, NULL FROM {NEW}",
        [now, now],
    )
    if mailbox_ids is not None:
        cursor.execute(
            # (SQLite's UPDATE takes no alias: the rows are named by a subquery)
            f"UPDATE checks_finding SET last_seen = %s WHERE id IN (SELECT f.id FROM"
            f" checks_finding f WHERE f.resolved_at IS NULL {scope})",
            [now],
        )
    delta: Counter = Counter()
    for table, sign in ((GONE, -1), (NEW, +1)):
        cursor.execute(
            f"SELECT code, severity, customer_id, host, COUNT(*) FROM {table}"
            " GROUP BY code, severity, customer_id, host"
        )
        for code, severity, customer_id, host, n in cursor.fetchall():
            for key in (("code", code), ("severity", severity), ("customer", str(customer_id)),
                        ("host", host), ("total", "")):  # fmt: skip
                delta[key] += sign * n
    for table in (WANTED, CODES_TABLE, GONE, NEW):
        cursor.execute(f"DROP TABLE {table}")
    return delta


# A fingerprint is two halves: what all findings depend on (sheets, registry, probes) and
# what only the log-evidence findings depend on. When only the second changed (an ingest,
# the window moving on) only those findings are recomputed.
HALF = 32


def fingerprint() -> str:
    """What full findings depend on, hashed: the sheets, the registry and each endpoint's
    latest verdicts as of now (first half), and the login evidence in the window (second
    half). Equal fingerprints: nothing to recompute."""
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
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(count), 0), MAX(last_seen) FROM checks_loginevidence"
            " WHERE last_seen >= %s",
            [now - timedelta(days=settings.LOG_EVIDENCE_WINDOW_DAYS)],
        )
        evidence = cursor.fetchone()
    for endpoint in Endpoint.objects.select_related("last_result").order_by("pk"):
        r = endpoint.last_result
        if r is None:
            continue
        parts.append(
            (
                endpoint.pk,
                r.error,
                endpoint.consecutive_failures >= settings.PROBE_CONFIRM_AFTER,
                r.cert_trusted,
                r.cert_hostname_match,
                r.cert_not_after is not None and r.cert_not_after < now,
                r.cert_not_after is not None and r.cert_not_after < soon,
                r.tls_version,
                r.plaintext_auth_before_tls,
            )
        )
    parts.append((settings.PROBE_EXPIRY_WARNING_DAYS, settings.PROBE_CONFIRM_AFTER))
    return (
        hashlib.sha256(repr(parts).encode()).hexdigest()[:HALF]
        + hashlib.sha256(repr((evidence, settings.LOG_EVIDENCE_WINDOW_DAYS)).encode()).hexdigest()[
            :HALF
        ]
    )


def findings_pending_mark() -> None:
    """Note, in the transaction that changes them, that inputs of the findings changed
    after the last full recompute (the earliest such time is kept until one runs)."""
    now = timezone.now()
    if not FindingSummary.objects.filter(pk=1, pending_since__isnull=True).update(
        pending_since=now
    ):
        FindingSummary.objects.get_or_create(pk=1, defaults={"pending_since": now})


def findings_recompute_later() -> None:
    """A full recompute by a worker once this transaction commits; until it has run,
    everything that shows findings says that they are pending."""
    from checks.tasks import findings_recompute_all

    findings_pending_mark()
    transaction.on_commit(findings_recompute_all.delay)


def findings_pending_since() -> datetime | None:
    """When inputs changed after the last full recompute; None when the findings are current."""
    return FindingSummary.objects.filter(pk=1).values_list("pending_since", flat=True).first()


def pending_text(since: datetime) -> str:
    """The notice for exports and the command line (pages use includes/findings_pending.html)."""
    return _(
        "Findings recompute pending since %(since)s: inputs changed after the last full"
        " recompute, so these findings may be out of date."
    ) % {"since": timezone.localtime(since).strftime("%Y-%m-%d %H:%M")}


def findings_recompute(
    mailbox_ids: list[int] | None = None, *, force: bool = False, evidence_only: bool = False
) -> bool:
    """Recompute the findings of some mailboxes, or of all (None). Returns False when
    a full recompute found nothing changed since the last one and did nothing.

    `evidence_only`: the caller changed nothing but login evidence (an ingest), so only
    the log-evidence findings of those mailboxes are computed again. A full recompute
    does that by itself when the sheets, the registry and the probes are as they were at
    the last one (the fingerprint's first half) and only the evidence moved on.
    """
    now = timezone.now()
    with transaction.atomic():
        summary, _ = FindingSummary.objects.select_for_update().get_or_create(pk=1)
        if mailbox_ids is None:
            inputs = fingerprint()
            if not force and summary.fingerprint == inputs:
                if summary.pending_since is not None:
                    summary.pending_since = None  # the inputs came back to what was computed
                    summary.save(update_fields=["pending_since"])
                return False
            evidence_only = (
                not force
                and summary.pending_since is None
                and summary.fingerprint[:HALF] == inputs[:HALF]
            )
        first = mailbox_ids is None and BULK_FIRST_FILL and not Finding.objects.exists()
        evidence_only = evidence_only and not first
        sql, params = _wanted_sql(mailbox_ids, into=FINDINGS if first else WANTED)
        with connection.cursor() as cursor:
            _temp_tables(cursor)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {CODES_TABLE}")
            if first:
                # Nothing to compare with: no temporary copy, no differences.
                with _indexes_after(cursor):
                    cursor.execute(sql, params)
                    cursor.execute(*_evidence_sql(mailbox_ids, into=FINDINGS))
                for table in (WANTED, CODES_TABLE, GONE, NEW):
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                delta = Counter()
            else:
                if not evidence_only:
                    cursor.execute(sql, params)
                cursor.execute(*_evidence_sql(mailbox_ids))
                if connection.vendor == "postgresql":
                    cursor.execute(f"ANALYZE {WANTED}")  # temporary tables have no statistics
                delta = _apply(cursor, now, mailbox_ids, evidence_only=evidence_only)
        if mailbox_ids is None:
            summary.counts = _merged(summary.counts, delta) if evidence_only else summary_counts()
            summary.fingerprint = inputs
            summary.computed_at = now
            summary.pending_since = None
        else:
            summary.counts = _merged(summary.counts, delta)
            # The next full run must look: at everything after a sheet changed, at the
            # evidence of the other mailboxes after an ingest.
            summary.fingerprint = summary.fingerprint[:HALF] if evidence_only else ""
        summary.save()
        findings_recomputed.send(sender=Finding, mailbox_ids=mailbox_ids)
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
