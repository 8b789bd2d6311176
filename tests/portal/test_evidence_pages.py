"""What log evidence changes on the pages: the customer's "did my change work?" line,
and the staff forecast of what a change on the servers would break."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checks.evidence.models import LoginEvidence


def seen(mailbox, *, protocol="pop3", port=995, tls=True, version="TLSv1.3", days_ago=1,
         address="192.0.2.10"):  # fmt: skip
    at = timezone.now() - timedelta(days=days_ago)
    LoginEvidence.objects.create(
        mailbox=mailbox, protocol=protocol, address=address, port=port, tls=tls,
        tls_version=version, first_seen=at, last_seen=at, count=1, last_remote="203.0.113.9",
    )  # fmt: skip
    return timezone.localtime(at).strftime("%-m/%-d %H:%M")


def mailbox_page(client, person, mailbox, language="ja"):
    client.force_login(person)
    url = reverse("customer_mailbox", args=[mailbox.customer.slug, mailbox.code])
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_the_customer_sees_their_program_connected_securely(client, alpha_person, alpha_mailbox):
    at = seen(alpha_mailbox)
    page = mailbox_page(client, alpha_person, alpha_mailbox, "en")
    assert f"Your mail program last connected securely (POP3, SSL/TLS) on {at}." in page
    page = mailbox_page(client, alpha_person, alpha_mailbox, "ja")
    assert (
        f"お使いのメールソフトは {at} に暗号化された接続（POP3、SSL/TLS）で接続しました。" in page
    )


def test_the_customer_sees_a_program_still_connecting_without_encryption(
    client, alpha_person, alpha_mailbox
):
    at = seen(alpha_mailbox, port=110, tls=False, version="", days_ago=2)
    seen(alpha_mailbox, protocol="smtp", port=587, address="")
    page = mailbox_page(client, alpha_person, alpha_mailbox, "en")
    assert (
        f"We still see your mail program connecting without encryption (POP3, last on {at})."
        in page
    )
    assert "(SMTP, STARTTLS)" in page


def test_the_customer_is_told_to_update_a_program_on_outdated_tls(
    client, alpha_person, alpha_mailbox
):
    at = seen(alpha_mailbox, version="TLSv1", days_ago=2)
    newer = seen(alpha_mailbox, version="TLSv1.3")  # another device, up to date
    page = mailbox_page(client, alpha_person, alpha_mailbox, "en")
    assert (
        f"Your mail program last connected with an outdated encryption version (POP3, SSL/TLS,"
        f" TLS 1.0) on {at}: our servers will stop accepting it." in page
    )
    assert f"last connected securely (POP3, SSL/TLS) on {newer}." in page
    page = mailbox_page(client, alpha_person, alpha_mailbox, "ja")
    assert (
        f"お使いのメールソフトは {at} に古い暗号化方式（POP3、SSL/TLS、TLS 1.0）で接続しました。"
        in page
    )


def test_logins_older_than_the_window_are_not_shown(client, alpha_person, alpha_mailbox):
    seen(alpha_mailbox, tls=False, days_ago=30)
    page = mailbox_page(client, alpha_person, alpha_mailbox, "en")
    assert "without encryption" not in page


@pytest.mark.parametrize("language", ["en"])
def test_a_mailbox_without_evidence_shows_no_such_line(
    client, alpha_person, alpha_mailbox, language
):
    assert "What our mail servers see" not in mailbox_page(
        client, alpha_person, alpha_mailbox, language
    )


@pytest.fixture
def evidence(db, alpha_mailbox, beta_mailbox):
    """alpha logs in with TLS 1.0 on 995; beta on POP3 110 without encryption."""
    from accounts.models import ServerName
    from checks.evidence.models import LogSource

    LogSource.objects.create(name="mail1", last_ingest_at=timezone.now())
    old = ServerName.objects.create(hostname="pop.hosting.example", status="legacy")
    seen(alpha_mailbox, version="TLSv1")
    seen(beta_mailbox, port=110, tls=False, version="")
    LoginEvidence.objects.filter(mailbox=beta_mailbox).update(server=old)


def forecast(client, user, **params):
    from tests.conftest import login_staff

    login_staff(client, user)
    return client.get(reverse("forecast"), params, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize(
    ("change", "affected", "unaffected"),
    [
        ("tls12", "info@alpha.example", "sales@beta.example"),
        ("port:pop3:110", "sales@beta.example", "info@alpha.example"),
        ("name:pop.hosting.example", "sales@beta.example", "info@alpha.example"),
    ],
)
def test_the_forecast_lists_who_a_change_would_break(
    client, support, evidence, change, affected, unaffected
):
    page = forecast(client, support, change=change).content.decode()
    assert "breaks 1 mailboxes of 1 customers seen in the last 14 days" in page
    assert affected in page and unaffected not in page


def test_the_forecast_exports_csv(client, support, evidence):
    response = forecast(client, support, change="port:pop3:110", format="csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = text.splitlines()
    assert header == "customer,email,protocol,endpoint,tls_version,last_seen,count"
    assert row.startswith("beta,sales@beta.example,pop3,pop3 192.0.2.10:110,none,")


def test_an_unknown_change_is_404(client, support, evidence):
    assert forecast(client, support, change="port:pop3:995").status_code == 404


@pytest.mark.parametrize(("who", "link"), [("support", False), ("staff_admin", True)])
def test_the_forecast_without_logs_says_in_japanese_how_to_read_them(client, request, who, link):
    from tests.conftest import login_staff

    login_staff(client, request.getfixturevalue(who))
    page = client.get(reverse("forecast"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "ingest_maillog コマンド" in page and "ログ受信トークン" in page
    assert "README" not in page and "Evidence from" not in page
    assert (reverse("admin:checks_ingesttoken_changelist") in page) is link


def test_a_program_still_logging_in_without_encryption_is_not_called_done(
    client, alpha_person, alpha_mailbox
):
    """The sheet on record needs nothing, but the servers still see the mail program log
    in without encryption: the mailbox page does not say "nothing to do" or "done" above
    "we still see your mail program connecting without encryption"; it says the program
    does not use the settings on record yet, with the guide. Once a login with current
    TLS came after, the page is as the state says, and the logs' line says so."""
    from accounts.models import ServerName
    from checks.findings import findings_recompute

    ServerName.objects.create(hostname="mail.hosting.example", status="current")
    insecure = seen(alpha_mailbox, port=110, tls=False, version="", days_ago=2)
    findings_recompute()
    page = mailbox_page(client, alpha_person, alpha_mailbox, "ja")
    assert "お使いのメールソフトはまだその設定で接続していません" in page
    assert "変更不要" not in page and "お手続きは不要です" not in page
    assert "お使いのメールソフトが暗号化なしで接続しているのをまだ確認しています" in page
    assert "warning-box" in page
    assert f'<a class="button" href="/c/alpha/m/{alpha_mailbox.code}/guide/">' in page

    secure = seen(alpha_mailbox, port=995, days_ago=0)
    page = mailbox_page(client, alpha_person, alpha_mailbox, "en")
    assert "The change is complete." in page or "fine as they are" in page  # as the state says
    assert "does not use them yet" not in page and "We still see" not in page
    assert (
        f"Your mail program connected without encryption (POP3) until {insecure}; it has"
        " connected securely since." in page
    )
    assert f"last connected securely (POP3, SSL/TLS) on {secure}." in page
    page = mailbox_page(client, alpha_person, alpha_mailbox, "ja")
    assert f"お使いのメールソフトは {insecure} まで暗号化なしで接続していました（POP3）。" in page


def test_an_outdated_tls_version_alone_asks_for_a_newer_program_not_a_settings_change(
    client, alpha_person, alpha_mailbox
):
    from accounts.models import ServerName
    from checks.findings import findings_recompute
    from checks.models import Finding

    ServerName.objects.create(hostname="mail.hosting.example", status="current")
    seen(alpha_mailbox, version="TLSv1", days_ago=2)
    findings_recompute()
    open_codes = Finding.objects.filter(resolved_at=None).values_list("code", flat=True)
    assert list(open_codes) == ["legacy-tls-seen"]
    page = mailbox_page(client, alpha_person, alpha_mailbox, "en")
    assert "Please change the settings" not in page
    assert "Please update the mail program." in page
