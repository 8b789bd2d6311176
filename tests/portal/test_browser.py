"""A real headless Chromium (Debian's, driven by Playwright) logs in as a customer,
opens a guide, confirms, and leaves a screenshot in var/test-artifacts/; every
customer page fits a 360 px phone (screenshots in var/test-artifacts/phone/)."""

import contextlib
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import (
    Confirmation,
    Customer,
    Mailbox,
    ServerName,
    SettingsSheet,
    sheet_record,
)
from accounts.sheets import SheetValues
from portal.campaigns.lifecycle import link_token
from portal.guides.catalog import CATALOG
from portal.models import Campaign, CampaignMailbox
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


# Phone width: no customer page is wider than a 360 px screen.

PHONE = {"width": 360, "height": 740}
# The elements that stick out past the right edge, for the failure message.
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                        + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
# What a Content-Security-Policy without 'unsafe-inline' would block.
INLINE_CODE = """() => [...document.querySelectorAll('script:not([src]), style, [style]')]
  .map(e => e.outerHTML.slice(0, 80)).concat([...document.querySelectorAll('*')]
  .flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => a.name)))"""
LONG_HOST = "pop-and-imap-legacy-frontend01.branch-office.aaabb-holdings.co.jp"
LONG_ADDRESS = "accounting.department.head-office@branch-office.aaabb-holdings.co.jp"


def phone_world(django_user_model):
    """The seed's sample mailbox (swapped ports on an old name), a mailbox with the
    longest names, several sheet versions, a running campaign, two customers."""
    new = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="mail.aaabb.co.jp", status="legacy", replaced_by=new)
    ServerName.objects.create(hostname=LONG_HOST, status="legacy", replaced_by=new)
    customer = Customer.objects.create(slug="aaabb", name="株式会社エーエービービー")
    other = Customer.objects.create(slug="sato-clinic", name="医療法人社団 佐藤クリニック")
    seed = make_mailbox(
        customer,
        "test01@aaabb.co.jp",
        SheetValues("mail.aaabb.co.jp", 587, "ssl", "mail.aaabb.co.jp", 995, "ssl", "smtp-auth"),
    )
    long = make_mailbox(
        customer,
        LONG_ADDRESS,
        SheetValues(LONG_HOST, 110, "none", LONG_HOST, 25, "none", "pop-before-smtp"),
    )
    sheet_record(
        long,
        SheetValues(LONG_HOST, 110, "starttls", LONG_HOST, 587, "starttls", "pop-before-smtp"),
        source=SettingsSheet.Source.STAFF,
        note="電話で確認",
    )
    make_mailbox(other, "reception@sato-clinic.example")
    make_person(django_user_model, "multi", customer, other)
    campaign = Campaign.objects.create(
        name="SSL 移行", cutover=timezone.localdate() + timedelta(days=30), state="running"
    )
    for mailbox in (seed, long):
        CampaignMailbox.objects.create(campaign=campaign, mailbox=mailbox, customer=customer)
    mailbox_pages = {}
    for name, mailbox in (("seed", seed), ("long", long)):
        base = f"/c/aaabb/m/{mailbox.code}/"
        token = link_token(campaign, mailbox)
        mailbox_pages |= {
            f"mailbox-{name}": base,
            f"guide-picker-{name}": f"{base}guide/",
            f"sheet-{name}": f"{base}sheet/",
            f"campaign-link-{name}": f"/l/{token}/",
            f"campaign-link-{name}-guide": f"/l/{token}/?client=outlook",
            **{f"guide-{client}-{name}": f"{base}guide/{client}/" for client in CATALOG},
        }
    public = {
        "login": "/accounts/login/",
        "password-reset": "/accounts/password_reset/",
        "campaign-link": mailbox_pages.pop("campaign-link-long"),
    }
    logged_in = {
        "home": "/",
        "customer-home": "/c/aaabb/",
        "customer-home-other": "/c/sato-clinic/",
        "password-change": "/accounts/password_change/",
        **mailbox_pages,
    }
    return public, logged_in


def page_widths(
    browser, base_url: str, pages: dict[str, str], *, login: bool, folder: Path, viewport=PHONE
):
    """Open each page in Japanese (at phone width); returns the ones wider than the screen."""
    context = browser.new_context(locale="ja-JP", viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    if login:
        page.goto(f"{base_url}/accounts/login/")
        page.fill("#id_username", "multi")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base_url}/")
    too_wide = {}
    for name, path in pages.items():
        response = page.goto(base_url + path)
        assert response.status == 200, (name, path, response.status)
        assert page.evaluate("document.documentElement.lang") == "ja", name
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, innerWidth]"
        )
        if scroll_width > inner_width:
            too_wide[name] = (scroll_width, page.evaluate(TOO_WIDE))
        assert page.evaluate(INLINE_CODE) == [], name
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    context.close()
    return too_wide


@pytest.mark.django_db(transaction=True)
def test_no_customer_page_is_wider_than_a_360_px_phone(live_server, django_user_model):
    public, logged_in = phone_world(django_user_model)
    folder = ARTIFACTS / "phone"
    folder.mkdir(parents=True, exist_ok=True)

    with chromium() as browser:
        too_wide = page_widths(browser, live_server.url, public, login=False, folder=folder)
        too_wide |= page_widths(browser, live_server.url, logged_in, login=True, folder=folder)

    assert too_wide == {}
    assert len(logged_in) > 2 * len(CATALOG)  # every program's guide, for both mailboxes


