"""Staff invite a person to log in for a customer: the mail's one-time link lets the
person choose a password and makes them a member of that customer; a reused or expired
link says so; a mail the server refuses leaves nothing behind."""

import re
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, Membership
from portal.audit.models import AuditEntry
from portal.invitations.models import Invitation
from tests.conftest import login_staff, make_mailbox
from tests.smtp_sink import SmtpSink

PORTAL = "https://portal.hosting.example"
PASSWORD = "ochre-kettle-2026"


@pytest.fixture
def gamma(db, settings):
    settings.PORTAL_URL = PORTAL
    settings.PORTAL_SENDER_NAME = "株式会社ホスティング サポートセンター"
    customer = Customer.objects.create(slug="gamma", name="ガンマ電機")
    make_mailbox(customer, "info@gamma.example")
    return customer


def invite(client, support, customer, **data):
    login_staff(client, support)
    url = reverse("invitation_new", kwargs={"slug": customer.slug})
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    client.logout()
    return response


def link_in(body: str) -> str:
    links = re.findall(re.escape(PORTAL) + r"(/invite/\S+)", body)
    assert len(links) == 1, body
    return links[0]


def choose_password(client, path, password=PASSWORD):
    data = {"new_password1": password, "new_password2": password}
    return client.post(path, data, HTTP_ACCEPT_LANGUAGE="en", follow=True)


def test_the_invitation_goes_out_by_smtp_and_its_link_sets_the_password_once(
    client, support, gamma, settings
):
    with SmtpSink() as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        page = invite(client, support, gamma, email="Keiri@Gamma.example", username="")
        assert "The invitation was sent to keiri@gamma.example." in page.content.decode()
        [message] = smtp.messages

    assert message["to"] == ["keiri@gamma.example"]
    assert str(make_header(decode_header(message["subject"]))) == (
        "メール設定ポータル（ガンマ電機）へのログインのご案内"
    )
    body = message["body"]
    assert body.startswith("ガンマ電機 ご担当者様")
    assert "ログイン名: keiri@gamma.example" in body
    assert "株式会社ホスティング サポートセンター" in body
    path = link_in(body)

    form_page = client.get(path).content.decode()
    assert "パスワードを決めてください" in form_page
    assert "ガンマ電機" in form_page
    done = choose_password(client, path)

    assert "Your password is set. Log in with the login name keiri@gamma.example." in (
        done.content.decode()
    )
    logged_in = client.post(
        reverse("login"), {"username": "keiri@gamma.example", "password": PASSWORD}, follow=True
    )
    assert logged_in.redirect_chain[-1][0] == reverse("customer_home", kwargs={"slug": "gamma"})
    assert "info@gamma.example" in logged_in.content.decode()
    client.logout()

    again = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 410
    assert "This invitation was already used" in again.content.decode()


def test_the_person_becomes_a_member_of_that_customer_only(client, support, gamma, alpha):
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    path = link_in(mail.outbox[0].body)

    choose_password(client, path)

    membership = Membership.objects.get(user__username="keiri")
    assert membership.customer == gamma
    assert not Membership.objects.filter(user__username="keiri", customer=alpha).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.INVITATION_ACCEPT)
    assert (entry.actor_name, entry.customer, entry.target) == (
        "keiri",
        gamma,
        "keiri@gamma.example",
    )


def test_until_the_link_is_used_the_login_has_no_password(client, support, gamma):
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    invitation = Invitation.objects.get()
    assert not invitation.user.has_usable_password()
    assert not Membership.objects.filter(user=invitation.user).exists()
    sent = AuditEntry.objects.get(action=AuditEntry.Action.INVITATION_SEND)
    assert (sent.actor_name, sent.customer, sent.target) == ("sue", gamma, "keiri@gamma.example")


def test_posting_the_password_form_twice_does_nothing_the_second_time(client, support, gamma):
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    path = link_in(mail.outbox[0].body)
    choose_password(client, path)

    second = choose_password(client, path, password="another-pass-2026")

    assert "This invitation was already used" in second.content.decode()
    assert Invitation.objects.get().user.check_password(PASSWORD)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.INVITATION_ACCEPT).count() == 1


