"""Setup guides: every program × language renders; values field by field; the
modes each program can express; self-service confirmation; staff sending."""

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Confirmation, Customer, Mailbox, ServerName
from accounts.sheets import SheetValues
from portal.guides.builder import can_express, guide_build
from portal.guides.catalog import CATALOG
from tests.conftest import login_staff, make_mailbox, make_person

NEW = "mail.hosting.example"
SEED = SheetValues("mail.aaabb.co.jp", 587, "ssl", "mail.aaabb.co.jp", 995, "ssl", "smtp-auth")


@pytest.fixture
def aaabb(db):
    new = ServerName.objects.create(hostname=NEW, status="current")
    ServerName.objects.create(hostname="mail.aaabb.co.jp", status="legacy", replaced_by=new)
    customer = Customer.objects.create(
        slug="aaabb", name="株式会社エーエービービー", contact_emails="it@aaabb.co.jp"
    )
    seed = make_mailbox(customer, "test01@aaabb.co.jp", SEED)
    seed.protocol, seed.username = "pop3", "test01"
    seed.save()
    imap = make_mailbox(
        customer,
        "info@aaabb.co.jp",
        SheetValues(NEW, 143, "starttls", NEW, 587, "starttls", "smtp-auth"),
    )
    imap.protocol = "imap"
    imap.save()
    return customer


def values(guide):
    return {f.label: f.value for screen in guide.screens for f in screen.fields}


@pytest.mark.parametrize("client_id", list(CATALOG))
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("email", ["test01@aaabb.co.jp", "info@aaabb.co.jp"])
def test_every_program_and_language_renders_for_pop3_and_imap(aaabb, client_id, lang, email):
    mailbox = Mailbox.objects.select_related("current_sheet", "customer").get(email=email)
    guide = guide_build(mailbox, client_id, lang)
    assert guide.screens
    shown = json.dumps(guide.as_json(), ensure_ascii=False)
    assert "mail.aaabb.co.jp" not in json.dumps(guide.settings)  # the old name never recommended
    assert "1234&abcd" not in shown  # no password, ever
    for screen in guide.screens:
        assert screen.title and screen.how
        for field in screen.fields:
            assert field.label and field.value


def test_the_seed_mailbox_in_thunderbird_field_by_field(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    guide = guide_build(mailbox, "thunderbird", "ja")
    assert guide.settings == {
        "protocol": "pop3",
        "username": "test01",
        "incoming_host": NEW,
        "incoming_port": 995,
        "incoming_security": "ssl",
        "outgoing_host": NEW,
        "outgoing_port": 465,
        "outgoing_security": "ssl",
        "smtp_auth": "smtp-auth",
    }
    shown = [f.value for screen in guide.screens for f in screen.fields]
    assert "test01@aaabb.co.jp" in shown
    assert "test01" in shown
    assert NEW in shown and "995" in shown and "465" in shown
    assert "SSL/TLS" in shown
    assert guide.sides_changing == ["incoming", "outgoing"]
    assert {c.before for c in guide.changes} >= {"mail.aaabb.co.jp", "587", "995"}


def test_outlook_express_sends_through_465_with_its_ssl_box(aaabb):
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")  # its sheet uses 587 STARTTLS
    guide = guide_build(mailbox, "outlook_express", "ja")
    assert (guide.settings["outgoing_port"], guide.settings["outgoing_security"]) == (465, "ssl")
    assert not can_express(CATALOG["outlook_express"].outgoing, 587, "starttls")
    assert any("465" in w for w in guide.warnings)
    assert guide.legacy


def test_shuriken_boxes_per_side(aaabb, settings):
    settings.RECOMMENDED_PORTS = {
        "pop3": (995, "ssl"),
        "imap": (993, "ssl"),
        "smtp": (587, "starttls"),
    }
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    shuriken = CATALOG["shuriken"]
    guide = guide_build(mailbox, "shuriken", "ja")
    rows = [(f.label, f.value) for screen in guide.screens for f in screen.fields]
    ssl_rows = [v for label, v in rows if label == shuriken.incoming.box.ja]
    starttls_rows = [v for label, v in rows if "STARTTLSを使用" in label]
    # incoming POP3 995: SSL on, STARTTLS off; outgoing 587: both on
    assert ssl_rows == [shuriken.incoming.on.ja, shuriken.outgoing.on.ja]
    assert starttls_rows == [shuriken.incoming.off.ja, shuriken.outgoing.on.ja]


def test_guide_command_json_and_list(aaabb):
    out = StringIO()
    call_command(
        "guide",
        "test01@aaabb.co.jp",
        "--client",
        "thunderbird",
        "--lang",
        "en",
        "--format",
        "json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert {"client", "lang", "email", "screens", "settings", "warnings"} <= set(data)
    assert data["client"] == "thunderbird" and data["lang"] == "en"
    assert all({"label", "value"} == set(f) for s in data["screens"] for f in s["fields"])
    out = StringIO()
    call_command("guide", "--list-clients", stdout=out)
    assert [line.split("\t")[0] for line in out.getvalue().splitlines()] == list(CATALOG)


def test_customer_picks_follows_and_confirms(client, django_user_model, aaabb):
    person = make_person(django_user_model, "tanaka", aaabb)
    client.force_login(person)
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    choose = reverse("guide_choose", kwargs={"slug": "aaabb", "code": mailbox.code})
    response = client.post(choose, {"client": "shuriken"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("/guide/shuriken/")
    mailbox.refresh_from_db()
    assert mailbox.mail_client == "shuriken"  # remembered
    client.post(reverse("customer_confirm", kwargs={"slug": "aaabb", "code": mailbox.code}))
    confirmation = Confirmation.objects.get()
    assert (confirmation.mailbox, confirmation.confirmed_by, confirmation.mail_client) == (
        mailbox,
        person,
        "shuriken",
    )


def test_unknown_program_is_404(client, django_user_model, aaabb):
    client.force_login(make_person(django_user_model, "tanaka", aaabb))
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    url = reverse(
        "customer_guide", kwargs={"slug": "aaabb", "code": mailbox.code, "client": "eudora"}
    )
    assert client.get(url).status_code == 404


def test_staff_open_the_same_guide_and_send_its_link(client, support, aaabb):
    login_staff(client, support)
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    page = client.get(
        reverse("staff_guide", kwargs={"code": mailbox.code, "client": "thunderbird"})
    ).content.decode()
    assert NEW in page and "995" in page
    client.post(reverse("staff_guide_send", kwargs={"code": mailbox.code, "client": "thunderbird"}))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@aaabb.co.jp"]
    assert "/g/" in mail.outbox[0].body  # a signed link: tests/portal/test_guide_mail.py


def test_printable_sheet_has_the_recommended_settings_and_no_password(
    client, django_user_model, aaabb
):
    client.force_login(make_person(django_user_model, "tanaka", aaabb))
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    page = client.get(
        reverse("customer_sheet", kwargs={"slug": "aaabb", "code": mailbox.code})
    ).content.decode()
    assert NEW in page and "995" in page and "465" in page
    assert "mail.aaabb.co.jp" not in page
    assert "@page" not in page  # print styles live in the stylesheet
