"""Reading log lines into logins for `checks.evidence.recording`: in a thread beside the
database (a shipper's batch), or in several processes that take parts of a file (or
blocks of lines) in turn and are put back together in order (ingest_maillog).

A login is handed on as a plain tuple (`Login`), cheap to pass between processes, with
its session's key already hashed.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from hashlib import blake2b
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from checks.evidence.parse import LOGIN, PENDING, LoginEvent, LogReader, bounded_lines

try:
    from checks.evidence._fastread import read_block
except ImportError:  # not compiled (installed without a C compiler): the same, slower
    read_block = None

BLOCK_LINES = 20_000  # lines a reading process takes at a time
BLOCK_BYTES = 16 << 20  # or bytes of a file


# What recording needs of an event, as a plain tuple (cheap to hand between processes):
# (key, at as a POSIX timestamp, outcome, protocol, user, remote, local, local_port, tls,
# tls_version).
Login = tuple


def _login(event: LoginEvent, timestamps: dict[int, tuple[datetime, float]]) -> Login:
    """The event as recording takes it, with its session's key: the first 8 bytes of a
    16-byte BLAKE2b of what identifies the session. `timestamps` (id of a time → the time
    and its POSIX timestamp, holding the time so that its id stays its own) saves working
    the same time out again: events of one second share their time's object (LogReader's
    `_stamps`)."""
    digest = blake2b(f"{event.outcome}|{event.session}".encode(), digest_size=16).digest()
    at = event.at
    found = timestamps.get(id(at))
    if found is None:
        timestamp = at.timestamp()
        timestamps[id(at)] = (at, timestamp)
    else:
        timestamp = found[1]
    return (
        int.from_bytes(digest[:8], "big"),
        timestamp,
        event.outcome,
        event.protocol,
        event.user,
        event.remote,
        event.local,
        event.local_port,
        event.tls,
        event.tls_version,
    )


def _logins(events: Iterable[LoginEvent]) -> list[Login]:
    timestamps: dict[int, tuple[datetime, float]] = {}
    return [_login(event, timestamps) for event in events]


def log_reader(postfix_tls: dict | None = None) -> LogReader:
    return LogReader(
        tz=ZoneInfo(settings.LOG_TIME_ZONE),
        now=timezone.now(),
        keep=timedelta(days=settings.LOG_EVIDENCE_KEEP_DAYS),
        postfix_tls=postfix_tls,
    )


def read_ahead(
    reader: LogReader, lines: Iterable[str | bytes], batch_size: int
) -> Iterator[tuple[list[Login], Counter]]:
    """The logins of `lines` in batches, each with the reader's counts of the lines it
    took; read in a thread of its own, one batch ahead, so that reading the next batch
    goes on while the database writes this one. Whatever the reading raises (a damaged
    archive) is raised here."""
    batches: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            reported: Counter = Counter()
            events: list[Login] = []
            timestamps: dict[int, tuple[datetime, float]] = {}
            for event in reader.read(lines):
                events.append(_login(event, timestamps))
                if len(events) >= batch_size:
                    put((events, reader.counts - reported))
                    reported = reader.counts.copy()
                    events, timestamps = [], {}
                    if stop.is_set():
                        return
            put((events, reader.counts - reported))
            put(done)
        except BaseException as error:  # handed to the caller
            put(error)

    thread = threading.Thread(target=work, name="maillog-reader", daemon=True)
    thread.start()
    try:
        while (item := batches.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# The reader of each reading process (`read_parallel`).
_block_reader: LogReader | None = None

# A part of a file (path, start, end: whole lines) or a list of lines.
Block = tuple[str, int, int] | list[str | bytes]


class _Part(io.RawIOBase):
    """`size` bytes of a file from where it stands."""

    def __init__(self, file: BinaryIO, size: int):
        self.file, self.left = file, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.file.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def file_blocks(path: Path, size: int | None = None) -> Iterator[tuple[str, int, int]]:
    """A plain file cut into parts of about `size` bytes (BLOCK_BYTES), each ending after
    a line's end (as long as the file is when this starts: lines written later are for
    the next run)."""
    size = size or BLOCK_BYTES
    with path.open("rb") as file:
        length = os.fstat(file.fileno()).st_size
        start = 0
        while start < length:
            end = start + size
            if end >= length:
                end = length
            else:
                file.seek(end)
                while chunk := file.read(1 << 16):
                    if (newline := chunk.find(b"\n")) >= 0:
                        end = file.tell() - len(chunk) + newline + 1
                        break
                else:
                    end = length
            yield (str(path), start, end)
            start = end


def file_block_size(path: Path, processes: int) -> int:
    """Parts of about BLOCK_BYTES, as many for each process (none is left alone with the
    last one while the others wait)."""
    length = os.stat(path).st_size
    parts = max(1, round(length / BLOCK_BYTES / processes)) * processes
    return max(1, -(-length // parts))


def _block_reader_start() -> None:
    global _block_reader
    # A reading process makes hundreds of thousands of small objects and no reference
    # cycles: the cyclic collector would only walk them again and again (a third of the
    # time spent on the logins). Memory is freed as usual when each block is done.
    gc.disable()
    reader = log_reader()
    _block_reader = LogReader(tz=reader.tz, now=reader.now, keep=reader.keep, blocks=True)


def _block_read(block: Block) -> tuple[list[Login], Counter, dict, list]:
    """In a reading process: a block's logins, its counts, how it leaves the Postfix
    connections it touched, and its PENDING logins (index, connection, service). A part
    of a file goes the compiled quick way when the install could build it (`read_block`)."""
    reader = _block_reader
    assert reader is not None
    reader.counts = Counter()
    if read_block is not None and isinstance(block, tuple):
        path, start, end = block
        with open(path, "rb") as file:
            file.seek(start)
            data = file.read(end - start)
        logins: list[Login] = []
        pending: list[tuple[int, tuple[str, str], str]] = []
        read_block(reader, data, _login, logins, pending)
        return logins, reader.counts, reader.block_end(), pending
    events = list(reader.read(_block_lines(block)))
    pending = [
        (index, event.connection, event.service)
        for index, event in enumerate(events)
        if event.tls_version == PENDING
    ]
    return _logins(events), reader.counts, reader.block_end(), pending


def login_resolve(
    login: Login, connection_key: tuple[str, str], service: str, postfix_tls: dict
) -> Login:
    """A PENDING login (`_block_read`) with the TLS its connection had when the blocks
    before its own ended (`postfix_carry`)."""
    version = postfix_tls.get(connection_key)
    tls = version is not None or (login[2] == LOGIN and service == "smtps")
    return (*login[:8], tls, version)


def postfix_carry(postfix_tls: dict, ends: dict) -> None:
    """The Postfix connections open after the blocks so far, and the next block's ends."""
    for key, version in ends.items():
        if version is None:
            postfix_tls.pop(key, None)
        else:
            postfix_tls[key] = version


