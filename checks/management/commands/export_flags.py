"""python manage.py export_flags [--format csv|json] [--code CODE]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from checks.exports import FilterError, csv_lines, export_rows, findings_filter, json_lines
from checks.findings import CODES, findings_pending_since, pending_text


class Command(BaseCommand):
    help = "Export the open findings: customer,email,side,code,severity,detail."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--code", choices=CODES, help="only this finding code")
        parser.add_argument("--severity", choices=["high", "medium"])
        parser.add_argument("--customer", help="only this customer ID")
        parser.add_argument("--lang", choices=["en", "ja"], default="en", help="language of detail")

    def handle(self, *args: Any, **options: Any) -> None:
        params = {k: options[k] or "" for k in ("code", "severity", "customer")}
        try:
            findings = findings_filter(params)
        except FilterError as error:
            raise CommandError(str(error)) from None
        lines = csv_lines if options["format"] == "csv" else json_lines
        with translation.override(options["lang"]):
            pending = findings_pending_since()
            if pending:  # on stderr: the data on stdout stays machine-readable
                self.stderr.write(pending_text(pending))
            for chunk in lines(export_rows(findings)):
                self.stdout.write(chunk, ending="")
