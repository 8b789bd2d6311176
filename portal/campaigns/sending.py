"""Sending a campaign's notices: claim → rate slot → send → record.

A notice is claimed with a conditional UPDATE that sets a lease; only its claimant may
record it; a worker that dies leaves the lease to expire and the next worker sends it
again with the same Message-ID — the one message that can go out twice.
"""

from __future__ import annotations

import contextlib
import smtplib
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, Mailbox
from portal.campaigns.lifecycle import (
    TEST_SUBJECT_PREFIX,
    CampaignError,
    message_render,
    notice_mailboxes,
    notices_create,
    step,
)
from portal.campaigns.models import Campaign, CampaignMailbox, Notice, SendClock


def notice_claim(campaign_id: int, worker: str) -> Notice | None:
    """Take the next notice due: waiting, or sending under a lease that ran out."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS)
    due = Notice.objects.filter(campaign_id=campaign_id, next_attempt_at__lte=now).filter(
        Q(status=Notice.Status.PENDING) | Q(status=Notice.Status.SENDING, lease_until__lt=now)
    )
    for candidate in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:20]:
        claimed = (
            Notice.objects.filter(pk=candidate)
            .filter(
                Q(status=Notice.Status.PENDING)
                | Q(status=Notice.Status.SENDING, lease_until__lt=now)
            )
            .update(status=Notice.Status.SENDING, lease_until=lease, attempts=F("attempts") + 1)
        )
        if claimed:
            return Notice.objects.select_related("campaign", "customer").get(pk=candidate)
    return None


def send_slot_wait() -> None:
    """Wait for this message's turn: one row spaces sends across all workers."""
    interval = timedelta(seconds=60 / max(settings.CAMPAIGN_RATE_PER_MINUTE, 1))
    with transaction.atomic():
        clock, _ = SendClock.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()
        slot = max(clock.next_slot or now, now)
        clock.next_slot = slot + interval
        clock.save(update_fields=["next_slot"])
    wait = (slot - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)


def message_build(
    campaign: Campaign,
    customer: Customer,
    recipients: list[str],
    mailboxes: list[Mailbox],
    *,
    headers: dict[str, str] | None = None,
    test: bool = False,
    connection=None,
) -> EmailMessage:
    """The campaign's message to one customer, as sent; a test copy has a marked subject."""
    _lang, subject, body = message_render(campaign, customer, mailboxes=mailboxes)
    return EmailMessage(
        (TEST_SUBJECT_PREFIX if test else "") + subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
        headers=headers,
        connection=connection,
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


def notice_send(notice: Notice, connection=None) -> bool:
    """Send one claimed notice and record the outcome; True when it went out. A customer
    whose mailboxes were all fixed since the launch gets no message."""
    customer, campaign = notice.customer, notice.campaign
    recipients = customer.contact_email_list
    if not recipients:
        return _notice_failed(notice, "the customer has no contact address", final=True)
    mailboxes = notice_mailboxes(campaign, customer)
    if not mailboxes:
        Notice.objects.filter(pk=notice.pk, status=Notice.Status.SENDING).update(
            status=Notice.Status.SKIPPED, last_error=""
        )
        return False
    message = message_build(
        campaign,
        customer,
        recipients,
        mailboxes,
        headers={"Message-ID": notice.message_id},
        connection=connection,
    )
    send_slot_wait()
    try:
        message.send()
    except Exception as error:  # SMTP errors of every kind: recorded, retried with backoff
        return _notice_failed(notice, f"{type(error).__name__}: {error}"[:500])
    with transaction.atomic():
        Notice.objects.filter(pk=notice.pk, status=Notice.Status.SENDING).update(
            status=Notice.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        entries = CampaignMailbox.objects.filter(
            campaign=campaign, mailbox__in=mailboxes
        ).values_list("pk", flat=True)
        step(
            list(entries),
            CampaignMailbox.Status.NOTIFIED,
            "notified_at",
            only_from=(CampaignMailbox.Status.PENDING,),
        )
    return True


def _notice_failed(notice: Notice, error: str, *, final: bool = False) -> bool:
    if final or notice.attempts >= settings.CAMPAIGN_MAX_ATTEMPTS:
        Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.FAILED, last_error=error)
        if notice.kind == "notice":
            entries = CampaignMailbox.objects.filter(
                campaign=notice.campaign, customer=notice.customer
            )
            step(list(entries.values_list("pk", flat=True)), CampaignMailbox.Status.FAILED, "failed_at",
                 only_from=(CampaignMailbox.Status.PENDING,))  # fmt: skip
        return False
    backoff = timedelta(seconds=30 * 2 ** (notice.attempts - 1))
    Notice.objects.filter(pk=notice.pk).update(
        status=Notice.Status.PENDING, last_error=error, next_attempt_at=timezone.now() + backoff
    )
    return False


def notices_send_due(campaign_id: int, worker: str, *, limit: int = 500) -> int:
    """Send up to `limit` due notices of a campaign; returns how many went out."""
    sent = 0
    # One SMTP session for the whole batch (a TLS handshake per message is costly);
    # after an error it is closed, and the next message opens a fresh one.
    connection = get_connection()
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.open()  # if this fails, each message tries and records its own error
    try:
        for _n in range(limit):
            notice = notice_claim(campaign_id, worker)
            if notice is None:
                break
            went_out = notice_send(notice, connection)
            sent += went_out
            if not went_out:
                connection.close()
    finally:
        connection.close()
    return sent


def reminders_due(today=None) -> int:
    """Create today's reminders for running campaigns; only customers not yet done."""
    today = today or timezone.localdate()
    created = 0
    for campaign in Campaign.objects.filter(state=Campaign.State.RUNNING):
        days = (campaign.cutover - today).days
        if days in campaign.reminder_days:
            created += notices_create(campaign, f"reminder-{days}")
    return created
