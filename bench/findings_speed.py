"""Findings at scale: 1,000,000 mailboxes of 10,000 customers on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres bench_findings
    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_findings
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/findings_speed.py [--mailboxes 1000000] [--customers 10000] [--keep]

Makes the data with `manage.py generate_mailboxes` (unless --keep reuses it),
then times: the first full recompute (no findings yet) before and after its bulk
path (checks.findings.BULK_FIRST_FILL off and on, alternated, best of two each,
in the same run on the same data), a full recompute with
findings in place (what runs after a sweep when something changed), a rerun
with nothing changed, one mailbox's recompute after its sheet changed, and
the dashboard's first page (server time, through Django's test client).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Mailbox, SettingsSheet, sheet_record  # noqa: E402
from accounts.sheets import SheetValues  # noqa: E402
from checks import findings  # noqa: E402
from checks.findings import findings_recompute, open_findings  # noqa: E402
from tests.conftest import login_staff  # noqa: E402


def timed(function, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailboxes", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="reuse the data already there")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL to a PostgreSQL database")
    if not args.keep:
        call_command(
            "generate_mailboxes",
            mailboxes=args.mailboxes,
            customers=args.customers,
            no_findings=True,
        )

    def first_fill(bulk: bool) -> float:
        findings.BULK_FIRST_FILL = bulk
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE checks_finding")
            cursor.execute("DELETE FROM checks_findingsummary")
            cursor.execute("ANALYZE checks_finding")
            cursor.execute("CHECKPOINT")  # the other run's writes are not paid for by this one
        try:
            return timed(lambda: findings_recompute(force=True))
        finally:
            findings.BULK_FIRST_FILL = True

    runs = []
    for _ in range(2):
        for bulk in (False, True):
            runs.append((bulk, first_fill(bulk)))
            print(f"first full recompute, bulk path {'on' if bulk else 'off'}: {runs[-1][1]:.1f} s",
                  flush=True)  # fmt: skip
    before = min(t for bulk, t in runs if not bulk)
    first = min(t for bulk, t in runs if bulk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE checks_finding")
    again = timed(lambda: findings_recompute(force=True))
    unchanged = timed(lambda: findings_recompute(), repeat=3)

    mailbox = (
        Mailbox.objects.select_related("current_sheet").filter(email__startswith="user12@").first()
    )
    sheets = [
        SheetValues(
            "pop.hosting.example",
            110,
            "none",
            "smtp.hosting.example",
            25,
            "none",
            "pop-before-smtp",
        ),
        SheetValues(
            "mail.hosting.example", 995, "ssl", "mail.hosting.example", 465, "ssl", "smtp-auth"
        ),
    ]
    one = min(
        timed(lambda v=values: sheet_record(mailbox, v, source=SettingsSheet.Source.STAFF))
        for _ in range(3)
        for values in sheets
    )
    recompute_one = timed(lambda: findings_recompute([mailbox.pk]), repeat=5)

    staff, _ = get_user_model().objects.get_or_create(
        username="bench-support", defaults={"is_staff": True}
    )
    staff.groups.add(Group.objects.get_or_create(name="support")[0])
    client = Client(SERVER_NAME="localhost")
    login_staff(client, staff)  # staff pages want the second factor
    assert client.get("/staff/findings/", secure=True).status_code == 200  # and warm
    dashboard = timed(lambda: client.get("/staff/findings/", secure=True), repeat=5)
    old_names = timed(
        lambda: client.get("/staff/findings/?code=legacy-hostname", secure=True), repeat=5
    )
    customer = timed(
        lambda: client.get("/staff/findings/?customer=synthetic-000042", secure=True), repeat=5
    )

    print(f"{Mailbox.objects.count():,} mailboxes, {open_findings().count():,} open findings")
    print("| step | seconds | goal |\n|---|---|---|")
    print(f"| first full recompute (no findings yet), before | {before:.1f} | ≤ 20 |")
    print(f"| first full recompute (no findings yet), after | {first:.1f} | ≤ 20 |")
    print(f"| full recompute, findings in place | {again:.1f} | ≤ 20 |")
    print(f"| rerun with nothing changed | {unchanged:.2f} | ≤ 2 |")
    print(f"| one mailbox: sheet saved, findings recomputed | {one * 1000:.0f} ms | |")
    print(f"| one mailbox: findings recomputed | {recompute_one * 1000:.0f} ms | ≤ 50 ms |")
    print(f"| dashboard first page | {dashboard * 1000:.0f} ms | ≤ 300 ms |")
    print(f"| dashboard, old server names | {old_names * 1000:.0f} ms | |")
    print(f"| dashboard, one customer | {customer * 1000:.0f} ms | |")


if __name__ == "__main__":
    main()
