"""The one writer of login evidence: events from `checks.evidence.parse` → which mailbox
and which endpoint → counted per (mailbox, protocol, endpoint, TLS, TLS version).

Idempotent: every event's session key is hashed into `SeenLogin` with an insert that
skips keys already there and returns the new ones; only those are counted. Each batch
(the keys, the evidence upserts and the source's counts) is one transaction, so a batch
is either wholly counted or not at all, and repeating it counts nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Mailbox, MailDomain, ServerName
from checks.evidence.models import LoginEvidence, LogSource, SeenLogin
from checks.evidence.parse import LOGIN, LoginEvent, LogReader

AMBIGUOUS = -1  # a login name more than one mailbox answers to
BATCH_SIZE = 20_000  # events per transaction
CHUNK = 500  # rows per INSERT statement


@dataclass
class Directory:
    """What an ingest looks names and addresses up in, loaded once."""

    logins: dict[str, int] = field(default_factory=dict)  # login name (lower) → mailbox id
    # address → (the registry name when only one name has it, only legacy names have it)
    addresses: dict[str, tuple[int | None, bool]] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)  # listening port → standard port
    # (login name, server name) → mailbox, for names several mailboxes share (say "info"
    # on many domains): the one whose sheet uses the server the login reached.
    on_server: dict[tuple[str, str], int] = field(default_factory=dict)
    server_names: dict[int, str] = field(default_factory=dict)  # registry id → host name


def directory_load() -> Directory:
    """Login names (user name, address, the domain's login pattern) and registry addresses."""
    directory = Directory()
    logins = directory.logins

    shared: dict[str, set[int]] = {}

    def add(name: str, pk: int) -> None:
        name = name.lower()
        found = logins.setdefault(name, pk)
        if found != pk:
            shared.setdefault(name, set()).update({pk} if found == AMBIGUOUS else {pk, found})
            logins[name] = AMBIGUOUS

    for pk, email, username in Mailbox.objects.values_list("pk", "email", "username").iterator(
        chunk_size=10_000
    ):
        add(email, pk)
        add(username, pk)
    domains = {d.domain: d for d in MailDomain.objects.all()}
    if domains:
        for pk, email, domain in Mailbox.objects.filter(domain__in=domains).values_list(
            "pk", "email", "domain"
        ):
            add(domains[domain].login_name(email), pk)
    _shared_names(directory, shared)
    names: dict[str, list[tuple[int, bool]]] = {}
    for pk, status, addresses in ServerName.objects.exclude(addresses="").values_list(
        "pk", "status", "addresses"
    ):
        for address in addresses.split():
            names.setdefault(address, []).append((pk, status == ServerName.Status.LEGACY))
    directory.addresses = {
        address: (found[0][0] if len(found) == 1 else None, all(legacy for _, legacy in found))
        for address, found in names.items()
    }
    directory.ports = {actual: port for port, actual in settings.PROBE_PORT_MAP.items()}
    return directory


def _shared_names(directory: Directory, shared: dict[str, set[int]]) -> None:
    """For login names several mailboxes share: which one each server name means."""
    ids = {pk for pks in shared.values() for pk in pks}
    hosts: dict[int, set[str]] = {}
    for pk, incoming, outgoing in Mailbox.objects.filter(pk__in=ids).values_list(
        "pk", "current_sheet__incoming_host", "current_sheet__outgoing_host"
    ):
        hosts[pk] = {incoming, outgoing} - {None}
    for name, pks in shared.items():
        for pk in pks:
            for host in hosts.get(pk, ()):
                key = (name, host)
                found = directory.on_server.setdefault(key, pk)
                if found != pk:
                    directory.on_server[key] = AMBIGUOUS
    directory.server_names = dict(ServerName.objects.values_list("pk", "hostname"))


def _key(event: LoginEvent) -> str:
    return hashlib.blake2b(f"{event.outcome}|{event.session}".encode(), digest_size=16).hexdigest()


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _copy(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    """PostgreSQL: rows into a temporary table (emptied at commit) with COPY, much faster
    than statements with thousands of parameters."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({TEMP_TABLES[table]}) ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"DELETE FROM {table}")  # a caller's transaction may not have ended
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_seen(cursor, keys: dict[str, datetime]) -> set[str]:
    """Insert the keys not yet seen; returns those (the events to count)."""
    table, column = SeenLogin._meta.db_table, connection.ops.quote_name("key")
    new: set[str] = set()
    if connection.vendor == "postgresql":
        _copy(cursor, "evidence_new_keys", f"{column}, at", list(keys.items()))
        cursor.execute(
            # ORDER BY: two workers given overlapping batches wait for each other, never deadlock.
            f"INSERT INTO {table} ({column}, at) SELECT {column}, at FROM evidence_new_keys"
            f" ORDER BY {column} ON CONFLICT ({column}) DO NOTHING RETURNING {column}"
        )
        return {row[0] for row in cursor.fetchall()}
    for chunk in _chunks(list(keys.items())):
        cursor.execute(
            f"INSERT INTO {table} ({column}, at) VALUES {', '.join(['(%s, %s)'] * len(chunk))}"
            f" ON CONFLICT ({column}) DO NOTHING RETURNING {column}",
            [value for key, at in chunk for value in (key, _db_time(at))],
        )
        new.update(row[0] for row in cursor.fetchall())
    return new


# The temporary tables COPY fills.
TEMP_TABLES = {
    "evidence_new_keys": '"key" varchar(32), at timestamptz',
    "evidence_new_rows": "mailbox_id bigint, protocol varchar(4), address varchar(45),"
    " port integer, tls boolean, tls_version varchar(16), server_id bigint,"
    " legacy_address boolean, first_seen timestamptz, last_seen timestamptz, count bigint,"
    " last_remote varchar(45)",
}
UPSERT_COLUMNS = (
    "mailbox_id, protocol, address, port, tls, tls_version, server_id, legacy_address,"
    " first_seen, last_seen, count, last_remote"
)


UPSERT_SET = (
    " ON CONFLICT (mailbox_id, protocol, address, port, tls, tls_version) DO UPDATE SET"
    " first_seen = CASE WHEN EXCLUDED.first_seen < {old}.first_seen"
    " THEN EXCLUDED.first_seen ELSE {old}.first_seen END,"
    " last_remote = CASE WHEN EXCLUDED.last_seen >= {old}.last_seen"
    " THEN EXCLUDED.last_remote ELSE {old}.last_remote END,"
    " last_seen = CASE WHEN EXCLUDED.last_seen > {old}.last_seen"
    " THEN EXCLUDED.last_seen ELSE {old}.last_seen END,"
    " count = {old}.count + EXCLUDED.count,"
    " server_id = EXCLUDED.server_id, legacy_address = EXCLUDED.legacy_address"
)


def _upsert(cursor, rows: dict[tuple, list]) -> None:
    table = LoginEvidence._meta.db_table
    on_conflict = UPSERT_SET.format(old=table)
    values = [
        (*key, server, legacy, first, last, count, remote)
        for key, (server, legacy, first, last, count, remote) in rows.items()
    ]
    if connection.vendor == "postgresql":
        _copy(cursor, "evidence_new_rows", UPSERT_COLUMNS, values)
        # ORDER BY: concurrent workers lock the rows they update in the same order.
        cursor.execute(
            f"INSERT INTO {table} ({UPSERT_COLUMNS}) SELECT {UPSERT_COLUMNS}"
            f" FROM evidence_new_rows ORDER BY mailbox_id, protocol, address, port, tls,"
            f" tls_version {on_conflict}"
        )
        return
    for chunk in _chunks(values):
        cursor.execute(
            f"INSERT INTO {table} ({UPSERT_COLUMNS}) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            + on_conflict,
            [_db_time(v) if isinstance(v, datetime) else v for row in chunk for v in row],
        )


def evidence_record(
    events: Sequence[LoginEvent],
    *,
    source: LogSource,
    directory: Directory,
    read_counts: Counter | None = None,
) -> tuple[Counter, set[int]]:
    """Count a batch of events once, in one transaction; returns the batch's counts and
    the mailboxes that have new evidence. `read_counts` (lines read, skipped, …) are
    added to the source's counts in the same transaction."""
    counts: Counter = Counter()
    mailboxes: set[int] = set()
    by_key: dict[str, LoginEvent] = {}
    for event in events:
        by_key.setdefault(_key(event), event)
    rows: dict[tuple, list] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        new = _insert_seen(cursor, {key: event.at for key, event in by_key.items()})
        counts["duplicate"] = len(events) - len(new)
        for key in new:
            event = by_key[key]
            if event.outcome != LOGIN:
                counts[f"new-{event.outcome}"] += 1
                continue
            user = event.user.lower()
            mailbox = directory.logins.get(user)
            if mailbox is None:
                counts["unknown-user"] += 1
                continue
            address = event.local or ""
            server, legacy = directory.addresses.get(address, (None, False))
            if mailbox == AMBIGUOUS and server is not None:
                host = directory.server_names.get(server, "")
                mailbox = directory.on_server.get((user, host), AMBIGUOUS)
            if mailbox == AMBIGUOUS:
                counts["ambiguous-user"] += 1
                continue
            counts["recorded"] += 1
            mailboxes.add(mailbox)
            port = directory.ports.get(event.local_port, event.local_port) or 0
            row_key = (mailbox, event.protocol, address, port, event.tls, event.tls_version or "")
            row = rows.get(row_key)
            if row is None:
                rows[row_key] = [server, legacy, event.at, event.at, 1, event.remote]
            else:
                row[2] = min(row[2], event.at)
                if event.at >= row[3]:
                    row[3], row[5] = event.at, event.remote
                row[4] += 1
        _upsert(cursor, rows)
        locked = LogSource.objects.select_for_update().get(pk=source.pk)
        merged = Counter(locked.counts)
        merged.update(read_counts or {})
        merged.update({k: v for k, v in counts.items() if v})
        locked.counts = dict(merged)
        locked.last_ingest_at = timezone.now()
        locked.save(update_fields=["counts", "last_ingest_at"])
    return counts, mailboxes


def log_reader(postfix_tls: dict | None = None) -> LogReader:
    return LogReader(
        tz=ZoneInfo(settings.LOG_TIME_ZONE),
        now=timezone.now(),
        keep=timedelta(days=settings.LOG_EVIDENCE_KEEP_DAYS),
        postfix_tls=postfix_tls,
    )


def evidence_ingest(
    lines: Iterable[str | bytes],
    *,
    source: LogSource,
    directory: Directory | None = None,
    progress: Any = None,
    batch_size: int = BATCH_SIZE,
    postfix_tls: dict | None = None,
) -> tuple[Counter, set[int]]:
    """Read lines (streaming) and record their events batch by batch; returns the counts
    (read and recorded) and the mailboxes with new evidence. `progress.update(n)` is told
    the lines read; `postfix_tls` carries Postfix's open connections from one call to the
    next (see LogReader)."""
    directory = directory or directory_load()
    reader = log_reader(postfix_tls)
    total: Counter = Counter()
    mailboxes: set[int] = set()
    events: list[LoginEvent] = []
    reported = Counter()

    def flush() -> None:
        read = reader.counts - reported
        counts, touched = evidence_record(
            events, source=source, directory=directory, read_counts=read
        )
        reported.update(read)
        total.update(counts)
        mailboxes.update(touched)
        if progress is not None:
            progress.update(read["lines"])
        events.clear()

    for line in lines:
        event = reader.read_line(line)
        if event is not None:
            events.append(event)
            if len(events) >= batch_size:
                flush()
    flush()
    total.update(reader.counts)
    return total, mailboxes


def evidence_prune(now: datetime | None = None) -> None:
    """Forget sessions and evidence older than LOG_EVIDENCE_KEEP_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LOG_EVIDENCE_KEEP_DAYS)
    SeenLogin.objects.filter(at__lt=cutoff).delete()
    LoginEvidence.objects.filter(last_seen__lt=cutoff).delete()
