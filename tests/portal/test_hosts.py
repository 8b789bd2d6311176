"""Host routing: the portal's pages only on its own hosts; mail programs' questions on
every known mail domain's autoconfig/autodiscover names and on the portal's host, and a
bare 404 anywhere else; malformed hosts a bare 400. The WSGI fast path routes the same."""

import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from accounts.models import Customer, MailDomain, ServerName
from tests.portal.test_autoconfig import REQUEST, RESPONSE, wsgi_get

PORTAL = "portal.hosting.example"  # tests/settings.py's PORTAL_URL


@pytest.fixture(autouse=True)
def no_answer_cache(settings):
    settings.AUTOCONFIG_CACHE_SECONDS = 0
    settings.ALLOWED_HOSTS = [PORTAL]


@pytest.fixture
def domains(db):
    server = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    customer = Customer.objects.create(slug="aaabb", name="株式会社エーエービービー")
    MailDomain.objects.create(customer=customer, domain="aaabb.co.jp", server=server)
    # 例え.jp in punycode, as normalize_email writes every domain
    MailDomain.objects.create(customer=customer, domain="xn--r8jz45g.jp", server=server)


def thunderbird(host, email="test01@aaabb.co.jp"):
    return Client().get("/mail/config-v1.1.xml", {"emailaddress": email}, HTTP_HOST=host)


def outlook(host, email="test01@aaabb.co.jp", path="/autodiscover/autodiscover.xml"):
    return Client().post(path, REQUEST.format(email=email), content_type="text/xml", HTTP_HOST=host)


@pytest.mark.parametrize(
    "host",
    [
        "autoconfig.aaabb.co.jp",
        "autodiscover.aaabb.co.jp",
        "aaabb.co.jp",
        PORTAL,
        "AUTOCONFIG.AAABB.CO.JP",
        "autoconfig.aaabb.co.jp.",
        "autoconfig.aaabb.co.jp:443",
        "autoconfig.aaabb.co.jp.:8443",
    ],
)
def test_mail_programs_are_answered_on_the_customers_names_and_the_portals(domains, host):
    assert thunderbird(host).status_code == 200
    answer = outlook(host)
    assert answer.status_code == 200
    assert ET.fromstring(answer.content).find(f".//{RESPONSE}Server").text == (
        "mail.hosting.example"
    )
    assert (
        Client()
        .get(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            {"emailaddress": "a@aaabb.co.jp"},
            HTTP_HOST=host,
        )
        .status_code
        == 200
    )


def test_a_japanese_domain_is_answered_on_its_punycode_names(domains):
    assert thunderbird("autoconfig.xn--r8jz45g.jp", "a@例え.jp").status_code == 200
    assert outlook("autodiscover.XN--R8JZ45G.JP", "a@xn--r8jz45g.jp").status_code == 200


@pytest.mark.parametrize(
    "host", ["autoconfig.elsewhere.example", "elsewhere.example", "www.aaabb.co.jp", "127.0.0.1"]
)
def test_mail_programs_get_a_bare_404_on_any_other_host(domains, host):
    for response in (
        thunderbird(host),
        outlook(host),
        outlook(host, path="/Autodiscover/Autodiscover.xml"),
    ):
        assert response.status_code == 404
        assert response.content == b"Not Found"


def test_an_unknown_domains_autodiscover_is_the_same_bare_404_as_autoconfigs(domains):
    autodiscover = outlook(PORTAL, "someone@unknown.example")
    autoconfig = thunderbird(PORTAL, "someone@unknown.example")
    assert (autodiscover.status_code, autodiscover.content) == (404, b"Not Found")
    assert (autoconfig.status_code, autoconfig.content) == (404, b"Not Found")
    assert autodiscover["Content-Type"] == autoconfig["Content-Type"] == "text/plain"


