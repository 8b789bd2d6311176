"""Interruptions noted on the work they stopped: one incident is one entry however often
it is noticed, the latest are kept, and work that moved on is left alone."""

from datetime import timedelta

from django.utils import timezone

from accounts.interruptions import KEEP, Reason, interruption_record
from accounts.models import ImportBatch


def batch(status=ImportBatch.Status.QUEUED) -> ImportBatch:
    return ImportBatch.objects.create(kind="sheets", filename="f.csv", content=b"", status=status)


def test_an_interruption_says_when_the_work_stopped_why_and_when_it_went_on(db):
    queued = batch()
    stopped = timezone.now() - timedelta(seconds=30)

    interruption_record(ImportBatch, queued.pk, reason=Reason.DATABASE, at=stopped, count=1)

    queued.refresh_from_db()
    [interruption] = queued.interruption_list()
    assert (interruption.reason, interruption.at, interruption.count) == ("database", stopped, 1)
    assert stopped < interruption.resumed_at <= timezone.now()


def test_one_incident_noticed_twice_is_one_entry_from_its_first_stop(db):
    queued = batch()
    now = timezone.now()
    first, later = now - timedelta(seconds=40), now - timedelta(seconds=20)

    def noticed(at, count, resumed_at):
        interruption_record(
            ImportBatch, queued.pk, reason=Reason.STALLED, at=at, count=count, resumed_at=resumed_at
        )

    noticed(later, 2, now - timedelta(seconds=10))
    noticed(first, 3, now)
    noticed(now, 1, now + timedelta(minutes=10))  # a new incident

    queued.refresh_from_db()
    one, other = queued.interruption_list()
    assert (one.at, one.resumed_at, one.count) == (first, now, 5)
    assert other.count == 1


def test_only_the_latest_interruptions_are_kept(db):
    queued = batch()
    start = timezone.now()
    for n in range(KEEP + 5):
        at = start + timedelta(hours=n)
        interruption_record(ImportBatch, queued.pk, reason=Reason.DATABASE, at=at, resumed_at=at)

    queued.refresh_from_db()
    kept = queued.interruption_list()
    assert len(kept) == KEEP
    assert kept[-1].at == start + timedelta(hours=KEEP + 4)


def test_work_that_moved_on_meanwhile_is_left_alone(db):
    applied = batch(ImportBatch.Status.APPLIED)

    interruption_record(
        ImportBatch, applied.pk, reason=Reason.DATABASE, at=timezone.now(), status="queued"
    )

    applied.refresh_from_db()
    assert applied.interruptions == []
