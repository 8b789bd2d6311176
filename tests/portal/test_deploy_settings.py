"""The production environment passes Django's deployment checks, and with DEBUG off the
portal is HTTPS-only except for the public answers mail programs fetch over http."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-like-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "portal.hosting.example",
    "PORTAL_URL": "https://portal.hosting.example",
    "BEHIND_TLS_PROXY": "true",
}


def test_deploy_check_is_clean_with_the_production_environment():
    unset = ("SECURE_SSL_REDIRECT", "DEBUG", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env | PRODUCTION_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_defaults_are_https_only():
    assert settings.DEBUG is False
    assert settings.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE


@pytest.mark.django_db
def test_plain_http_is_redirected_but_autoconfig_is_answered(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    login = client.get("/accounts/login/")
    assert login.status_code == 301
    assert login["Location"].startswith("https://")
    for path in ("/mail/config-v1.1.xml?emailaddress=a@unknown.example",):
        assert client.get(path).status_code == 404  # answered (unknown domain), not redirected
    assert (
        client.post("/autodiscover/autodiscover.xml", b"x", content_type="text/xml").status_code
        == 400
    )
