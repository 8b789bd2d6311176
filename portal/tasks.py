"""Celery tasks of the campaigns: thin wrappers that take ids."""

import socket

from celery import shared_task
from django.utils import timezone

from portal import campaigns
from portal.models import Campaign, Notice

WORKER = socket.gethostname()


@shared_task(name="portal.tasks.notices_send")
def notices_send(campaign_id: int) -> int:
    """Send a batch of due notices; hand the rest to the next task (so a sweep of
    100,000 is many short tasks, and several workers share it)."""
    sent = campaigns.notices_send_due(campaign_id, WORKER, limit=200)
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
        campaigns.campaign_start(campaign_id)
    campaigns.reminders_due()
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


@shared_task(name="portal.tasks.domains_dns_check")
def domains_dns_check(domain_ids: list[int] | None = None) -> int:
    """Check the DNS of every mail domain (or of some) and keep the outcome."""
    from accounts.models import MailDomain
    from portal.dnscheck import domain_dns_record

    domains = MailDomain.objects.select_related("server")
    if domain_ids is not None:
        domains = domains.filter(pk__in=domain_ids)
    count = 0
    for domain in domains:
        domain_dns_record(domain)
        count += 1
    return count


@shared_task(name="portal.tasks.audit_purge")
def audit_purge() -> int:
    """Daily: drop audit entries older than AUDIT_KEEP_DAYS."""
    from portal.audit.record import audit_purge as purge

    return purge()
