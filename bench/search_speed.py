"""Staff search latency on whatever database DATABASE_URL names (after bench/import_speed.sh,
the 100,000-mailbox scratch database):

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import \\
        .venv/bin/python bench/search_speed.py

Each query is what a support agent types; the time covers the search and
fetching the rows the page shows (best of 5, milliseconds).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from accounts.models import Mailbox  # noqa: E402

QUERIES = [
    "user0054321@c00543.example",
    "user00543",
    "c00543.example",
    "c00543",
    "株式会社テスト00543",
    "pop.hosting",
    "nothing-matches-this",
]


def main() -> None:
    print(f"{Mailbox.objects.count():,} mailboxes")
    print("| query | rows | ms |\n|---|---|---|")
    for query in QUERIES:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            rows = list(Mailbox.objects.search(query).select_related("customer", "current_sheet"))
            best = min(best, time.perf_counter() - start)
        print(f"| `{query}` | {len(rows)} | {best * 1000:.1f} |")


if __name__ == "__main__":
    main()
