"""What a customer sees after logging in: their own mailboxes, each with its state in
words (what to change, by when), the current sheet and its history."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import (
    Confirmation,
    Customer,
    Mailbox,
    ServerName,
    SettingsSheet,
    latest_sheet_subquery,
    sheet_record,
)
from accounts.sheets import SheetValues
from checks.findings import findings_recompute
from portal.models import Campaign, CampaignMailbox
from tests.conftest import make_mailbox, make_person


def test_login_leads_to_the_customer_home_with_its_mailboxes(
    client, alpha_person, alpha_mailbox, beta_mailbox
):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "pw-123456!"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/c/alpha/"
    page = response.content.decode()
    assert "アルファ商事" in page
    assert "info@alpha.example" in page
    assert "要変更" in page  # its server name is not in the (empty) registry
    assert "sales@beta.example" not in page
    assert "ベータ工業" not in page


def test_wrong_password_shows_an_error_and_no_data(client, alpha_person, alpha_mailbox):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "info@alpha.example" not in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_anonymous_visitors_are_sent_to_login(client, alpha_mailbox):
    response = client.get("/c/alpha/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_person_of_two_customers_chooses_and_switches(
    client, django_user_model, alpha, beta, alpha_mailbox, beta_mailbox
):
    person = make_person(django_user_model, "carol", alpha, beta)
    client.force_login(person)

    choose = client.get("/").content.decode()
    assert "/c/alpha/" in choose and "/c/beta/" in choose

    alpha_page = client.get("/c/alpha/").content.decode()
    assert "info@alpha.example" in alpha_page and "sales@beta.example" not in alpha_page
    assert 'href="/c/beta/"' in alpha_page  # the switcher in the header
    beta_page = client.get("/c/beta/").content.decode()
    assert "sales@beta.example" in beta_page and "info@alpha.example" not in beta_page


def test_a_person_without_customer_is_told_to_contact_support(client, django_user_model):
    person = make_person(django_user_model, "dave")
    client.force_login(person)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert "not linked to any customer" in response.content.decode()


def test_mailbox_page_shows_current_sheet_and_history_without_password(
    client, alpha_person, alpha_mailbox
):
    sheet_record(
        alpha_mailbox,
        SheetValues(
            "mail.hosting.example", 993, "ssl", "mail.hosting.example", 587, "starttls", "smtp-auth"
        ),
        source=SettingsSheet.Source.STAFF,
    )
    client.force_login(alpha_person)
    url = reverse("customer_mailbox", kwargs={"slug": "alpha", "code": alpha_mailbox.code})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "info@alpha.example" in page
    assert '<td class="mono">587</td>' in page
    assert "v2" in page and "v1" in page
    assert "Your mailbox password (never stored or shown here)" in page


def test_customer_home_is_paginated(client, alpha_person, alpha):
    for n in range(55):
        make_mailbox(alpha, f"user{n:02d}@alpha.example")
    client.force_login(alpha_person)
    first = client.get("/c/alpha/").content.decode()
    second = client.get("/c/alpha/?page=2").content.decode()
    assert "user00@alpha.example" in first and "user54@alpha.example" not in first
    assert "user54@alpha.example" in second
    assert Customer.objects.count() == 1


def test_customer_pages_are_japanese_by_default(client, alpha_person, alpha_mailbox):
    client.force_login(alpha_person)
    page = client.get("/c/alpha/").content.decode()
    assert 'lang="ja"' in page
    assert "メールアカウント" in page


# Each mailbox's state in words


NEW, OLD = "mail.hosting.example", "mail.old.example"
OLD_PLAIN = SheetValues(OLD, 110, "none", OLD, 25, "none", "pop-before-smtp")
GOOD = SheetValues(NEW, 995, "ssl", NEW, 465, "ssl", "smtp-auth")


@pytest.fixture
def registry(db):
    new = ServerName.objects.create(hostname=NEW, status="current")
    ServerName.objects.create(hostname=OLD, status="legacy", replaced_by=new)
    findings_recompute()  # what the worker does after a registry change


def running_campaign(*mailboxes, cutover=date(2026, 12, 20), state="running"):
    campaign = Campaign.objects.create(name="SSL 移行", cutover=cutover, state=state)
    for mailbox in mailboxes:
        CampaignMailbox.objects.create(
            campaign=campaign, mailbox=mailbox, customer=mailbox.customer
        )
    return campaign


@pytest.fixture
def four_mailboxes(registry, alpha):
    """One mailbox in each state: to change (in a running campaign), waiting for
    confirmation, done, and nothing to do."""
    change = make_mailbox(alpha, "change@alpha.example", OLD_PLAIN)
    running_campaign(change)
    waiting = make_mailbox(alpha, "waiting@alpha.example", OLD_PLAIN)
    Confirmation.objects.create(mailbox=waiting, mail_client="thunderbird")
    done = make_mailbox(alpha, "done@alpha.example", OLD_PLAIN)
    sheet_record(done, GOOD, source=SettingsSheet.Source.STAFF)
    fine = make_mailbox(alpha, "fine@alpha.example", GOOD)
    return change, waiting, done, fine


def rows(page: str) -> dict[str, str]:
    """Each mailbox row of the home page as text, by address."""
    found = re.findall(r"<tr class=\"state-[\w-]+\">(.*?)</tr>", page, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in found]
    return {line.split(" ")[0]: line for line in text}


def test_home_says_how_many_mailboxes_need_a_change_and_by_when(
    client, alpha_person, four_mailboxes
):
    client.force_login(alpha_person)
    page = client.get("/c/alpha/").content.decode()

    assert "1 件のメールアカウントで、2026年12月20日 までに設定の変更が必要です。" in page
    assert "1 件のメールアカウントについて、設定を変更したとご連絡いただきました" in page


def test_home_shows_each_mailbox_state_in_words_those_to_change_first(
    client, alpha_person, four_mailboxes
):
    client.force_login(alpha_person)
    page = client.get("/c/alpha/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    listed = rows(page)

    assert list(listed) == [
        "change@alpha.example",
        "waiting@alpha.example",
        "done@alpha.example",
        "fine@alpha.example",
    ]
    assert "Change needed by Dec. 20, 2026" in listed["change@alpha.example"]
    assert f"Incoming server: {OLD} → {NEW}" in listed["change@alpha.example"]
    assert "Incoming port: 110 → 995" in listed["change@alpha.example"]
    assert "Waiting for confirmation" in listed["waiting@alpha.example"]
    assert "Done" in listed["done@alpha.example"]
    assert "No change needed" in listed["fine@alpha.example"]
    assert "1 mailbox needs a change of its settings by Dec. 20, 2026." in page


def test_home_without_anything_to_change_says_so(client, alpha_person, registry, alpha):
    make_mailbox(alpha, "fine@alpha.example", GOOD)
    client.force_login(alpha_person)
    page = client.get("/c/alpha/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "None of your mailboxes needs a change of its settings at the moment." in page
    assert "No change needed" in page


def test_without_a_running_campaign_there_is_no_deadline(client, alpha_person, registry, alpha):
    mailbox = make_mailbox(alpha, "change@alpha.example", OLD_PLAIN)
    running_campaign(mailbox, cutover=date(2026, 11, 1), state="finished")
    running_campaign(mailbox, cutover=date(2026, 10, 1), state="cancelled")
    client.force_login(alpha_person)
    page = client.get("/c/alpha/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 mailbox needs a change of its settings." in page
    assert "2026" not in page


def test_the_earliest_running_campaign_sets_the_deadline(client, alpha_person, registry, alpha):
    mailbox = make_mailbox(alpha, "change@alpha.example", OLD_PLAIN)
    running_campaign(mailbox, cutover=date(2027, 3, 31))
    running_campaign(mailbox, cutover=date(2027, 1, 15))
    client.force_login(alpha_person)
    page = client.get("/c/alpha/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "by Jan. 15, 2027" in page and "Mar. 31, 2027" not in page


def test_a_new_problem_after_the_confirmation_needs_a_change_again(
    client, alpha_person, registry, alpha
):
    mailbox = make_mailbox(alpha, "shop@alpha.example", GOOD)
    Confirmation.objects.create(mailbox=mailbox)
    sheet_record(mailbox, OLD_PLAIN, source=SettingsSheet.Source.IMPORT)
    client.force_login(alpha_person)
    page = client.get("/c/alpha/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Change needed" in rows(page)["shop@alpha.example"]


def test_the_button_opens_the_guide_of_the_program_chosen_last(
    client, alpha_person, four_mailboxes
):
    change, waiting, _done, _fine = four_mailboxes
    Mailbox.objects.filter(pk=waiting.pk).update(mail_client="shuriken")
    client.force_login(alpha_person)
    page = client.get("/c/alpha/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert (
        f'href="/c/alpha/m/{waiting.code}/guide/shuriken/">Steps for Shuriken (JustSystems)</a>'
        in page
    )
    assert f'href="/c/alpha/m/{change.code}/guide/">Choose your mail program' in page


def test_mailbox_page_says_what_to_change_by_when_and_why(client, alpha_person, four_mailboxes):
    change = four_mailboxes[0]
    Mailbox.objects.filter(pk=change.pk).update(mail_client="thunderbird")
    client.force_login(alpha_person)
    url = reverse("customer_mailbox", kwargs={"slug": "alpha", "code": change.code})
    page = client.get(url).content.decode()

    assert "要変更" in page
    assert "2026年12月20日 までに、このメールアカウントの設定を変更してください。" in page
    assert f"受信サーバー {OLD} は旧サーバー名です" in page
    assert f"<del>{OLD}</del>" in page and f"<ins>{NEW}</ins>" in page
    assert f'href="/c/alpha/m/{change.code}/guide/thunderbird/">Thunderbird の設定手順</a>' in page


@pytest.mark.parametrize(
    ("index", "words"),
    [
        (1, "You told us on"),
        (2, "The change is complete. Thank you."),
        (3, "The settings of this mailbox are fine as they are."),
    ],
)
def test_mailbox_page_states_in_english(client, alpha_person, four_mailboxes, index, words):
    mailbox = four_mailboxes[index]
    client.force_login(alpha_person)
    url = reverse("customer_mailbox", kwargs={"slug": "alpha", "code": mailbox.code})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert words in page
    assert "Please change the settings" not in page


def test_mailbox_without_settings_says_there_are_none(client, alpha_person, alpha):
    mailbox = Mailbox.objects.create(
        customer=alpha, email="new@alpha.example", username="new", protocol="imap"
    )
    client.force_login(alpha_person)
    url = reverse("customer_mailbox", kwargs={"slug": "alpha", "code": mailbox.code})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No settings on record" in page
    assert "/guide/" not in page


def test_states_are_computed_for_another_customer_separately(
    client, alpha_person, beta_person, four_mailboxes, beta_mailbox
):
    client.force_login(beta_person)
    page = client.get("/c/beta/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert list(rows(page)) == ["sales@beta.example"]
    assert "change@alpha.example" not in page


def many_mailboxes(customer, count: int, values: SheetValues) -> list[Mailbox]:
    """`count` mailboxes with one sheet each, written in bulk, then their findings."""
    mailboxes = Mailbox.objects.bulk_create(
        Mailbox(customer=customer, email=f"user{n:04d}@{customer.slug}.example",
                username=f"u{n}", protocol="pop3")
        for n in range(count)
    )  # fmt: skip
    SettingsSheet.objects.bulk_create(
        SettingsSheet(mailbox=m, version=1, source="import", **values.as_dict()) for m in mailboxes
    )
    Mailbox.objects.filter(customer=customer).update(current_sheet=latest_sheet_subquery())
    findings_recompute(force=True)
    return list(Mailbox.objects.filter(customer=customer).order_by("email"))


def test_home_of_a_customer_with_500_mailboxes_costs_the_same_queries_as_with_3(
    client, alpha_person, beta_person, registry, alpha, beta, django_assert_max_num_queries
):
    many_mailboxes(beta, 3, OLD_PLAIN)
    client.force_login(beta_person)
    with CaptureQueriesContext(connection) as few:
        client.get("/c/beta/")
    mailboxes = many_mailboxes(alpha, 500, OLD_PLAIN)
    running_campaign(*mailboxes[:300])
    Confirmation.objects.bulk_create(Confirmation(mailbox=m) for m in mailboxes[:100])
    client.force_login(alpha_person)
    with django_assert_max_num_queries(len(few)):
        page = client.get("/c/alpha/").content.decode()

    assert "400 件のメールアカウントで、2026年12月20日 までに設定の変更が必要です。" in page
    assert "100 件のメールアカウントについて、設定を変更したとご連絡いただきました" in page
    listed = rows(page)
    assert len(listed) == 50
    assert all("要変更" in row for row in listed.values())
    assert len(few) <= 12
