"""Staff add and edit customers, their contacts and language, and their mail domains,
without the Django admin: bad values get a message next to the field and nothing is
saved; every change is in the audit log."""

import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.models import Customer, MailDomain, ServerName
from portal.audit.models import AuditEntry
from portal.invitations.models import Invitation
from tests.conftest import login_staff
from tests.test_fuzzing import FUZZ, nasty_text


@pytest.fixture
def staff_client(client, support):
    login_staff(client, support)
    return client


@pytest.fixture
def current_server(db):
    return ServerName.objects.create(hostname="mail.hosting.example", status="current")


def post(client, url, data):
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", follow=True)


def new_customer(client, **changes):
    data = {
        "slug": "gamma",
        "name": "ガンマ電機",
        "language": "ja",
        "contact_emails": "IT@Gamma.example\n\n  boss@gamma.example \nit@gamma.example",
        "server": "",
    }
    data.update(changes)
    return post(client, reverse("customer_new"), data)


def test_staff_add_a_customer_with_its_contacts_and_language(staff_client, current_server):
    page = new_customer(staff_client, server=str(current_server.pk)).content.decode()

    assert "The customer was added." in page
    customer = Customer.objects.get(slug="gamma")
    assert customer.name == "ガンマ電機"
    assert customer.contact_email_list == ["it@gamma.example", "boss@gamma.example"]
    assert customer.server == current_server
    assert "boss@gamma.example" in page
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CUSTOMER_ADD)
    assert (entry.actor_name, entry.customer, entry.target) == ("sue", customer, "gamma")


def test_the_search_page_offers_a_new_customer(staff_client):
    page = staff_client.get(reverse("staff_home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reverse("customer_new") in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_emails", "ok@gamma.example\nnot an address", "line 2: "),
        ("contact_emails", "ok@gamma.example\nnot an address", "is not a valid e-mail address"),
        ("contact_emails", "a\x07@gamma.example", "control character"),
        ("slug", "gamma corp", "is not a valid customer ID"),
        ("slug", "alpha", "A customer with this ID already exists."),
        ("slug", "new", "This customer ID is reserved"),
        ("name", "", "This field is required."),
        ("name", "x" * 201, "at most 200"),
        ("name", "ガンマ\n電機", "control character"),
        ("language", "fr", "Select a valid choice."),
    ],
)
def test_bad_customer_values_are_refused_next_to_the_field_and_nothing_is_saved(
    staff_client, alpha, field, value, message
):
    response = new_customer(staff_client, **{field: value})

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field]) or message in response.content.decode()
    assert not Customer.objects.filter(slug="gamma").exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.CUSTOMER_ADD).exists()


def test_staff_edit_contacts_and_language_and_the_change_is_audited(staff_client, alpha):
    url = reverse("customer_edit", kwargs={"slug": "alpha"})
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="slug"' not in page  # the ID is given once

    page = post(
        staff_client,
        url,
        {"name": "アルファ商事", "language": "en", "contact_emails": "desk@alpha.example"},
    ).content.decode()

    assert "The changes were saved." in page
    alpha.refresh_from_db()
    assert (alpha.slug, alpha.language, alpha.contact_emails) == (
        "alpha",
        "en",
        "desk@alpha.example",
    )
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CUSTOMER_CHANGE)
    assert entry.detail == {"language": ["ja", "en"], "contact_emails": ["", "desk@alpha.example"]}


def test_an_edit_with_a_bad_address_changes_nothing(staff_client, alpha):
    alpha.contact_emails = "desk@alpha.example"
    alpha.save()
    response = post(
        staff_client,
        reverse("customer_edit", kwargs={"slug": "alpha"}),
        {"name": "新しい名前", "language": "en", "contact_emails": "desk@alpha.example\n@@"},
    )
    assert "line 2: " in response.content.decode()
    alpha.refresh_from_db()
    assert (alpha.name, alpha.language, alpha.contact_emails) == (
        "アルファ商事",
        "ja",
        "desk@alpha.example",
    )


