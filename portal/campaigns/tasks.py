"""Celery tasks of the campaigns: thin wrappers that take ids. Their names stay
"portal.tasks.…" so that schedules and queued messages keep finding them."""

import logging

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.campaigns import lifecycle, sending
from portal.campaigns.models import Campaign

logger = logging.getLogger(__name__)


@shared_task(name="portal.tasks.campaign_start")
def campaign_start(campaign_id: int) -> bool:
    """A launch: the campaign's mailboxes and notices, then its sending."""
    return lifecycle.campaign_start(campaign_id)


@shared_task(name="portal.tasks.notices_send")
def notices_send(campaign_id: int, sender: str | None = None) -> int:
    """Send one batch of due notices. Right after claiming it the task queues the next
    batch for the same sender, so batches follow each other on every live worker, and a
    worker killed mid-batch stops only its own batch (until its lease runs out); the
    chain ends only when no notice is due."""
    if sender is None:
        sender = sending.sender_start(campaign_id)
    elif not sending.sender_continues(campaign_id, sender):
        return 0  # another sender took over while this task waited in the queue

    queued = False

    def next_batch() -> None:
        nonlocal queued
        try:
            notices_send.delay(campaign_id, sender)
            queued = True
        except OperationalError as error:
            # The broker is away: this batch is sent all the same, and beat's resume
            # starts the next once the broker is back.
            logger.warning("campaign %s: next batch not queued (%s)", campaign_id, error)

    sent = sending.notices_send_due(
        campaign_id,
        claimed=lambda more_due: more_due and next_batch(),
        alive=lambda: sending.sender_continues(campaign_id, sender),
    )
    # Notices that fell due while this batch went out (retries): the sender goes on, so
    # that it only ever stops with nothing due.
    if sent and not queued and sending.notices_due(campaign_id):
        next_batch()
    return sent


@shared_task(name="portal.tasks.notices_resume")
def notices_resume() -> None:
    """Every few seconds: a running campaign with notices due and no living sender (its
    worker died, a retry's backoff ended) gets a new one."""
    for campaign_id, sender in sending.senders_resume():
        notices_send.delay(campaign_id, sender)


@shared_task(name="portal.tasks.campaigns_tick")
def campaigns_tick() -> None:
    """Every minute: launch scheduled campaigns, create due reminders, and send what is
    due where no sender is at work."""
    for campaign_id in Campaign.objects.filter(
        state=Campaign.State.SCHEDULED, launch_at__lte=timezone.now()
    ).values_list("pk", flat=True):
        lifecycle.campaign_start(campaign_id)
    sending.reminders_due()
    notices_resume()
