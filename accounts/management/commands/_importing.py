"""What the two import commands share: reading the file, printing problems and the
summary, and recomputing the findings in-process before they exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.csvfiles import ImportRefused
from accounts.import_batches import IMPORTERS, PLANNERS
from accounts.imports import ImportPlan
from checks.findings import findings_recompute


class ImportCommand(BaseCommand):
    kind = ""  # a key of PLANNERS and IMPORTERS
    label = ""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8, Shift_JIS/CP932 or EUC-JP)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and show what would change; write nothing"
        )
        parser.add_argument(
            "--lang", choices=["en", "ja"], default="en", help="language of the messages"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        with translation.override(options["lang"]):
            try:
                plan = self.run(data, dry_run=options["dry_run"], options=options)
            except ImportRefused as refused:
                for problem in refused.problems:
                    self.stderr.write(f"{path}: {problem}")
                raise CommandError(
                    f"{len(refused.problems)} problem(s) found; nothing was written."
                ) from None
            self.report(plan, dry_run=options["dry_run"])

    def run(self, data: bytes, *, dry_run: bool, options: dict[str, Any]) -> ImportPlan:
        if dry_run:
            plan = PLANNERS[self.kind](data)
            if plan.problems:
                raise ImportRefused(plan.problems)
            return plan
        bar = self.progress_bar()
        try:
            plan = IMPORTERS[self.kind](data, progress=bar.advance)
        finally:
            bar.close()
        # A batch job already: bring the findings up to date before exiting rather than
        # leave them stale until some worker runs.
        findings_recompute()
        return plan

    def report(self, plan: ImportPlan, *, dry_run: bool) -> None:
        for note in plan.notes:
            self.stdout.write(note)
        counts = plan.counts()
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{self.label}: {counts['created']} created, {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged"
            + (f" (dry run: nothing written; these {verb} the changes)" if dry_run else "")
        )

    def progress_bar(self) -> Any:
        """A progress bar on a terminal; silent when the output is a file or a pipe."""
        from tqdm import tqdm

        bar = tqdm(unit=" rows", disable=not sys.stderr.isatty(), file=sys.stderr, leave=False)

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done)

        bar.advance = advance
        return bar
