"""python manage.py recompute_findings [--force]"""

from typing import Any

from django.core.management.base import BaseCommand

from checks.findings import findings_recompute
from checks.models import FindingSummary


class Command(BaseCommand):
    help = "Recompute the findings of every mailbox (nothing to do when no input changed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force", action="store_true", help="recompute even if nothing changed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not findings_recompute(force=options["force"]):
            self.stdout.write("Nothing changed since the last recompute.")
            return
        total = FindingSummary.objects.get().counts.get("total", {}).get("", 0)
        self.stdout.write(f"{total} open findings.")
