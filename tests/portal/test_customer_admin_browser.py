"""In a real Chromium, in Japanese, at desktop and phone width: a staff member adds a
customer, its mail domain and invites a person; the person opens the mailed link,
chooses a password and sees that customer's mailboxes. Screenshots in
var/test-artifacts/customer-admin/."""

import re

import pytest
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Customer, Mailbox, Membership, ServerName
from accounts.roles import SUPPORT_GROUP
from accounts.sheets import SheetValues
from tests.conftest import make_mailbox, make_staff
from tests.portal.test_browser import ARTIFACTS, TOO_WIDE, chromium

PASSWORD = "ochre-kettle-2026"


def staff_with_totp(django_user_model) -> bytes:
    """Support staff suzuki with a confirmed authenticator app; returns its key."""
    staff = make_staff(django_user_model, "suzuki", SUPPORT_GROUP)
    return TOTPDevice.objects.create(user=staff, name="app", confirmed=True).bin_key


def staff_page(browser, base_url: str, width: int, key: bytes):
    """A page logged in as suzuki, second factor given, on the staff search page."""
    page = browser.new_page(locale="ja-JP", viewport={"width": width, "height": 900})
    page.goto(f"{base_url}/staff/")
    page.fill("#id_username", "suzuki")
    page.fill("#id_password", "pw-123456!")
    page.click("main button[type=submit]")
    page.fill("#id_code", f"{totp(key):06d}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/staff/")
    return page


def fits(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, page.evaluate(TOO_WIDE)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "name"), [(1100, "desktop"), (360, "phone")])
def test_staff_add_a_customer_and_invite_a_person_who_then_logs_in(
    live_server, django_user_model, settings, width, name
):
    settings.PORTAL_URL = live_server.url
    ServerName.objects.create(hostname="mail.hosting.example", status="current")
    key = staff_with_totp(django_user_model)
    folder = ARTIFACTS / "customer-admin"
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page, step):
        fits(page, width)
        page.screenshot(path=str(folder / f"{step}-{name}.png"), full_page=True)

    with chromium() as browser:
        page = staff_page(browser, live_server.url, width, key)
        page.click("text=新しい顧客")
        page.fill("#id_slug", "gamma")
        page.fill("#id_name", "ガンマ電機")
        page.fill("#id_contact_emails", "it@gamma.example\nnot an address")
        page.click("text=顧客を追加")
        assert "2 行目" in page.inner_text("main") or "line 2" in page.inner_text("main")
        shot(page, "customer-new-error")
        page.fill("#id_contact_emails", "it@gamma.example\nboss@gamma.example")
        page.select_option("#id_server", label="mail.hosting.example")
        shot(page, "customer-new")
        page.click("text=顧客を追加")
        assert "顧客を追加しました。" in page.inner_text("main")
        page.click("text=メールドメインを追加")
        page.fill("#id_domain", "gamma.example")
        page.select_option("#id_server", label="mail.hosting.example")
        shot(page, "mail-domain-new")
        page.click("main form button[type=submit] >> text=保存")
        assert "メールドメイン gamma.example を保存しました。" in page.inner_text("main")
        page.click("text=ログインする人を招待")
        page.fill("#id_email", "keiri@gamma.example")
        shot(page, "invitation-new")
        page.click("text=招待を送信")
        main = page.inner_text("main")
        assert "keiri@gamma.example に招待を送信しました。" in main
        assert "招待済み（未ログイン）" in main
        shot(page, "customer")

        [message] = mail.outbox
        path = re.search(re.escape(live_server.url) + r"(/invite/\S+)", message.body).group(1)
        person = browser.new_page(locale="ja-JP", viewport={"width": width, "height": 900})
        person.goto(live_server.url + path)
        assert "ガンマ電機のメール設定を見るためのご招待です。" in person.inner_text("main")
        shot(person, "invitation-accept")
        person.fill("#id_new_password1", PASSWORD)
        person.fill("#id_new_password2", PASSWORD)
        person.click("main button[type=submit]")
        assert "パスワードを設定しました。" in person.inner_text("main")
        person.fill("#id_username", "keiri@gamma.example")
        person.fill("#id_password", PASSWORD)
        person.click("main button[type=submit]")
        person.wait_for_url(f"{live_server.url}/c/gamma/")
        shot(person, "invited-home")
        person.goto(live_server.url + path)
        assert "この招待はすでに使われています" in person.inner_text("main")
        shot(person, "invitation-used")

    customer = Customer.objects.get(slug="gamma")
    assert customer.contact_email_list == ["it@gamma.example", "boss@gamma.example"]
    assert customer.domains.get().domain == "gamma.example"
    assert Membership.objects.get(user__username="keiri@gamma.example").customer == customer
    assert not Mailbox.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "name"), [(1100, "desktop"), (360, "phone")])
def test_staff_fill_in_the_recommended_settings_and_save_them(
    live_server, django_user_model, width, name
):
    current = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="pop.hosting.example", status="legacy", replaced_by=current)
    customer = Customer.objects.create(slug="yamada", name="山田商店")
    mailbox = make_mailbox(
        customer,
        "shop@yamada.example",
        SheetValues(
            "pop.hosting.example", 110, "none", "pop.hosting.example", 25, "none", "pop-before-smtp"
        ),
    )
    key = staff_with_totp(django_user_model)
    folder = ARTIFACTS / "customer-admin"
    folder.mkdir(parents=True, exist_ok=True)

    with chromium() as browser:
        page = staff_page(browser, live_server.url, width, key)
        page.goto(f"{live_server.url}/staff/mailboxes/{mailbox.code}/edit/")
        page.click("text=推奨設定を入力")
        assert "推奨設定をフォームに入れました" in page.inner_text("main")
        assert page.input_value("#id_incoming_host") == "mail.hosting.example"
        assert page.input_value("#id_incoming_port") == "995"
        assert page.input_value("#id_outgoing_security") == "ssl"
        assert page.input_value("#id_smtp_auth") == "smtp-auth"
        fits(page, width)
        page.screenshot(path=str(folder / f"sheet-recommended-{name}.png"), full_page=True)
        page.click("text=新しい版として保存")
        assert "第2版として保存しました。" in page.inner_text("main")

    sheet = Mailbox.objects.get(pk=mailbox.pk).current_sheet
    assert (sheet.version, sheet.incoming_port, sheet.smtp_auth) == (2, 995, "smtp-auth")
