"""The demo's staff can give their second factor without an authenticator app."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.management.commands.load_demo import DEMO_DEVICE_NAME


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def test_demo_staff_have_the_published_demo_key_and_customers_none(demo):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    owners = set(
        TOTPDevice.objects.filter(name=DEMO_DEVICE_NAME, confirmed=True).values_list(
            "user__username", flat=True
        )
    )
    assert owners == {"support", "admin"}


def test_the_printed_demo_code_opens_the_staff_pages(client, demo, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_code", stdout=out)
    codes = dict(line.split() for line in out.getvalue().splitlines())
    assert client.login(username="support", password="demo-pass-2026")
    response = client.post(reverse("two_factor"), {"code": codes["support"], "next": "/staff/"})
    assert response.url == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_demo_code_refuses_without_debug(demo, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_code")


def test_load_demo_is_still_idempotent(demo):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    call_command("load_demo", stdout=io.StringIO())
    assert TOTPDevice.objects.filter(name=DEMO_DEVICE_NAME).count() == 2
