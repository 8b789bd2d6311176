"""Logins: lockout after failed passwords, throttled password-reset mail, the staff's
second factor, and how long sessions last."""

import base64
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit.models import AuditEntry
from portal.logins.middleware import LOGIN_AT, SEEN_AT
from tests.conftest import login_staff
from tests.portal.test_csp import inline_code

LOGIN = "/accounts/login/"
RIGHT = "pw-123456!"


def log_in(client, username, password, address="127.0.0.1", lang="en", **extra):
    return client.post(
        LOGIN,
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=lang,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# Lockout


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, alpha_person):
    for _ in range(30):
        assert log_in(client, "alice", "wrong").status_code in (200, 429)
    response = log_in(client, "alice", RIGHT)
    assert response.status_code == 429
    assert not logged_in(client)
    page = response.content.decode()
    assert "logins are locked for now" in page
    assert "Try again in 15 minutes, or call support" in page


def test_the_lockout_is_explained_in_japanese(client, alpha_person):
    for _ in range(5):
        log_in(client, "alice", "wrong", lang="ja")
    page = log_in(client, "alice", RIGHT, lang="ja").content.decode()
    assert "ログインを一時的に停止しています" in page
    assert "15 分後" in page


def test_fewer_failures_than_the_limit_do_not_lock(client, alpha_person):
    for _ in range(4):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", RIGHT).status_code == 302
    assert logged_in(client)


def test_an_address_is_locked_across_login_names(client, alpha_person, beta_person):
    for n in range(5):
        log_in(client, f"guess{n}", "wrong", address="203.0.113.7")
    assert log_in(client, "bob", RIGHT, address="203.0.113.7").status_code == 429
    assert not logged_in(client)
    # The same person from another address is not locked: it was the address.
    assert log_in(Client(), "bob", RIGHT, address="198.51.100.1").status_code == 302


def test_a_login_name_is_locked_from_every_address(client, alpha_person):
    for n in range(5):
        log_in(client, "alice", "wrong", address=f"203.0.113.{n + 1}")
    assert log_in(Client(), "alice", RIGHT, address="198.51.100.1").status_code == 429


def test_the_lock_lifts_after_the_cool_off(client, alpha_person):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", RIGHT).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "alice", RIGHT).status_code == 302


