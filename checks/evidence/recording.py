"""The one writer of login evidence: events from `checks.evidence.parse` → which mailbox
and which endpoint → counted per (mailbox, protocol, endpoint, TLS, TLS version).

Idempotent: every event's session key is hashed (8 bytes) into the row of its minute
(`SeenSessions`, locked while a batch is written); only keys not there yet are counted.
Each batch (the keys, the evidence upserts and the source's counts) is one transaction,
so a batch is either wholly counted or not at all, and repeating it counts nothing twice.

Speed: a file is read and recorded by one process per core, each taking parts of it in
turn (`_record_parallel`: only counts come back); a shipper's batch is read in a thread
while the database writes (`checks.evidence.reading`). Per batch the database sees a
handful of statements (COPY and one insert-on-conflict for the evidence, one select and
one update for the sessions).
"""

from __future__ import annotations

import multiprocessing.util
import sys
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import Mailbox, MailDomain, ServerName
from checks.evidence.models import LoginEvidence, LogSource, SeenSessions
from checks.evidence.parse import LOGIN
from checks.evidence.reading import (
    Block,
    Login,
    _block_read,
    blocks_lines,
    line_blocks,
    log_reader,
    login_resolve,
    postfix_carry,
    read_ahead,
    read_parallel,
    reading_pool,
)

