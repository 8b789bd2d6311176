"""Shared fixtures: two customers with a mailbox each, a person of each, and staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Customer, Mailbox, Membership, SettingsSheet, sheet_record
from accounts.roles import ADMIN_GROUP, SUPPORT_GROUP
from accounts.sheets import SheetValues
from portal.celery import app as celery_app
from tests.services import postgres_cluster, redis_server  # noqa: F401 (fixtures)

SSL_SHEET = SheetValues(
    "mail.hosting.example", 995, "ssl", "mail.hosting.example", 465, "ssl", "smtp-auth"
)
PLAIN_SHEET = SheetValues(
    "pop.hosting.example", 110, "none", "smtp.hosting.example", 25, "none", "pop-before-smtp"
)


@pytest.fixture(autouse=True)
def celery_eager():
    """Tasks run in the test process unless a test starts a real worker."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def empty_cache():
    """Counters (password-reset throttling) start at zero in every test."""
    cache.clear()
    yield


def login_staff(client, user) -> None:
    """Logs `user` in as `client.force_login` does, with the second factor already given
    in this session (a confirmed TOTP app), as staff pages require."""
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def make_mailbox(customer: Customer, email: str, values: SheetValues = SSL_SHEET) -> Mailbox:
    mailbox = Mailbox.objects.create(
        customer=customer, email=email, username=email.split("@")[0], protocol="pop3"
    )
    sheet_record(mailbox, values, source=SettingsSheet.Source.IMPORT)
    return mailbox


def make_person(django_user_model, username: str, *customers: Customer):
    user = django_user_model.objects.create_user(
        username, f"{username}@people.example", "pw-123456!"
    )
    for customer in customers:
        Membership.objects.create(user=user, customer=customer)
    return user


@pytest.fixture
def alpha(db) -> Customer:
    return Customer.objects.create(slug="alpha", name="アルファ商事")


@pytest.fixture
def beta(db) -> Customer:
    return Customer.objects.create(slug="beta", name="ベータ工業")


@pytest.fixture
def alpha_mailbox(alpha) -> Mailbox:
    return make_mailbox(alpha, "info@alpha.example")


@pytest.fixture
def beta_mailbox(beta) -> Mailbox:
    return make_mailbox(beta, "sales@beta.example", PLAIN_SHEET)


@pytest.fixture
def alpha_person(django_user_model, alpha):
    return make_person(django_user_model, "alice", alpha)


@pytest.fixture
def beta_person(django_user_model, beta):
    return make_person(django_user_model, "bob", beta)


def make_staff(django_user_model, username: str, group: str):
    user = django_user_model.objects.create_user(
        username, f"{username}@hosting.example", "pw-123456!", is_staff=True
    )
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def support(django_user_model):
    return make_staff(django_user_model, "sue", SUPPORT_GROUP)


@pytest.fixture
def staff_admin(django_user_model):
    return make_staff(django_user_model, "adam", ADMIN_GROUP)
