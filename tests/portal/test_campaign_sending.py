"""Campaign mail at a real SMTP server (aiosmtpd): one session carries a whole batch,
a refused recipient fails only its own notice, a broken session is opened again, a
batch costs a few queries per message, and a campaign whose sender died gets a new one."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, ServerName, SettingsSheet, sheet_record
from accounts.sheets import SheetValues
from portal.campaigns import lifecycle, sending
from portal.campaigns.tasks import notices_send
from portal.models import Campaign, Notice
from tests.conftest import login_staff, make_mailbox
from tests.smtp_sink import SmtpSink

OLD = SheetValues("mail.old.example", 995, "ssl", "mail.old.example", 465, "ssl", "smtp-auth")
GOOD = SheetValues("mail.new.example", 995, "ssl", "mail.new.example", 465, "ssl", "smtp-auth")


@pytest.fixture
def campaign(db, settings):
    """A running campaign with a notice for each of 40 customers, nothing sent yet."""
    settings.CAMPAIGN_RATE_PER_MINUTE = 600_000
    new = ServerName.objects.create(hostname="mail.new.example", status="current")
    ServerName.objects.create(hostname="mail.old.example", status="legacy", replaced_by=new)
    for n in range(40):
        customer = Customer.objects.create(
            slug=f"c{n:02d}", name=f"顧客{n}", contact_emails=f"it@c{n:02d}.example"
        )
        make_mailbox(customer, f"info@c{n:02d}.example", OLD)
    campaign = Campaign.objects.create(
        name="SSL",
        cutover=timezone.localdate() + timedelta(days=30),
        target_codes=["legacy-hostname"],
    )
    lifecycle.campaign_start(campaign.pk)  # on_commit not run: nothing sent yet
    return campaign


@pytest.fixture
def smtp(settings):
    with SmtpSink(refuse={"it@c05.example"}) as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield sink


def test_one_smtp_session_carries_the_batch_past_a_refused_and_a_skipped_customer(campaign, smtp):
    # c03 fixed its mailbox before the message went out: nothing to send it.
    sheet_record(
        Customer.objects.get(slug="c03").mailboxes.get(),
        GOOD,
        source=SettingsSheet.Source.STAFF,
    )
    notices_send(campaign.pk)

    assert len(smtp.messages) == 38
    assert smtp.sessions == 1
    assert len({m["session"] for m in smtp.messages}) == 1
    statuses = dict(Notice.objects.values_list("customer__slug", "status"))
    assert statuses.pop("c03") == "skipped"
    assert statuses.pop("c05") == "failed"  # 550: refused for good, not retried
    assert set(statuses.values()) == {"sent"}
    assert "550" in Notice.objects.get(customer__slug="c05").last_error


def test_a_batch_is_split_into_sessions_only_by_the_batch_size(campaign, smtp, settings):
    settings.CAMPAIGN_BATCH_SIZE = 10
    notices_send(campaign.pk)  # the first batch queues the next one, and so on
    assert len(smtp.messages) == 39
    assert smtp.sessions == 4


def test_a_session_the_server_drops_is_opened_again_and_the_message_retried(campaign, smtp):
    smtp.sink.drop_at = 10  # the 10th message: the server closes the connection
    notices_send(campaign.pk)

    assert len(smtp.messages) == 38  # 40, less the refused one and the dropped one
    assert smtp.sessions == 2
    waiting = Notice.objects.get(status="pending")
    assert "SMTPServerDisconnected" in waiting.last_error
    Notice.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())
    notices_send(campaign.pk)
    assert len(smtp.messages) == 39
    assert len({m["message_id"] for m in smtp.messages}) == 39


def test_sending_costs_at_most_four_queries_per_message(campaign, smtp):
    with CaptureQueriesContext(connection) as queries:
        notices_send(campaign.pk)
    sent = Notice.objects.filter(status="sent").count()
    assert sent == 39
    assert len(queries) / sent <= 4, "\n".join(q["sql"][:120] for q in queries)


def test_beat_gives_a_campaign_whose_sender_went_silent_a_new_one_and_the_old_one_stops(
    campaign, smtp
):
    sender = sending.sender_start(campaign.pk)
    assert sending.senders_resume() == []  # its sender is alive: nothing to start
    cache.delete(f"campaign-sender:{campaign.pk}")  # nothing heard from it for a while

    [(resumed, new_sender)] = sending.senders_resume()
    assert resumed == campaign.pk and new_sender != sender
    assert sending.senders_resume() == []  # started once, not at every tick
    assert notices_send(campaign.pk, sender) == 0  # the old sender's task, run late
    assert smtp.messages == []
    assert notices_send(campaign.pk, new_sender) == 39


def test_a_sender_lost_mid_campaign_is_noted_when_beat_gives_the_campaign_a_new_one(
    campaign, smtp, support, client
):
    # Launched a minute ago (and before the test's transaction, whose start is the
    # database's now() that stamps "sent").
    Notice.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    sent = sending.notices_send_due(campaign.pk, limit=10)  # its next batch never came
    cache.delete(f"campaign-sender:{campaign.pk}")
    last_sent = Notice.objects.exclude(sent_at=None).latest("sent_at").sent_at
    waiting = Notice.objects.filter(status="pending").count()

    [(resumed, sender)] = sending.senders_resume()

    campaign.refresh_from_db()
    [interruption] = campaign.interruption_list()
    assert (interruption.reason, interruption.at) == ("stalled", last_sent)
    assert interruption.count == waiting == 40 - 10
    assert notices_send(resumed, sender) == 39 - sent
    login_staff(client, support)
    detail = reverse("campaign_detail", kwargs={"code": campaign.code})
    english = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = client.get(detail, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "Interrupted and resumed:" in english and "messages taken up again: 30" in english
    assert "中断と再開:" in japanese and "引き継いで送ったメッセージ: 30" in japanese


def test_a_retry_falling_due_after_the_sender_finished_is_no_interruption(campaign, smtp):
    notices_send(campaign.pk)
    cache.delete(f"campaign-sender:{campaign.pk}")
    # A message the server put off (4xx) is due again, after its backoff.
    Notice.objects.filter(customer__slug="c07").update(
        status="pending", sent_at=None, next_attempt_at=timezone.now()
    )

    assert len(sending.senders_resume()) == 1
    campaign.refresh_from_db()
    assert campaign.interruptions == []


def test_the_notices_of_a_sender_that_stopped_are_taken_over_and_noted(campaign, settings):
    dead = sending.notices_claim(campaign.pk, "dead-worker", limit=5)
    ran_out = timezone.now() - timedelta(seconds=1)
    Notice.objects.filter(claim="dead-worker").update(lease_until=ran_out)

    taken = sending.notices_claim(campaign.pk, "live-worker", limit=10)

    assert {n.pk for n in dead} <= {n.pk for n in taken}
    campaign.refresh_from_db()
    [interruption] = campaign.interruption_list()
    assert interruption.count == 5
    assert interruption.at == ran_out - timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS)


def test_the_sender_goes_on_with_notices_that_fell_due_while_its_batch_went_out(
    campaign, smtp, settings
):
    settings.CAMPAIGN_RATE_PER_MINUTE = 1200  # 0.05 s a message: the batch takes 2 s
    Notice.objects.filter(customer__slug="c39").update(
        next_attempt_at=timezone.now() + timedelta(seconds=1)
    )

    notices_send(campaign.pk)  # one call: no beat, no resume

    assert len(smtp.messages) == 39
    assert Notice.objects.get(customer__slug="c39").status == "sent"