def test_an_address_with_a_control_character_is_the_bare_404_as_in_the_fast_path(domains):
    # Mail programs' paths are answered before the portal's 400 page for people.
    response = thunderbird(PORTAL, "info\x00@aaabb.co.jp")
    assert (response.status_code, response.content) == (404, b"Not Found")
    status, _headers, body = wsgi_get("/mail/config-v1.1.xml", "emailaddress=info%00%40aaabb.co.jp")
    assert (status, body) == ("404 Not Found", b"Not Found")


@pytest.mark.parametrize("host", ["autoconfig.aaabb.co.jp", "aaabb.co.jp", "evil.example"])
def test_portal_pages_are_refused_on_any_host_but_the_portals(domains, host):
    response = Client().get("/accounts/login/", HTTP_HOST=host)
    assert response.status_code == 400
    assert b"aaabb" not in response.content


def test_the_portals_pages_answer_on_its_own_host_in_any_spelling(domains):
    for host in (PORTAL, "Portal.Hosting.Example.", f"{PORTAL}:443"):
        assert Client().get("/accounts/login/", HTTP_HOST=host).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "a" * 251 + ".jp",  # 254 characters: longer than a DNS name can be
        "autoconfig.aaabb.co.jp/evil",
        "autoconfig.aaabb.co.jp;x",
        "autoconfig aaabb.co.jp",
        "autoconfig.aaabb.co.jp:port",
        "例え.jp",  # a Host header carries punycode, never raw Unicode
    ],
)
def test_a_malformed_host_is_a_bare_400_for_every_path(domains, host):
    for response in (thunderbird(host), outlook(host), Client().get("/", HTTP_HOST=host)):
        assert (response.status_code, response.content) == (400, b"Bad Request")


def test_a_new_mail_domain_is_answered_at_once_in_this_process(domains, settings):
    settings.AUTOCONFIG_CACHE_SECONDS = 3600
    assert thunderbird("autoconfig.new.example", "a@new.example").status_code == 404
    MailDomain.objects.create(
        customer=Customer.objects.get(slug="aaabb"),
        domain="new.example",
        server=ServerName.objects.get(),
    )
    assert thunderbird("autoconfig.new.example", "a@new.example").status_code == 200


def test_known_domains_are_read_once_not_per_request(domains, settings, django_assert_num_queries):
    from portal.hosts import mail_domain_of_host

    settings.AUTOCONFIG_CACHE_SECONDS = 3600
    mail_domain_of_host("autoconfig.aaabb.co.jp")
    with django_assert_num_queries(0):
        for _ in range(100):
            assert mail_domain_of_host("autodiscover.aaabb.co.jp") == "aaabb.co.jp"
            assert mail_domain_of_host("autoconfig.other.example") is None


@pytest.mark.parametrize(
    "host, status",
    [
        ("autoconfig.aaabb.co.jp", "200 OK"),
        ("AutoConfig.aaabb.co.jp.:80", "200 OK"),
        ("autoconfig.elsewhere.example", "404 Not Found"),
        ("autoconfig.aaabb.co.jp/x", "400 Bad Request"),
        ("a" * 254, "400 Bad Request"),
    ],
)
def test_the_wsgi_fast_path_routes_hosts_as_the_middleware_does(domains, host, status):
    got, _headers, _body = wsgi_get(
        "/mail/config-v1.1.xml", "emailaddress=test01%40aaabb.co.jp", host=host
    )
    assert got == status


def test_an_oversized_autodiscover_request_on_a_customer_host_is_refused_not_a_500(domains):
    response = Client().post(
        "/autodiscover/autodiscover.xml",
        b"<" * (3 * 1024 * 1024),
        content_type="text/xml",
        HTTP_HOST="autodiscover.aaabb.co.jp",
    )
    assert response.status_code in (400, 413)


def test_development_without_allowed_hosts_answers_on_this_machine_as_django_does(db, settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []
    assert Client().get("/accounts/login/", HTTP_HOST="localhost:8000").status_code == 200
    assert Client().get("/accounts/login/", HTTP_HOST="evil.example").status_code == 400
