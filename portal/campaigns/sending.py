"""Sending a campaign's notices: claim a batch → rate slots → one SMTP session → record
each message as it goes out.

A batch is claimed with a conditional UPDATE that sets a lease and a claim token; only
the token's holder may record its notices, and it renews the lease while it sends. A
worker that dies leaves its lease to expire and the next worker sends those notices,
with the same Message-ID; only the one in flight at the moment of death can go out
twice. Each campaign has one sender (a chain of tasks, the next batch queued as soon as
one is claimed); beat restarts a sender that has gone silent.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.interruptions import Reason, interruption_record
from accounts.models import Customer, Mailbox
from accounts.sheets import SheetValues
from portal.campaigns.lifecycle import (
    TEST_SUBJECT_PREFIX,
    CampaignError,
    message_render,
    notice_entries,
    notice_mailboxes,
    notices_create,
    recommended_by_mailbox,
    step,
)
from portal.campaigns.models import Campaign, CampaignMailbox, Notice, SendClock

logger = logging.getLogger(__name__)


def notices_claim(campaign_id: int, claim: str, *, limit: int) -> list[Notice]:
    """Take up to `limit` notices due — waiting, or sending under a lease that ran out —
    in one conditional UPDATE that marks them with `claim`, and return them. Two workers
    never take the same notice (PostgreSQL skips rows another claim has locked). Taking
    over the notices of a sender that stopped is noted on the campaign."""
    now = timezone.now()
    claimable = Q(status=Notice.Status.PENDING) | Q(
        status=Notice.Status.SENDING, lease_until__lt=now
    )
    due = (
        Notice.objects.filter(campaign_id=campaign_id, next_attempt_at__lte=now)
        .filter(claimable)
        .order_by("next_attempt_at", "pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    # Two statements: as a subquery of the UPDATE, PostgreSQL may run the LIMIT again
    # for each row and take more than asked for.
    with transaction.atomic():
        picked = list(due.values_list("pk", "status", "lease_until")[:limit])
        claimed = (
            Notice.objects.filter(pk__in=[pk for pk, _status, _lease in picked])
            .filter(claimable)
            .update(
                status=Notice.Status.SENDING,
                claim=claim,
                lease_until=now + timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS),
                attempts=F("attempts") + 1,
            )
        )
    if not claimed:
        return []
    # Leases that ran out: their sender stopped when it last renewed them. (Noted after
    # the claim's transaction, which holds the notices' rows, not the campaign's.)
    renewed = [
        lease - timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS)
        for _pk, status, lease in picked
        if status == Notice.Status.SENDING
    ]
    if renewed:
        interruption_record(
            Campaign,
            campaign_id,
            reason=Reason.STALLED,
            at=min(renewed),
            resumed_at=now,
            count=len(renewed),
        )
    return list(
        Notice.objects.filter(claim=claim, status=Notice.Status.SENDING)
        .select_related("customer")
        .order_by("next_attempt_at", "pk")
    )


def notices_due(campaign_id: int) -> bool:
    """Whether a notice of the campaign is waiting to be claimed now."""
    now = timezone.now()
    return (
        Notice.objects.filter(campaign_id=campaign_id, next_attempt_at__lte=now)
        .filter(
            Q(status=Notice.Status.PENDING) | Q(status=Notice.Status.SENDING, lease_until__lt=now)
        )
        .exists()
    )


def send_slots(count: int) -> tuple[datetime, float]:
    """Reserve the next `count` send slots for one batch: one row spaces sends across
    all workers (rate limit). Returns the first slot and the seconds between slots."""
    interval = 60 / max(settings.CAMPAIGN_RATE_PER_MINUTE, 1)
    with transaction.atomic():
        clock, _ = SendClock.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()
        first = max(clock.next_slot or now, now)
        clock.next_slot = first + timedelta(seconds=interval * count)
        clock.save(update_fields=["next_slot"])
    return first, interval


def batch_size() -> int:
    """Notices one worker claims at a time: about five seconds of sending at the rate
    limit (so a dead worker's batch is small), at most CAMPAIGN_BATCH_SIZE."""
    return max(1, min(settings.CAMPAIGN_BATCH_SIZE, settings.CAMPAIGN_RATE_PER_MINUTE // 12))


def message_build(
    campaign: Campaign,
    customer: Customer,
    recipients: list[str],
    mailboxes: list[Mailbox],
    *,
    headers: dict[str, str] | None = None,
    test: bool = False,
    recommended: Mapping[int, SheetValues | None] | None = None,
) -> EmailMessage:
    """The campaign's message to one customer, as sent; a test copy has a marked subject."""
    _lang, subject, body = message_render(
        campaign, customer, mailboxes=mailboxes, recommended=recommended
    )
    return EmailMessage(
        (TEST_SUBJECT_PREFIX if test else "") + subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
        headers=headers,
    )


def campaign_test_send(campaign: Campaign, customer: Customer, to: str) -> None:
    """Send `to` the message this customer would get now, subject marked as a test.
    Nothing is recorded: no notice, no status, no count."""
    if not to:
        raise CampaignError(_("Your account has no e-mail address."), field="customer")
    mailboxes = notice_mailboxes(campaign, customer)
    if not mailboxes:
        raise CampaignError(
            _("This customer has no mailbox to change in this campaign."), field="customer"
        )
    message_build(campaign, customer, [to], mailboxes, test=True).send()


def notice_send(notice: Notice) -> bool:
    """Send one claimed notice on its own SMTP session; True when it went out."""
    return _Batch(notice.campaign, [notice], notice.claim).send() == 1


def notices_send_due(
    campaign_id: int,
    *,
    limit: int | None = None,
    claimed: Callable[[bool], None] | None = None,
    alive: Callable[[], None] | None = None,
) -> int:
    """Claim one batch of due notices and send it over one SMTP session; returns how
    many went out. `claimed(more_due)` runs right after the claim, so that the next
    batch can start on another worker while this one sends; `alive()` runs every few
    seconds while the batch is sent (the sender's heartbeat)."""
    claim = uuid.uuid4().hex
    notices = notices_claim(campaign_id, claim, limit=limit or batch_size())
    if claimed is not None:
        claimed(bool(notices) and notices_due(campaign_id))
    if not notices:
        return 0
    campaign = Campaign.objects.get(pk=campaign_id)
    return _Batch(campaign, notices, claim, alive=alive).send()


class _Batch:
    """One claimed batch on its way out: the mailboxes of all its customers looked up
    at once, send slots reserved at once, one SMTP session for all (opened again after
    a connection error), each outcome recorded as soon as it is known, the lease kept
    alive while the batch lasts."""

    def __init__(
        self,
        campaign: Campaign,
        notices: list[Notice],
        claim: str,
        *,
        alive: Callable[[], None] | None = None,
    ) -> None:
        self.campaign, self.notices, self.claim = campaign, notices, claim
        self.alive = alive
        self.renewed = time.monotonic()
        self.lost: set[int] = set()
        self.unreachable = ""  # why the server could not be reached, once it could not
        self.connection = get_connection()

    def send(self) -> int:
        entries = notice_entries(self.campaign, {n.customer_id for n in self.notices})
        mailboxes = [entry.mailbox for found in entries.values() for entry in found]
        recommended = recommended_by_mailbox(mailboxes)
        first, interval = send_slots(len(self.notices))
        sent = 0
        try:
            _commit_without_waiting_for_disk(True)
            for n, notice in enumerate(self.notices):
                notice.campaign = self.campaign
                if self.unreachable:  # each waiting notice records it, untried
                    sent += _notice_failed(notice, self.unreachable)
                    continue
                self._wait_until(first + timedelta(seconds=interval * n), self.notices[n:])
                if notice.pk in self.lost:
                    continue  # its lease ran out while we waited: another worker has it
                found = entries.get(notice.customer_id, [])
                sent += self._send_one(notice, found, recommended)
        finally:
            self.connection.close()
            _commit_without_waiting_for_disk(False)
        return sent

    def _send_one(self, notice: Notice, found: list, recommended: dict) -> bool:
        recipients = notice.customer.contact_email_list
        if not recipients:
            return _notice_failed(notice, "the customer has no contact address", final=True)
        if not found:  # every mailbox was fixed since the launch: no message
            Notice.objects.filter(pk=notice.pk, claim=self.claim).update(
                status=Notice.Status.SKIPPED, last_error=""
            )
            return False
        message = message_build(
            self.campaign,
            notice.customer,
            recipients,
            [entry.mailbox for entry in found],
            headers={"Message-ID": notice.message_id},
            recommended=recommended,
        )
        try:
            self.connection.open()  # nothing to do while the session is open
        except (smtplib.SMTPException, OSError) as error:
            self.unreachable = _error_text(error)
            return _notice_failed(notice, self.unreachable)
        try:
            self.connection.send_messages([message])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            # The server refused this message's addresses; the session is still good.
            permanent = _permanent(error)
            return _notice_failed(notice, _error_text(error), final=permanent)
        except Exception as error:  # whatever it was, it is this notice's alone
            # Broken session, timeout, a refusal after the data, an address the backend
            # cannot encode: a new session for the next message; this one is retried
            # later with the same Message-ID.
            self.connection.close()
            return _notice_failed(notice, _error_text(error))
        _sent_record(notice, self.claim, [entry.pk for entry in found])
        return True

    def _wait_until(self, slot: datetime, upcoming: list[Notice]) -> None:
        """Sleep until the slot, renewing the lease and telling `alive` on the way."""
        while True:
            self._renew(upcoming)
            wait = (slot - timezone.now()).total_seconds()
            if wait <= 0:
                return
            time.sleep(min(wait, renew_seconds()))

    def _renew(self, upcoming: list[Notice]) -> None:
        """Every few seconds: tell `alive`, and renew the lease of the notices still to
        send; one whose lease ran out meanwhile and that another worker took is dropped."""
        if time.monotonic() - self.renewed < renew_seconds():
            return
        self.renewed = time.monotonic()
        if self.alive is not None:
            self.alive()
        lease = timezone.now() + timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS)
        mine = Notice.objects.filter(claim=self.claim, status=Notice.Status.SENDING)
        waiting = {n.pk for n in upcoming} - self.lost
        if mine.filter(pk__in=waiting).update(lease_until=lease) < len(waiting):
            self.lost |= waiting - set(mine.filter(pk__in=waiting).values_list("pk", flat=True))


def _sent_record(notice: Notice, claim: str, entry_ids: list[int]) -> None:
    """Mark the notice sent and its campaign mailboxes notified, as soon as the server
    has the message. On PostgreSQL one statement does both (one round trip per message,
    all or nothing); elsewhere two, the mailboxes first: a worker killed between them
    leaves the notice to be sent again, as if it had been in flight."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH sent AS (UPDATE {Notice._meta.db_table}"
                " SET status = %s, sent_at = now(), last_error = ''"
                " WHERE id = %s AND claim = %s RETURNING id)"
                f" UPDATE {CampaignMailbox._meta.db_table} SET status = %s, notified_at = now()"
                " WHERE id = ANY(%s) AND status = %s AND EXISTS (SELECT 1 FROM sent)",
                [
                    Notice.Status.SENT,
                    notice.pk,
                    claim,
                    CampaignMailbox.Status.NOTIFIED,
                    entry_ids,
                    CampaignMailbox.Status.PENDING,
                ],
            )
        return
    step(
        entry_ids,
        CampaignMailbox.Status.NOTIFIED,
        "notified_at",
        only_from=(CampaignMailbox.Status.PENDING,),
    )
    Notice.objects.filter(pk=notice.pk, claim=claim).update(
        status=Notice.Status.SENT, sent_at=timezone.now(), last_error=""
    )


def _commit_without_waiting_for_disk(on: bool) -> None:
    """While a batch is sent, PostgreSQL acknowledges each "sent" before it reaches the
    disk (synchronous_commit off): two disk flushes per message would cap sending at about
    a hundred messages a second. A dead worker loses nothing by it (the server has the
    commit); only a crash of the database server itself could forget the last fraction
    of a second of "sent" marks, and those messages would go out again with the same
    Message-ID. The database stays consistent either way."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET synchronous_commit TO {'off' if on else 'DEFAULT'}")


def renew_seconds() -> float:
    """How often a batch renews its notices' lease and tells its sender it is alive."""
    return min(3.0, settings.CAMPAIGN_LEASE_SECONDS / 3)


# Senders. A campaign has one sender at a time: a token in the cache (shared by all
# workers) that every task of its chain renews while it works. When nothing renews it
# for SENDER_SILENCE seconds — the worker died — beat's resume starts another sender;
# a task of a replaced sender that runs late sees the new token and stops.
SENDER_SILENCE = 15


def _sender_key(campaign_id: int) -> str:
    return f"campaign-sender:{campaign_id}"


def sender_start(campaign_id: int) -> str:
    """A new sender for the campaign, replacing any other."""
    sender = uuid.uuid4().hex
    cache.set(_sender_key(campaign_id), sender, SENDER_SILENCE)
    return sender


def sender_continues(campaign_id: int, sender: str) -> bool:
    """Whether this sender is still the campaign's (it takes the place back if it is
    free) and, if so, renew it. While the cache cannot be reached (Redis restarting) the
    sender goes on: the claims in the database, not the token, keep a notice from going
    out twice, and a batch half sent is better finished than left to its lease."""
    key = _sender_key(campaign_id)
    try:
        if cache.add(key, sender, SENDER_SILENCE):
            return True
        if cache.get(key) != sender:
            return False
        cache.touch(key, SENDER_SILENCE)
    except Exception as error:  # whatever the cache backend raises when it is away
        logger.warning("campaign %s: sender not renewed (%s)", campaign_id, error)
    return True


def senders_resume() -> list[tuple[int, str]]:
    """(campaign, new sender) for each running campaign that has notices due and no
    living sender: what beat restarts every CAMPAIGN_RESUME_SECONDS."""
    now = timezone.now()
    due = (
        Notice.objects.filter(campaign__state=Campaign.State.RUNNING, next_attempt_at__lte=now)
        .filter(
            Q(status=Notice.Status.PENDING) | Q(status=Notice.Status.SENDING, lease_until__lt=now)
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    started = []
    for campaign_id in due:
        sender = uuid.uuid4().hex
        if cache.add(_sender_key(campaign_id), sender, SENDER_SILENCE):
            started.append((campaign_id, sender))
            _stall_record(campaign_id, now)
    return started


def _stall_record(campaign_id: int, now: datetime) -> None:
    """Note on the campaign that its sending had stopped: notices wait that were due
    before its last message went out (a living sender goes on while any is due), or, with
    none sent, longer than a living sender lets one wait. Its chain of tasks went down
    with a worker, or with the queued messages of a restarted broker."""
    notices = Notice.objects.filter(campaign_id=campaign_id)
    last_sent = notices.aggregate(last=Max("sent_at"))["last"]
    since = last_sent or now - timedelta(seconds=SENDER_SILENCE + settings.CAMPAIGN_RESUME_SECONDS)
    waiting = notices.filter(status=Notice.Status.PENDING, next_attempt_at__lt=since)
    found = waiting.aggregate(count=Count("pk"), due=Min("next_attempt_at"))
    if found["count"]:
        interruption_record(
            Campaign,
            campaign_id,
            reason=Reason.STALLED,
            at=last_sent or found["due"],
            resumed_at=now,
            count=found["count"],
        )


def _permanent(error: smtplib.SMTPException) -> bool:
    """Whether the server refused for good (5xx) rather than for now (4xx)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
    else:
        codes = [getattr(error, "smtp_code", 0)]
    return bool(codes) and all(500 <= code < 600 for code in codes)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _notice_failed(notice: Notice, error: str, *, final: bool = False) -> bool:
    if final or notice.attempts >= settings.CAMPAIGN_MAX_ATTEMPTS:
        Notice.objects.filter(pk=notice.pk, claim=notice.claim).update(
            status=Notice.Status.FAILED, last_error=error
        )
        if notice.kind == "notice":
            entries = CampaignMailbox.objects.filter(
                campaign=notice.campaign, customer=notice.customer
            )
            step(list(entries.values_list("pk", flat=True)), CampaignMailbox.Status.FAILED, "failed_at",
                 only_from=(CampaignMailbox.Status.PENDING,))  # fmt: skip
        return False
    backoff = timedelta(seconds=30 * 2 ** (notice.attempts - 1))
    Notice.objects.filter(pk=notice.pk, claim=notice.claim).update(
        status=Notice.Status.PENDING, last_error=error, next_attempt_at=timezone.now() + backoff
    )
    return False


def reminders_due(today=None) -> int:
    """Create today's reminders for running campaigns; only customers not yet done."""
    today = today or timezone.localdate()
    created = 0
    for campaign in Campaign.objects.filter(state=Campaign.State.RUNNING):
        days = (campaign.cutover - today).days
        if days in campaign.reminder_days:
            created += notices_create(campaign, f"reminder-{days}")
    return created