# Every step's picture, measured in the browser: drawn at (nearly) its own size on a phone,
# every text inside its frame, as many pictures as steps.
PICTURES = """() => [...document.querySelectorAll('svg.screen-picture')].map(svg => {
  const box = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
  const texts = [...svg.querySelectorAll('text')];
  const outside = texts.filter(t => { const b = t.getBBox();
    return b.x < -0.5 || b.x + b.width > view.width + 0.5; }).map(t => t.textContent);
  const smallest = Math.min(...texts.map(t => t.getBoundingClientRect().height));
  return {width: box.width, right: box.right, scale: box.width / view.width, outside,
          smallest, texts: texts.length, steps: document.querySelectorAll('.step').length};
})"""


@pytest.mark.django_db(transaction=True)
def test_every_guide_pictures_each_step_readably_at_phone_width(live_server, django_user_model):
    _, logged_in = phone_world(django_user_model)
    guides = {name: path for name, path in logged_in.items() if name.startswith("guide-")}
    guides = {n: p for n, p in guides.items() if not n.startswith("guide-picker")}
    folder = ARTIFACTS / "pictures"
    folder.mkdir(parents=True, exist_ok=True)
    measured = {}
    with chromium() as browser:
        context = browser.new_context(locale="ja-JP", viewport=PHONE, device_scale_factor=1)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "multi")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for name, path in guides.items():
            page.goto(live_server.url + path)
            measured[name] = page.evaluate(PICTURES)
            for i, svg in enumerate(page.locator("svg.screen-picture").all(), 1):
                svg.screenshot(path=str(folder / f"{name}-{i}.png"))
        context.close()

    assert len(measured) == 2 * len(CATALOG)
    for name, pictures in measured.items():
        assert pictures and len(pictures) == pictures[0]["steps"], name
        for picture in pictures:
            assert picture["texts"] > 2, name
            assert picture["right"] <= PHONE["width"], (name, picture)
            assert picture["scale"] >= 0.9, (name, picture)  # drawn 300 px: ~1:1 on the phone
            assert picture["smallest"] >= 10, (name, picture)  # readable text
            assert picture["outside"] == [], (name, picture["outside"])


@pytest.mark.django_db(transaction=True)
def test_the_print_button_of_the_printable_sheet_prints(live_server, django_user_model):
    customer = Customer.objects.create(slug="aaabb", name="株式会社エーエービービー")
    mailbox = make_mailbox(customer, "test01@aaabb.co.jp")
    make_person(django_user_model, "tanaka", customer)

    with chromium() as browser:
        page = browser.new_page(locale="ja-JP", viewport=PHONE)
        page.add_init_script("window.print = () => { window.printed = true; };")
        page.goto(f"{live_server.url}/accounts/login/?next=/c/aaabb/m/{mailbox.code}/sheet/")
        page.fill("#id_username", "tanaka")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.click("button[data-print]")
        assert page.evaluate("window.printed") is True


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


@pytest.mark.django_db(transaction=True)
def test_no_staff_page_is_wider_than_a_360_px_phone(live_server, django_user_model, client):
    """Staff mostly sit at desktops, but the one on call opens the portal on a phone:
    lists with many columns scroll sideways inside the page, the page itself does not."""
    from accounts.roles import ADMIN_GROUP
    from checks.findings import findings_recompute
    from tests.conftest import login_staff, make_staff

    phone_world(django_user_model)
    findings_recompute()
    seed = Mailbox.objects.get(email="test01@aaabb.co.jp")
    long = Mailbox.objects.get(email=LONG_ADDRESS)
    campaign = Campaign.objects.get()
    login_staff(client, make_staff(django_user_model, "oncall", ADMIN_GROUP))
    pages = {
        "staff-home": "/staff/",
        "staff-search": "/staff/?q=aaabb",
        "staff-customer": "/staff/customers/aaabb/",
        "staff-mailbox-seed": f"/staff/mailboxes/{seed.code}/",
        "staff-mailbox-long": f"/staff/mailboxes/{long.code}/",
        "staff-sheet-edit": f"/staff/mailboxes/{long.code}/edit/",
        "staff-findings": "/staff/findings/",
        "staff-forecast": "/staff/forecast/",
        "staff-campaigns": "/staff/campaigns/",
        "staff-campaign": f"/staff/campaigns/{campaign.code}/",
        "staff-servers": "/staff/servers/",
        "staff-endpoints": "/staff/endpoints/",
        "staff-imports": "/staff/imports/",
        "staff-domains": "/staff/domains/",
        "staff-audit": "/staff/audit/",
    }
    folder = ARTIFACTS / "phone-staff"
    folder.mkdir(parents=True, exist_ok=True)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    with chromium() as browser:
        context = browser.new_context(locale="ja-JP", viewport=PHONE, device_scale_factor=1)
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        too_wide = {}
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            assert response.status == 200, (name, path, response.status)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > PHONE["width"]:
                too_wide[name] = (scroll_width, page.evaluate(TOO_WIDE))
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        context.close()

    assert too_wide == {}