def test_an_expired_link_says_so_and_sets_nothing(client, support, gamma, settings):
    settings.INVITATION_DAYS = 7
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    path = link_in(mail.outbox[0].body)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    for response in (client.get(path, HTTP_ACCEPT_LANGUAGE="en"), choose_password(client, path)):
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert not Invitation.objects.get().user.has_usable_password()
    assert not Membership.objects.exists()


def test_the_mail_says_until_when_the_link_works(client, support, gamma, settings):
    settings.INVITATION_DAYS = 3
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    until = timezone.localdate() + timedelta(days=3)
    assert until.strftime("%Y年%m月%d日") in mail.outbox[0].body


def test_a_tampered_link_is_404(client, support, gamma):
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    path = link_in(mail.outbox[0].body)
    assert client.get(path[:-2] + "xx/").status_code == 404
    other_code = "00000000-0000-0000-0000-000000000000"
    assert (
        client.get(path.replace(str(Invitation.objects.get().code), other_code)).status_code == 404
    )


def test_sending_again_gives_the_link_a_new_lifetime(client, support, gamma):
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    invitation = Invitation.objects.get()
    login_staff(client, support)
    customer_page = client.get(reverse("staff_customer", kwargs={"slug": "gamma"})).content
    assert "期限切れ" in customer_page.decode()

    client.post(
        reverse("invitation_resend", kwargs={"slug": "gamma", "code": invitation.code}),
    )
    client.logout()

    assert len(mail.outbox) == 2
    response = client.get(link_in(mail.outbox[1].body), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Choose your password" in response.content.decode()


def test_an_english_customer_gets_the_invitation_in_english(client, support, gamma):
    gamma.language = "en"
    gamma.save()
    invite(client, support, gamma, email="keiri@gamma.example", username="keiri")
    message = mail.outbox[0]
    assert message.subject == "Your login to the Mail Settings Portal for ガンマ電機"
    assert message.body.startswith("Dear ガンマ電機,")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not an address"}, "email", "is not a valid e-mail address"),
        ({"email": "sue@hosting.example"}, "email", "This address belongs to a staff login."),
        (
            {"email": "new@gamma.example", "username": "alice"},
            "username",
            "This login name is taken",
        ),
        ({"email": "new@gamma.example", "username": "a b"}, "username", "Enter a valid username"),
        ({"email": "new@gamma.example", "username": "x" * 151}, "username", "at most 150"),
    ],
)
def test_bad_invitations_are_refused_next_to_the_field_and_nothing_is_saved(
    client, support, gamma, alpha_person, data, field, message
):
    response = invite(client, support, gamma, **data)
    assert message in " ".join(response.context["form"].errors[field])
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_refused_mail_leaves_no_login_and_no_invitation(client, support, gamma, settings):
    with SmtpSink() as smtp:
        port = smtp.port  # stopped again: nothing listens there now
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    response = invite(client, support, gamma, email="keiri@gamma.example", username="keiri")

    assert "could not be mailed" in response.content.decode()
    assert "nothing was saved" in response.content.decode()
    assert not Invitation.objects.exists()
    assert not Customer.objects.get(slug="gamma").memberships.exists()
    assert not get_user_model().objects.filter(username="keiri").exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.INVITATION_SEND).exists()


def test_a_person_with_a_login_of_another_customer_is_given_access_and_told(
    client, support, gamma, alpha_person
):
    page = invite(client, support, gamma, email="alice@people.example", username="ignored")

    assert (
        "alice already had a login and can now see this customer&#x27;s pages; "
        "a notice was mailed to alice@people.example." in page.content.decode()
    )
    assert set(alpha_person.memberships.values_list("customer__slug", flat=True)) == {
        "alpha",
        "gamma",
    }
    assert alpha_person.has_usable_password()
    assert not Invitation.objects.exists()
    [message] = mail.outbox
    assert message.to == ["alice@people.example"]
    assert message.body.startswith("ガンマ電機 ご担当者様")
    assert f"{PORTAL}/c/gamma/" in message.body
    entry = AuditEntry.objects.get(action=AuditEntry.Action.INVITATION_SEND)
    assert entry.detail == {"how": "existing login added", "login": "alice"}


def test_a_person_who_already_sees_the_customer_is_not_invited_again(
    client, support, alpha, alpha_person
):
    response = invite(client, support, alpha, email="alice@people.example")
    assert "This person can already see this customer&#x27;s pages." in response.content.decode()
    assert mail.outbox == []