@contextlib.contextmanager
def reading_pool(processes: int) -> Iterator[ProcessPoolExecutor]:
    """`processes` forked processes, each with its block reader (`_block_reader_start`).
    A process that dies (killed, out of memory) fails what waits for it with
    BrokenProcessPool instead of leaving it waiting; work not started yet is dropped
    when the caller stops early."""
    pool = ProcessPoolExecutor(
        processes, mp_context=multiprocessing.get_context("fork"), initializer=_block_reader_start
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_parallel(
    blocks: Iterable[Block],
    batch_size: int,
    processes: int,
    postfix_tls: dict[tuple[str, str], str],
    started: Callable[[], None],
) -> Iterator[tuple[list[Login], Counter]]:
    """As `read_ahead`, with `processes` reading processes taking blocks in turn (a few
    blocks ahead of the database); `started()` is called once they have work. Blocks are
    put back together in order: a Postfix login whose connection began in an earlier
    block gets its TLS from the connections the blocks before it left open."""
    batch: list[Login] = []
    read: Counter = Counter()
    with reading_pool(processes) as pool:
        waiting: deque = deque()

        def take() -> None:
            logins, counts, ends, pending = waiting.popleft().result()
            for index, connection_key, service in pending:
                logins[index] = login_resolve(logins[index], connection_key, service, postfix_tls)
            postfix_carry(postfix_tls, ends)
            batch.extend(logins)
            read.update(counts)

        for block in blocks:
            waiting.append(pool.submit(_block_read, block))
            if started is not None and len(waiting) >= processes:
                started()
                started = None
            if len(waiting) >= 2 * processes:
                take()
                if len(batch) >= batch_size:
                    yield batch, read
                    batch, read = [], Counter()
        if started is not None:
            started()
        while waiting:
            take()
    yield batch, read


def line_blocks(lines: Iterable[str | bytes]) -> Iterator[list[str | bytes]]:
    it = iter(lines)
    while block := list(islice(it, BLOCK_LINES)):
        yield block


def _block_lines(block: Block) -> Iterator[str | bytes]:
    if isinstance(block, tuple):
        path, start, end = block
        with open(path, "rb") as file:
            file.seek(start)
            yield from bounded_lines(io.BufferedReader(_Part(file, end - start)))
    else:
        yield from block


def blocks_lines(blocks: Iterable[Block]) -> Iterator[str | bytes]:
    for block in blocks:
        yield from _block_lines(block)


def reading_processes() -> int:
    """How many processes read a log file: the machine's cores, at most four."""
    return max(1, min(4, os.cpu_count() or 1))
