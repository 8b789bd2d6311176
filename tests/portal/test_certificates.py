"""Caddy's on-demand TLS asks the portal before it gets a certificate for a name:
yes only for known mail domains' autoconfig/autodiscover names and the portal's own."""

import pytest
from django.test import Client

from accounts.models import Customer, MailDomain, ServerName


@pytest.fixture
def domain(db):
    server = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    customer = Customer.objects.create(slug="aaabb", name="株式会社エーエービービー")
    return MailDomain.objects.create(customer=customer, domain="aaabb.co.jp", server=server)


def ask(*args, host="127.0.0.1:8000"):
    # Caddy asks gunicorn directly, on loopback: not one of the portal's host names.
    query = {"domain": args[0]} if args else {}
    return Client().get("/tls/ask", query, HTTP_HOST=host)


@pytest.mark.parametrize(
    "name",
    ["autoconfig.aaabb.co.jp", "autodiscover.aaabb.co.jp", "portal.hosting.example"],
)
def test_caddy_may_get_certificates_for_mail_domains_and_the_portal(domain, name):
    response = ask(name)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "aaabb.co.jp",  # the customer's own web site is not ours to certify
        "www.aaabb.co.jp",
        "autoconfig.elsewhere.example",
        "autoconfig.",
        "autodiscover.autoconfig.aaabb.co.jp",
        "evil.example",
        "",
        "autoconfig.aaabb.co.jp:443",
        "autoconfig.aaabb.co.jp/x",
        "autoconfig.aaabb.co.jp\x00",
        "a" * 300,
        "127.0.0.1",
    ],
)
def test_any_other_or_odd_name_is_refused(domain, name):
    assert ask(name).status_code != 200


def test_a_missing_domain_is_refused(domain):
    assert ask().status_code != 200


def test_a_domain_added_a_moment_ago_is_allowed_at_once(domain, settings):
    settings.AUTOCONFIG_CACHE_SECONDS = 3600
    assert ask("autoconfig.new.example").status_code != 200
    MailDomain.objects.create(customer=domain.customer, domain="new.example", server=domain.server)
    assert ask("autoconfig.new.example").status_code == 200


def test_the_question_is_answered_on_plain_http_without_a_redirect(domain, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert ask("autoconfig.aaabb.co.jp").status_code == 200
