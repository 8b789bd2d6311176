"""python manage.py guide EMAIL --client ID [--lang ja|en] [--format html|json]
python manage.py guide --list-clients"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Mailbox
from portal.guides.builder import guide_build
from portal.guides.catalog import CATALOG


class Command(BaseCommand):
    help = "Print a mailbox's setup guide for one mail program (HTML or JSON)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email", nargs="?")
        parser.add_argument("--client", help="program id (see --list-clients)")
        parser.add_argument("--lang", choices=["ja", "en"], default="ja")
        parser.add_argument("--format", choices=["html", "json"], default="html")
        parser.add_argument("--list-clients", action="store_true", help="print the program ids")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list_clients"]:
            for client in CATALOG.values():
                self.stdout.write(f"{client.id}\t{client.name.en}\t{client.name.ja}")
            return
        if not options["email"] or not options["client"]:
            raise CommandError("give an e-mail address and --client ID (or --list-clients)")
        if options["client"] not in CATALOG:
            raise CommandError(
                f"unknown program {options['client']!r}; the ids are {', '.join(CATALOG)}"
            )
        mailbox = (
            Mailbox.objects.select_related("customer__server", "current_sheet")
            .filter(email=options["email"].strip().lower())
            .first()
        )
        if mailbox is None:
            raise CommandError(f"no mailbox {options['email']!r}")
        if mailbox.current_sheet is None:
            raise CommandError(f"{mailbox.email} has no settings sheet yet")
        with translation.override(options["lang"]):
            guide = guide_build(mailbox, options["client"], options["lang"])
            if options["format"] == "json":
                self.stdout.write(json.dumps(guide.as_json(), ensure_ascii=False, indent=2))
            else:
                self.stdout.write(
                    render_to_string(
                        "guides/guide_standalone.html",
                        {"guide": guide, "mailbox": mailbox, "customer": mailbox.customer},
                    )
                )