def test_a_staff_admin_unlocks_a_login_in_the_admin(client, alpha_person, staff_admin):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    admin = Client()
    login_staff(admin, staff_admin)
    listing = admin.get("/admin/axes/accessattempt/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()
    admin.post(
        "/admin/axes/accessattempt/",
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert not AccessAttempt.objects.exists()
    assert log_in(client, "alice", RIGHT).status_code == 302


def test_support_staff_cannot_open_the_lockout_pages(client, support):
    login_staff(client, support)
    assert client.get("/admin/axes/accessattempt/").status_code == 302


def test_axes_reset_unlocks_everyone(client, alpha_person):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    call_command("axes_reset", verbosity=0)
    assert log_in(client, "alice", RIGHT).status_code == 302


def test_authenticate_without_a_request_still_works(alpha_person):
    assert authenticate(username="alice", password=RIGHT) == alpha_person
    assert authenticate(username="alice", password="wrong") is None


# Password-reset mail


def ask_reset(client, email, address="127.0.0.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_reset_mail_is_throttled_per_address_and_the_answer_stays_the_same(client, alpha_person):
    answers = {ask_reset(client, "alice@people.example").url for _ in range(6)}
    assert len(mail.outbox) == 3
    assert answers == {reverse("password_reset_done")}
    assert ask_reset(client, "who@nowhere.example").url == reverse("password_reset_done")


def test_reset_mail_is_throttled_per_client_address(client, settings, django_user_model):
    settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR = 2
    for name in ("p1", "p2", "p3"):
        django_user_model.objects.create_user(name, f"{name}@people.example", RIGHT)
        ask_reset(client, f"{name}@people.example", address="203.0.113.9")
    assert [m.to for m in mail.outbox] == [["p1@people.example"], ["p2@people.example"]]
    ask_reset(client, "p3@people.example", address="198.51.100.1")
    assert mail.outbox[-1].to == ["p3@people.example"]


def test_a_trusted_proxy_names_the_client_address(client, settings, alpha_person):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        client.post(
            LOGIN,
            {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",
        )
    other = Client()
    response = other.post(
        LOGIN,
        {"username": "alice", "password": RIGHT},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert response.status_code == 302


# The staff's second factor


def totp_now(secret: str, ahead: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", ""))
    totp = TOTP(key)
    totp.time = time.time() + ahead * 30
    return f"{totp.token():06d}"


def wait_out_throttling() -> None:
    """After a wrong code a device refuses every code for a while (1 s, 2 s, 4 s ...)."""
    TOTPDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)


def enrol(client) -> list[str]:
    page = client.get(reverse("two_factor"))
    done = client.post(reverse("two_factor"), {"code": totp_now(page.context["secret"])})
    return done.context["codes"]


@pytest.mark.parametrize("url", ["/staff/", "/staff/findings/", "/admin/", "/admin/auth/user/"])
def test_staff_without_the_second_factor_are_sent_to_give_it(client, staff_admin, url):
    client.force_login(staff_admin)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"/accounts/two-factor/?next={url.replace('/', '%2F')}"


def test_a_staff_post_without_the_second_factor_does_nothing(client, support):
    client.force_login(support)
    response = client.post(reverse("sweep_now"))
    assert response.url.startswith("/accounts/two-factor/")


def test_customers_are_not_asked_for_a_second_factor(client, alpha_person, alpha_mailbox):
    assert log_in(client, "alice", RIGHT).url == "/"
    assert client.get("/c/alpha/").status_code == 200


def test_a_staff_login_leads_to_enrolment_with_a_qr_code_and_the_key(client, support):
    response = log_in(client, "sue", RIGHT, next="/staff/")
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 302 and page.url.startswith("/accounts/two-factor/")
    enrolment = client.get(page.url, HTTP_ACCEPT_LANGUAGE="en")
    html = enrolment.content.decode()
    assert "Set up two-factor login" in html
    assert 'src="data:image/svg+xml' in html
    assert enrolment.context["secret"].replace(" ", "") in html.replace(" ", "")
    assert inline_code(html) == []
    # Before the second factor, the staff links lead nowhere and are not shown.
    assert 'href="/staff/findings/"' not in html


def test_enrolment_with_a_real_code_shows_ten_recovery_codes_once(client, support):
    client.force_login(support)
    page = client.get(reverse("two_factor"), {"next": "/staff/"})
    wrong = client.post(reverse("two_factor"), {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=support, confirmed=True).exists()
    # After several wrong codes even the right one waits a while: guessing is slowed down.
    TOTPDevice.objects.update(
        throttling_failure_timestamp=timezone.now(), throttling_failure_count=5
    )
    right_away = client.post(
        reverse("two_factor"), {"code": totp_now(page.context["secret"])}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Too many wrong codes in a row" in right_away.content.decode()
    wait_out_throttling()

    done = client.post(
        reverse("two_factor"),
        {"code": totp_now(page.context["secret"]), "next": "/staff/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    codes = done.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    html = done.content.decode()
    assert all(code in html for code in codes)
    assert "They are shown only now" in html
    assert TOTPDevice.objects.get(user=support).confirmed
    assert client.get("/staff/").status_code == 200
    # Asked again, the codes are not shown a second time.
    assert client.get(reverse("two_factor")).url == reverse("staff_home")


def test_a_later_login_asks_for_the_code_and_never_offers_enrolment_again(client, support):
    client.force_login(support)
    secret = client.get(reverse("two_factor")).context["secret"]
    enrol_code = totp_now(secret)
    client.post(reverse("two_factor"), {"code": enrol_code})

    later = Client()
    later.force_login(support)
    prompt = later.get(reverse("two_factor"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Two-factor login" in prompt.content.decode()
    assert "secret" not in prompt.context
    # The code already used is refused (no replay); the next one works.
    assert later.post(reverse("two_factor"), {"code": enrol_code}).status_code == 200
    assert later.get("/staff/").status_code == 302
    wait_out_throttling()
    response = later.post(reverse("two_factor"), {"code": totp_now(secret, ahead=1)})
    assert response.url == reverse("staff_home")
    assert later.get("/staff/").status_code == 200


def test_a_recovery_code_works_once(client, support):
    client.force_login(support)
    codes = enrol(client)

    first = Client()
    first.force_login(support)
    response = first.post(reverse("two_factor"), {"code": codes[0].upper(), "next": "/staff/"})
    assert response.url == "/staff/"
    assert first.get("/staff/").status_code == 200

    second = Client()
    second.force_login(support)
    again = second.post(reverse("two_factor"), {"code": codes[0]}, HTTP_ACCEPT_LANGUAGE="en")
    assert "That code is not right" in again.content.decode()
    assert second.get("/staff/").status_code == 302
    assert StaticDevice.objects.get(user=support).token_set.count() == 9
    changes = list(
        AuditEntry.objects.filter(action="two-factor", actor=support)
        .order_by("pk")
        .values_list("detail__change", flat=True)
    )
    assert changes == ["enrolled", "recovery-code-used"]


def test_a_staff_admin_resets_a_colleagues_second_factor(client, staff_admin, support):
    colleague = Client()
    login_staff(colleague, support)
    assert colleague.get("/staff/").status_code == 200

    login_staff(client, staff_admin)
    client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [support.pk]},
    )
    assert not TOTPDevice.objects.filter(user=support).exists()
    reset = AuditEntry.objects.get(action="two-factor", detail__change="reset")
    assert (reset.actor, reset.target) == (staff_admin, "sue")
    # The colleague's session is no longer verified: they enrol again.
    response = colleague.get("/staff/")
    assert response.url.startswith("/accounts/two-factor/")
    assert "qr" in colleague.get(response.url).context


def test_only_a_superuser_resets_a_superusers_second_factor(client, staff_admin, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@hosting.example", RIGHT)
    TOTPDevice.objects.create(user=root, name="app", confirmed=True)
    login_staff(client, staff_admin)
    response = client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [root.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "Only a superuser can reset" in response.content.decode()
    assert TOTPDevice.objects.filter(user=root).exists()

    login_staff(client, root)
    client.post(
        "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [root.pk]}
    )
    assert not TOTPDevice.objects.filter(user=root, name="app").exists()


# Session lifetimes


def shift_session(client, **seconds_ago) -> None:
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


def test_a_staff_session_survives_29_idle_minutes(client, support):
    login_staff(client, support)
    shift_session(client, staff_seen_at=29 * 60)
    assert client.get("/staff/").status_code == 200


def test_a_staff_session_ends_after_30_idle_minutes(client, support):
    login_staff(client, support)
    shift_session(client, staff_seen_at=31 * 60)
    response = client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain[0][0] == "/accounts/login/?next=/staff/"
    assert "staff sessions end after 30 minutes without activity" in response.content.decode()
    assert not logged_in(client)


def test_a_busy_staff_session_still_ends_12_hours_after_login(client, support):
    login_staff(client, support)
    shift_session(client, staff_login_at=12 * 3600 + 60, staff_seen_at=10)
    assert client.get("/staff/").url == "/accounts/login/?next=/staff/"
    assert not logged_in(client)


def test_a_staff_request_keeps_the_session_alive(client, support):
    login_staff(client, support)
    shift_session(client, staff_seen_at=20 * 60)
    client.get("/staff/")
    assert time.time() - client.session[SEEN_AT] < 5
    assert LOGIN_AT in client.session


def test_staff_session_cookies_last_30_minutes_and_customers_14_days(client, support, alpha_person):
    log_in(client, "sue", RIGHT)
    assert client.cookies["sessionid"]["max-age"] == 30 * 60

    customer = Client()
    log_in(customer, "alice", RIGHT)
    assert customer.cookies["sessionid"]["max-age"] == 14 * 24 * 3600
    session = Session.objects.get(session_key=customer.cookies["sessionid"].value)
    assert session.expire_date - timezone.now() > timedelta(days=13, hours=23)
    # Customers have no idle limit: a day without activity changes nothing.
    shift_session(customer, staff_seen_at=24 * 3600)
    assert customer.get("/c/alpha/").status_code == 200