def domain_data(chosen, **changes):
    data = {
        "domain": "Alpha.Example",
        "server": str(chosen.pk),
        "protocol": "imap",
        "login": "email",
        "login_format": "",
    }
    data.update(changes)
    return data


def test_staff_add_a_mail_domain_to_a_customer(staff_client, alpha, current_server):
    url = reverse("mail_domain_new", kwargs={"slug": "alpha"})
    page = post(staff_client, url, domain_data(current_server)).content.decode()

    assert "The mail domain alpha.example was saved." in page
    domain = MailDomain.objects.get(domain="alpha.example")
    assert (domain.customer, domain.server, domain.login) == (alpha, current_server, "email")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MAIL_DOMAIN_CHANGE)
    assert (entry.customer, entry.target, entry.detail["how"]) == (alpha, "alpha.example", "added")


def test_staff_change_a_domains_login_pattern(staff_client, alpha, current_server):
    MailDomain.objects.create(customer=alpha, domain="alpha.example", server=current_server)
    url = reverse("mail_domain_edit", kwargs={"slug": "alpha", "domain": "alpha.example"})
    data = domain_data(current_server, login="fixed", login_format="{local}.{domain}")

    post(staff_client, url, data)

    domain = MailDomain.objects.get(domain="alpha.example")
    assert domain.login_name("info@alpha.example") == "info.alpha.example"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MAIL_DOMAIN_CHANGE)
    assert entry.detail == {
        "how": "changed",
        "login": ["email", "fixed"],
        "login_format": ["", "{local}.{domain}"],
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"domain": "not a domain"}, "domain", "is not a valid server name"),
        ({"domain": "192.0.2.1"}, "domain", "looks like an IP address"),
        ({"domain": "beta.example"}, "domain", "already exists"),
        ({"login": "fixed", "login_format": ""}, "login_format", "needs {local}"),
        ({"login": "fixed", "login_format": "{user}@x"}, "login_format", "needs {local}"),
        ({"login": "fixed", "login_format": "{local}{x}"}, "login_format", "Use only {local}"),
        ({"server": "999999"}, "server", "Select a valid choice."),
    ],
)
def test_bad_mail_domain_values_are_refused_next_to_the_field(
    staff_client, alpha, beta, current_server, changes, field, message
):
    MailDomain.objects.create(customer=beta, domain="beta.example", server=current_server)
    url = reverse("mail_domain_new", kwargs={"slug": "alpha"})

    response = post(staff_client, url, domain_data(current_server, **changes))

    assert message in " ".join(response.context["form"].errors[field])
    assert not alpha.domains.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.MAIL_DOMAIN_CHANGE).exists()


def test_a_legacy_server_cannot_be_chosen_for_a_domain(staff_client, alpha, current_server):
    legacy = ServerName.objects.create(
        hostname="pop.hosting.example", status="legacy", replaced_by=current_server
    )
    url = reverse("mail_domain_new", kwargs={"slug": "alpha"})
    response = post(staff_client, url, domain_data(legacy))
    assert "server" in response.context["form"].errors
    assert not alpha.domains.exists()


def test_staff_remove_a_mail_domain(staff_client, alpha, current_server):
    MailDomain.objects.create(customer=alpha, domain="alpha.example", server=current_server)
    url = reverse("mail_domain_delete", kwargs={"slug": "alpha", "domain": "alpha.example"})

    page = post(staff_client, url, {}).content.decode()

    assert "The mail domain alpha.example was removed." in page
    assert not MailDomain.objects.exists()
    assert AuditEntry.objects.get(action=AuditEntry.Action.MAIL_DOMAIN_CHANGE).detail == {
        "how": "deleted"
    }
    assert staff_client.post(url).status_code == 404


