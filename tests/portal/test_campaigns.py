"""Campaigns: the state machine, one message per customer in its language, once-only
sending under retries and dead workers, signed links, reminders, verification, cutover."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Confirmation, Customer, Mailbox, ServerName, SettingsSheet, sheet_record
from accounts.sheets import SheetValues
from portal.audit.models import AuditEntry
from portal.campaigns import lifecycle, sending
from portal.campaigns.tasks import campaigns_tick, notices_send
from portal.models import Campaign, CampaignMailbox, Notice
from tests.checks.misbehaving import unused_port
from tests.conftest import login_staff, make_mailbox

NEW, OLD = "mail.new.example", "mail.old.example"
OLD_SHEET = SheetValues(OLD, 995, "ssl", OLD, 465, "ssl", "smtp-auth")
GOOD_SHEET = SheetValues(NEW, 995, "ssl", NEW, 465, "ssl", "smtp-auth")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db, settings):
    settings.CAMPAIGN_RATE_PER_MINUTE = 60000
    new = ServerName.objects.create(hostname=NEW, status="current")
    ServerName.objects.create(hostname=OLD, status="legacy", replaced_by=new)
    ja = Customer.objects.create(
        slug="yamada", name="山田商店", contact_emails="owner@yamada.example"
    )
    en = Customer.objects.create(
        slug="smith", name="Smith Ltd", language="en", contact_emails="it@smith.example"
    )
    other = Customer.objects.create(slug="fine", name="問題なし", contact_emails="x@fine.example")
    make_mailbox(ja, "shop@yamada.example", OLD_SHEET)
    make_mailbox(ja, "order@yamada.example", OLD_SHEET)
    make_mailbox(en, "info@smith.example", OLD_SHEET)
    make_mailbox(other, "ok@fine.example", GOOD_SHEET)
    return ja, en


def campaign(**fields):
    defaults = {
        "name": "SSL 移行",
        "cutover": timezone.localdate() + timedelta(days=30),
        "target_codes": ["legacy-hostname"],
    }
    return Campaign.objects.create(**{**defaults, **fields})


def run(c, capture):
    with capture(execute=True):
        lifecycle.campaign_launch(c)
    c.refresh_from_db()
    return c


def test_state_machine(world, django_capture_on_commit_callbacks):
    c = campaign()
    with pytest.raises(lifecycle.CampaignError):
        lifecycle.campaign_finish(c)
    run(c, django_capture_on_commit_callbacks)
    assert c.state == "running"
    with pytest.raises(lifecycle.CampaignError, match="Only a draft"):
        lifecycle.campaign_launch(c)
    lifecycle.campaign_finish(c)
    c.refresh_from_db()
    assert c.state == "finished"
    with pytest.raises(lifecycle.CampaignError):
        lifecycle.campaign_cancel(c)


def test_a_campaign_without_target_or_with_bad_placeholders_cannot_launch(world):
    with pytest.raises(lifecycle.CampaignError, match="names no mailbox"):
        lifecycle.campaign_launch(campaign(target_codes=[]))
    with pytest.raises(lifecycle.CampaignError, match="unknown placeholder"):
        lifecycle.campaign_launch(campaign(subject_ja="{customer_nam} 様"))


def test_scheduled_campaigns_start_on_time(world, django_capture_on_commit_callbacks):
    c = campaign()
    lifecycle.campaign_launch(c, at=timezone.now() + timedelta(hours=1))
    c.refresh_from_db()
    assert c.state == "scheduled"
    Campaign.objects.filter(pk=c.pk).update(launch_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        campaigns_tick()
    c.refresh_from_db()
    assert c.state == "running"


def test_targets_combine(world):
    ja, _en = world
    c = campaign(target_hosts=OLD)
    c.target_customers.add(ja)
    assert set(lifecycle.target_mailboxes(c).values_list("email", flat=True)) == {
        "shop@yamada.example",
        "order@yamada.example",
    }
    c.target_addresses = "order@yamada.example\n"
    assert list(lifecycle.target_mailboxes(c).values_list("email", flat=True)) == [
        "order@yamada.example"
    ]


def test_one_message_per_customer_in_its_language(world, django_capture_on_commit_callbacks):
    c = run(campaign(), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    ja = by_to["owner@yamada.example"]
    assert "メール設定変更のお願い" in ja.subject
    assert "山田商店 様" in ja.body
    assert "shop@yamada.example" in ja.body and "order@yamada.example" in ja.body
    assert f"{OLD} → {NEW}" in ja.body
    assert "/l/" in ja.body
    assert (
        ja.extra_headers["Message-ID"]
        == f"<campaign-{c.pk}.{world[0].pk}.notice@mail-portal.invalid>"
    )
    en = by_to["it@smith.example"]
    assert en.subject.startswith("[Action needed]") and "Dear Smith Ltd" in en.body
    assert set(CampaignMailbox.objects.values_list("status", flat=True)) == {"notified"}


def test_sending_again_sends_nothing_twice(world, django_capture_on_commit_callbacks):
    c = run(campaign(), django_capture_on_commit_callbacks)
    notices_send(c.pk)
    notices_send(c.pk)
    campaigns_tick()
    assert len(mail.outbox) == 2


def test_a_dead_workers_notice_is_sent_once_more_with_the_same_message_id(world, settings):
    c = campaign()
    lifecycle.campaign_start(c.pk)  # on_commit not run: nothing sent yet
    [claimed] = sending.notices_claim(c.pk, "worker-that-dies", limit=1)
    assert sending.notices_claim(c.pk, "other", limit=5)  # the other customer's notice
    Notice.objects.exclude(pk=claimed.pk).update(status="sent")
    assert sending.notices_claim(c.pk, "other", limit=5) == []  # leased: not taken
    Notice.objects.filter(pk=claimed.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    [again] = sending.notices_claim(c.pk, "other", limit=5)
    assert again.pk == claimed.pk and again.attempts == 2
    assert not Notice.objects.filter(claim="worker-that-dies").exists()  # it may not record
    sending.notice_send(again)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [claimed.message_id]


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_smtp_errors_back_off_then_fail_visibly(
    world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.portal.test_campaigns.FailingBackend"
    settings.CAMPAIGN_MAX_ATTEMPTS = 3
    c = run(campaign(), django_capture_on_commit_callbacks)
    notice = Notice.objects.get(customer__slug="yamada")
    assert (notice.status, notice.attempts) == ("pending", 1)
    assert "smtp down" in notice.last_error
    assert notice.next_attempt_at > timezone.now()
    for _ in range(3):
        Notice.objects.update(next_attempt_at=timezone.now())
        notices_send(c.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("failed", 3)
    assert set(CampaignMailbox.objects.values_list("status", flat=True)) == {"failed"}


def test_link_opens_only_its_mailbox_and_records_view_and_confirm(
    world, client, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    mailbox = Mailbox.objects.get(email="shop@yamada.example")
    url = reverse("campaign_link", kwargs={"token": lifecycle.link_token(c, mailbox)})
    page = client.get(url + "?client=thunderbird").content.decode()
    assert "shop@yamada.example" in page and NEW in page
    assert "order@yamada.example" not in page and "info@smith.example" not in page
    entry = CampaignMailbox.objects.get(mailbox=mailbox)
    assert entry.status == "viewed" and entry.viewed_at
    client.post(url + "?client=thunderbird", {"confirm": "1"})
    entry.refresh_from_db()
    assert entry.status == "confirmed" and entry.confirmed_at


def test_tampered_and_expired_links(world, client, django_capture_on_commit_callbacks):
    c = run(campaign(), django_capture_on_commit_callbacks)
    mailbox = Mailbox.objects.get(email="shop@yamada.example")
    token = lifecycle.link_token(c, mailbox)
    assert (
        client.get(reverse("campaign_link", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    )
    forged = signing.dumps(
        {"c": c.pk, "m": str(Mailbox.objects.get(email="ok@fine.example").code)}, salt="other"
    )
    assert client.get(reverse("campaign_link", kwargs={"token": forged})).status_code == 404
    Campaign.objects.filter(pk=c.pk).update(cutover=timezone.localdate() - timedelta(days=30))
    assert client.get(reverse("campaign_link", kwargs={"token": token})).status_code == 410


def test_reminders_skip_customers_who_confirmed(world, django_capture_on_commit_callbacks):
    c = run(campaign(), django_capture_on_commit_callbacks)
    smith = Mailbox.objects.get(email="info@smith.example")
    lifecycle.mailbox_confirmed(smith.pk)
    mail.outbox.clear()
    assert sending.reminders_due(today=c.cutover - timedelta(days=7)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        notices_send(c.pk)
    assert [m.to for m in mail.outbox] == [["owner@yamada.example"]]
    assert sending.reminders_due(today=c.cutover - timedelta(days=7)) == 1  # created once only
    notices_send(c.pk)
    assert len(mail.outbox) == 1


def test_fixed_sheets_are_verified(world, django_capture_on_commit_callbacks):
    run(campaign(), django_capture_on_commit_callbacks)
    mailbox = Mailbox.objects.get(email="shop@yamada.example")
    sheet_record(mailbox, GOOD_SHEET, source=SettingsSheet.Source.STAFF)
    entry = CampaignMailbox.objects.get(mailbox=mailbox)
    assert entry.status == "verified" and entry.verified_at


def test_cutover_applies_the_recommended_sheet_to_confirmed_mailboxes(
    world, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    shop = Mailbox.objects.get(email="shop@yamada.example")
    lifecycle.mailbox_confirmed(shop.pk)
    changed, rest = lifecycle.campaign_cutover(c, early=True)
    assert changed == 1
    assert {e.mailbox.email for e in rest} == {"order@yamada.example", "info@smith.example"}
    shop.refresh_from_db()
    assert (shop.current_sheet.source, shop.current_sheet.incoming_host) == ("campaign", NEW)
    assert CampaignMailbox.objects.get(mailbox=shop).status == "verified"


def test_staff_preview_progress_and_export(
    world, client, support, django_capture_on_commit_callbacks
):
    login_staff(client, support)
    response = client.post(reverse("campaign_new"), {
        "name": "SSL 移行 2026", "cutover": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "target_codes": ["legacy-hostname"], "reminder_days": "14, 7, 1",
        "subject_ja": "{customer_name} 様", "body_ja": "{mailboxes}\n{deadline}",
        "subject_en": "Dear {customer_name}", "body_en": "{mailboxes}\n{deadline}",
    }, HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    c = Campaign.objects.get()
    assert response.status_code == 302
    preview = client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert (
        "2 customers, 3 mailboxes to change; 0 targeted customers have nothing to change."
        in preview
    )
    assert "Dear " in preview and " 様" in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaign_action", kwargs={"code": c.code, "action": "launch"}))
    progress = client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "0% confirmed or verified." in progress
    assert "Not opened a week before cutover" in progress
    export = client.get(reverse("campaign_export", kwargs={"code": c.code})).content.decode(
        "utf-8-sig"
    )
    assert export.splitlines()[0].startswith("customer,email,status")
    assert len(export.splitlines()) == 4


def test_bad_placeholders_are_refused_in_the_form(world, client, support):
    login_staff(client, support)
    page = client.post(reverse("campaign_new"), {
        "name": "x", "cutover": "2027-01-01", "reminder_days": "7", "subject_ja": "{oops}",
        "body_ja": "b", "subject_en": "s", "body_en": "b",
    }, HTTP_ACCEPT_LANGUAGE="en").content.decode()  # fmt: skip
    assert "unknown placeholder {oops}" in page
    assert not Campaign.objects.exists()


def test_staff_schedule_a_launch(world, client, support):
    login_staff(client, support)
    c = campaign()
    at = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("campaign_action", kwargs={"code": c.code, "action": "launch"}), {"at": at})
    c.refresh_from_db()
    assert c.state == "scheduled"
    assert timezone.localtime(c.launch_at).strftime("%Y-%m-%dT%H:%M") == at
    assert not Notice.objects.exists()


def test_status_over_time_counts_each_step(
    world, client, support, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    lifecycle.mailbox_confirmed(Mailbox.objects.get(email="shop@yamada.example").pk)
    login_staff(client, support)
    page = client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), HTTP_ACCEPT_LANGUAGE="en"
    )
    timeline = page.context["timeline"]
    assert timeline[-1][1] == [3, 0, 1, 0]  # notified 3, viewed 0, confirmed 1, verified 0


def test_customers_are_targeted_by_id(world, client, support):
    login_staff(client, support)
    data = {
        "name": "x", "cutover": "2030-01-01", "reminder_days": "7", "subject_ja": "s",
        "body_ja": "b", "subject_en": "s", "body_en": "b", "customer_ids": "yamada\nnobody",
    }  # fmt: skip
    page = client.post(reverse("campaign_new"), data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No customer with the ID nobody." in page
    data["customer_ids"] = "YAMADA\nsmith\n"
    assert client.post(reverse("campaign_new"), data).status_code == 302
    c = Campaign.objects.get()
    assert set(c.target_customers.values_list("slug", flat=True)) == {"yamada", "smith"}
    edit = client.get(reverse("campaign_edit", kwargs={"code": c.code})).content.decode()
    assert "smith\nyamada" in edit or "yamada\nsmith" in edit


def test_an_unreachable_smtp_server_is_recorded_per_customer(
    world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", unused_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    run(campaign(), django_capture_on_commit_callbacks)
    assert {n.attempts for n in Notice.objects.all()} == {1}
    assert all("ConnectionRefusedError" in n.last_error for n in Notice.objects.all())


# Targeting: only mailboxes with findings


def test_a_campaign_mails_only_the_mailbox_that_needs_a_change_and_reaches_100_percent(
    world, client, support, django_capture_on_commit_callbacks
):
    tanaka = Customer.objects.create(
        slug="tanaka", name="田中工務店", contact_emails="t@tanaka.example"
    )
    make_mailbox(tanaka, "old@tanaka.example", OLD_SHEET)
    make_mailbox(tanaka, "good@tanaka.example", GOOD_SHEET)
    make_mailbox(
        tanaka,
        "submission@tanaka.example",
        SheetValues(NEW, 995, "ssl", NEW, 587, "starttls", "smtp-auth"),
    )
    c = campaign(target_codes=[])  # no codes: every code the recommended sheet fixes
    c.target_customers.add(tanaka)
    run(c, django_capture_on_commit_callbacks)

    [notice] = mail.outbox
    assert notice.to == ["t@tanaka.example"]
    assert "old@tanaka.example" in notice.body
    assert "good@tanaka.example" not in notice.body
    assert "submission@tanaka.example" not in notice.body
    assert CampaignMailbox.objects.filter(campaign=c).count() == 1

    sheet_record(
        Mailbox.objects.get(email="old@tanaka.example"),
        GOOD_SHEET,
        source=SettingsSheet.Source.STAFF,
    )
    login_staff(client, support)
    page = client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "100% confirmed or verified." in page


def test_the_preview_counts_customers_mailboxes_and_customers_with_nothing_to_change(
    world, client, support
):
    c = campaign(target_codes=[])
    c.target_customers.add(*Customer.objects.filter(slug__in=["yamada", "fine"]))
    login_staff(client, support)
    page = client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert (
        "1 customers, 2 mailboxes to change; 1 targeted customers have nothing to change." in page
    )
    assert "owner@yamada.example" in page
    assert "x@fine.example" not in page


def test_a_mailbox_fixed_before_its_notice_goes_out_is_left_out_of_it(world):
    c = campaign()
    lifecycle.campaign_start(c.pk)  # on_commit not run: nothing sent yet
    sheet_record(
        Mailbox.objects.get(email="shop@yamada.example"),
        GOOD_SHEET,
        source=SettingsSheet.Source.STAFF,
    )
    sheet_record(
        Mailbox.objects.get(email="info@smith.example"),
        GOOD_SHEET,
        source=SettingsSheet.Source.STAFF,
    )
    notices_send(c.pk)

    [notice] = mail.outbox  # Smith Ltd has nothing left to change: no message
    assert notice.to == ["owner@yamada.example"]
    assert "order@yamada.example" in notice.body and "shop@yamada.example" not in notice.body
    assert Notice.objects.get(customer__slug="smith").status == "skipped"
    assert CampaignMailbox.objects.get(mailbox__email="order@yamada.example").status == "notified"


def test_a_launch_leaves_the_planner_statistics_of_the_rows_it_made_up_to_date(world):
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    lifecycle.campaign_start(campaign().pk)  # on_commit not run: nothing sent yet

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class"
            " WHERE relname IN ('portal_campaignmailbox', 'portal_notice')"
        )
        estimates = dict(cursor.fetchall())
    assert estimates == {"portal_campaignmailbox": 3, "portal_notice": 2}


# Mass actions: a confirmation page with the numbers, once only


def action_url(c, action):
    return reverse("campaign_action", kwargs={"code": c.code, "action": action})


def test_launch_shows_the_numbers_first_and_a_second_post_sends_nothing_more(
    world, client, support, django_capture_on_commit_callbacks
):
    c = campaign()
    login_staff(client, support)
    page = client.get(action_url(c, "launch"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send 2 messages to 2 addresses about 3 mailboxes to change?" in page
    assert "owner@yamada.example" in page and "it@smith.example" in page
    c.refresh_from_db()
    assert c.state == "draft" and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        client.post(action_url(c, "launch"))
    c.refresh_from_db()
    assert c.state == "running" and len(mail.outbox) == 2

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(action_url(c, "launch"), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "nothing was done" in again.content.decode()
    assert len(mail.outbox) == 2 and Notice.objects.count() == 2
    launched = AuditEntry.objects.get(action="campaign-launch")  # once, not for the re-post
    assert (launched.actor, launched.target) == (support, c.name)


def test_a_launch_leaves_the_listing_to_a_worker_and_its_page_says_it_is_starting(
    world, client, support, django_capture_on_commit_callbacks
):
    c = campaign()
    login_staff(client, support)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = client.post(action_url(c, "launch"), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    c.refresh_from_db()
    assert c.state == "scheduled" and not CampaignMailbox.objects.exists()
    text = page.content.decode()
    assert "Starting: the mailboxes to change are being listed" in text
    assert '<meta http-equiv="refresh" content="3">' in text  # until the worker has started it

    for task in queued:  # the worker (Celery runs eagerly in tests)
        task()
    c.refresh_from_db()
    assert c.state == "running" and CampaignMailbox.objects.count() == 3
    assert Notice.objects.count() == 2


def test_a_cutover_date_closer_than_the_minimum_notice_is_refused(world, client, support, settings):
    settings.CAMPAIGN_MIN_NOTICE_DAYS = 7
    login_staff(client, support)
    form = client.post(reverse("campaign_new"), {
        "name": "x", "cutover": (timezone.localdate() + timedelta(days=6)).isoformat(),
        "reminder_days": "1", "subject_ja": "s", "body_ja": "b", "subject_en": "s", "body_en": "b",
        "target_codes": ["legacy-hostname"],
    }, HTTP_ACCEPT_LANGUAGE="en").content.decode()  # fmt: skip
    assert "The cutover date must be at least 7 days after the start" in form
    assert not Campaign.objects.exists()

    past = campaign(cutover=timezone.localdate() - timedelta(days=1))
    page = client.post(action_url(past, "launch"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The cutover date is in the past." in page
    soon = campaign(cutover=timezone.localdate() + timedelta(days=10))
    at = (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(
        action_url(soon, "launch"), {"at": at}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "at least 7 days after the start" in page
    assert set(Campaign.objects.values_list("state", flat=True)) == {"draft"}
    assert not Notice.objects.exists()


def test_cutover_before_its_date_needs_the_cut_over_early_choice(
    world, client, support, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    lifecycle.mailbox_confirmed(Mailbox.objects.get(email="shop@yamada.example").pk)
    login_staff(client, support)
    page = client.get(action_url(c, "cutover"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Give 1 confirmed mailboxes their new settings now?" in page
    assert "Cut over early, before the cutover date" in page

    refused = client.post(action_url(c, "cutover"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The cutover date has not come yet: choose to cut over early." in refused
    c.refresh_from_db()
    assert c.cutover_done_at is None

    client.post(action_url(c, "cutover"), {"early": "on"})
    shop = Mailbox.objects.get(email="shop@yamada.example")
    assert shop.current_sheet.source == "campaign"
    c.refresh_from_db()
    done_at = c.cutover_done_at
    assert done_at
    client.post(action_url(c, "cutover"), {"early": "on"})
    c.refresh_from_db()
    assert c.cutover_done_at == done_at
    assert SettingsSheet.objects.filter(mailbox=shop).count() == 2


def test_cancel_finish_and_exclude_state_their_numbers_before_acting(world, client, support):
    c = campaign()
    lifecycle.campaign_start(c.pk)  # on_commit not run: both messages still waiting
    login_staff(client, support)
    cancel = client.get(action_url(c, "cancel"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cancel the campaign? 2 messages not yet sent will not be sent" in cancel
    finish = client.get(action_url(c, "finish"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Finish the campaign? 3 mailboxes not yet changed stay as they are" in finish
    entry = CampaignMailbox.objects.get(mailbox__email="info@smith.example")
    exclude = client.get(
        action_url(c, "exclude") + f"?entry={entry.pk}", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Exclude info@smith.example from the campaign?" in exclude
    c.refresh_from_db()
    assert c.state == "running"
    assert CampaignMailbox.objects.filter(status="excluded").count() == 0

    client.post(action_url(c, "exclude"), {"entry": entry.pk})
    entry.refresh_from_db()
    assert entry.status == "excluded"
    client.post(action_url(c, "cancel"))
    c.refresh_from_db()
    assert c.state == "cancelled"
    assert set(Notice.objects.values_list("status", flat=True)) == {"failed"}


def test_an_entry_of_another_campaign_is_not_found(world, client, support):
    first, second = campaign(), campaign()
    lifecycle.campaign_start(first.pk)
    lifecycle.campaign_start(second.pk)
    login_staff(client, support)
    entry = CampaignMailbox.objects.filter(campaign=first).first()
    assert client.get(action_url(second, "exclude") + f"?entry={entry.pk}").status_code == 404
    assert client.get(action_url(second, "exclude") + "?entry=x").status_code == 404
    assert client.get(action_url(second, "delete")).status_code == 404


# Send a test to me


def test_send_a_test_to_me_sends_the_customers_message_marked_as_a_test(world, client, support):
    c = campaign()
    login_staff(client, support)
    response = client.post(
        reverse("campaign_test_message", kwargs={"code": c.code}), {"customer": "yamada"}
    )
    assert response.status_code == 302
    [test] = mail.outbox
    _lang, subject, body = lifecycle.message_render(c, world[0])
    assert test.to == ["sue@hosting.example"]
    assert test.subject == "[TEST] " + subject
    signed_link = re.compile(r"/l/[^/\s]+/")  # each link is signed with the time
    assert signed_link.sub("/l/…/", test.body) == signed_link.sub("/l/…/", body)
    assert "shop@yamada.example" in test.body
    c.refresh_from_db()
    assert c.state == "draft"
    assert not Notice.objects.exists() and not CampaignMailbox.objects.exists()


def test_send_a_test_to_me_refuses_a_customer_with_nothing_to_change(world, client, support):
    c = campaign()
    login_staff(client, support)
    url = reverse("campaign_test_message", kwargs={"code": c.code})
    page = client.post(url, {"customer": "fine"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This customer has no mailbox to change in this campaign." in page
    page = client.post(url, {"customer": "nobody"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No customer with the ID nobody." in page
    assert not mail.outbox


# What changes, per mailbox


def test_the_campaign_link_page_says_what_changes_before_a_program_is_chosen(
    world, client, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    mailbox = Mailbox.objects.get(email="shop@yamada.example")
    url = reverse("campaign_link", kwargs={"token": lifecycle.link_token(c, mailbox)})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "What changes" in page
    assert "Only receiving changes" not in page and "Both receiving and sending change." in page
    assert f"<del>{OLD}</del>" in page and f"<ins>{NEW}</ins>" in page
    assert "Which mail program do you use?" in page


def test_campaign_export_shows_formula_like_values_as_text(
    world, client, support, django_capture_on_commit_callbacks
):
    hostile = Customer.objects.create(slug="-2-3", name="悪意", contact_emails="x@evil.example")
    make_mailbox(hostile, "=1+2@evil.example", OLD_SHEET)
    c = run(campaign(), django_capture_on_commit_callbacks)
    login_staff(client, support)

    export = client.get(reverse("campaign_export", kwargs={"code": c.code})).content.decode(
        "utf-8-sig"
    )

    rows = list(csv.DictReader(io.StringIO(export)))
    assert ("'-2-3", "'=1+2@evil.example") in [(r["customer"], r["email"]) for r in rows]
    assert ("yamada", "shop@yamada.example") in [(r["customer"], r["email"]) for r in rows]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "{customer_name:>100000000}",
            "{customer_name:>100000000}: formatting after “:” is not allowed",
        ),
        ("{customer_name:{deadline}}", "formatting after “:” is not allowed"),
        ("{x!r}", "{x!r}: “!r” is not allowed"),
        ("{x!r}", "unknown placeholder {x}"),
        ("{customer_name!s}", "“!s” is not allowed"),
        ("{customer_name.__class__}", "{customer_name.__class__}: “.” and “[…]” are not allowed"),
        ("{mailboxes[0]}", "{mailboxes[0]}: “.” and “[…]” are not allowed"),
        ("{}", "unknown placeholder {}"),
        ("{0}", "unknown placeholder {0}"),
    ],
)
def test_only_plain_placeholders_are_allowed(text, problem):
    with translation.override("en"):
        problems = lifecycle.template_problems(f"{text} 様")

    assert any(problem in p for p in problems), problems


def test_plain_placeholders_and_doubled_braces_are_fine():
    assert lifecycle.template_problems("{customer_name} 様 {{x}} {deadline}\n{mailboxes}") == []


@pytest.mark.parametrize(
    ("field", "text", "problem"),
    [
        ("subject_ja", "{customer_name:>100000000} 様", "formatting after “:” is not allowed"),
        ("body_en", "Dear {customer_name.__class__}", "“.” and “[…]” are not allowed"),
        ("body_ja", "{mailboxes[0]}", "“.” and “[…]” are not allowed"),
        ("subject_en", "{x!r}", "“!r” is not allowed"),
    ],
)
def test_the_form_names_the_placeholder_problem(world, client, support, field, text, problem):
    login_staff(client, support)
    data = {
        "name": "x", "cutover": "2027-01-01", "reminder_days": "7", "subject_ja": "s",
        "body_ja": "b", "subject_en": "s", "body_en": "b", field: text,
    }  # fmt: skip

    page = client.post(reverse("campaign_new"), data, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert problem in page
    assert not Campaign.objects.exists()


def test_a_draft_with_a_format_spec_cannot_launch(world):
    with pytest.raises(lifecycle.CampaignError, match="formatting after"):
        lifecycle.campaign_launch(campaign(body_en="{customer_name:>100000000}"))


def link_of(c, email):
    return reverse(
        "campaign_link", kwargs={"token": lifecycle.link_token(c, Mailbox.objects.get(email=email))}
    )


@pytest.mark.parametrize(
    ("end", "english", "japanese"),
    [
        (lifecycle.campaign_finish, "This campaign is over", "この移行キャンペーンは終了しました"),
        (lifecycle.campaign_cancel, "This campaign is over", "この移行キャンペーンは終了しました"),
    ],
)
def test_a_finished_or_cancelled_campaigns_link_says_it_is_over_and_confirms_nothing(
    world, client, django_capture_on_commit_callbacks, end, english, japanese
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    end(c)
    url = link_of(c, "shop@yamada.example")

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page_ja = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    client.post(url, {"confirm": "1"})

    assert english in page and "I have changed my settings" not in page
    assert japanese in page_ja
    entry = CampaignMailbox.objects.get(campaign=c, mailbox__email="shop@yamada.example")
    assert entry.status == "notified" and entry.viewed_at is None and entry.confirmed_at is None
    assert not Confirmation.objects.exists()


def test_an_excluded_mailboxs_link_says_so_and_confirms_nothing(
    world, client, support, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    entry = CampaignMailbox.objects.get(campaign=c, mailbox__email="shop@yamada.example")
    login_staff(client, support)
    client.post(
        reverse("campaign_action", kwargs={"code": c.code, "action": "exclude"}),
        {"entry": entry.pk},
    )
    client.logout()
    url = link_of(c, "shop@yamada.example")

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page_ja = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    client.post(url, {"confirm": "1"})

    assert "This mailbox is not part of this campaign" in page
    assert "I have changed my settings" not in page
    assert "このメールアカウントはこの移行キャンペーンの対象ではありません" in page_ja
    entry.refresh_from_db()
    assert entry.status == "excluded" and entry.confirmed_at is None
    assert not Confirmation.objects.exists()
    other = CampaignMailbox.objects.get(campaign=c, mailbox__email="order@yamada.example")
    assert other.status == "notified"  # the customer's other mailbox still takes its link
    assert (
        "I have changed my settings"
        in client.get(
            link_of(c, "order@yamada.example"), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    )


@pytest.mark.parametrize("client_id", ["x" * 40, "../admin", "thunderbird "])
def test_a_link_ignores_a_mail_program_it_does_not_know(
    world, client, django_capture_on_commit_callbacks, client_id
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    url = link_of(c, "shop@yamada.example")

    page = client.get(url, {"client": client_id}, HTTP_ACCEPT_LANGUAGE="en")
    confirmed = client.post(f"{url}?client={client_id[:40]}", {"confirm": "1"})

    assert page.status_code == 200 and "Which mail program do you use?" in page.content.decode()
    assert confirmed.status_code == 302 and confirmed["Location"] == url
    assert Confirmation.objects.get().mail_client == ""
    assert CampaignMailbox.objects.get(campaign=c, mailbox__email="shop@yamada.example").status == (
        "confirmed"
    )


def test_a_link_with_a_control_character_in_its_query_is_a_bad_request(
    world, client, django_capture_on_commit_callbacks
):
    c = run(campaign(), django_capture_on_commit_callbacks)
    url = link_of(c, "shop@yamada.example")

    page = client.get(url, {"client": "thunderbird\x00"}, HTTP_ACCEPT_LANGUAGE="en")
    posted = client.post(f"{url}?client=thunderbird%00", {"confirm": "1"})

    assert page.status_code == 400 and posted.status_code == 400
    assert "control characters such as line breaks or NUL are not allowed" in (
        page.content.decode()
    )
    assert not Confirmation.objects.exists()
