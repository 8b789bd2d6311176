"""python manage.py ingest_maillog FILE... [--source NAME]: count the logins in mail server
logs (plain or .gz, streaming) as evidence; reading a file twice counts nothing twice."""

from __future__ import annotations

import contextlib
import functools
import gc
import gzip
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from checks.evidence.models import LogSource
from checks.evidence.parse import bounded_lines
from checks.evidence.reading import file_block_size, file_blocks, reading_processes
from checks.evidence.recording import directory_load, evidence_ingest, evidence_prune
from checks.findings import findings_recompute

# Past this many mailboxes with new evidence one full recompute is cheaper than a list.
FULL_RECOMPUTE_AFTER = 5000


@contextlib.contextmanager
def collector_kept_out() -> Iterator[None]:
    """Everything made before (Django's start) lives on: the cyclic garbage collector
    is kept from walking it again and again while the logins pass through (they make no
    reference cycles); as it was afterwards (the command may run inside a longer process)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class Command(BaseCommand):
    help = "Read Dovecot/Postfix logs (plain or .gz) into login evidence and print the counts."
    # A batch job run from cron or by hand on big files: Django's system checks (run by
    # `manage.py check` and at deployment) would only add to its start-up time.
    requires_system_checks: list[str] = []

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        finally:
            # From the command line the process ends next: the interpreter takes
            # everything down, and the cyclic collector, left to walk it all once more on
            # the way out, would take about 0.2 s after a big ingest (bench/README.md).
            gc.freeze()

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="log files, plain or .gz")
        parser.add_argument(
            "--source", default="files", help="the log source's name (default: files)"
        )

    def handle(self, *args: Any, **options: Any) -> None:

        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        started = time.monotonic()
        with collector_kept_out():
            self._ingest(options, started)

    def _ingest(self, options: dict, started: float) -> None:
        from tqdm import tqdm

        source, _ = LogSource.objects.get_or_create(name=options["source"])
        directory = functools.cache(directory_load)  # loaded once, while lines are read
        total: Counter = Counter()
        touched: set[int] = set()
        postfix_tls: dict = {}  # a connection may go on from one file to the next
        processes = reading_processes()
        with tqdm(unit=" lines", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            for path in options["files"]:
                with path.open("rb") as raw:
                    gzipped = raw.read(2) == b"\x1f\x8b"
                    raw.seek(0)
                    try:
                        counts, mailboxes = evidence_ingest(
                            # A plain file is read in parts by the reading processes
                            # themselves; an archive is unpacked here.
                            bounded_lines(gzip.GzipFile(fileobj=raw)) if gzipped else (),
                            blocks=None
                            if gzipped
                            else file_blocks(path, file_block_size(path, processes)),
                            source=source,
                            directory=directory,
                            progress=bar,
                            processes=processes,
                            postfix_tls=postfix_tls,
                        )
                    except BrokenProcessPool:  # killed, out of memory
                        raise CommandError(
                            f"{path}: a reading process stopped before the end. The lines"
                            " written before it stay counted; run the command again to count"
                            " the rest (nothing is counted twice)."
                        ) from None
                    except (OSError, EOFError) as error:  # a damaged archive
                        raise CommandError(f"{path}: {error}") from None
                total.update(counts)
                touched.update(mailboxes)
        stored = time.monotonic()
        if touched:
            findings_recompute(
                None if len(touched) > FULL_RECOMPUTE_AFTER else sorted(touched),
                evidence_only=True,
            )
        evidence_prune()
        recomputed = time.monotonic()
        self.stdout.write(
            f"{total['lines']} lines: {total['recorded']} logins recorded for "
            f"{len(touched)} mailboxes, {total['duplicate']} already counted, "
            f"{total['unknown-user']} unknown login names, {total['ambiguous-user']} ambiguous, "
            f"{total['auth-failed']} failed logins, {total['plaintext-refused']} refused "
            f"plaintext logins; skipped {total['skipped']} other lines, {total['garbage']} garbage, "
            f"{total['bad-time']} with absurd times, {total['too-long']} too long."
        )
        self.stdout.write(
            f"Read and stored in {stored - started:.1f} s; findings recomputed in "
            f"{recomputed - stored:.1f} s."
        )
