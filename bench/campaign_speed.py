"""Campaign sending: notifications to a local SMTP sink with two Celery workers (Redis
broker), then count: delivered, duplicates, lost, SMTP sessions, SQL statements per
message. With --before REF it first runs the same on the code of an older commit
(checked out into var/bench-before), side by side in one go.

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE bench_campaign'
    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_campaign \\
           CELERY_BROKER_URL=redis://127.0.0.1:6379/0
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/campaign_speed.py --notices 100000 --before eb32262 --before-notices 20000

The data: `generate_mailboxes` with one mailbox per customer (so one notice per
customer); each run's campaign takes the next customers that have something to
change. The sink is aiosmtpd in a process of its own; each worker is `celery worker
--pool=solo` (bench/counting_worker.py, which counts the statements it sends).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import uuid
from collections import Counter
from datetime import date
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from accounts.models import Mailbox  # noqa: E402
from portal.campaigns import lifecycle, sending  # noqa: E402
from portal.campaigns.tasks import notices_send  # noqa: E402
from portal.models import Campaign, CampaignMailbox, Notice  # noqa: E402

HOSTS = "mail.hosting.example\npop.hosting.example\nsmtp.hosting.example"


def checkout(ref: str) -> Path:
    """The project as of `ref`, in var/bench-before (its own code, this database)."""
    target = ROOT / "var" / "bench-before"
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, check=True, capture_output=True
    ).stdout
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def campaign_make(name: str, count: int) -> tuple[Campaign, int]:
    """A running campaign about `count` customers no earlier campaign has taken."""
    taken = CampaignMailbox.objects.values("mailbox")
    campaign = Campaign.objects.create(
        name=name, cutover=date(2030, 1, 1), target_hosts=HOSTS, state="running"
    )
    rows = lifecycle.target_mailboxes(campaign).exclude(pk__in=taken).order_by("pk")
    CampaignMailbox.objects.bulk_create(
        (
            CampaignMailbox(campaign=campaign, mailbox_id=m, customer_id=c)
            for m, c in rows.values_list("pk", "customer_id")[:count]
        ),
        batch_size=5000,
    )
    return campaign, lifecycle.notices_create(campaign, "notice")


def run(label: str, code: Path, campaign: Campaign, notices: int, workers: int) -> str:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    counts = [ROOT / "var" / f"bench-queries-{queue}-{n}.txt" for n in range(workers)]
    received = ROOT / "var" / f"bench-sink-{queue}.json"
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink_process.py"), str(received)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(sink.stdout.readline())
    env = os.environ | {
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "CAMPAIGN_RATE_PER_MINUTE": "1000000",
        "CELERY_QUEUE": queue,
        # Workers refuse to start without the address links in messages point at.
        "PORTAL_URL": os.environ.get("PORTAL_URL", "https://portal.hosting.example"),
    }
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "counting_worker.py"),
                "-Q",
                queue,
                "-n",
                f"bench{n}-{queue}@%h",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=code,
            env=env | {"QUERY_COUNT_FILE": str(counts[n])},
        )
        for n in range(workers)
    ]
    sent = Notice.objects.filter(campaign=campaign, status="sent")
    try:
        time.sleep(5)
        started = time.perf_counter()
        notices_send.apply_async(args=[campaign.pk], queue=queue)
        if code != ROOT:  # the old chain used one worker unless given more tasks
            for _ in range(workers * 2 - 1):
                notices_send.apply_async(args=[campaign.pk], queue=queue)
        while sent.count() < notices and time.perf_counter() - started < 3600:
            if any(process.poll() is not None for process in processes):
                raise SystemExit("a worker stopped")
            if code == ROOT:  # what beat's notices_resume does every 5 s
                for campaign_id, sender in sending.senders_resume():
                    notices_send.apply_async(args=[campaign_id, sender], queue=queue)
            time.sleep(2)
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
        sink.stdin.close()
        sink.wait(60)
    result = json.loads(received.read_text())
    messages = result["messages"]
    statements = sum(int(path.read_text()) for path in counts if path.exists())
    ids = Counter(message_id for message_id, _session in messages)
    marked = sent.count()
    row = (
        f"| {label} | {notices:,} | {len(messages):,} | {seconds:.0f} |"
        f" {len(messages) / seconds:.0f} | {len({tuple(s) for _id, s in messages}):,}"
        f" ({result['sessions']:,} opened) | {statements / max(len(messages), 1):.1f} |"
        f" {sum(n - 1 for n in ids.values())} | {notices - len(ids)} (marked sent: {marked:,}) |"
    )
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=0, help="default: enough for all")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", help="a commit to run first, side by side")
    parser.add_argument("--before-notices", type=int, default=20_000)
    parser.add_argument("--keep-data", action="store_true", help="reuse generated mailboxes")
    args = parser.parse_args()
    before = args.before_notices if args.before else 0
    # About 40 % of generated mailboxes have something to change.
    customers = args.customers or int((args.notices + before) * 2.6)
    Campaign.objects.all().delete()
    if not args.keep_data or Mailbox.objects.count() < customers:
        call_command("generate_mailboxes", mailboxes=customers, customers=customers)
    rows = []
    if args.before:
        campaign, notices = campaign_make("before", before)
        rows.append(
            run(f"before ({args.before})", checkout(args.before), campaign, notices, args.workers)
        )
    campaign, notices = campaign_make("after", args.notices)
    rows.append(run("after", ROOT, campaign, notices, args.workers))
    print(f"{args.workers} workers (solo pool), Redis broker, aiosmtpd sink, rate limit off")
    print(
        "| code | notices | delivered | seconds | messages/s | sessions carrying mail |"
        " SQL statements per message | duplicates | lost |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
