"""Log ingest at scale: 1,000,000 real-format lines (Dovecot and Postfix mixed) for 100,000
mailboxes, end to end (read, parse, find the mailbox, count once, store), side by side
with `pflogsumm` summarising the same Postfix lines.

    apt-get install pflogsumm        # Debian package, the side-by-side baseline
    createdb -h 127.0.0.1 -U postgres bench_ingest
    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ingest
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/ingest_speed.py [--lines 1000000] [--mailboxes 100000] [--keep]

Makes the mailboxes with `manage.py generate_mailboxes` (unless --keep reuses them) and
writes the log (RFC 3164 syslog, as rsyslog writes /var/log/mail.log) to a temporary file.
Then times `manage.py ingest_maillog` on it (a new process, as an operator runs it), the
same file again (everything already counted), and pflogsumm on its Postfix lines.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def manage(*args: str, capture: bool = False) -> tuple[float, str, int]:
    """Run manage.py; returns (seconds, output, peak memory in MB of that process)."""
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "-c", MEASURED, str(ROOT / "manage.py"), *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    *output, peak = result.stdout.rstrip("\n").split("\n")
    return seconds, "\n".join(output), int(peak) // 1024


# Runs manage.py and prints its peak resident memory (KB) last.
MEASURED = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_log(path: Path, lines: int, mailboxes: int) -> tuple[int, Path]:
    """A mail.log of `lines` lines: Dovecot logins (most with TLS, the recommended format,
    some plain on 110/143), Postfix submission/smtps connections (connect, TLS, the SASL
    line of a message, disconnect), and noise from other programs. Also writes the Postfix
    lines alone for pflogsumm; returns the number of Postfix lines and that file."""
    rng = random.Random(11)
    start = datetime.now() - timedelta(days=7)
    step = timedelta(days=7) / lines
    postfix_path = path.with_suffix(".postfix")
    postfix_count = 0
    with path.open("w") as out, postfix_path.open("w") as postfix:
        n = pid = 0
        while n < lines:
            at = (start + step * n).strftime("%b %e %H:%M:%S")
            user = f"user{rng.randint(1, mailboxes)}"
            kind = rng.random()
            if kind < 0.55:
                proto = "imap" if rng.random() < 0.4 else "pop3"
                plain = rng.random() < 0.1
                port = {"imap": 143 if plain else 993, "pop3": 110 if plain else 995}[proto]
                tls = (
                    ""
                    if plain
                    else "TLS, TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits), "
                )
                out.write(
                    f"{at} mail1 dovecot: {proto}-login: Login: user=<{user}>, method=PLAIN, "
                    f"rip=203.0.113.{n % 250}, lip=192.0.2.10, lport={port}, mpid={n}, {tls}"
                    f"session=<S{n:011d}>\n"
                )  # fmt: skip
                n += 1
            elif kind < 0.95:
                pid += 1
                service = "submission" if rng.random() < 0.7 else "smtps"
                tag = f"{at} mail1 postfix/{service}/smtpd[{pid}]:"
                client = f"client{n % 997}.example.net[198.51.100.{n % 250}]"
                block = (
                    f"{tag} connect from {client}\n"
                    f"{tag} Anonymous TLS connection established from {client}: TLSv1.3 with"
                    " cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
                    f"{tag} {pid:010X}: client={client}, sasl_method=PLAIN,"
                    f" sasl_username={user}@c{int(user[4:]) % 1000}.example\n"
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="reuse the mailboxes in the database")
    options = parser.parse_args()

    manage("shell", "-c", "from checks.evidence.models import *;"
           "SeenLogin.objects.all().delete();LoginEvidence.objects.all().delete()")  # fmt: skip
    if not options.keep:
        seconds, _out, _peak = manage(
            "generate_mailboxes", "--mailboxes", str(options.mailboxes),
            "--customers", "1000", "--no-findings",
        )  # fmt: skip
        print(f"{options.mailboxes:,} mailboxes generated in {seconds:.0f} s")

    workdir = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        log = workdir / "mail.log"
        started = time.perf_counter()
        postfix_lines, postfix_log = write_log(log, options.lines, options.mailboxes)
        size = log.stat().st_size / 1e6
        print(f"{options.lines:,} lines ({size:.0f} MB, {postfix_lines:,} Postfix lines)"
              f" written in {time.perf_counter() - started:.1f} s")  # fmt: skip

        first, output, peak = manage("ingest_maillog", str(log), "--source", "bench")
        print(output)
        again, _output, _peak = manage("ingest_maillog", str(log), "--source", "bench")

        started = time.perf_counter()
        subprocess.run(
            ["pflogsumm", "--problems-first", str(postfix_log)],
            stdout=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        pflogsumm = time.perf_counter() - started

        per_minute = options.lines / first * 60
        print()
        print("| what | seconds | lines per minute |")
        print("|---|---|---|")
        print(f"| `ingest_maillog`, {options.lines:,} lines, first time (peak {peak} MB)"
              f" | {first:.1f} | {per_minute:,.0f} |")  # fmt: skip
        print(f"| `ingest_maillog`, the same file again (all already counted)"
              f" | {again:.1f} | {options.lines / again * 60:,.0f} |")  # fmt: skip
        print(f"| `pflogsumm`, its {postfix_lines:,} Postfix lines only"
              f" | {pflogsumm:.1f} | {postfix_lines / pflogsumm * 60:,.0f} |")  # fmt: skip
        print(f"\npeak memory of this script: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
