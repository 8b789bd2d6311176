"""Guide page speed with 1,000,000 mailboxes in the database (the data of
bench/findings_speed.py): server time of a customer's guide page, p50 and p95.

    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_findings
    .venv/bin/python bench/guide_speed.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Mailbox, Membership  # noqa: E402
from portal.guides.catalog import CATALOG  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    total = Mailbox.objects.count()
    rng = random.Random(7)
    mailboxes = list(
        Mailbox.objects.select_related("customer").filter(
            pk__in=[rng.randrange(1, total) for _ in range(50)], current_sheet__isnull=False
        )
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-customer")
    for mailbox in mailboxes:
        Membership.objects.get_or_create(user=user, customer=mailbox.customer)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    clients = list(CATALOG)
    times = []
    for n in range(args.requests + 20):
        mailbox = mailboxes[n % len(mailboxes)]
        url = f"/c/{mailbox.customer.slug}/m/{mailbox.code}/guide/{clients[n % len(clients)]}/"
        started = time.perf_counter()
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja" if n % 2 else "en")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        if n >= 20:  # the first ones warm caches
            times.append(elapsed * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{total:,} mailboxes; {len(times)} guide pages over {len(mailboxes)} mailboxes,")
    print(f"{len(clients)} programs, ja and en")
    print(
        f"| p50 | p95 | max |\n|---|---|---|\n| {statistics.median(times):.1f} ms | {p95:.1f} ms | {times[-1]:.1f} ms |"
    )


if __name__ == "__main__":
    main()
