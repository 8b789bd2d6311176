"""Work that stopped half-way and was taken up again — its worker killed, the broker's
queued messages lost when Redis restarted, the database connection cut — noted on the
row doing the work (a sweep, a campaign's sending, an import), so that its page can tell
staff when it stopped, why, and when it went on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

# What a lost database connection raises — also a server restarting, out of connections
# or out of disk: the work is rolled back, and trying again later may well succeed.
DATABASE_LOST = (OperationalError, InterfaceError)
KEEP = 20  # interruptions kept per row, the latest
# A note this soon after the last one, for the same reason, is the same incident (two
# ticks resending one sweep's batches, a resumed sender taking over a dead one's notices).
SAME_INCIDENT = timedelta(minutes=2)


class Reason(models.TextChoices):
    STALLED = "stalled", _("its worker stopped, or the message broker lost the queued work")
    DATABASE = "database", _("the connection to the database was lost")


@dataclass(frozen=True)
class Interruption:
    reason: str
    at: datetime  # when the work stopped (as far as the portal can tell)
    resumed_at: datetime
    count: int  # batches, messages… taken up again; 0 when not counted


class Interruptible(models.Model):
    interruptions = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        abstract = True

    def interruption_list(self) -> list[Interruption]:
        return [
            Interruption(
                reason=entry["reason"],
                at=parse_datetime(entry["at"]),
                resumed_at=parse_datetime(entry["resumed_at"]),
                count=entry.get("count", 0),
            )
            for entry in self.interruptions
        ]


def interruption_record(
    model: type[Interruptible],
    pk: int,
    *,
    reason: str,
    at: datetime,
    resumed_at: datetime | None = None,
    count: int = 0,
    **still: Any,
) -> None:
    """Note on the row that its work stopped at `at` for `reason` and went on at
    `resumed_at` (now), with `count` pieces of it taken up again; only if the row still
    matches `still` (e.g. status="queued")."""
    resumed_at = resumed_at or timezone.now()
    with transaction.atomic():
        row = model.objects.select_for_update().only("interruptions").filter(pk=pk, **still).first()
        if row is None:
            return
        entries = list(row.interruptions)
        last = entries[-1] if entries else None
        if (
            last is not None
            and last["reason"] == reason
            and resumed_at - parse_datetime(last["resumed_at"]) <= SAME_INCIDENT
        ):
            entries[-1] = last | {
                "at": min(parse_datetime(last["at"]), at).isoformat(),
                "resumed_at": resumed_at.isoformat(),
                "count": last.get("count", 0) + count,
            }
        else:
            entries.append(
                {
                    "reason": reason,
                    "at": min(at, resumed_at).isoformat(),
                    "resumed_at": resumed_at.isoformat(),
                    "count": count,
                }
            )
        row.interruptions = entries[-KEEP:]
        row.save(update_fields=["interruptions"])
