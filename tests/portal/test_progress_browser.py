"""In a real Chromium, with a real Celery worker: staff start the DNS check of every
mail domain and watch the page come to its outcome by itself, without reloading it."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Customer, MailDomain, ServerName
from accounts.roles import SUPPORT_GROUP
from portal.celery import app as celery_app
from tests.conftest import make_staff
from tests.portal.test_browser import ARTIFACTS, chromium
from tests.portal.test_dnscheck import nameserver  # noqa: F401  (fixture)
from tests.processes import celery, logs


@pytest.mark.django_db(transaction=True)
def test_the_dns_check_page_shows_the_outcome_by_itself(
    live_server,
    django_user_model,
    nameserver,  # noqa: F811
    tmp_path,
    settings,
):
    settings.DNS_NAMESERVER = nameserver
    server = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    for slug, domain in (("aaabb", "aaabb.co.jp"), ("yamada", "yamada.example")):
        customer = Customer.objects.create(slug=slug, name=slug)
        MailDomain.objects.create(customer=customer, domain=domain, server=server)
    sue = make_staff(django_user_model, "sue", SUPPORT_GROUP)
    app = TOTPDevice.objects.create(user=sue, name="phone", confirmed=True)
    celery_app.conf.task_always_eager = False
    env = {"DNS_NAMESERVER": nameserver}
    # The web side sends to the default queue: the test's own worker listens there.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE

    with celery("worker", log_dir=tmp_path, env=env, queue=queue), chromium() as browser:
        page = browser.new_page(locale="ja-JP", viewport={"width": 1100, "height": 900})
        page.goto(f"{live_server.url}/accounts/login/?next=/staff/domains/")
        page.fill("#id_username", "sue")
        page.fill("#id_password", "pw-123456!")
        page.click("main button[type=submit]")
        page.fill("#id_code", f"{totp(app.bin_key):06d}")
        page.click("main form button[type=submit]")
        assert "未チェック" in page.inner_text("main")
        page.click("form[action$='/check/'] button")
        try:
            page.wait_for_selector("text=最終チェック", timeout=60_000)
        except Exception:
            pytest.fail(logs(tmp_path))
        main = page.inner_text("main")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "domains-checked.png"), full_page=True)

    assert "2 ドメイン中、追加または変更が必要なレコードがあるのは 2 ドメイン" in main
    assert "_pop3s._tcp.aaabb.co.jp. SRV 0 1 995 mail.hosting.example." in main
