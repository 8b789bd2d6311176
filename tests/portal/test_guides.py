"""Setup guides: every program × language renders; values field by field; the
modes each program can express; self-service confirmation; staff sending."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Confirmation, Customer, Mailbox, ServerName
from accounts.sheets import SheetValues
from portal.guides import catalog
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


def rows(guide):
    return [(f.label, f.value) for screen in guide.screens for f in screen.fields]


def guide_text(guide):
    """Every sentence of a guide a person reads, in one string."""
    parts = [*guide.warnings, *guide.troubleshooting]
    for screen in guide.screens:
        parts += [screen.title, screen.how, screen.note or ""]
        for f in screen.fields:
            parts += [f.label, f.value, f.note or ""]
    return "\n".join(parts)


SUBMISSION = {"pop3": (995, "ssl"), "imap": (993, "ssl"), "smtp": (587, "starttls")}


@pytest.mark.parametrize("client_id", ["outlook_express", "windows_live_mail"])
def test_xp_era_programs_send_with_starttls_on_587_when_that_is_the_policy(
    aaabb, settings, client_id
):
    settings.RECOMMENDED_PORTS = SUBMISSION
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")
    client = CATALOG[client_id]
    for lang in ("ja", "en"):
        guide = guide_build(mailbox, client_id, lang)
        assert (guide.settings["outgoing_port"], guide.settings["outgoing_security"]) == (
            587,
            "starttls",
        )
        assert (client.outgoing.box(lang), client.outgoing.on(lang)) in rows(guide)
        text = guide_text(guide)
        assert "587 では送信できません" not in text and "587 will not work" not in text
        assert "STARTTLS がない" not in text and "has no STARTTLS" not in text
        assert "STARTTLS の選択肢がない" not in text and "no STARTTLS option" not in text


@pytest.mark.parametrize("client_id", ["outlook_express", "windows_live_mail"])
def test_xp_era_programs_keep_465_by_default(aaabb, client_id):
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")  # its sheet uses 587 STARTTLS
    guide = guide_build(mailbox, client_id, "ja")
    assert (guide.settings["outgoing_port"], guide.settings["outgoing_security"]) == (465, "ssl")
    assert can_express(CATALOG[client_id].outgoing, 587, "starttls")
    assert guide.legacy


def test_shuriken_sets_up_an_imap_mailbox_on_its_imap_screens(aaabb):
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")
    guide = guide_build(mailbox, "shuriken", "ja")
    shown = dict(rows(guide))
    assert not any("IMAP4 を設定できません" in w for w in guide.warnings)
    assert shown["IMAPサーバ"] == NEW and "POPサーバ" not in shown
    assert ("ポート番号", "993") in rows(guide)
    assert shown["受信方式"] == "IMAP4"


def test_shuriken_warns_that_2016_needs_tls_1_2_enabled(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    ja = guide_build(mailbox, "shuriken", "ja").warnings
    en = guide_build(mailbox, "shuriken", "en").warnings
    assert any("Shuriken 2016" in w and "TLS 1.2" in w and "更新" in w for w in ja)
    assert any("Shuriken 2016" in w and "TLS 1.2" in w and "update" in w for w in en)


def test_iphone_guide_says_never_to_set_up_without_ssl(aaabb):
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")
    ja = guide_build(mailbox, "iphone", "ja").warnings
    en = guide_build(mailbox, "iphone", "en").warnings
    assert any("SSLなし" in w and "「いいえ」" in w and "確認" in w for w in ja)
    assert any("without SSL" in w and "“No”" in w and "check" in w for w in en)


def test_outlook_pop_checkbox_says_on_and_a_pop_starttls_policy_becomes_995(aaabb, settings):
    settings.RECOMMENDED_PORTS = {
        "pop3": (110, "starttls"),
        "imap": (143, "starttls"),
        "smtp": (587, "starttls"),
    }
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")  # POP3
    guide = guide_build(mailbox, "outlook", "ja")
    assert (guide.settings["incoming_port"], guide.settings["incoming_security"]) == (995, "ssl")
    boxes = [v for label, v in rows(guide) if "暗号化された接続 (SSL/TLS) が必要" in label]
    assert boxes and all(v == "オン（チェックを入れる）" for v in boxes)
    assert "STARTTLS" not in [v for label, v in rows(guide) if "受信" in label]
    assert any("STARTTLS を選べない" in w and "995" in w for w in guide.warnings)
    en = guide_build(mailbox, "outlook", "en")
    assert any("no STARTTLS" in w and "995" in w for w in en.warnings)
    imap = guide_build(Mailbox.objects.get(email="info@aaabb.co.jp"), "outlook", "ja")
    assert ("受信メール: 暗号化方法", "STARTTLS") in rows(imap)  # IMAP keeps the list


def test_gmail_app_route_and_security_entries_are_the_apps_own(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    guide = guide_build(mailbox, "gmail_android", "ja")
    assert "「別のアカウントを追加」→「その他」" in guide.screens[0].how
    assert "「手動セットアップ」" in guide.screens[0].note
    assert ("このアカウントの種類を選択します", "個人用（POP3）") in rows(guide)
    assert any("「SSL/TLS（証明書をすべて承認）」" in w for w in guide.warnings)
    assert "すべての証明書を承認" not in guide_text(guide)


def test_thunderbird_names_the_esr_outgoing_server_entry_first(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    for lang, first, later in (
        ("ja", "「送信 (SMTP) サーバー」", "「送信サーバー」"),
        ("en", "Outgoing Server (SMTP)", "Outgoing Server)"),
    ):
        screen = guide_build(mailbox, "thunderbird", lang).screens[-1]
        assert screen.how.index(first) < screen.how.index(later)
        assert "141" in screen.how


@pytest.mark.parametrize("client_id", list(CATALOG))
def test_quoted_text_uses_the_programs_own_spelling_of_server(aaabb, client_id):
    client = CATALOG[client_id]
    for email in ("test01@aaabb.co.jp", "info@aaabb.co.jp"):
        guide = guide_build(Mailbox.objects.get(email=email), client_id, "ja")
        for quoted in re.findall(r"「([^」]*)」", guide_text(guide)):
            if client.server_word == "サーバ":
                assert "サーバー" not in quoted, quoted
            else:
                assert not re.search(r"サーバ(?!ー)", quoted), quoted


def test_guide_command_json_keeps_field_notes_and_sides(aaabb):
    out = StringIO()
    call_command(
        "guide",
        "test01@aaabb.co.jp",
        "--client",
        "outlook_express",
        "--format",
        "json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    box = CATALOG["outlook_express"].outgoing.box.ja
    same_label = [f for s in data["screens"] for f in s["fields"] if f["label"] == box]
    assert [(f["side"], f["note"]) for f in same_label] == [
        ("outgoing", "送信側"),
        ("incoming", "受信側"),
    ]


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
    assert all(
        {"label", "value", "note", "side", "before"} == set(f)
        for s in data["screens"]
        for f in s["fields"]
    )
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


# --- the four programs of issue 14 -------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_outlook_mobile_says_it_has_no_pop3_and_sets_up_imap_instead(aaabb, lang):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")  # a POP3 mailbox
    guide = guide_build(mailbox, "outlook_mobile", lang)
    first = guide.warnings[0]
    if lang == "ja":
        assert (
            "POP3 に対応していません" in first
            and "IMAP" in first
            and "iPhone の「メール」" in first
        )
    else:
        assert "cannot use POP3" in first and "IMAP" in first and "phone's own mail app" in first
    assert (guide.settings["protocol"], guide.settings["incoming_port"]) == ("imap", 993)
    assert "995" not in [f.value for screen in guide.screens for f in screen.fields]
    assert ("IMAP ポート" if lang == "ja" else "IMAP Port", "993") in rows(guide)


def test_thunderbird_for_android_uses_the_apps_own_words(aaabb):
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")
    guide = guide_build(mailbox, "thunderbird_android", "ja")
    assert [s.title for s in guide.screens][1:3] == ["受信サーバー設定", "送信サーバー設定"]
    assert ("セキュリティ", "SSL/TLS") in rows(guide)
    assert ("認証方式", "通常のパスワード認証") in rows(guide)
    assert any("「リスクを承知した上で続行」" in w for w in guide.warnings)


def test_hidemaru_boxes_per_side_for_imap_and_submission(aaabb, settings):
    settings.RECOMMENDED_PORTS = SUBMISSION
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")
    guide = guide_build(mailbox, "hidemaru", "ja")
    shown = rows(guide)
    assert ("IMAP over SSL", "オン（チェックを入れる）") in shown
    assert ("SMTP over SSL", "オン（チェックを入れる）") in shown
    starttls = [
        (f.side, f.value) for s in guide.screens for f in s.fields if f.label == "STARTTLSを使用"
    ]
    assert starttls == [
        ("incoming", "オフ（チェックを外す）"),
        ("outgoing", "オン（チェックを入れる）"),
    ]
    assert ("SSL接続で、証明書を検証しない", "オフ（チェックを外す）") in shown


def test_outlook_for_mac_ticks_use_ssl_and_follows_the_port(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    guide = guide_build(mailbox, "outlook_mac", "en")
    assert ("Incoming: Use SSL to connect (recommended)", "On (checked)") in rows(guide)
    assert ("Incoming: port", "995") in rows(guide) and ("Outgoing: port", "465") in rows(guide)


def test_every_program_names_its_sources():
    assert all(client.sources for client in CATALOG.values())
    assert {"outlook_mac", "outlook_mobile", "thunderbird_android", "hidemaru"} <= set(CATALOG)


def test_every_unverified_label_in_the_catalog_says_why():
    source = (Path(catalog.__file__)).read_text(encoding="utf-8")
    marks = re.findall(r"#\s*unverified(.*)", source)
    assert marks
    for reason in marks:
        # ": <reason of at least three words>"
        assert re.match(r":\s+\S+(\s+\S+){2,}", reason), f"unverified without a reason: {reason!r}"


# --- pictures of each screen ----------------------------------------------------------------


@pytest.mark.parametrize("client_id", list(CATALOG))
def test_every_guide_step_has_its_picture_drawn_from_the_same_values(
    client, django_user_model, aaabb, client_id
):
    client.force_login(make_person(django_user_model, "tanaka", aaabb))
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")  # old name, swapped ports
    url = reverse(
        "customer_guide", kwargs={"slug": "aaabb", "code": mailbox.code, "client": client_id}
    )
    page = client.get(url).content.decode()
    pictures = re.findall(r'<svg class="screen-picture".*?</svg>', page, re.S)
    assert len(pictures) == page.count('class="card step"') > 0
    drawn = "".join(pictures)
    guide = guide_build(mailbox, client_id, "ja")
    for screen, picture in zip(guide.screens, pictures, strict=True):
        assert "<title id=" in picture and screen.title.split("「")[0][:4] in picture
        for f in screen.fields:
            assert f.value[:10] in picture.replace("&amp;", "&")
    if any(f.value == NEW for s in guide.screens for f in s.fields):
        assert "変更前: mail.aaabb.co.jp →" in drawn  # the change is marked
    assert "style=" not in drawn and "<script" not in drawn


def test_a_picture_shows_the_button_to_press(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    guide = guide_build(mailbox, "thunderbird", "ja")
    (first, picture), *_ = guide.pictured_screens()
    assert first.button == "手動設定"
    assert [s.text for s in picture.shapes if s.fill == "#ffffff" and s.kind == "text"] == [
        "手動設定"
    ]
    en = guide_build(mailbox, "thunderbird", "en")
    assert en.screens[0].button == "Configure manually"


def test_a_picture_tells_two_boxes_with_the_same_label_apart(aaabb):
    mailbox = Mailbox.objects.get(email="test01@aaabb.co.jp")
    guide = guide_build(mailbox, "outlook_express", "ja")
    _advanced_tab, picture = guide.pictured_screens()[-1]
    texts = [s.text for s in picture.shapes if s.kind == "text"]
    assert texts.index("送信側") < texts.index("受信側")
