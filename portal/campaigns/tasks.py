"""Celery tasks of the campaigns: thin wrappers that take ids. Their names stay
"portal.tasks.…" so that schedules and queued messages keep finding them."""

import socket

from celery import shared_task
from django.utils import timezone

from portal.campaigns import lifecycle, sending
from portal.campaigns.models import Campaign, Notice

WORKER = socket.gethostname()


@shared_task(name="portal.tasks.notices_send")
def notices_send(campaign_id: int) -> int:
    """Send a batch of due notices; hand the rest to the next task (so a sweep of
    100,000 is many short tasks, and several workers share it)."""
    sent = sending.notices_send_due(campaign_id, WORKER, limit=200)
    if Notice.objects.filter(
        campaign_id=campaign_id, status=Notice.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).exists():
        notices_send.delay(campaign_id)
    return sent


@shared_task(name="portal.tasks.campaigns_tick")
def campaigns_tick() -> None:
    """Every minute: launch scheduled campaigns, create due reminders, send what is due
    (retries after backoff and notices whose worker died included)."""
    for campaign_id in Campaign.objects.filter(
        state=Campaign.State.SCHEDULED, launch_at__lte=timezone.now()
    ).values_list("pk", flat=True):
        lifecycle.campaign_start(campaign_id)
    sending.reminders_due()
    due = (
        Notice.objects.filter(
            campaign__state=Campaign.State.RUNNING,
            status__in=[Notice.Status.PENDING, Notice.Status.SENDING],
            next_attempt_at__lte=timezone.now(),
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    for campaign_id in due:
        notices_send.delay(campaign_id)
