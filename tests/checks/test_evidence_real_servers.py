"""Real logins to real Dovecot and Postfix (tests/checks/mailservers.py) with Python's
poplib, imaplib and smtplib; the portal reads the log files those servers wrote."""

from __future__ import annotations

import imaplib
import os
import poplib
import re
import smtplib
import ssl
import time
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import ServerName
from checks.evidence.models import LoginEvidence, LogSource
from checks.findings import open_findings
from portal.models import Campaign, CampaignMailbox
from tests.conftest import PLAIN_SHEET, login_staff, make_mailbox

from .mailservers import DISCARD_DOMAIN, LEGACY_CIPHERS, TEST_LOGINS

ALPHA, BETA = "info@alpha.example", "sales"  # BETA logs in by its user name


def tls_context(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A client context; with `version`, one that speaks only that TLS version."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # addresses, not names
    if version is not None:
        context.minimum_version = context.maximum_version = version
        context.set_ciphers(LEGACY_CIPHERS)  # TLS 1.0 and 1.1 need security level 0
    return context


def send(client: smtplib.SMTP, user: str) -> None:
    """Postfix logs the SASL login only with a message (its `client=… sasl_username=` line)."""
    client.login(user, TEST_LOGINS[user])
    client.sendmail("info@alpha.example", [f"someone@{DISCARD_DOMAIN}"], b"Subject: t\r\n\r\nhi")
    client.quit()


def log_in_over_tls(servers, context: ssl.SSLContext) -> None:
    """As ALPHA, over TLS: POP3 (implicit), IMAP (STARTTLS), SMTP (implicit and STARTTLS)."""
    host, port = servers.address("good", "pop3s")  # POP3, implicit TLS
    pop = poplib.POP3_SSL(host, port, context=context, timeout=10)
    pop.user(ALPHA), pop.pass_(TEST_LOGINS[ALPHA]), pop.quit()
    host, port = servers.address("good", "imap")  # IMAP, STARTTLS on the old port
    imap = imaplib.IMAP4(host, port, timeout=10)
    imap.starttls(ssl_context=context), imap.login(ALPHA, TEST_LOGINS[ALPHA]), imap.logout()
    send(smtplib.SMTP_SSL(*servers.address("good", "smtps"), context=context, timeout=10), ALPHA)
    submission = smtplib.SMTP(*servers.address("good", "submission"), timeout=10)
    submission.starttls(context=context)
    send(submission, ALPHA)


def log_in_every_way(servers) -> None:
    log_in_over_tls(servers, tls_context())
    host, port = servers.address("plain", "pop3")  # POP3 without encryption, old server
    pop = poplib.POP3(host, port, timeout=10)
    pop.user(BETA), pop.pass_(TEST_LOGINS[BETA]), pop.quit()
    send(smtplib.SMTP(*servers.address("plain", "smtp"), timeout=10), BETA)


def wait_for_logs(workdir: Path, expected: dict[str, tuple[str, int]]) -> None:
    """The servers write their logs a moment after the login: wait for the lines."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        texts = {name: (workdir / name).read_text(errors="replace") for name in expected}
        if all(texts[name].count(needle) >= n for name, (needle, n) in expected.items()):
            return
        time.sleep(0.2)
    pytest.fail(f"the servers did not log the logins: {expected}")


def register(settings, servers) -> None:
    """The registry's server names for the test servers' addresses, and their ports."""
    new = ServerName.objects.create(hostname="mail.new.example", status="current",
                                    addresses="127.0.0.2")  # fmt: skip
    ServerName.objects.create(hostname="mail.old.example", status="legacy", replaced_by=new,
                              addresses="127.0.0.5")  # fmt: skip
    # The test servers listen on free high ports: say which standard port each stands for.
    settings.PROBE_PORT_MAP = {
        standard: servers.address("good", service)[1]
        for standard, service in ((110, "pop3"), (995, "pop3s"), (143, "imap"), (993, "imaps"))
    }
    # The servers write local time: the zone they inherited (Django sets TZ) or the system's.
    settings.LOG_TIME_ZONE = os.environ.get("TZ") or Path("/etc/timezone").read_text().strip()


@pytest.fixture
def registry(db, settings, mail_servers):
    register(settings, mail_servers)


def notified_entry(mailbox, code: str) -> CampaignMailbox:
    """The mailbox, notified by a running campaign about `code`, with logs read before."""
    LogSource.objects.create(name="mail-test", last_ingest_at=timezone.now())
    campaign = Campaign.objects.create(
        name=code, cutover=date(2030, 1, 1), target_codes=[code], state="running",
        started_at=timezone.now(),
    )  # fmt: skip
    return CampaignMailbox.objects.create(
        campaign=campaign, mailbox=mailbox, customer=mailbox.customer, status="notified",
        notified_at=timezone.now(),
    )  # fmt: skip


def seen_codes(mailbox) -> set[tuple[str, str]]:
    """The mailbox's open findings from the logs, as (side, code)."""
    return {(f.side, f.code) for f in open_findings().filter(mailbox=mailbox)
            if f.code.endswith("-seen")}  # fmt: skip


def test_real_logins_become_evidence_and_findings(mail_servers, registry, alpha, beta):
    alpha_box = make_mailbox(alpha, ALPHA)
    beta_box = make_mailbox(beta, "sales@beta.example", PLAIN_SHEET)
    workdir = mail_servers.workdir
    log_in_every_way(mail_servers)
    wait_for_logs(workdir, {
        "dovecot-good.log": (f"Login: user=<{ALPHA}>", 2),
        "dovecot-plain.log": (f"Login: user=<{BETA}>", 1),
        "postfix.log": ("sasl_username=", 3),
    })  # fmt: skip
    files = [
        str(workdir / name) for name in ("dovecot-good.log", "dovecot-plain.log", "postfix.log")
    ]
    out = StringIO()
    call_command("ingest_maillog", *files, "--source", "mail-test", stdout=out)

    alpha_seen = {
        (e.protocol, e.address, e.port, e.tls, e.tls_version)
        for e in LoginEvidence.objects.filter(mailbox=alpha_box)
    }
    assert alpha_seen >= {
        ("pop3", "127.0.0.2", 995, True, "TLSv1.3"),
        ("imap", "127.0.0.2", 143, True, "TLSv1.3"),
        ("smtp", "", 465, True, "TLSv1.3"),
        ("smtp", "", 587, True, "TLSv1.3"),
    }
    beta_seen = {
        (e.protocol, e.address, e.port, e.tls, e.legacy_address)
        for e in LoginEvidence.objects.filter(mailbox=beta_box)
    }
    # Dovecot's default format names no port; the address is the old server's.
    assert beta_seen >= {("pop3", "127.0.0.5", 0, False, True), ("smtp", "", 25, False, False)}
    assert LoginEvidence.objects.get(mailbox=alpha_box, port=995).server.hostname == (
        "mail.new.example"
    )

    assert seen_codes(alpha_box) == {("incoming", "legacy-endpoint-seen")}  # IMAP on 143
    assert seen_codes(beta_box) == {
        ("incoming", "insecure-login-seen"),
        ("incoming", "legacy-endpoint-seen"),
        ("outgoing", "insecure-login-seen"),
        ("outgoing", "legacy-endpoint-seen"),
    }

    # The same files again (a rotated copy read twice): nothing counts twice.
    before = {e.pk: e.count for e in LoginEvidence.objects.all()}
    call_command("ingest_maillog", *files, "--source", "mail-test", stdout=StringIO())
    assert {e.pk: e.count for e in LoginEvidence.objects.all()} == before


def test_a_campaign_mailbox_is_verified_by_a_real_secure_login(mail_servers, registry, alpha):
    from accounts.models import SettingsSheet, sheet_record
    from accounts.sheets import SheetValues

    new = "mail.new.example"
    mailbox = make_mailbox(alpha, ALPHA, SheetValues("mail.old.example", 995, "ssl",
                           "mail.old.example", 465, "ssl", "smtp-auth"))  # fmt: skip
    entry = notified_entry(mailbox, "legacy-hostname")
    time.sleep(1.1)  # the logs count in whole seconds
    sheet_record(mailbox, SheetValues(new, 995, "ssl", new, 465, "ssl", "smtp-auth"),
                 source=SettingsSheet.Source.STAFF)  # fmt: skip
    entry.refresh_from_db()
    assert entry.status == "notified"  # the sheet is fixed, but no login seen yet

    workdir = mail_servers.workdir
    before = (workdir / "dovecot-good.log").read_text().count(f"Login: user=<{ALPHA}>")
    host, port = mail_servers.address("good", "pop3s")
    pop = poplib.POP3_SSL(host, port, context=tls_context(), timeout=10)
    pop.user(ALPHA), pop.pass_(TEST_LOGINS[ALPHA]), pop.quit()
    wait_for_logs(workdir, {"dovecot-good.log": (f"Login: user=<{ALPHA}>", before + 1)})
    call_command("ingest_maillog", str(workdir / "dovecot-good.log"), "--source", "mail-test",
                 stdout=StringIO())  # fmt: skip
    entry.refresh_from_db()
    assert entry.status == "verified"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_real_tls_1_0_logins_are_seen_as_outdated_tls(
    legacy_tls_mail_servers, db, settings, client, alpha, alpha_person, support
):
    servers, workdir = legacy_tls_mail_servers, legacy_tls_mail_servers.workdir
    register(settings, servers)
    mailbox = make_mailbox(alpha, ALPHA)
    entry = notified_entry(mailbox, "legacy-tls-seen")

    log_in_over_tls(servers, tls_context(ssl.TLSVersion.TLSv1))
    wait_for_logs(workdir, {
        "dovecot-good.log": (f"Login: user=<{ALPHA}>", 2),
        "postfix.log": ("sasl_username=", 2),
    })  # fmt: skip
    files = [str(workdir / name) for name in ("dovecot-good.log", "postfix.log")]
    call_command("ingest_maillog", *files, "--source", "mail-test", stdout=StringIO())

    assert {
        (e.protocol, e.address, e.port, e.tls, e.tls_version)
        for e in LoginEvidence.objects.filter(mailbox=mailbox)
    } == {
        ("pop3", "127.0.0.2", 995, True, "TLSv1"),
        ("imap", "127.0.0.2", 143, True, "TLSv1"),
        ("smtp", "", 465, True, "TLSv1"),
        ("smtp", "", 587, True, "TLSv1"),
    }
    assert seen_codes(mailbox) == {
        ("incoming", "legacy-endpoint-seen"),  # IMAP on 143
        ("incoming", "legacy-tls-seen"),
        ("outgoing", "legacy-tls-seen"),
    }
    entry.refresh_from_db()
    assert entry.status == "notified"  # the campaign's finding is still open

    login_staff(client, support)
    url = reverse("staff_mailbox", args=[mailbox.code])
    staff_page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert staff_page.count("古いTLSでのログインあり") == 2  # incoming and outgoing
    assert re.search(r"（(pop3 127\.0\.0\.2:995|imap 127\.0\.0\.2:143) TLSv1 \d{4}-", staff_page)
    client.logout()

    client.force_login(alpha_person)
    url = reverse("customer_mailbox", args=[alpha.slug, mailbox.code])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "古い暗号化方式（POP3、SSL/TLS、TLS 1.0）で接続しました" in page
    assert "古い暗号化方式（IMAP、STARTTLS、TLS 1.0）で接続しました" in page
    assert re.search(r"古い暗号化方式（SMTP、(SSL/TLS|STARTTLS)、TLS 1\.0）で接続しました", page)
    assert "暗号化された接続" not in page  # nothing said to be secure