def test_a_domain_is_edited_only_under_its_own_customer(staff_client, alpha, beta, current_server):
    MailDomain.objects.create(customer=beta, domain="beta.example", server=current_server)
    for name in ("mail_domain_edit", "mail_domain_delete"):
        url = reverse(name, kwargs={"slug": "alpha", "domain": "beta.example"})
        assert staff_client.post(url, domain_data(current_server)).status_code == 404
    assert MailDomain.objects.get().customer == beta


def test_the_customer_page_lists_its_mail_domains_with_links_to_edit(
    staff_client, alpha, current_server
):
    MailDomain.objects.create(customer=alpha, domain="alpha.example", server=current_server)
    page = staff_client.get(reverse("staff_customer", kwargs={"slug": "alpha"})).content.decode()
    assert "alpha.example" in page
    assert reverse("mail_domain_edit", kwargs={"slug": "alpha", "domain": "alpha.example"}) in page
    assert reverse("mail_domain_new", kwargs={"slug": "alpha"}) in page
    assert reverse("customer_edit", kwargs={"slug": "alpha"}) in page


CUSTOMER_FIELDS = ["slug", "name", "language", "contact_emails"]
DOMAIN_FIELDS = ["domain", "protocol", "login", "login_format"]


def customers_snapshot() -> list:
    return list(Customer.objects.order_by("pk").values_list(*CUSTOMER_FIELDS))


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(CUSTOMER_FIELDS), nasty_text, max_size=3))
@example(changes={"contact_emails": "ok@gamma.example\n\x00@gamma.example"})
@example(changes={"name": "ガンマ\x00電機"})
def test_the_customer_form_saves_whole_or_not_at_all(changes, client, support, alpha):
    login_staff(client, support)
    for url in (reverse("customer_new"), reverse("customer_edit", kwargs={"slug": "alpha"})):
        before = customers_snapshot()
        response = (
            new_customer(client, **changes)
            if "new" in url
            else post(client, url, {"name": "x", "language": "ja", "contact_emails": "", **changes})
        )
        assert response.status_code == 200
        if "form" in (response.context or {}):
            assert customers_snapshot() == before


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(DOMAIN_FIELDS), nasty_text, max_size=3))
@example(changes={"login": "fixed", "login_format": "{local}\x00"})
def test_the_mail_domain_form_saves_whole_or_not_at_all(
    changes, client, support, alpha, current_server
):
    login_staff(client, support)
    url = reverse("mail_domain_new", kwargs={"slug": "alpha"})
    response = post(client, url, domain_data(current_server, **changes))
    assert response.status_code == 200
    if "form" in (response.context or {}):
        assert not MailDomain.objects.exists()
    MailDomain.objects.all().delete()


@FUZZ
@given(email=nasty_text, username=nasty_text)
@example(email="a\x00@gamma.example", username="")
@example(email="new@alpha.example", username="n\x00")
def test_the_invitation_form_never_fails_with_a_server_error(
    email, username, client, support, alpha
):
    login_staff(client, support)
    url = reverse("invitation_new", kwargs={"slug": "alpha"})
    response = post(client, url, {"email": email, "username": username})
    assert response.status_code == 200
    if "form" in (response.context or {}):
        assert not Invitation.objects.exists()
    Invitation.objects.all().delete()


def test_staff_remove_a_persons_access_and_the_person_sees_the_customer_no_more(
    client, support, alpha, beta, django_user_model, alpha_mailbox
):
    from tests.conftest import make_person

    person = make_person(django_user_model, "hanako", alpha, beta)
    login_staff(client, support)
    url = reverse("member_remove", kwargs={"slug": "alpha", "username": "hanako"})

    page = post(client, url, {}).content.decode()

    assert "hanako can no longer see this customer&#x27;s pages." in page
    assert list(person.memberships.values_list("customer__slug", flat=True)) == ["beta"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MEMBER_REMOVE)
    assert (entry.actor_name, entry.customer, entry.target) == ("sue", alpha, "hanako")
    assert client.post(url).status_code == 404
    client.force_login(person)
    assert client.get(reverse("customer_home", kwargs={"slug": "alpha"})).status_code == 404
