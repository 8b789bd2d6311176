"""A staff member walks a campaign's launch confirmation in a real Chromium (desktop):
the page states the numbers, and only the button on it launches."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Customer, ServerName
from accounts.roles import SUPPORT_GROUP
from accounts.sheets import SheetValues
from portal.models import Campaign
from tests.conftest import make_mailbox, make_staff
from tests.portal.test_browser import ARTIFACTS, chromium

OLD = SheetValues("mail.old.example", 995, "ssl", "mail.old.example", 465, "ssl", "smtp-auth")
GOOD = SheetValues("mail.new.example", 995, "ssl", "mail.new.example", 465, "ssl", "smtp-auth")


@pytest.mark.django_db(transaction=True)
def test_staff_launch_a_campaign_through_its_confirmation_page(live_server, django_user_model):
    new = ServerName.objects.create(hostname="mail.new.example", status="current")
    ServerName.objects.create(hostname="mail.old.example", status="legacy", replaced_by=new)
    yamada = Customer.objects.create(
        slug="yamada", name="山田商店", contact_emails="owner@yamada.example\nit@yamada.example"
    )
    make_mailbox(yamada, "shop@yamada.example", OLD)
    make_mailbox(yamada, "order@yamada.example", OLD)
    make_mailbox(yamada, "fine@yamada.example", GOOD)
    sato = Customer.objects.create(slug="sato", name="佐藤医院", contact_emails="desk@sato.example")
    make_mailbox(sato, "info@sato.example", OLD)
    done = Customer.objects.create(slug="done", name="済み", contact_emails="x@done.example")
    make_mailbox(done, "all@done.example", GOOD)
    campaign = Campaign.objects.create(
        name="SSL migration", cutover=timezone.localdate() + timedelta(days=30)
    )
    campaign.target_customers.add(yamada, sato, done)
    sue = make_staff(django_user_model, "sue", SUPPORT_GROUP)
    app = TOTPDevice.objects.create(user=sue, name="phone", confirmed=True)

    with chromium() as browser:
        page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/accounts/login/?next=/staff/campaigns/{campaign.code}/")
        page.fill("#id_username", "sue")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.fill("#id_code", f"{totp(app.bin_key):06d}")  # the second factor, as staff give it
        page.click("main form button[type=submit]")
        summary = page.inner_text(".target-summary")
        assert (
            "2 customers, 3 mailboxes to change; 1 targeted customers have nothing to change."
            in summary
        )
        page.click("text=Launch or schedule…")
        main = page.inner_text("main")
        assert "Send 2 messages to 3 addresses about 3 mailboxes to change?" in main
        facts = {
            row.query_selector("th").inner_text(): row.query_selector("td").inner_text()
            for row in page.query_selector_all("table.facts tr")
        }
        assert facts["Customers to mail (one message each)"] == "2"
        assert facts["Mailboxes to change"] == "3"
        assert facts["Targeted customers with nothing to change (not mailed)"] == "1"
        recipients = page.inner_text("ul.recipients")
        assert "desk@sato.example" in recipients and "x@done.example" not in recipients
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "campaign-launch-confirmation.png"), full_page=True)
        sent_before_confirming = len(mail.outbox)
        page.click("main form button[type=submit]")
        page.wait_for_selector(".messages li.success")
        page.screenshot(path=str(ARTIFACTS / "campaign-running.png"), full_page=True)

    assert sent_before_confirming == 0
    campaign.refresh_from_db()
    assert campaign.state == "running"
    assert sorted(tuple(m.to) for m in mail.outbox) == [
        ("desk@sato.example",),
        ("owner@yamada.example", "it@yamada.example"),
    ]
