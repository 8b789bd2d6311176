"""The one writer of login evidence: events from `checks.evidence.parse` → which mailbox
and which endpoint → counted per (mailbox, protocol, endpoint, TLS, TLS version).

Idempotent: every event's session key is hashed (8 bytes) into the row of its minute
and part (`SeenSessions`, locked while a batch is written); only keys in no part of
their minute yet are counted.
Each batch (the keys, the evidence upserts and the source's counts) is one transaction,
so a batch is either wholly counted or not at all, and repeating it counts nothing twice.

Speed: a file is read by one process per core, each taking parts of it in turn and
tallying them in memory (`Tally`); half a million sessions at a time, each process
writes its share of the mailboxes (by their ids) on its own connection, all at once
(`_tally_parallel`): a mailbox's logins anywhere in the file become one row update.
A shipper's batch is read in a thread while the database writes
(`checks.evidence.reading`). Per transaction the database sees a handful of statements
(binary COPY and one insert-on-conflict for the evidence; a select, an insert and an
update for the sessions).
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
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
    _block_reader_start,
    blocks_lines,
    line_blocks,
    log_reader,
    login_resolve,
    postfix_carry,
    read_ahead,
    read_parallel,
)

AMBIGUOUS = -1  # a login name more than one mailbox answers to
NO_SERVER = (None, False)  # an address the registry does not know
BATCH_SIZE = 50_000  # events per transaction
# Sessions per transaction of a file read by several processes (`_tally_parallel`): held
# in their memory until written, about 1 KB each (bench/README.md), 500 MB at most in all.
FILE_BATCH_SIZE = 500_000
CHUNK = 500  # rows per INSERT statement
# A minute's sessions are kept in this many rows (parts: the mailbox id, or the session
# key, modulo this), which several connections write at once.
SESSION_PARTS = 4
MINUTE_NUMBER = "(extract(epoch FROM minute)::bigint / 60)"  # a minute's POSIX minutes


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


def _copy(cursor, table: str, rows: Iterable[tuple]) -> None:
    """PostgreSQL: rows into a temporary table (emptied at commit) by binary COPY, each
    row put into COPY's format by psycopg's compiled code: much faster than statements
    with thousands of parameters, or a statement per row (and than COPY's text format)."""
    columns = TEMP_TABLES[table]
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {table}"
        f" ({', '.join(f'{name} {kind}' for name, kind in columns)}) ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"DELETE FROM {table}")  # a caller's transaction may not have ended
    names = ", ".join(name for name, _ in columns)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([kind.split("(")[0] for _, kind in columns])
        write = copy.write_row
        for row in rows:
            write(row)


# The temporary tables COPY fills: their columns, in the order of the rows given.
TEMP_TABLES = {
    "evidence_new_rows": [
        ("mailbox_id", "bigint"),
        ("protocol", "varchar(4)"),
        ("address", "varchar(45)"),
        ("port", "integer"),
        ("tls", "boolean"),
        ("tls_version", "varchar(16)"),
        ("server_id", "bigint"),
        ("legacy_address", "boolean"),
        ("first_seen", "double precision"),
        ("last_seen", "double precision"),
        ("count", "bigint"),
        ("last_remote", "varchar(45)"),
    ],
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
    _copy(cursor, "evidence_new_rows", ((*key, *row) for key, row in rows.items()))


def _merge(cursor, rows: dict[tuple, list]) -> None:
    """The rows added to the evidence (on PostgreSQL those `_stage` handed over)."""
    table = LoginEvidence._meta.db_table
    on_conflict = UPSERT_SET.format(old=table)
    if connection.vendor == "postgresql":
        # ORDER BY: concurrent writers lock the rows they share in the same order (no
        # deadlock). (An update of the rows there already and an insert of the others
        # would write less, but loses the counts of rows another writer adds between
        # the two.) The sort in memory: a file's rows are more than the default allows.
        cursor.execute("SET LOCAL work_mem = '64MB'")
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


@dataclass
class Tally:
    """Logins counted in memory, not written yet (`tally`, `tally_add`, `tally_write`).

    `rows`: (mailbox, protocol, address, port, TLS, version) → [server, legacy address,
    first, last, count, last remote]. `sessions`: (minute in POSIX minutes, part) → the
    keys of the sessions whose login fell in it and which are kept in that part of it
    (its mailbox's id, or the key, modulo SESSION_PARTS), and what each of them added: its
    row's key, or the name of the count it went to (an unknown login name, a failed login,
    …). `counts`: recorded, unknown-user, ambiguous-user, new-<outcome>, duplicate.

    A session counted before (or twice in the tally) is taken out again by what it added
    (`_untally`): its row's count goes down by one. Its time and client address are
    those of the same login counted before, so the row's first and last times stay
    right."""

    rows: dict[tuple, list] = field(default_factory=dict)
    sessions: dict[tuple[int, int], tuple[list[int], list]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)


def tally(logins: Iterable[Login], directory: Directory, into: list[Tally] | None = None) -> Tally:
    """The logins counted into a new tally, each session once; or into the tallies of
    `into`, each session into the one its part says (SESSION_PARTS, modulo their number):
    tallies that share no evidence row and no row of sessions (returns the first)."""
    targets = [Tally()] if into is None else into
    spread = len(targets)
    # Once per login: names looked up through local names.
    find_mailbox, find_address = directory.logins.get, directory.addresses.get
    standard_port = directory.ports.get
    seen: set[int] = set()
    remember = seen.add
    duplicate = 0
    for key, at, outcome, protocol, user, remote, local, local_port, tls, version in logins:
        if key in seen:
            duplicate += 1
            continue
        remember(key)
        added: tuple | str
        if outcome != LOGIN:
            added = f"new-{outcome}"
        else:
            user = user.lower()
            mailbox = find_mailbox(user)
            address = local or ""
            server, legacy = find_address(address, NO_SERVER)
            if mailbox == AMBIGUOUS and server is not None:
                host = directory.server_names.get(server, "")
                mailbox = directory.on_server.get((user, host), AMBIGUOUS)
            if mailbox is None:
                added = "unknown-user"
            elif mailbox == AMBIGUOUS:
                added = "ambiguous-user"
            else:
                added = (
                    mailbox, protocol, address, standard_port(local_port, local_port) or 0, tls,
                    version or "",
                )  # fmt: skip
        part = (key if type(added) is str else added[0]) % SESSION_PARTS
        target = targets[0] if spread == 1 else targets[part % spread]
        if type(added) is str:
            target.counts[added] += 1
        else:
            rows = target.rows
            row = rows.get(added)
            if row is None:
                rows[added] = [server, legacy, at, at, 1, remote]
            else:
                if at < row[2]:
                    row[2] = at
                if at >= row[3]:
                    row[3], row[5] = at, remote
                row[4] += 1
            target.counts["recorded"] += 1
        place = (int(at // 60), part)
        found = target.sessions.get(place)
        if found is None:
            target.sessions[place] = ([key], [added])
        else:
            found[0].append(key)
            found[1].append(added)
    targets[0].counts["duplicate"] += duplicate
    return targets[0]


def tally_add(total: Tally, part: Tally) -> None:
    """A part's tally added to a total (a session in both is taken out when written)."""
    rows = total.rows
    for key, row in part.rows.items():
        found = rows.get(key)
        if found is None:
            rows[key] = row
            continue
        if row[2] < found[2]:
            found[2] = row[2]
        if row[3] >= found[3]:
            found[3], found[5] = row[3], row[5]
        found[4] += row[4]
    for place, (keys, added) in part.sessions.items():
        found = total.sessions.get(place)
        if found is None:
            total.sessions[place] = (keys, added)
        else:
            found[0].extend(keys)
            found[1].extend(added)
    total.counts.update(part.counts)


def _untally(total: Tally, added: tuple | str) -> None:
    """A session counted before taken out of the tally again."""
    if type(added) is str:
        total.counts[added] -= 1
    else:
        row = total.rows[added]
        row[4] -= 1
        if not row[4]:
            del total.rows[added]
        total.counts["recorded"] -= 1
    total.counts["duplicate"] += 1


def _sessions_once(total: Tally) -> dict[tuple[int, int], set[int]]:
    """Each (minute, part)'s keys, once: a session in the tally twice (the same line in
    two parts of a file) is taken out again for the second time."""
    by_part: dict[tuple[int, int], set[int]] = {}
    for place, (keys, added) in total.sessions.items():
        once = by_part[place] = set(keys)
        if len(once) < len(keys):
            counted: set[int] = set()
            for key, what in zip(keys, added, strict=True):
                if key in counted:
                    _untally(total, what)
                counted.add(key)
    return by_part


def _insert_seen(cursor, total: Tally) -> None:
    """The tally's sessions added to their (minute, part) rows; those counted before (in
    any part of their minute) are taken out of the tally (`_untally`). First a look
    without locks (every session counted before a run began); then the new rows are
    made, and the rows there already locked in order (two writers given overlapping
    batches wait for each other, never deadlock) and looked at again."""
    by_part = _sessions_once(total)
    if not by_part:
        return
    table = SeenSessions._meta.db_table
    numbers = sorted({minute for minute, _part in by_part})
    added_by_key: dict[tuple[int, int], dict[int, tuple | str]] = {}

    def counted_before(place: tuple[int, int], keys: set[int]) -> None:
        found = added_by_key.get(place)
        if found is None:
            found = added_by_key[place] = dict(zip(*total.sessions[place], strict=True))
        for key in keys:
            _untally(total, found[key])
        by_part[place] -= keys

    postgresql = connection.vendor == "postgresql"
    # (PostgreSQL is handed the minutes as numbers: quicker to hand over than times.)
    minutes = {} if postgresql else {number: _time(number * 60) for number in numbers}
    if postgresql:
        cursor.execute(
            f"SELECT {MINUTE_NUMBER}, keys FROM {table} WHERE minute = ANY(ARRAY(SELECT"
            " to_timestamp(n * 60) FROM unnest(%s::bigint[]) AS n))",
            [numbers],
        )
        looked = cursor.fetchall()
    else:
        looked = [
            (int(minute.timestamp() // 60), data)
            for chunk in _chunks(numbers, 2000)
            for minute, data in SeenSessions.objects.filter(
                minute__in=[minutes[number] for number in chunk]
            ).values_list("minute", "keys")
        ]
    for number, data in looked:
        before = keys_unpack(data)
        for place in [(number, part) for part in range(SESSION_PARTS)]:
            keys = by_part.get(place)
            if keys and not keys.isdisjoint(before):
                counted_before(place, keys.intersection(before))
    places = sorted(place for place, keys in by_part.items() if keys)
    if postgresql:
        # Rows not there yet (most, when a new day is read) are made with their keys.
        cursor.execute(
            f"INSERT INTO {table} (minute, part, keys) SELECT to_timestamp(n * 60), p, k"
            " FROM unnest(%s::bigint[], %s::smallint[], %s::bytea[]) AS v(n, p, k)"
            f" ON CONFLICT (minute, part) DO NOTHING RETURNING {MINUTE_NUMBER}, part",
            [
                [number for number, _ in places],
                [part for _, part in places],
                [keys_pack(by_part[place]) for place in places],
            ],
        )
        made = set(cursor.fetchall())
        places = [place for place in places if place not in made]
        if not places:
            return
        cursor.execute(
            f"SELECT id, {MINUTE_NUMBER}, part, keys FROM {table} WHERE (minute, part) IN"
            " (SELECT to_timestamp(n * 60), p FROM unnest(%s::bigint[], %s::smallint[])"
            " AS v(n, p)) ORDER BY minute, part FOR UPDATE",
            [[number for number, _ in places], [part for _, part in places]],
        )
        found = cursor.fetchall()
    else:
        SeenSessions.objects.bulk_create(
            [SeenSessions(minute=minutes[number], part=part) for number, part in places],
            ignore_conflicts=True,
        )
        wanted = set(places)
        found = [
            (pk, number, part, data)
            for chunk in _chunks(numbers, 2000)
            for pk, minute, part, data in SeenSessions.objects.filter(
                minute__in=[minutes[number] for number in chunk]
            ).values_list("pk", "minute", "part", "keys")
            if (number := int(minute.timestamp() // 60), part) in wanted
        ]
    changed: list[tuple[int, bytes]] = []
    for pk, number, part, data in found:
        keys = by_part[place := (number, part)]
        again = keys.intersection(keys_unpack(data))  # counted since the look above
        if again:
            counted_before(place, again)
        if keys:
            changed.append((pk, bytes(data) + keys_pack(keys)))
    if not changed:
        return
    if postgresql:
        cursor.execute(
            f"UPDATE {table} SET keys = v.keys FROM unnest(%s::bigint[], %s::bytea[])"
            f" AS v(id, keys) WHERE {table}.id = v.id",
            [[pk for pk, _ in changed], [data for _, data in changed]],
        )
    else:
        cursor.executemany(
            f"UPDATE {table} SET keys = %s WHERE id = %s", [(data, pk) for pk, data in changed]
        )


def tally_write(
    total: Tally, *, source: LogSource, read_counts: Counter | None = None
) -> tuple[Counter, set[int]]:
    """A tally written in one transaction: its sessions not counted before, their
    evidence, and the source's counts with `read_counts` (lines read, skipped, …). Returns
    the counts and the mailboxes that have new evidence."""
    with transaction.atomic(), connection.cursor() as cursor:
        _insert_seen(cursor, total)
        _stage(cursor, total.rows)
        _merge(cursor, total.rows)
        counts = total.counts
        locked = LogSource.objects.select_for_update().get(pk=source.pk)
        merged = Counter(locked.counts)
        merged.update(read_counts or {})
        merged.update({k: v for k, v in counts.items() if v})
        locked.counts = dict(merged)
        locked.last_ingest_at = timezone.now()
        locked.save(update_fields=["counts", "last_ingest_at"])
    return +counts, {key[0] for key in total.rows}


def evidence_record(
    logins: Sequence[Login],
    *,
    source: LogSource,
    directory: Directory,
    read_counts: Counter | None = None,
) -> tuple[Counter, set[int]]:
    """Count a batch of logins (`_login`) once, in one transaction; returns the batch's
    counts and the mailboxes that have new evidence. `read_counts` (lines read, skipped,
    …) are added to the source's counts in the same transaction."""
    return tally_write(tally(logins, directory), source=source, read_counts=read_counts)


def evidence_ingest(
    lines: Iterable[str | bytes] = (),
    *,
    source: LogSource,
    blocks: Iterable[Block] | None = None,
    directory: Directory | Callable[[], Directory] | None = None,
    progress: Any = None,
    batch_size: int | None = None,
    postfix_tls: dict | None = None,
    processes: int = 1,
) -> tuple[Counter, set[int]]:
    """Read lines (streaming) and record their events batch by batch; returns the counts
    (read and recorded) and the mailboxes with new evidence. `progress.update(n)` is told
    the lines read; `postfix_tls` carries Postfix's open connections from one call to the
    next (see LogReader). With `processes` > 1 the lines, or `blocks` (`file_blocks`), are
    read by that many processes (forked: not from a daemonic process such as a Celery
    worker's child); outside a transaction they tally what they read and write it
    themselves (`_tally_parallel`), inside one they hand the logins back to this one."""
    postfix_tls = {} if postfix_tls is None else postfix_tls
    found: list[Directory | None] = [None]

    def load() -> Directory:  # `directory` may be a function that loads it (once)
        if found[0] is None:
            found[0] = directory() if callable(directory) else directory or directory_load()
        return found[0]

    total: Counter = Counter()
    mailboxes: set[int] = set()
    reported = processes > 1 and not connection.in_atomic_block  # (as parts are read)

    def counted(counts: Counter, touched: set[int], read: Counter) -> None:
        total.update(counts)
        total.update(read)
        mailboxes.update(touched)
        if progress is not None and not reported:
            progress.update(read["lines"])

    work = blocks if blocks is not None else line_blocks(lines)
    if processes > 1 and not connection.in_atomic_block:
        for counts, touched, read in _tally_parallel(
            work,
            source=source,
            directory=load(),
            processes=processes,
            postfix_tls=postfix_tls,
            group_size=batch_size or FILE_BATCH_SIZE,
            progress=progress,
        ):
            counted(counts, touched, read)
        return total, mailboxes
    batch_size = batch_size or BATCH_SIZE
    if processes > 1:
        batches = read_parallel(work, batch_size, processes, postfix_tls, load)
    else:
        load()
        flat = lines if blocks is None else blocks_lines(blocks)
        batches = read_ahead(log_reader(postfix_tls), flat, batch_size)
    for logins, read in batches:
        counted(*evidence_record(logins, source=source, directory=load(), read_counts=read), read)
    return total, mailboxes


def _block_tally(block: Block, into: list[Tally]) -> tuple[Counter, dict, list, int]:
    """In a reading process: a block's logins tallied into the process's tallies (one per
    writer: `tally`), but for the Postfix logins whose connection began in an earlier
    block: those go back, with their connection, to be completed in order. Returns the
    block's line counts, how it leaves the Postfix connections it touched, those logins,
    and how many logins it tallied."""
    logins, read, ends, pending = _block_read(block)
    waiting = {index for index, _key, _service in pending}
    ready = [login for i, login in enumerate(logins) if i not in waiting] if waiting else logins
    tally(ready, _tallying["directory"], into=into)
    return read, ends, [(logins[i], key, srv) for i, key, srv in pending], len(ready)


# What the reading processes work with: set before they are forked.
_tallying: dict[str, Any] = {}


def _tallying_process(number: int, tasks: Any, results: Any, exchanges: list) -> None:
    """A reading process: tallies the blocks it is given (`_block_tally`); told to write,
    hands each other process the tally of that one's part, adds theirs to its own and
    writes its part (`tally_write`) on its own connection, at the same time as the others."""
    _block_reader_start()
    count = len(exchanges)
    tallies = [Tally() for _ in range(count)]
    try:
        while (task := tasks.get()) is not None:
            if task[0] == "block":
                _, index, block = task
                results.put(("block", index, *_block_tally(block, tallies)))
                continue
            _, read_counts, last = task
            for other in range(count):
                if other != number:
                    exchanges[other].put(tallies[other])
            mine = tallies[number]
            for _ in range(count - 1):
                tally_add(mine, exchanges[number].get())
            counts, touched = tally_write(mine, source=_tallying["source"], read_counts=read_counts)
            results.put(("written", number, counts, touched))
            if last:  # the process ends without taking its tallies apart (about 0.04 s)
                _tallying["kept"] = tallies
            tallies = [Tally() for _ in range(count)]
    except BaseException as error:  # handed to the command, as it can be pickled
        results.put(("failed", number, f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


class _Tallying:
    """The reading processes of `_tally_parallel` with their queues: blocks handed out in
    turn; results waited for while every process is alive (one killed, out of memory: the
    command stops with BrokenProcessPool instead of waiting forever)."""

    def __init__(self, processes: int):
        context = multiprocessing.get_context("fork")
        self.tasks = [context.Queue() for _ in range(processes)]
        self.results = context.Queue()
        exchanges = [context.Queue() for _ in range(processes)]
        self.processes = [
            context.Process(
                target=_tallying_process,
                args=(number, self.tasks[number], self.results, exchanges),
                daemon=True,
            )
            for number in range(processes)
        ]
        for process in self.processes:
            process.start()

    def result(self) -> tuple:
        while True:
            try:
                found = self.results.get(timeout=0.2)
            except queue.Empty:
                if any(process.exitcode is not None for process in self.processes):
                    raise BrokenProcessPool("a reading process stopped") from None
                continue
            if found[0] == "failed":
                raise RuntimeError(found[2])
            return found

    def close(self, finished: bool) -> None:
        for process, tasks in zip(self.processes, self.tasks, strict=True):
            if finished:
                tasks.put(None)
            else:
                process.kill()
        for process in self.processes:
            process.join()


def _tally_parallel(
    blocks: Iterable[Block],
    *,
    source: LogSource,
    directory: Directory,
    processes: int,
    postfix_tls: dict,
    group_size: int,
    progress: Any,
) -> Iterator[tuple[Counter, set[int], Counter]]:
    """`processes` processes take the blocks in turn and tally them, each in its own
    memory (`_tallying_process`); this one puts their results back in order (completing
    the few Postfix logins a block could not) and, once `group_size` sessions or more are
    in, has them write: a mailbox's logins from all the parts become one row update (a
    day's file updates each row once, not once per part). Each process's tally is kept
    in as many parts as there are processes (the sessions' parts modulo that: parts
    that share no row); each process writes one part, all at the same time, each part
    counted wholly or not at all. Yields the counts, the mailboxes with new evidence and
    the lines read of each group."""
    connections.close_all()  # not shared with the forked processes (this one reopens it)
    _tallying.update(directory=directory, source=source)
    readers = _Tallying(processes)
    finished = False
    try:
        waiting: dict[int, tuple] = {}
        submitted = taken = sessions = 0
        read: Counter = Counter()
        completed: list[Login] = []

        def take() -> None:
            nonlocal taken, sessions
            while taken not in waiting:
                _kind, index, *found = readers.result()
                waiting[index] = found
            counts, ends, pending, tallied = waiting.pop(taken)
            taken += 1
            completed.extend(
                login_resolve(login, key, service, postfix_tls) for login, key, service in pending
            )
            postfix_carry(postfix_tls, ends)
            read.update(counts)
            sessions += tallied
            if progress is not None:
                progress.update(counts["lines"])

        def written(last: bool = False) -> tuple[Counter, set[int], Counter]:
            nonlocal sessions, read, completed
            while taken < submitted:
                take()
            for number, tasks in enumerate(readers.tasks):
                tasks.put(("write", read if number == 0 else None, last))
            counts: Counter = Counter()
            touched: set[int] = set()
            for _ in readers.processes:
                _kind, _number, *found = readers.result()
                counts.update(found[0])
                touched.update(found[1])
            if completed:
                found = evidence_record(completed, source=source, directory=directory)
                counts.update(found[0])
                touched.update(found[1])
            group = (counts, touched, read)
            sessions, read, completed = 0, Counter(), []
            return group

        for block in blocks:
            readers.tasks[submitted % processes].put(("block", submitted, block))
            submitted += 1
            if submitted - taken >= 2 * processes:
                take()
                if sessions + len(completed) >= group_size:
                    yield written()
        while taken < submitted:
            take()
        if read:
            yield written(last=True)
        finished = True
    finally:
        readers.close(finished)
        _tallying.clear()


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
