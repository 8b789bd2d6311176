"""Staff pages: search, mailbox with history, sheet edits, customer page, registry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Mailbox, ServerName
from tests.conftest import login_staff, make_mailbox


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


def search(client, q):
    return client.get(reverse("staff_home"), {"q": q}, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("info@alpha", "info@alpha.example", "sales@beta.example"),
        ("INFO@ALPHA.EXAMPLE", "info@alpha.example", "sales@beta.example"),
        ("sales", "sales@beta.example", "info@alpha.example"),
        ("beta.example", "sales@beta.example", "info@alpha.example"),
        ("ベータ", "sales@beta.example", "info@alpha.example"),
        ("alpha", "info@alpha.example", "sales@beta.example"),
        ("pop.hosting", "sales@beta.example", "info@alpha.example"),
        ("smtp.hosting.example", "sales@beta.example", "info@alpha.example"),
    ],
)
def test_one_search_box_finds_mailboxes(
    staff_client, alpha_mailbox, beta_mailbox, query, found, not_found
):
    page = search(staff_client, query)
    assert found in page
    assert not_found not in page


def test_search_with_no_match_says_so(staff_client, alpha_mailbox):
    assert "No mailboxes." in search(staff_client, "nobody-here")


def test_search_lists_matching_customers(staff_client, beta_mailbox):
    assert reverse("staff_customer", kwargs={"slug": "beta"}) in search(staff_client, "beta")


def test_search_is_capped_and_says_so(staff_client, alpha):
    for n in range(52):
        make_mailbox(alpha, f"many{n:02d}@alpha.example")
    page = search(staff_client, "many")
    assert "Showing the first 50 matches" in page


def test_search_query_count_does_not_grow_with_results(staff_client, alpha):
    def queries_for(count):
        for n in range(count):
            make_mailbox(alpha, f"q{count}-{n:02d}@alpha.example")
        with CaptureQueriesContext(connection) as captured:
            search(staff_client, f"q{count}-")
        return len(captured)

    few, many = queries_for(2), queries_for(40)
    assert few == many
    assert many <= 16


def test_mailbox_page_shows_sheet_and_history(staff_client, alpha_mailbox):
    url = reverse("staff_mailbox", kwargs={"code": alpha_mailbox.code})
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "info@alpha.example" in page
    assert "mail.hosting.example:995 · SSL/TLS (implicit TLS)" in page
    assert "Edit settings" in page


def edit(client, mailbox, **changes):
    data = {
        "username": "info",
        "protocol": "pop3",
        "incoming_host": "mail.hosting.example",
        "incoming_port": "995",
        "incoming_security": "ssl",
        "outgoing_host": "mail.hosting.example",
        "outgoing_port": "465",
        "outgoing_security": "ssl",
        "smtp_auth": "smtp-auth",
        "note": "",
    }
    data.update(changes)
    url = reverse("staff_sheet_edit", kwargs={"code": mailbox.code})
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", follow=True)


def test_staff_edit_records_a_new_version_with_who_and_why(staff_client, support, alpha_mailbox):
    response = edit(
        staff_client,
        alpha_mailbox,
        outgoing_port="587",
        outgoing_security="starttls",
        note="電話対応",
    )

    assert "Saved as version 2." in response.content.decode()
    mailbox = Mailbox.objects.get(pk=alpha_mailbox.pk)
    sheet = mailbox.current_sheet
    assert (sheet.version, sheet.outgoing_port, sheet.outgoing_security) == (2, 587, "starttls")
    assert (sheet.source, sheet.created_by, sheet.note) == ("staff", support, "電話対応")
    assert mailbox.sheets.count() == 2


def test_unwise_settings_are_accepted(staff_client, alpha_mailbox):
    edit(
        staff_client, alpha_mailbox, incoming_port="110", incoming_security="none", smtp_auth="none"
    )
    assert Mailbox.objects.get(pk=alpha_mailbox.pk).current_sheet.incoming_port == 110


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("incoming_port", "70000", "is not a port number: use a whole number from 1 to 65535"),
        ("outgoing_port", "0", "is not a port number"),
        ("incoming_port", "abc", "Enter a whole number."),
        ("protocol", "smtp", "Select a valid choice. smtp is not one of the available choices."),
        ("incoming_security", "tls", "Select a valid choice."),
        ("incoming_host", "mail server", "is not a valid server name"),
        ("incoming_host", "127.0.0.1", "looks like an IP address: use the server&#x27;s name"),
        ("outgoing_host", "0x7f000001", "looks like an IP address"),
        ("outgoing_host", "169.254.169.254", "looks like an IP address"),
        ("incoming_host", "localhost", "is not a server name on the internet"),
        ("username", "a b", "is not a valid user name"),
    ],
)
def test_impossible_values_are_refused_and_nothing_is_saved(
    staff_client, alpha_mailbox, field, value, message
):
    response = edit(staff_client, alpha_mailbox, **{field: value})
    assert message in response.content.decode()
    mailbox = Mailbox.objects.get(pk=alpha_mailbox.pk)
    assert mailbox.sheets.count() == 1
    assert mailbox.username == "info"


def test_saving_the_same_values_records_nothing(staff_client, alpha_mailbox):
    response = edit(staff_client, alpha_mailbox)
    assert "The sheet is unchanged" in response.content.decode()
    assert alpha_mailbox.sheets.count() == 1


def test_customer_page_lists_contacts_people_and_mailboxes(
    staff_client, alpha, alpha_person, alpha_mailbox
):
    alpha.contact_emails = "it@alpha.example\nboss@alpha.example"
    alpha.save()
    page = staff_client.get(reverse("staff_customer", kwargs={"slug": "alpha"})).content.decode()
    assert "it@alpha.example" in page and "boss@alpha.example" in page
    assert "alice" in page
    assert "info@alpha.example" in page


def test_unknown_customer_or_mailbox_is_404(staff_client):
    assert staff_client.get("/staff/customers/nobody/").status_code == 404
    assert (
        staff_client.get("/staff/mailboxes/00000000-0000-0000-0000-000000000000/").status_code
        == 404
    )


def test_registry_page_lists_names_and_replacements(staff_client):
    new = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    ServerName.objects.create(hostname="pop.hosting.example", status="legacy", replaced_by=new)
    page = staff_client.get(reverse("staff_servers"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "pop.hosting.example" in page
    assert "legacy" in page


@pytest.fixture
def registry(db):
    current = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    for legacy in ("pop.hosting.example", "smtp.hosting.example"):
        ServerName.objects.create(hostname=legacy, status="legacy", replaced_by=current)


def test_fill_in_recommended_puts_the_recommended_sheet_in_the_form_without_saving(
    staff_client, registry, beta_mailbox
):
    url = reverse("staff_sheet_edit", kwargs={"code": beta_mailbox.code})
    assert (
        "Fill in the recommended settings"
        in staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )

    response = edit(
        staff_client,
        beta_mailbox,
        recommended="1",
        username="sales-typed",
        incoming_host="pop.hosting.example",
        incoming_port="110",
        incoming_security="none",
        outgoing_host="smtp.hosting.example",
        outgoing_port="25",
        outgoing_security="none",
        smtp_auth="pop-before-smtp",
    )

    form = response.context["form"]
    assert not form.is_bound
    assert {name: form[name].value() for name in ("incoming_host", "incoming_port")} == {
        "incoming_host": "mail.hosting.example",
        "incoming_port": 995,
    }
    assert (form["outgoing_port"].value(), form["outgoing_security"].value()) == (465, "ssl")
    assert form["smtp_auth"].value() == "smtp-auth"
    assert form["username"].value() == "sales-typed"
    page = response.content.decode()
    assert "The form now holds the recommended settings. Check them, then save." in page
    assert 'value="995"' in page
    assert Mailbox.objects.get(pk=beta_mailbox.pk).sheets.count() == 1


def test_saving_the_filled_in_form_records_the_recommended_sheet(
    staff_client, registry, beta_mailbox
):
    response = edit(staff_client, beta_mailbox, recommended="1")
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}

    page = edit(staff_client, beta_mailbox, **data).content.decode()

    assert "Saved as version 2." in page
    sheet = Mailbox.objects.get(pk=beta_mailbox.pk).current_sheet
    assert (sheet.incoming_host, sheet.incoming_port, sheet.outgoing_port) == (
        "mail.hosting.example",
        995,
        465,
    )
    assert sheet.note == "Recommended settings applied."


def test_a_mailbox_already_on_the_recommended_settings_offers_no_fill_in(
    staff_client, registry, alpha_mailbox
):
    url = reverse("staff_sheet_edit", kwargs={"code": alpha_mailbox.code})
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Fill in the recommended settings" not in page
