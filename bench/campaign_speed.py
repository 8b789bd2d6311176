"""Campaign sending: 100,000 notifications to a local SMTP sink with two Celery
workers (Redis broker), then count: delivered, duplicates, lost.

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE bench_campaign'
    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_campaign \\
           CELERY_BROKER_URL=redis://127.0.0.1:6379/0
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/campaign_speed.py [--customers 100000]

The data: `generate_mailboxes` with one mailbox per customer (so one notice
per customer); the campaign targets every mailbox. The
sink is aiosmtpd in this process; each worker is `celery worker --pool=solo`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from portal.campaigns import lifecycle  # noqa: E402
from portal.campaigns.tasks import notices_send  # noqa: E402
from portal.models import Campaign, CampaignMailbox, Notice  # noqa: E402
from tests.smtp_sink import SmtpSink  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    call_command("generate_mailboxes", mailboxes=args.customers, customers=args.customers)
    Campaign.objects.all().delete()
    # Every mailbox: they all use one of the company's names on one side or the other.
    campaign = Campaign.objects.create(
        name="bench",
        cutover=date(2030, 1, 1),
        target_hosts="mail.hosting.example\npop.hosting.example\nsmtp.hosting.example",
        state="running",
    )
    CampaignMailbox.objects.bulk_create(
        (
            CampaignMailbox(campaign=campaign, mailbox_id=m, customer_id=c)
            for m, c in lifecycle.target_mailboxes(campaign).values_list("pk", "customer_id")
        ),
        batch_size=5000,
    )
    notices = lifecycle.notices_create(campaign, "notice")
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    with SmtpSink() as smtp:
        env = os.environ | {
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "CAMPAIGN_RATE_PER_MINUTE": "1000000",
            "CELERY_QUEUE": queue,
        }
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    queue,
                    "-n",
                    f"bench{n}@%h",
                    "-l",
                    "WARNING",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
            )
            for n in range(args.workers)
        ]
        try:
            time.sleep(3)
            started = time.perf_counter()
            for _ in range(args.workers * 2):
                notices_send.apply_async(args=[campaign.pk], queue=queue)
            while Notice.objects.filter(campaign=campaign, status="sent").count() < notices:
                time.sleep(2)
                if time.perf_counter() - started > 3600:
                    break
            seconds = time.perf_counter() - started
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(30)
        messages = smtp.messages
    ids = Counter(m["message_id"] for m in messages)
    sent = Notice.objects.filter(campaign=campaign, status="sent").count()
    print(f"{notices:,} notices, {args.workers} workers (solo pool), Redis broker, aiosmtpd sink")
    print("| delivered | seconds | per second | duplicates | lost |\n|---|---|---|---|---|")
    print(
        f"| {len(messages):,} | {seconds:.0f} | {len(messages) / seconds:.0f} |"
        f" {sum(n - 1 for n in ids.values())} | {notices - len(ids)} (notices marked sent: {sent:,}) |"
    )


if __name__ == "__main__":
    main()
