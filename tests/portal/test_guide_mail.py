"""Staff mail a guide's link to the customer: the message names the program, greets the
customer, is signed by the company, and its signed link opens that mailbox's guide for
that program without a login, and nothing else, until it expires."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, Mailbox, ServerName
from accounts.sheets import SheetValues
from portal.audit.models import AuditEntry
from tests.conftest import login_staff, make_mailbox

NEW = "mail.hosting.example"
OLD = "mail.aaabb.co.jp"
DAY = 24 * 60 * 60


@pytest.fixture
def aaabb(db, settings):
    settings.PORTAL_URL = "https://portal.hosting.example"
    settings.PORTAL_SENDER_NAME = "株式会社ホスティング サポートセンター"
    settings.PORTAL_SIGNATURE = "電話 0120-000-000（平日 9時〜18時）"
    new = ServerName.objects.create(hostname=NEW, status="current")
    ServerName.objects.create(hostname=OLD, status="legacy", replaced_by=new)
    customer = Customer.objects.create(
        slug="aaabb", name="株式会社エーエービービー", contact_emails="it@aaabb.co.jp"
    )
    make_mailbox(customer, "test01@aaabb.co.jp", SheetValues(OLD, 995, "ssl", OLD, 465, "ssl", "smtp-auth"))  # fmt: skip
    make_mailbox(customer, "info@aaabb.co.jp")
    return customer


@pytest.fixture
def other_mailbox(db):
    customer = Customer.objects.create(slug="beta", name="ベータ工業")
    return make_mailbox(customer, "sales@beta.example")


def send_guide(client, support, email="test01@aaabb.co.jp", program="thunderbird"):
    login_staff(client, support)
    mailbox = Mailbox.objects.get(email=email)
    client.post(reverse("staff_guide_send", kwargs={"code": mailbox.code, "client": program}))
    client.logout()
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def mailed_link(message) -> str:
    """The path of the one portal link in the message."""
    links = re.findall(r"https://portal\.hosting\.example(/\S+)", message.body)
    assert len(links) == 1, message.body
    return links[0]


def test_the_mail_greets_the_customer_names_the_program_and_is_signed(client, support, aaabb):
    message = send_guide(client, support)
    assert message.to == ["it@aaabb.co.jp"]
    assert "Thunderbird" in message.subject and "test01@aaabb.co.jp" in message.subject
    assert message.body.startswith("株式会社エーエービービー ご担当者様\n")
    assert "test01@aaabb.co.jp を Thunderbird で設定する手順" in message.body
    assert f"{OLD} → {NEW}" in message.body  # what changes, as in campaign mail
    assert "ログインせずに" in message.body
    assert message.body.endswith(
        "\n-- \n株式会社ホスティング サポートセンター\n電話 0120-000-000（平日 9時〜18時）\n"
    )


def test_an_english_customer_gets_the_mail_in_english(client, support, aaabb):
    Customer.objects.filter(pk=aaabb.pk).update(language="en")
    message = send_guide(client, support, program="shuriken")
    assert message.subject == "How to set up test01@aaabb.co.jp in Shuriken (JustSystems)"
    assert message.body.startswith("Dear 株式会社エーエービービー,\n")
    assert "without logging in" in message.body
    assert "株式会社ホスティング サポートセンター" in message.body


def test_the_link_opens_that_mailboxs_guide_for_that_program_without_login(client, support, aaabb):
    link = mailed_link(send_guide(client, support))
    response = client.get(link, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Setting up Thunderbird" in page and "test01@aaabb.co.jp" in page and NEW in page
    assert "info@aaabb.co.jp" not in page


def test_the_link_opens_nothing_else(client, support, aaabb, other_mailbox):
    link = mailed_link(send_guide(client, support))
    token = link.split("/")[2]
    assert client.get(f"/g/{token[:-2]}xx/").status_code == 404
    # A link to another mailbox can only be made with the server's key.
    forged = signing.dumps({"m": str(other_mailbox.code), "p": "thunderbird"}, salt="other")
    assert client.get(reverse("guide_link", args=[forged])).status_code == 404
    assert "sales@beta.example" not in client.get(link + "?client=shuriken").content.decode()
    # Opening the link logs nobody in: the portal's own pages still ask for a login.
    mine = Mailbox.objects.get(email="test01@aaabb.co.jp")
    page = reverse("customer_mailbox", kwargs={"slug": "aaabb", "code": mine.code})
    assert client.get(page).url.startswith(reverse("login"))


def test_the_link_expires_after_the_configured_days(client, support, aaabb, settings):
    settings.GUIDE_LINK_DAYS = 30
    message = send_guide(client, support)
    link = mailed_link(message)
    with mock.patch("time.time", return_value=time.time() + 29 * DAY):
        assert client.get(link).status_code == 200
    with mock.patch("time.time", return_value=time.time() + 31 * DAY):
        response = client.get(link, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert "test01@aaabb.co.jp" not in response.content.decode()


def test_the_mail_says_until_when_the_link_works(client, support, aaabb, settings):
    settings.GUIDE_LINK_DAYS = 7
    last_day = timezone.localdate() + timedelta(days=7)
    assert last_day.strftime("%Y年%m月%d日") in send_guide(client, support).body


def test_sending_a_guide_link_is_in_the_audit_log(client, support, aaabb):
    send_guide(client, support)
    entry = AuditEntry.objects.get(action="guide-link-sent")
    assert (entry.actor, entry.customer, entry.target) == (support, aaabb, "test01@aaabb.co.jp")
    assert entry.detail == {"client": "thunderbird", "to": ["it@aaabb.co.jp"]}
