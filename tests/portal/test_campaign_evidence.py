"""With the servers' logs read, a campaign's mailbox is verified only once its mail program
is seen logging in the new way; the campaign page lists who is still seen the old way."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Mailbox, SettingsSheet, sheet_record
from portal.models import CampaignMailbox
from tests.conftest import login_staff
from tests.portal.test_campaigns import GOOD_SHEET, campaign, english, run, world  # noqa: F401


def login(user: str, *, port: int, tls: bool, seconds: int = 2, session: str = "s") -> str:
    at = (timezone.now() + timedelta(seconds=seconds)).isoformat(timespec="seconds")
    secure = "TLS, TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits), " if tls else ""
    return (
        f"{at} mail dovecot[1]: pop3-login: Login: user=<{user}>, method=PLAIN, "
        f"rip=203.0.113.9, lip=192.0.2.10, lport={port}, mpid=1, {secure}session=<{session}>"
    )


@pytest.fixture
def ingest(tmp_path):
    def ingest(*lines: str) -> None:
        path = tmp_path / f"mail-{len(list(tmp_path.iterdir()))}.log"
        path.write_text("\n".join(lines) + "\n")
        call_command("ingest_maillog", str(path), "--source", "mail1", stdout=StringIO())

    return ingest


@pytest.fixture
def running(world, ingest, django_capture_on_commit_callbacks):  # noqa: F811
    ingest()  # the logs are read: evidence is configured
    return run(campaign(), django_capture_on_commit_callbacks)


def status(email: str) -> str:
    return CampaignMailbox.objects.get(mailbox__email=email).status


def fix_sheet(email: str) -> None:
    sheet_record(Mailbox.objects.get(email=email), GOOD_SHEET, source=SettingsSheet.Source.STAFF)


def test_a_fixed_sheet_waits_for_a_login_the_new_way(running, ingest):
    fix_sheet("shop@yamada.example")
    assert status("shop@yamada.example") != "verified"
    ingest(login("shop", port=995, tls=True))
    assert status("shop@yamada.example") == "verified"


def test_a_login_the_old_way_after_the_new_one_keeps_it_unverified(running, ingest):
    fix_sheet("order@yamada.example")
    ingest(
        login("order", port=995, tls=True, session="a"),
        login("order", port=110, tls=False, seconds=5, session="b"),
    )
    assert status("order@yamada.example") != "verified"


def test_a_login_the_new_way_before_the_notice_does_not_count(running, ingest):
    ingest(login("shop", port=995, tls=True, seconds=-3600))
    fix_sheet("shop@yamada.example")
    assert status("shop@yamada.example") != "verified"


def test_the_campaign_page_lists_who_is_still_seen_the_old_way(running, ingest, client, support):
    ingest(login("order", port=110, tls=False))
    login_staff(client, support)
    page = client.get(
        reverse("campaign_detail", kwargs={"code": running.code}), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Still seen the old way (for the phone team)" in page
    assert "order@yamada.example" in page and "pop3 192.0.2.10:110" in page
    assert 'shop@yamada.example</a></td><td class="mono">pop3' not in page
    assert "Switching off POP3:110 today breaks 1 mailbox seen in the last 14 days." in page
    assert "Switching off IMAP:143 today breaks 0 mailboxes seen in the last 14 days." in page
