"""Celery tasks of the campaigns: thin wrappers that take ids. Their names stay
"portal.tasks.…" so that schedules and queued messages keep finding them."""

from celery import shared_task
from django.utils import timezone

from portal.campaigns import lifecycle, sending
from portal.campaigns.models import Campaign


@shared_task(name="portal.tasks.campaign_start")
def campaign_start(campaign_id: int) -> bool:
    """A launch: the campaign's mailboxes and notices, then its sending."""
    return lifecycle.campaign_start(campaign_id)


@shared_task(name="portal.tasks.notices_send")
def notices_send(campaign_id: int, sender: str | None = None) -> int:
    """Send one batch of due notices. Right after claiming it the task queues the next
    batch for the same sender, so batches follow each other on every live worker, and a
    worker killed mid-batch stops only its own batch (until its lease runs out)."""
    if sender is None:
        sender = sending.sender_start(campaign_id)
    elif not sending.sender_continues(campaign_id, sender):
        return 0  # another sender took over while this task waited in the queue

    def claimed(more_due: bool) -> None:
        if more_due:
            notices_send.delay(campaign_id, sender)

    return sending.notices_send_due(
        campaign_id,
        claimed=claimed,
        alive=lambda: sending.sender_continues(campaign_id, sender),
    )


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
