"""The production environment passes Django's deployment checks, and with DEBUG off the
portal is HTTPS-only except for the public answers mail programs fetch over http."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from tests.deploy.files import env_template
from tests.portal.test_configuration import environment, load_wsgi

# deploy/portal.env.example as an operator fills it in.
PRODUCTION_ENV = env_template() | {
    "SECRET_KEY": "a-production-like-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "METRICS_TOKEN": "a-metrics-token",
}


def test_deploy_check_is_clean_with_the_production_environment():
    unset = ("SECURE_SSL_REDIRECT", "DEBUG", "DJANGO_SETTINGS_MODULE", "EMAIL_URL")
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


def test_the_production_environment_template_starts_the_web_server():
    started = load_wsgi(**PRODUCTION_ENV)
    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SECRET_KEY": "changeme"}, "SECRET_KEY is too weak for production"),
        ({"SECRET_KEY": "x" * 60}, "SECRET_KEY is too weak for production"),
        ({"SECRET_KEY": "django-insecure-" + "abcdefghij" * 5}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": None}, "SECRET_KEY must be set when DEBUG is off"),
        ({"EMAIL_URL": None}, "EMAIL_URL is consolemail:// (the default), which sends no mail"),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL is consolemail://"),
        ({"EMAIL_URL": "dummymail://"}, "EMAIL_URL is dummymail://"),
    ],
)
def test_production_refuses_to_start_with_unsafe_defaults(values, message):
    started = load_wsgi(**(PRODUCTION_ENV | values))
    assert started.returncode != 0
    assert f"ImproperlyConfigured: {message}" in started.stderr


def manage_check(**values) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_leftover_development_env_file_cannot_turn_debug_on_in_production(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=true\nSECRET_KEY=dev\n")
    production = PRODUCTION_ENV | {"DEBUG": None, "PORTAL_DOTENV": str(dotenv)}

    refused = manage_check(**production)

    assert refused.returncode != 0
    assert f"{dotenv}, a development file, sets DEBUG: delete that file." in refused.stderr


def test_debug_in_the_production_environment_itself_is_refused(tmp_path):
    no_dotenv = str(tmp_path / "none")
    refused = manage_check(**(PRODUCTION_ENV | {"DEBUG": "true", "PORTAL_DOTENV": no_dotenv}))
    assert refused.returncode != 0
    message = "DEBUG is on in production (PORTAL_DEPLOYMENT=production): set DEBUG=false"
    assert f"{message} in the environment." in refused.stderr


def test_development_still_reads_debug_from_its_env_file(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=true\n")
    started = load_wsgi(DEBUG=None, PORTAL_URL=None, EMAIL_URL=None, PORTAL_DOTENV=str(dotenv))
    assert started.returncode == 0, started.stderr
