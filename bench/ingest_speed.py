"""Log ingest at scale: 1,000,000 real-format lines (Dovecot and Postfix mixed) for 100,000
mailboxes, end to end (read, parse, find the mailbox, count once, store), side by side
with `pflogsumm` summarising the same Postfix lines.

    apt-get install pflogsumm        # Debian package, the side-by-side baseline
    createdb -h 127.0.0.1 -U postgres bench_ingest
    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ingest
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/ingest_speed.py [--lines 1000000] [--mailboxes 100000] [--keep] [--pairs 10]

Makes the mailboxes with `manage.py generate_mailboxes` (unless --keep reuses them) and
writes two days of logs (RFC 3164 syslog, as rsyslog writes /var/log/mail.log) to a
temporary directory. Then times `manage.py ingest_maillog` (a new process, as an operator
runs it from cron) on day 1 (the first ingest: every mailbox's evidence is new), on day 2's
Postfix lines alone and pflogsumm on the same file (the side-by-side pair: the same lines,
as a daily run sees them), the whole of day 2, and day 1 again (everything already
counted).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def manage(*args: str, capture: bool = False) -> tuple[float, str, int]:
    """Run manage.py; returns (seconds, output, peak memory in MB of its largest process:
    the command's, or one of its reading processes')."""
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "-c", MEASURED, str(ROOT / "manage.py"), *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    *output, peak = result.stdout.rstrip("\n").split("\n")
    return seconds, "\n".join(output), max(map(int, peak.split())) // 1024


# Runs manage.py and prints its peak resident memory (KB) last, and its largest child's.
MEASURED = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def write_log(path: Path, lines: int, mailboxes: int, *, day: int = 1) -> tuple[int, Path]:
    """A day's mail.log of `lines` lines: Dovecot logins (the recommended format), Postfix
    submission/smtps connections (connect, TLS, the SASL line of a message, disconnect),
    and noise from other programs. Each mailbox's mail program uses one setting, as real
    ones do: POP3 or IMAP, 10 % of them on the plain ports, submission or smtps. Day 2 is
    the next day with new sessions. Also writes the Postfix lines alone (for pflogsumm);
    returns their number and that file."""
    settings = random.Random(7)  # the same mail programs every day
    programs = [
        (
            "imap" if settings.random() < 0.4 else "pop3",
            settings.random() < 0.1,
            "submission" if settings.random() < 0.7 else "smtps",
        )
        for _ in range(mailboxes + 1)
    ]
    rng = random.Random(10 + day)
    start = datetime.now() - timedelta(days=3 - day)
    step = timedelta(days=1) / lines
    postfix_path = path.with_suffix(".postfix")
    postfix_count = 0
    with path.open("w") as out, postfix_path.open("w") as postfix:
        n = pid = 0
        while n < lines:
            at = (start + step * n).strftime("%b %e %H:%M:%S")
            number = rng.randint(1, mailboxes)
            user = f"user{number}"
            proto, plain, service = programs[number]
            kind = rng.random()
            session = f"D{day}S{n:011d}"
            if kind < 0.55:
                port = {"imap": 143 if plain else 993, "pop3": 110 if plain else 995}[proto]
                tls = (
                    ""
                    if plain
                    else "TLS, TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits), "
                )
                out.write(
                    f"{at} mail1 dovecot: {proto}-login: Login: user=<{user}>, method=PLAIN, "
                    f"rip=203.0.113.{n % 250}, lip=192.0.2.10, lport={port}, mpid={n}, {tls}"
                    f"session=<{session}>\n"
                )  # fmt: skip
                n += 1
            elif kind < 0.95:
                pid += 1
                tag = f"{at} mail1 postfix/{service}/smtpd[{pid}]:"
                client = f"client{n % 997}.example.net[198.51.100.{n % 250}]"
                block = (
                    f"{tag} connect from {client}\n"
                    f"{tag} Anonymous TLS connection established from {client}: TLSv1.3 with"
                    " cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
                    f"{tag} {day}{pid:09X}: client={client}, sasl_method=PLAIN,"
                    f" sasl_username={user}@c{number % 1000}.example\n"
                    f"{tag} disconnect from {client} ehlo=2 starttls=1 auth=1 mail=1 rcpt=1"
                    " data=1 quit=1 commands=8\n"
                )  # fmt: skip
                out.write(block)
                postfix.write(block)
                n += 4
                postfix_count += 4
            else:
                out.write(f"{at} mail1 systemd[1]: Started session {n} of user root.\n")
                n += 1
    return postfix_count, postfix_path


def timed_ingest(path: Path) -> tuple[float, str, int]:
    return manage("ingest_maillog", str(path), "--source", "bench")


def pflogsumm(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["pflogsumm", "--problems-first", str(path)], stdout=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="reuse the mailboxes in the database")
    parser.add_argument(
        "--pairs", type=int, default=0,
        help="then this many side-by-side pairs on day 2's Postfix lines, alternating"
        " (each: day 2's sessions forgotten, the tables vacuumed, ingest_maillog, pflogsumm)",
    )  # fmt: skip
    options = parser.parse_args()

    manage("shell", "-c", "from django.db import connection;connection.cursor().execute("
           "'TRUNCATE checks_loginevidence, checks_seensessions')")  # fmt: skip
    if not options.keep:
        seconds, _out, _peak = manage(
            "generate_mailboxes", "--mailboxes", str(options.mailboxes),
            "--customers", "1000", "--no-findings",
        )  # fmt: skip
        print(f"{options.mailboxes:,} mailboxes generated in {seconds:.0f} s")

    workdir = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        day1, day2 = workdir / "day1.log", workdir / "day2.log"
        started = time.perf_counter()
        postfix1, _ = write_log(day1, options.lines, options.mailboxes, day=1)
        postfix2, day2_postfix = write_log(day2, options.lines, options.mailboxes, day=2)
        size = day1.stat().st_size / 1e6
        print(f"2 x {options.lines:,} lines ({size:.0f} MB each, {postfix1:,} and {postfix2:,}"
              f" Postfix lines) written in {time.perf_counter() - started:.1f} s")  # fmt: skip

        rows = []

        def ingest(what: str, path: Path, lines: int) -> None:
            # What autovacuum does between two daily runs: the bench runs them back to back.
            manage("shell", "-c", "from django.db import connection;connection.cursor().execute("
                   "'VACUUM ANALYZE checks_loginevidence, checks_seensessions')")  # fmt: skip
            seconds, output, peak = timed_ingest(path)
            print(output)
            found = re.search(
                r"Read and stored in ([\d.]+) s; findings recomputed in ([\d.]+) s", output
            )
            assert found, output
            stored, recomputed = (float(x) for x in found.groups())
            rows.append(
                (f"`ingest_maillog`, {what} (peak {peak} MB)", seconds, lines, stored, recomputed)
            )

        ingest(f"day 1, {options.lines:,} lines, first time", day1, options.lines)
        # The last minute whose sessions day 1 counted: later ones are day 2's.
        _s, day1_end, _p = manage("shell", "-c", "from django.db import connection;"
                                  "c=connection.cursor();c.execute('SELECT MAX(minute)"
                                  " FROM checks_seensessions');print(c.fetchone()[0])")  # fmt: skip
        day1_end = day1_end.strip().splitlines()[-1]  # (after what the shell says first)
        ingest(f"day 2, its {postfix2:,} Postfix lines alone", day2_postfix, postfix2)
        rows.append(
            (
                f"`pflogsumm`, the same {postfix2:,} Postfix lines",
                pflogsumm(day2_postfix),
                postfix2,
                None,
                None,
            )
        )
        ingest(f"day 2, all {options.lines:,} lines (its Postfix lines already counted)",
               day2, options.lines)  # fmt: skip
        ingest("day 1 again (all already counted)", day1, options.lines)
        rows.append(
            (
                f"`pflogsumm`, day 1's {postfix1:,} Postfix lines",
                pflogsumm(day1.with_suffix(".postfix")),
                postfix1,
                None,
                None,
            )
        )

        pairs = []
        for _ in range(options.pairs):
            manage("shell", "-c", "from django.db import connection;c=connection.cursor();"
                   f"c.execute(\"DELETE FROM checks_seensessions WHERE minute > '{day1_end}'\");"
                   "c.execute('VACUUM ANALYZE checks_loginevidence, checks_seensessions')")  # fmt: skip
            seconds, _output, _peak = timed_ingest(day2_postfix)
            pairs.append((seconds, pflogsumm(day2_postfix)))
        if pairs:
            print(f"\n{len(pairs)} pairs on day 2's {postfix2:,} Postfix lines (seconds):")
            for ours, theirs in pairs:
                print(
                    f"  ingest_maillog {ours:.2f}  pflogsumm {theirs:.2f}  ratio {ours / theirs:.2f}"
                )
            ours = statistics.median(p[0] for p in pairs)
            theirs = statistics.median(p[1] for p in pairs)
            faster = sum(1 for a, b in pairs if a < b)
            print(f"  medians: ingest_maillog {ours:.2f}, pflogsumm {theirs:.2f} (ratio"
                  f" {ours / theirs:.2f}); ingest_maillog faster in {faster} of {len(pairs)}")  # fmt: skip

        print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(
            "\n| what | seconds, whole command | lines per minute | of which reading and"
            " storing, s (lines per minute) | then the findings recompute, s |"
        )
        print("|---|---|---|---|---|")
        for what, seconds, lines, stored, recomputed in rows:
            parts = (
                ("", "")
                if stored is None
                else (f"{stored:.1f} ({lines / stored * 60:,.0f})", f"{recomputed:.1f}")
            )
            print(
                f"| {what} | {seconds:.1f} | {lines / seconds * 60:,.0f} | {parts[0]} | {parts[1]} |"
            )
        print(f"\npeak memory of this script: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
