"""A real headless Chromium (Debian's, driven by Playwright) logs in as a customer,
opens a guide, confirms, and leaves a screenshot in var/test-artifacts/."""

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Confirmation, Customer, Mailbox, ServerName
from accounts.sheets import SheetValues
from tests.conftest import make_mailbox, make_person

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"


@contextlib.contextmanager
def chromium():
    """Debian's Chromium through Playwright. The database is only touched outside this
    block: inside it Playwright runs an event loop, where Django would use other
    connections."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing (make test installs it as root)")
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_a_customer_follows_a_guide_and_confirms_in_a_real_browser(live_server, django_user_model):
    new = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="mail.aaabb.co.jp", status="legacy", replaced_by=new)
    customer = Customer.objects.create(slug="aaabb", name="株式会社エーエービービー")
    mailbox = make_mailbox(
        customer,
        "test01@aaabb.co.jp",
        SheetValues("mail.aaabb.co.jp", 587, "ssl", "mail.aaabb.co.jp", 995, "ssl", "smtp-auth"),
    )
    make_person(django_user_model, "tanaka", customer)

    with chromium() as browser:
        page = browser.new_page(locale="ja-JP", viewport={"width": 1100, "height": 900})
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "tanaka")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.click("text=test01@aaabb.co.jp")
        page.click(f"a[href='/c/aaabb/m/{mailbox.code}/guide/']")
        page.click("button[value=thunderbird]")
        assert "mail.hosting.example" in page.content()
        assert "995" in page.inner_text("main")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "guide-thunderbird.png"), full_page=True)
        page.click("form[action$='/confirm/'] button")
        page.wait_for_selector(".messages li.success")

    confirmation = Confirmation.objects.get()
    assert confirmation.mailbox == Mailbox.objects.get(email="test01@aaabb.co.jp")
    assert confirmation.mail_client == "thunderbird"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "name"), [(1100, "desktop"), (360, "phone")])
def test_a_staff_member_sets_up_two_factor_login_in_a_real_browser(
    live_server, django_user_model, width, name
):
    import base64

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.roles import SUPPORT_GROUP
    from tests.conftest import make_staff

    make_staff(django_user_model, "suzuki", SUPPORT_GROUP)

    with chromium() as browser:
        page = browser.new_page(locale="ja-JP", viewport={"width": width, "height": 900})
        page.goto(f"{live_server.url}/staff/")
        page.fill("#id_username", "suzuki")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.wait_for_selector("img.qr")
        assert "2 段階認証の設定" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        secret = page.inner_text("#totp-secret").replace(" ", "")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"two-factor-enrol-{name}.png"), full_page=True)
        # What the authenticator app would show for the key it was given.
        page.fill("#id_code", f"{totp(base64.b32decode(secret)):06d}")
        page.click("main form button[type=submit]")
        page.wait_for_selector("ol.recovery-codes")
        codes = page.locator("ol.recovery-codes li").all_inner_texts()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"two-factor-codes-{name}.png"), full_page=True)
        page.click("text=保存しました — 続ける")
        page.wait_for_url(f"{live_server.url}/staff/")
        assert "検索" in page.inner_text("header")

    assert len(codes) == 10
    assert TOTPDevice.objects.get(user__username="suzuki").confirmed
