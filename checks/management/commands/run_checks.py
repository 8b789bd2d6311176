"""python manage.py run_checks [--wait]: start a sweep of every endpoint now."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from checks.models import Endpoint, Sweep
from checks.sweep import sweep_start
from checks.verdicts import verdict


class Command(BaseCommand):
    help = "Start a sweep of all mail endpoints; with --wait, follow it and print a summary."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--wait", action="store_true", help="wait for the sweep to finish")
        parser.add_argument(
            "--max-wait", type=int, default=3600, help="seconds to wait at most (3600)"
        )
        parser.add_argument(
            "--lang", choices=["en", "ja"], default="en", help="language of the summary"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["lang"]):
            self.run(options)

    def run(self, options: dict[str, Any]) -> None:
        started = sweep_start()
        if started is None:
            running = Sweep.objects.filter(status=Sweep.Status.RUNNING).first()
            self.stdout.write(f"A sweep is already running (started {running.started_at:%H:%M}).")
            started = running
        else:
            self.stdout.write(
                f"Sweep {started.pk} started: {started.endpoint_count} endpoints "
                f"in {started.batch_count} batches."
            )
        if not options["wait"]:
            return
        self.follow(started.pk, options["max_wait"])
        self.summary()

    def follow(self, sweep_id: int, max_wait: int) -> None:
        from tqdm import tqdm

        deadline = time.monotonic() + max_wait
        sweep = Sweep.objects.get(pk=sweep_id)
        with tqdm(total=sweep.batch_count, unit=" batches", disable=not sys.stderr.isatty()) as bar:
            while sweep.status == Sweep.Status.RUNNING:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The sweep is still running after {max_wait} s "
                        f"({sweep.batches_done} of {sweep.batch_count} batches): is a worker running?"
                    )
                time.sleep(1)
                sweep.refresh_from_db()
                bar.update(sweep.batches_done - bar.n)
        if sweep.status != Sweep.Status.FINISHED:
            raise CommandError(f"The sweep ended as {sweep.status}.")

    def summary(self) -> None:
        endpoints = Endpoint.objects.select_related("last_result").filter(
            in_registry=True
        ) | Endpoint.objects.select_related("last_result").filter(in_sheets=True)
        levels = Counter()
        problems = []
        for endpoint in endpoints:
            judged = verdict(endpoint.last_result, endpoint.security)
            levels[judged.level] += 1
            if judged.level == "bad":
                problems.append(f"  {endpoint}: {'; '.join(judged.reasons)}")
        total = sum(levels.values())
        self.stdout.write(
            f"{total} endpoints: {levels['ok']} OK, {levels['warn']} with warnings, "
            f"{levels['bad']} with problems, {levels['unknown']} not checked"
        )
        for line in problems:
            self.stdout.write(line)
