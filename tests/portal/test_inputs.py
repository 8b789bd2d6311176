"""One text rule at every input: control characters (C0 with NUL, DEL, C1) and
over-long values are refused where they come in — a message next to the form
field, a clear 400 for a query or a URL — and never reach PostgreSQL as a 500."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, Mailbox
from portal.models import Campaign
from tests.conftest import login_staff
from tests.portal.test_staff import edit

NAME_PROBLEM = "control characters such as line breaks or NUL are not allowed"


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


@pytest.fixture
def admin_client_(client, staff_admin):
    login_staff(client, staff_admin)
    return client


def customer_post(**changes):
    data = {
        "slug": "alpha",
        "name": "アルファ商事",
        "contact_emails": "it@alpha.example",
        "language": "ja",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("アルファ\r\nBcc: everyone@example.com", "(found U+000D)"),
        ("アルファ\n商事", "(found U+000A)"),
        ("アルファ\x00商事", "Null characters are not allowed."),
        ("アルファ\x1b[31m商事", "(found U+001B)"),
        ("アルファ\x85商事", "(found U+0085)"),
        ("ア" * 201, "Ensure this value has at most 200 characters"),
    ],
)
def test_admin_refuses_a_customer_name_that_would_break_its_mail(
    admin_client_, alpha, name, problem
):
    response = admin_client_.post(
        f"/admin/accounts/customer/{alpha.pk}/change/",
        customer_post(name=name),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert Customer.objects.get(pk=alpha.pk).name == "アルファ商事"


def test_admin_keeps_line_breaks_where_a_field_has_several_lines(admin_client_, alpha):
    response = admin_client_.post(
        f"/admin/accounts/customer/{alpha.pk}/change/",
        customer_post(contact_emails="it@alpha.example\r\nboss@alpha.example"),
    )

    assert response.status_code == 302
    assert Customer.objects.get(pk=alpha.pk).contact_email_list == [
        "it@alpha.example",
        "boss@alpha.example",
    ]


def test_admin_refuses_control_characters_in_a_person(admin_client_, alpha_person):
    response = admin_client_.post(
        f"/admin/auth/user/{alpha_person.pk}/change/",
        {
            "username": alpha_person.username,
            "first_name": "Alice\x07",
            "last_name": "",
            "email": alpha_person.email,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200 and NAME_PROBLEM in response.content.decode()
    alpha_person.refresh_from_db()
    assert alpha_person.first_name == ""


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("username", "info\x01", "(found U+0001)"),
        ("username", "info\x9b", "(found U+009B)"),
        ("incoming_host", "mail\x7f.hosting.example", "(found U+007F)"),
        ("note", "called\x00", "Null characters are not allowed."),
        ("note", "called\x1b", "(found U+001B)"),
        ("username", "x" * 255, "Ensure this value has at most 254 characters"),
    ],
)
def test_sheet_edit_puts_the_problem_next_to_the_field(
    staff_client, alpha_mailbox, field, value, problem
):
    response = edit(staff_client, alpha_mailbox, **{field: value})

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert Mailbox.objects.get(pk=alpha_mailbox.pk).sheets.count() == 1


def campaign_post(**changes):
    return {
        "name": "SSL 移行",
        "cutover": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "reminder_days": "7",
        "target_addresses": "info@alpha.example",
        "subject_ja": "{customer_name} 様",
        "body_ja": "{mailboxes}\r\n{deadline}",
        "subject_en": "Dear {customer_name}",
        "body_en": "{mailboxes}\r\n{deadline}",
        **changes,
    }


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("subject_ja", "{customer_name} 様\r\nBcc: all@example.com", "(found U+000D)"),
        ("name", "SSL\x1b移行", "(found U+001B)"),
        ("body_en", "Dear\x0b{customer_name}", "(found U+000B)"),
        ("target_addresses", "info@alpha.example\x00", "Null characters are not allowed."),
        ("customer_ids", "al\x85pha", "(found U+0085)"),
    ],
)
def test_campaign_form_puts_the_problem_next_to_the_field(
    staff_client, alpha_mailbox, field, value, problem
):
    response = staff_client.post(
        reverse("campaign_new"), campaign_post(**{field: value}), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_body_keeps_its_lines_and_tabs(staff_client, alpha_mailbox):
    response = staff_client.post(
        reverse("campaign_new"), campaign_post(body_en="Dear {customer_name},\r\n\t{mailboxes}")
    )

    assert response.status_code == 302
    assert Campaign.objects.get().body_en == "Dear {customer_name},\r\n\t{mailboxes}"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/staff/", {"q": "info\x00"}),
        ("/staff/findings/", {"customer": "alpha\x00"}),
        ("/staff/findings/", {"q": "info\x00"}),
        ("/staff/findings/export.csv", {"host": "mail\x00"}),
        ("/staff/endpoints/", {"level": "\x00"}),
        ("/staff/", {"q\x00": "x"}),
        ("/staff/", {"q": "x" * 2001}),
        ("/admin/accounts/customer/", {"q": "a\x00"}),
        ("/admin/auth/user/", {"q": "a\x00"}),
        ("/c/alpha/", {"page": "1\x00"}),
    ],
)
def test_a_control_character_or_an_over_long_query_value_is_a_clear_400(
    client, staff_admin, alpha_person, path, params
):
    client.force_login(alpha_person if path.startswith("/c/") else staff_admin)

    response = client.get(path, params, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Bad request" in page and "The address of this page is not valid" in page


def test_the_400_page_is_in_japanese_too(staff_client):
    page = staff_client.get("/staff/", {"q": "\x00"}, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "不正なリクエスト" in page and "制御文字" in page


def test_a_campaign_preview_for_a_customer_with_a_nul_is_a_400(staff_client, alpha_mailbox):
    c = Campaign.objects.create(
        name="x", cutover=timezone.localdate() + timedelta(days=30), target_addresses="a@b"
    )

    response = staff_client.get(
        reverse("campaign_detail", kwargs={"code": c.code}), {"customer": "alpha\x00"}
    )

    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/l/%00/", "/c/alpha%00/", "/staff/customers/alpha%0A/"])
def test_a_control_character_in_the_url_is_a_400(staff_client, path):
    assert staff_client.get(path).status_code == 400


@pytest.mark.parametrize("entry", ["abc", "1\x00", "", "１"])
def test_excluding_a_campaign_entry_that_is_no_number_is_a_404(staff_client, alpha_mailbox, entry):
    c = Campaign.objects.create(
        name="x", cutover=timezone.localdate() + timedelta(days=30), target_addresses="a@b"
    )

    response = staff_client.post(
        reverse("campaign_action", kwargs={"code": c.code, "action": "exclude"}), {"entry": entry}
    )

    assert response.status_code == 404


def test_an_unknown_findings_filter_is_a_400_that_shows_the_value_as_text(staff_client):
    response = staff_client.get(
        reverse("findings_dashboard"), {"code": "<script>alert(1)</script>"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "不明な指摘コード「&lt;script&gt;alert(1)&lt;/script&gt;」" in page