AMBIGUOUS = -1  # a login name more than one mailbox answers to
NO_SERVER = (None, False)  # an address the registry does not know
BATCH_SIZE = 50_000  # events per transaction
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
    # Every mailbox's names at once (one query, the dictionary made by C loops: it is on
    # the way of every ingest); names several mailboxes answer to are looked at after.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, email, username FROM {Mailbox._meta.db_table}")
        rows = cursor.fetchall()
    pks, emails, usernames = (
        (list(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
    )
    names = [*map(str.lower, emails), *map(str.lower, usernames)]
    ids = pks + pks
    domains = {d.domain: d for d in MailDomain.objects.all()}
    if domains:
        for pk, email, domain in Mailbox.objects.filter(domain__in=domains).values_list(
            "pk", "email", "domain"
        ):
            names.append(domains[domain].login_name(email).lower())
            ids.append(pk)
    logins = directory.logins = dict(zip(names, ids, strict=True))
    shared: dict[str, set[int]] = {}
    if len(logins) < len(names):  # a name twice: one mailbox's, or several mailboxes'
        for name, pk in set(zip(names, ids, strict=True)):
            if logins[name] != pk:
                shared.setdefault(name, set()).update({pk, logins[name]})
        for name in shared:
            logins[name] = AMBIGUOUS
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


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def keys_unpack(data: bytes) -> array:
    """A SeenSessions row's keys (8 bytes each, big-endian) as integers."""
    keys = array("Q", bytes(data))
    if sys.byteorder == "little":
        keys.byteswap()
    return keys


def keys_pack(keys: Iterable[int]) -> bytes:
    packed = array("Q", keys)
    if sys.byteorder == "little":
        packed.byteswap()
    return packed.tobytes()


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _copy(cursor, table: str, columns: str, rows: Iterable[tuple]) -> None:
    """PostgreSQL: rows into a temporary table (emptied at commit) by COPY, each row put
    into COPY's format by psycopg's compiled code: much faster than statements with
    thousands of parameters, or a statement per row."""
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({TEMP_TABLES[table]}) ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"DELETE FROM {table}")  # a caller's transaction may not have ended
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _insert_seen(cursor, keys: dict[int, float]) -> set[int]:
    """Add the keys not yet seen (key → its login's timestamp) to their minutes' rows
    (locked, in order: two workers given overlapping batches wait for each other, never
    deadlock); returns those (the events to count)."""
    by_number: dict[int, set[int]] = {}
    for key, at in keys.items():
        number = int(at // 60)
        found = by_number.get(number)
        if found is None:
            by_number[number] = {key}
        else:
            found.add(key)
    by_minute = {_time(number * 60): found for number, found in by_number.items()}
    minutes = sorted(by_minute)
    table = SeenSessions._meta.db_table
    new: set[int] = set()
    if connection.vendor == "postgresql":
        # Minutes no row has yet (most, when a new day is read) are made with their keys,
        # all of them new; the others are read and added to below.
        cursor.execute(
            f"INSERT INTO {table} (minute, keys) SELECT * FROM unnest(%s::timestamptz[],"
            f" %s::bytea[]) ON CONFLICT (minute) DO NOTHING RETURNING minute",
            [minutes, [keys_pack(by_minute[minute]) for minute in minutes]],
        )
        for (minute,) in cursor.fetchall():
            new.update(by_minute.pop(minute))
        minutes = sorted(by_minute)
    else:
        SeenSessions.objects.bulk_create(
            [SeenSessions(minute=minute) for minute in minutes], ignore_conflicts=True
        )
    changed: list[tuple[int, bytes]] = []
    for chunk in _chunks(minutes, 2000):
        for pk, minute, data in (
            SeenSessions.objects.select_for_update()
            .filter(minute__in=chunk)
            .order_by("minute")
            .values_list("pk", "minute", "keys")
        ):
            added = by_minute[minute].difference(keys_unpack(data))
            if added:
                new.update(added)
                changed.append((pk, bytes(data) + keys_pack(added)))
    if not changed:
        return new
    if connection.vendor == "postgresql":
        cursor.execute(
            f"UPDATE {table} SET keys = v.keys FROM unnest(%s::bigint[], %s::bytea[])"
            f" AS v(id, keys) WHERE {table}.id = v.id",
            [[pk for pk, _ in changed], [data for _, data in changed]],
        )
    else:
        cursor.executemany(
            f"UPDATE {table} SET keys = %s WHERE id = %s", [(data, pk) for pk, data in changed]
        )
    return new


# The temporary tables COPY fills.
TEMP_TABLES = {
    "evidence_new_rows": "mailbox_id bigint, protocol varchar(4), address varchar(45),"
    " port integer, tls boolean, tls_version varchar(16), server_id bigint,"
    " legacy_address boolean, first_seen double precision, last_seen double precision,"
    " count bigint, last_remote varchar(45)",
}
FROM_TIMESTAMPS = "to_timestamp(first_seen), to_timestamp(last_seen)"
UPSERT_COLUMNS = (
    "mailbox_id, protocol, address, port, tls, tls_version, server_id, legacy_address,"
    " first_seen, last_seen, count, last_remote"
)


KEY_COLUMNS = "mailbox_id, protocol, address, port, tls, tls_version"
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


def _stage(cursor, rows: dict[tuple, list]) -> None:
    """PostgreSQL: the rows into the temporary table (`_merge` adds them up)."""
    if connection.vendor != "postgresql":
        return
    # (mailbox, protocol, address, port, TLS, version) + (server, legacy, first, last,
    # count, remote): UPSERT_COLUMNS in order.
    _copy(cursor, "evidence_new_rows", UPSERT_COLUMNS, ((*key, *row) for key, row in rows.items()))


def _merge(cursor, rows: dict[tuple, list]) -> None:
    """The rows added to the evidence (on PostgreSQL those `_stage` handed over)."""
    table = LoginEvidence._meta.db_table
    on_conflict = UPSERT_SET.format(old=table)
    if connection.vendor == "postgresql":
        # ORDER BY: concurrent writers lock the rows they share in the same order (no
        # deadlock). (An update of the rows there already and an insert of the others
        # would write less, but loses the counts of rows another writer adds between
        # the two.)
        cursor.execute(
            f"INSERT INTO {table} ({UPSERT_COLUMNS}) SELECT"
            f" {UPSERT_COLUMNS.replace('first_seen, last_seen', FROM_TIMESTAMPS)}"
            f" FROM evidence_new_rows ORDER BY {KEY_COLUMNS} {on_conflict}"
        )
        return
    values = [
        (*key, server, legacy, _time(first), _time(last), count, remote)
        for key, (server, legacy, first, last, count, remote) in rows.items()
    ]
    for chunk in _chunks(values):
        cursor.execute(
            f"INSERT INTO {table} ({UPSERT_COLUMNS}) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            + on_conflict,
            [_db_time(v) if isinstance(v, datetime) else v for row in chunk for v in row],
        )


def _rows(logins: Iterable[Login], directory: Directory) -> tuple[dict, Counter, set[int]]:
    """The evidence rows of logins (each counted): (mailbox, protocol, address, port, TLS,
    version) → [server, legacy address, first, last, count, last remote], with the counts
    (recorded, unknown and ambiguous login names, other outcomes) and the mailboxes."""
    counts: Counter = Counter()
    mailboxes: set[int] = set()
    rows: dict[tuple, list] = {}
    # Once per login: names looked up through local names.
    find_mailbox, find_address = directory.logins.get, directory.addresses.get
    standard_port, find_row = directory.ports.get, rows.get
    recorded = 0
    for _, at, outcome, protocol, user, remote, local, local_port, tls, version in logins:
        if outcome != LOGIN:
            counts[f"new-{outcome}"] += 1
            continue
        user = user.lower()
        mailbox = find_mailbox(user)
        if mailbox is None:
            counts["unknown-user"] += 1
            continue
        address = local or ""
        server, legacy = find_address(address, NO_SERVER)
        if mailbox == AMBIGUOUS and server is not None:
            host = directory.server_names.get(server, "")
            mailbox = directory.on_server.get((user, host), AMBIGUOUS)
        if mailbox == AMBIGUOUS:
            counts["ambiguous-user"] += 1
            continue
        recorded += 1
        mailboxes.add(mailbox)
        row_key = (
            mailbox, protocol, address, standard_port(local_port, local_port) or 0, tls,
            version or "",
        )  # fmt: skip
        row = find_row(row_key)
        if row is None:
            rows[row_key] = [server, legacy, at, at, 1, remote]
        else:
            if at < row[2]:
                row[2] = at
            if at >= row[3]:
                row[3], row[5] = at, remote
            row[4] += 1
    counts["recorded"] = recorded
    return rows, counts, mailboxes


def evidence_record(
    logins: Sequence[Login],
    *,
    source: LogSource,
    directory: Directory,
    read_counts: Counter | None = None,
) -> tuple[Counter, set[int]]:
    """Count a batch of logins (`_login`) once, in one transaction; returns the batch's
    counts and the mailboxes that have new evidence. `read_counts` (lines read, skipped,
    …) are added to the source's counts in the same transaction.

    The rows are worked out and handed to the database before the rows that several
    writers share (the minutes' sessions, the evidence, the source) are locked, as if
    every session were new; when some were counted before, again for the new ones
    alone. The locks are held for the database's work only."""
    by_key: dict[int, Login] = {}
    for login in logins:
        by_key.setdefault(login[0], login)
    rows, counts, mailboxes = _rows(by_key.values(), directory)
    with transaction.atomic(), connection.cursor() as cursor:
        _stage(cursor, rows)
        new = _insert_seen(cursor, {key: login[1] for key, login in by_key.items()})
        if len(new) < len(by_key):
            rows, counts, mailboxes = _rows(
                (by_key[key] for key in by_key if key in new), directory
            )
            _stage(cursor, rows)
        counts["duplicate"] = len(logins) - len(new)
        _merge(cursor, rows)
        locked = LogSource.objects.select_for_update().get(pk=source.pk)
        merged = Counter(locked.counts)
        merged.update(read_counts or {})
        merged.update({k: v for k, v in counts.items() if v})
        locked.counts = dict(merged)
        locked.last_ingest_at = timezone.now()
        locked.save(update_fields=["counts", "last_ingest_at"])
    return counts, mailboxes


def evidence_ingest(
    lines: Iterable[str | bytes] = (),
    *,
    source: LogSource,
    blocks: Iterable[Block] | None = None,
    directory: Directory | Callable[[], Directory] | None = None,
    progress: Any = None,
    batch_size: int = BATCH_SIZE,
    postfix_tls: dict | None = None,
    processes: int = 1,
) -> tuple[Counter, set[int]]:
    """Read lines (streaming) and record their events batch by batch; returns the counts
    (read and recorded) and the mailboxes with new evidence. `progress.update(n)` is told
    the lines read; `postfix_tls` carries Postfix's open connections from one call to the
    next (see LogReader). With `processes` > 1 the lines, or `blocks` (`file_blocks`), are
    read by that many processes (forked: not from a daemonic process such as a Celery
    worker's child); outside a transaction each of them also records what it read
    (`_record_parallel`), inside one they hand the logins back to this one."""
    postfix_tls = {} if postfix_tls is None else postfix_tls
    found: list[Directory | None] = [None]

    def load() -> Directory:  # `directory` may be a function that loads it (once)
        if found[0] is None:
            found[0] = directory() if callable(directory) else directory or directory_load()
        return found[0]

    total: Counter = Counter()
    mailboxes: set[int] = set()

    def counted(counts: Counter, touched: set[int], read: Counter) -> None:
        total.update(counts)
        total.update(read)
        mailboxes.update(touched)
        if progress is not None:
            progress.update(read["lines"])

    work = blocks if blocks is not None else line_blocks(lines)
    if processes > 1 and not connection.in_atomic_block:
        pending: list[Login] = []
        for counts, touched, read, completed in _record_parallel(
            work, source=source, directory=load(), processes=processes, postfix_tls=postfix_tls
        ):
            counted(counts, touched, read)
            pending.extend(completed)
            if len(pending) >= batch_size:
                counted(*evidence_record(pending, source=source, directory=load()), Counter())
                pending = []
        if pending:
            counted(*evidence_record(pending, source=source, directory=load()), Counter())
        return total, mailboxes
    if processes > 1:
        batches = read_parallel(work, batch_size, processes, postfix_tls, load)
    else:
        load()
        flat = lines if blocks is None else blocks_lines(blocks)
        batches = read_ahead(log_reader(postfix_tls), flat, batch_size)
    for logins, read in batches:
        counted(*evidence_record(logins, source=source, directory=load(), read_counts=read), read)
    return total, mailboxes


# What the recording processes work with: set before they are forked.
_recording: dict[str, Any] = {}


def _block_record(block: Block) -> tuple[Counter, set[int], Counter, dict, list]:
    """In a recording process: a block's logins read and recorded in a transaction of
    its own (with the block's line counts), but for the Postfix logins whose connection
    began in an earlier block: those go back, with their connection, to be completed in
    order. Returns the counts, the mailboxes with new evidence, the block's line counts,
    how it leaves the Postfix connections it touched, and those logins."""
    if "closing" not in _recording:  # the process's connection lives as long as it does
        _recording["closing"] = multiprocessing.util.Finalize(
            None, connection.close, exitpriority=0
        )
    connection.close_if_unusable_or_obsolete()
    logins, read, ends, pending = _block_read(block)
    waiting = {index for index, _key, _service in pending}
    ready = [login for i, login in enumerate(logins) if i not in waiting] if waiting else logins
    counts, touched = evidence_record(
        ready, source=_recording["source"], directory=_recording["directory"], read_counts=read
    )
    return counts, touched, read, ends, [(logins[i], key, srv) for i, key, srv in pending]


def _record_parallel(
    blocks: Iterable[Block],
    *,
    source: LogSource,
    directory: Directory,
    processes: int,
    postfix_tls: dict,
) -> Iterator[tuple[Counter, set[int], Counter, list[Login]]]:
    """`processes` processes take the blocks in turn and each reads and records its own
    (`_block_record`), on its own database connection: nothing passes through this
    process but the counts, and the few Postfix logins that a block could not complete
    (yielded, completed, for the caller to record). They lock the same kinds of rows in
    the same order (minutes, evidence, the source), so they may wait for each other but
    never deadlock; each block is one transaction, counted wholly or not at all."""
    connections.close_all()  # each forked process opens its own
    _recording.update(source=source, directory=directory)
    try:
        with reading_pool(processes) as pool:
            waiting: deque = deque()

            def take() -> tuple[Counter, set[int], Counter, list[Login]]:
                counts, touched, read, ends, pending = waiting.popleft().result()
                completed = [
                    login_resolve(login, key, service, postfix_tls)
                    for login, key, service in pending
                ]
                postfix_carry(postfix_tls, ends)
                return counts, touched, read, completed

            for block in blocks:
                waiting.append(pool.submit(_block_record, block))
                if len(waiting) >= 2 * processes:
                    yield take()
            while waiting:
                yield take()
    finally:
        _recording.clear()


def sessions_counted() -> int:
    """How many sessions are counted (kept) in all."""
    from django.db.models import Sum
    from django.db.models.functions import Length

    return (SeenSessions.objects.aggregate(n=Sum(Length("keys")))["n"] or 0) // 8


def evidence_prune(now: datetime | None = None) -> None:
    """Forget sessions and evidence older than LOG_EVIDENCE_KEEP_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LOG_EVIDENCE_KEEP_DAYS)
    SeenSessions.objects.filter(minute__lt=cutoff).delete()
    LoginEvidence.objects.filter(last_seen__lt=cutoff).delete()
