"""Campaigns: the state machine, one message per customer in its language, once-only
sending under retries and dead workers, signed links, reminders, verification, cutover."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Customer, Mailbox, ServerName, SettingsSheet, sheet_record
from accounts.sheets import SheetValues
from portal import campaigns
from portal.models import Campaign, CampaignMailbox, Notice
from portal.tasks import campaigns_tick, notices_send
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
        campaigns.campaign_launch(c)
    c.refresh_from_db()
    return c


def test_state_machine(world, django_capture_on_commit_callbacks):
    c = campaign()
    with pytest.raises(campaigns.CampaignError):
        campaigns.campaign_finish(c)
    run(c, django_capture_on_commit_callbacks)
    assert c.state == "running"
    with pytest.raises(campaigns.CampaignError, match="Only a draft"):
        campaigns.campaign_launch(c)
    campaigns.campaign_finish(c)
    c.refresh_from_db()
    assert c.state == "finished"
    with pytest.raises(campaigns.CampaignError):
        campaigns.campaign_cancel(c)


def test_a_campaign_without_target_or_with_bad_placeholders_cannot_launch(world):
    with pytest.raises(campaigns.CampaignError, match="names no mailbox"):
        campaigns.campaign_launch(campaign(target_codes=[]))
    with pytest.raises(campaigns.CampaignError, match="unknown placeholder"):
        campaigns.campaign_launch(campaign(subject_ja="{customer_nam} 様"))


def test_scheduled_campaigns_start_on_time(world, django_capture_on_commit_callbacks):
    c = campaign()
    campaigns.campaign_launch(c, at=timezone.now() + timedelta(hours=1))
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
    assert set(campaigns.target_mailboxes(c).values_list("email", flat=True)) == {
        "shop@yamada.example",
        "order@yamada.example",
    }
    c.target_addresses = "order@yamada.example\n"
    assert list(campaigns.target_mailboxes(c).values_list("email", flat=True)) == [
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
    campaigns.campaign_start(c.pk)  # on_commit not run: nothing sent yet
    claimed = campaigns.notice_claim(c.pk, "worker-that-dies")
    assert campaigns.notice_claim(c.pk, "other") is not None  # the other customer's notice
    Notice.objects.exclude(pk=claimed.pk).update(status="sent")
    assert campaigns.notice_claim(c.pk, "other") is None  # leased: not taken
    Notice.objects.filter(pk=claimed.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    again = campaigns.notice_claim(c.pk, "other")
    assert again.pk == claimed.pk and again.attempts == 2
    campaigns.notice_send(again)
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
    url = reverse("campaign_link", kwargs={"token": campaigns.link_token(c, mailbox)})
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
    token = campaigns.link_token(c, mailbox)
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
    campaigns.mailbox_confirmed(smith.pk)
    mail.outbox.clear()
    assert campaigns.reminders_due(today=c.cutover - timedelta(days=7)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        notices_send(c.pk)
    assert [m.to for m in mail.outbox] == [["owner@yamada.example"]]
    assert campaigns.reminders_due(today=c.cutover - timedelta(days=7)) == 1  # created once only
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
    campaigns.mailbox_confirmed(shop.pk)
    changed, rest = campaigns.campaign_cutover(c)
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
        "name": "SSL 移行 2026", "cutover": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "target_codes": ["legacy-hostname"], "reminder_days": "14, 7, 1",
        "subject_ja": "{customer_name} 様", "body_ja": "{mailboxes}\n{deadline}",
        "subject_en": "Dear {customer_name}", "body_en": "{mailboxes}\n{deadline}",
    }, HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    c = Campaign.objects.get()
    assert response.status_code == 302
    preview = client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "3 mailboxes of 2 customers are targeted" in preview
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
    campaigns.mailbox_confirmed(Mailbox.objects.get(email="shop@yamada.example").pk)
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
