"""What a customer sees after logging in: their own mailboxes with the current sheet."""

from django.urls import reverse

from accounts.models import Customer, SettingsSheet, sheet_record
from accounts.sheets import SheetValues
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
    assert "mail.hosting.example:995" in page
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
    assert "受信サーバー" in page
