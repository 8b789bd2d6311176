"""A real worker killed in the middle of sending (SIGKILL to its process group) loses no
notice, repeats at most the one it had in flight, with the same Message-ID, and another
worker carries on within seconds, without waiting for beat's minute tick; counted and
timed at a real SMTP server."""

import os
import signal
import time
from collections import Counter
from datetime import date

import pytest

from accounts.models import Customer, ServerName
from accounts.sheets import SheetValues
from portal.campaigns import lifecycle
from portal.campaigns.tasks import notices_send
from portal.celery import app as celery_app
from portal.models import Campaign, CampaignMailbox, Notice
from tests.conftest import make_mailbox
from tests.processes import celery, logs, wait_for
from tests.smtp_sink import SmtpSink

CUSTOMERS = 40
RESUMED_WITHIN = 15  # seconds from the last message before the kill to the first after


def running_campaign(customers: int) -> Campaign:
    """A running campaign with a first notice, due now, to each of `customers`
    customers (it@c<n>.example), nothing sent yet."""
    new = ServerName.objects.create(hostname="mail.new.example", status="current")
    ServerName.objects.create(hostname="mail.old.example", status="legacy", replaced_by=new)
    old = SheetValues("mail.old.example", 995, "ssl", "mail.old.example", 465, "ssl", "smtp-auth")
    for n in range(customers):
        customer = Customer.objects.create(
            slug=f"c{n:02d}", name=f"顧客{n}", contact_emails=f"it@c{n}.example"
        )
        make_mailbox(customer, f"info@c{n}.example", old)
    campaign = Campaign.objects.create(
        name="worker test",
        cutover=date(2030, 1, 1),
        target_codes=["legacy-hostname"],
        state="running",
    )
    CampaignMailbox.objects.bulk_create(
        CampaignMailbox(campaign=campaign, mailbox=m, customer=m.customer)
        for m in lifecycle.target_mailboxes(campaign).select_related("customer")
    )
    lifecycle.notices_create(campaign, "notice")
    return campaign


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_nothing_repeats_at_most_one_and_sending_resumes_in_seconds(
    tmp_path,
):
    campaign = running_campaign(CUSTOMERS)
    celery_app.conf.task_always_eager = False

    with SmtpSink() as smtp:
        env = {
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            # A message every 0.25 s, batches of 20: the kill lands mid-batch.
            "CAMPAIGN_RATE_PER_MINUTE": "240",
            "CAMPAIGN_LEASE_SECONDS": "6",
        }
        # Beat runs throughout (its minute tick and the resume), as in production.
        with celery("worker", "beat", log_dir=tmp_path, env=env) as first:
            notices_send.apply_async(args=[campaign.pk], queue=first.queue)
            assert wait_for(lambda: len(smtp.messages) >= 5, 60), logs(tmp_path)
            worker = first.processes[0]
            os.killpg(worker.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            worker.wait(10)
            sent_before = len(smtp.messages)
            assert sent_before < CUSTOMERS, "the worker finished before it was killed"

            # Nothing but a new worker: no task is sent by the test from here on.
            with celery("worker", log_dir=tmp_path, env=env, queue=first.queue):
                assert wait_for(
                    lambda: Notice.objects.filter(status="sent").count() == CUSTOMERS, 90
                ), logs(tmp_path)

    messages = smtp.messages
    last_before = max(m["at"] for m in messages if m["at"] <= killed_at)
    first_after = min(m["at"] for m in messages if m["at"] > killed_at)
    assert first_after - last_before <= RESUMED_WITHIN, first_after - last_before
    received = Counter(m["to"][0] for m in messages)
    assert set(received) == {f"it@c{n}.example" for n in range(CUSTOMERS)}  # none lost
    repeated = [to for to, times in received.items() if times > 1]
    assert len(repeated) <= 1  # only the one in flight at the kill
    ids = Counter(m["message_id"] for m in messages)
    assert len(ids) == CUSTOMERS  # a repeat carries the same Message-ID
    campaign.refresh_from_db()
    assert [i.reason for i in campaign.interruption_list()] == ["stalled"]  # for its page
