"""Celery tasks of the portal app: thin wrappers that take ids. Each room's tasks are
imported here so that Celery's autodiscovery finds them."""

from celery import shared_task

from portal.campaigns.tasks import (  # noqa: F401
    campaign_start,
    campaigns_tick,
    notices_resume,
    notices_send,
)


@shared_task(name="portal.tasks.domains_dns_check")
def domains_dns_check(domain_ids: list[int] | None = None) -> int:
    """Check the DNS of every mail domain (or of some) and keep the outcome."""
    from accounts.models import MailDomain
    from portal.autoconfig.dns import DNS_CHECK_JOB, domain_dns_record
    from portal.progress import job_advance, job_finished

    domains = MailDomain.objects.select_related("server")
    if domain_ids is not None:
        domains = domains.filter(pk__in=domain_ids)
    domains = list(domains)
    job_advance(DNS_CHECK_JOB, 0, len(domains))
    for count, domain in enumerate(domains, start=1):
        domain_dns_record(domain)
        job_advance(DNS_CHECK_JOB, count, len(domains))
    job_finished(DNS_CHECK_JOB)
    return len(domains)


@shared_task(name="portal.tasks.audit_purge")
def audit_purge() -> int:
    """Daily: drop audit entries older than AUDIT_KEEP_DAYS."""
    from portal.audit.record import audit_purge as purge

    return purge()
