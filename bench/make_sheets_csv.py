"""Write a settings-sheet CSV of N rows (default 100,000) across N/100 customers.

    python bench/make_sheets_csv.py 100000 var/bench-100k.csv [--changed 0.1]

With --changed F, a fraction F of the rows gets new outgoing settings (the
"SSL migration" case), so that a re-import has real changes to apply.
"""

import argparse
import csv
import random

HEADER = [
    "customer", "customer_name", "email", "username", "protocol", "incoming_host",
    "incoming_port", "incoming_security", "outgoing_host", "outgoing_port",
    "outgoing_security", "smtp_auth",
]  # fmt: skip
OLD = (
    "pop.hosting.example",
    "110",
    "none",
    "smtp.hosting.example",
    "25",
    "none",
    "pop-before-smtp",
)
NEW = ("mail.hosting.example", "995", "ssl", "mail.hosting.example", "465", "ssl", "smtp-auth")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("path")
    parser.add_argument("--changed", type=float, default=0.0)
    args = parser.parse_args()
    rng = random.Random(2026)
    with open(args.path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(args.rows):
            customer = n // 100
            protocol = "imap" if n % 3 == 0 else "pop3"
            sheet = OLD if n % 2 else NEW
            if args.changed and rng.random() < args.changed:
                sheet = sheet[:3] + NEW[3:]
            writer.writerow(
                [f"c{customer:05d}", f"株式会社テスト{customer:05d}", f"user{n:07d}@c{customer:05d}.example",
                 f"user{n:07d}", protocol, *sheet]
            )  # fmt: skip


if __name__ == "__main__":
    main()
