"""Every job a person starts shows its progress (a bar with counts) on a page that
refreshes itself, then its outcome: a sweep, the DNS check, a campaign's sending."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, ServerName
from checks.findings import findings_recompute
from checks.models import Endpoint, ProbeResult
from checks.sweep import sweep_finish, sweep_start
from portal.autoconfig.dns import DNS_CHECK_JOB
from portal.campaigns import lifecycle
from portal.campaigns.sending import notices_send_due
from portal.models import Campaign
from portal.progress import job_advance
from portal.tasks import domains_dns_check
from tests.conftest import PLAIN_SHEET, login_staff, make_mailbox
from tests.portal.test_dnscheck import domains, nameserver  # noqa: F401  (fixtures)

REFRESH = '<meta http-equiv="refresh" content="3">'


@pytest.fixture
def staff(client, support):
    login_staff(client, support)
    return client


def page(client, name, **kwargs):
    return client.get(reverse(name, kwargs=kwargs), HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.fixture
def endpoints(db):
    ServerName.objects.create(hostname="mail.hosting.example", status="current")
    customer = Customer.objects.create(slug="aaabb", name="A", contact_emails="a@aaabb.example")
    make_mailbox(customer, "test01@aaabb.co.jp", PLAIN_SHEET)
    return customer


def test_a_sweep_shows_it_is_waiting_then_how_many_endpoints_are_checked_then_the_outcome(
    staff, endpoints, django_capture_on_commit_callbacks
):
    # No worker takes the sweep up yet: the commit's callbacks are not executed.
    with django_capture_on_commit_callbacks(execute=False):
        staff.post(reverse("sweep_now"))
    waiting = page(staff, "endpoint_list")
    with django_capture_on_commit_callbacks(execute=False):
        sweep = sweep_start()
    started = page(staff, "endpoint_list")
    endpoint = Endpoint.objects.get(pk=sweep.batches.first().endpoint_ids[0])
    ProbeResult.objects.create(
        endpoint=endpoint, sweep=sweep, checked_at=timezone.now(), reachable=False, error="refused"
    )
    halfway = page(staff, "endpoint_list")
    with django_capture_on_commit_callbacks(execute=False):
        sweep_finish(sweep.pk)
    done = page(staff, "endpoint_list")

    assert REFRESH in waiting and "waiting for a worker" in waiting
    assert "<progress></progress>" in waiting
    total = sweep.endpoint_count
    assert REFRESH in started and f'<progress value="0" max="{total}"></progress>' in started
    assert f'<progress value="1" max="{total}"></progress> 1 of {total}' in halfway
    assert "http-equiv" not in done and "<progress" not in done
    assert f"Last sweep finished at {timezone.localtime(sweep.started_at):%Y-%m-%d}" in done
    assert f"Now: 0 OK, 0 with warnings, 0 with problems, {total} not checked." in done


def test_the_dns_check_shows_its_progress_then_the_outcome_without_a_reload(
    staff,
    domains,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        response = staff.post(reverse("domains_check_now"))
    waiting = page(staff, "domain_list")
    job_advance(DNS_CHECK_JOB, 1, 2)
    halfway = page(staff, "domain_list")
    assert domains_dns_check() == 2
    done = page(staff, "domain_list")

    assert "reload" not in staff.get(response.url).content.decode()
    assert REFRESH in waiting and "The DNS check is starting: waiting for a worker." in waiting
    assert REFRESH in halfway and '<progress value="1" max="2"></progress> 1 of 2' in halfway
    assert "http-equiv" not in done and "<progress" not in done
    assert ": 2 domains, 2 with records to add or change." in done


def test_a_campaign_shows_its_sending_until_every_message_is_out(
    staff, endpoints, settings, django_capture_on_commit_callbacks
):
    settings.CAMPAIGN_RATE_PER_MINUTE = 60000
    other = Customer.objects.create(slug="b", name="B", contact_emails="b@b.example")
    make_mailbox(other, "x@b.example", PLAIN_SHEET)
    findings_recompute(force=True)
    campaign = Campaign.objects.create(
        name="SSL", cutover=timezone.localdate() + timedelta(days=30), target_codes=[]
    )
    campaign.target_customers.set(Customer.objects.all())
    with django_capture_on_commit_callbacks(execute=False):
        lifecycle.campaign_launch(campaign)
        lifecycle.campaign_start(campaign.pk)  # what the launch queues for a worker
    sending = page(staff, "campaign_detail", code=campaign.code)
    notices_send_due(campaign.pk, limit=1)
    halfway = page(staff, "campaign_detail", code=campaign.code)
    notices_send_due(campaign.pk)
    done = page(staff, "campaign_detail", code=campaign.code)

    assert len(mail.outbox) == 2
    assert REFRESH in sending and '<progress value="0" max="2"></progress> 0 of 2' in sending
    assert REFRESH in halfway and '<progress value="1" max="2"></progress> 1 of 2' in halfway
    assert REFRESH not in done and "Sending the messages" not in done
    assert "Messages: sent 2" in done
