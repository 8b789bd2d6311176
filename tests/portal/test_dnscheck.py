"""The DNS check against a real DNS server (Debian's dnsmasq on a loopback port,
serving a test zone), not mocks."""

import os
import shutil
import socket
import subprocess
import time

import pytest
from django.urls import reverse

from accounts.models import Customer, MailDomain, ServerName
from portal.autoconfig.dns import domain_dns_check, domain_dns_record
from tests.conftest import login_staff

DNSMASQ = "/usr/sbin/dnsmasq"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def nameserver():
    if not shutil.which(DNSMASQ):
        if os.environ.get("CI") == "true":
            pytest.fail("dnsmasq is missing (make test installs dnsmasq-base as root)")
        pytest.skip("dnsmasq is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            DNSMASQ,
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            f"--port={port}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--pid-file=",
            "--local=/aaabb.co.jp/",
            "--local=/yamada.example/",
            "--local=/hosting.example/",
            "--local=/sato.example/",
            "--srv-host=_autodiscover._tcp.sato.example,portal.hosting.example,443,0,1",
            "--address=/portal.hosting.example/192.0.2.10",
            "--cname=autoconfig.aaabb.co.jp,portal.hosting.example",
            "--address=/autodiscover.aaabb.co.jp/192.0.2.99",
            "--srv-host=_imaps._tcp.aaabb.co.jp,mail.hosting.example,993,0,1",
            "--srv-host=_submissions._tcp.aaabb.co.jp,mail.hosting.example,465,0,1",
            "--srv-host=_pop3s._tcp.aaabb.co.jp,mail.old.example,995,0,1",
            "--mx-host=aaabb.co.jp,mx.hosting.example,10",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        pytest.fail(f"dnsmasq did not start: {process.stderr.read().decode()}")
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(5)


@pytest.fixture
def domains(db, settings, nameserver):
    settings.PORTAL_URL = "https://portal.hosting.example"
    settings.DNS_NAMESERVER = nameserver
    server = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    aaabb = Customer.objects.create(slug="aaabb", name="A")
    yamada = Customer.objects.create(slug="yamada", name="Y")
    return (
        MailDomain.objects.create(customer=aaabb, domain="aaabb.co.jp", server=server),
        MailDomain.objects.create(customer=yamada, domain="yamada.example", server=server),
    )


def by_name(checks):
    return {(c.name, c.type): c for c in checks}


def test_a_partly_published_domain(domains, nameserver):
    checks = by_name(domain_dns_check(domains[0]))
    assert checks[("autoconfig.aaabb.co.jp", "CNAME")].ok is True
    autodiscover = checks[("autodiscover.aaabb.co.jp", "A")]
    assert (autodiscover.ok, autodiscover.found) == (False, "192.0.2.99")
    assert autodiscover.wanted == "autodiscover.aaabb.co.jp. CNAME portal.hosting.example."
    assert checks[("_imaps._tcp.aaabb.co.jp", "SRV")].ok is True
    assert checks[("_submissions._tcp.aaabb.co.jp", "SRV")].ok is True
    pop3s = checks[("_pop3s._tcp.aaabb.co.jp", "SRV")]
    assert (pop3s.ok, pop3s.found) == (False, "0 1 995 mail.old.example")
    assert pop3s.wanted == "_pop3s._tcp.aaabb.co.jp. SRV 0 1 995 mail.hosting.example."
    submission = checks[("_submission._tcp.aaabb.co.jp", "SRV")]
    assert (submission.ok, submission.found) == (False, "-")
    assert checks[("_imap._tcp.aaabb.co.jp", "SRV")].ok is True  # nothing published: not offered
    assert checks[("aaabb.co.jp", "MX")].found == "10 mx.hosting.example"


def test_an_unpublished_domain_gets_every_record_to_add(domains, nameserver):
    checks = domain_dns_check(domains[1])
    missing = [c.wanted for c in checks if not c.ok and c.wanted]
    assert "autoconfig.yamada.example. CNAME portal.hosting.example." in missing
    assert "_imaps._tcp.yamada.example. SRV 0 1 993 mail.hosting.example." in missing
    assert by_name(checks)[("yamada.example", "MX")].ok is False


def test_staff_see_the_records_to_add(domains, client, support):
    domain_dns_record(domains[0])
    login_staff(client, support)
    page = client.get(reverse("domain_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "_pop3s._tcp.aaabb.co.jp. SRV 0 1 995 mail.hosting.example." in page
    assert "yamada.example" in page and "not checked yet" in page


def test_a_portal_at_an_address_is_advised_as_an_a_record_never_a_cname(
    domains, nameserver, settings
):
    settings.PORTAL_URL = "http://192.0.2.99:8000"
    checks = by_name(domain_dns_check(domains[0]))
    assert checks[("autodiscover.aaabb.co.jp", "A")].ok is True  # published: 192.0.2.99
    autoconfig = checks[("autoconfig.aaabb.co.jp", "CNAME")]
    assert (autoconfig.ok, autoconfig.wanted) == (False, "autoconfig.aaabb.co.jp. A 192.0.2.99")
    wanted = [c.wanted for c in domain_dns_check(domains[1]) if not c.ok]
    assert "autoconfig.yamada.example. A 192.0.2.99" in wanted
    assert not [w for w in wanted if " CNAME " in w]


def test_a_portal_at_an_ipv6_address_is_advised_as_an_aaaa_record(domains, nameserver, settings):
    settings.PORTAL_URL = "https://[2001:db8::10]"
    checks = by_name(domain_dns_check(domains[1]))
    autoconfig = checks[("autoconfig.yamada.example", "AAAA")]
    assert (autoconfig.ok, autoconfig.wanted) == (
        False,
        "autoconfig.yamada.example. AAAA 2001:db8::10",
    )


def test_staff_are_warned_when_the_portal_address_is_this_machine(
    domains, client, support, settings
):
    login_staff(client, support)
    settings.PORTAL_URL = "http://127.0.0.1:8000"
    page = client.get(reverse("domain_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The portal's address (PORTAL_URL) is http://127.0.0.1:8000" in page
    settings.PORTAL_URL = "https://portal.hosting.example"
    page = client.get(reverse("domain_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "PORTAL_URL" not in page


def test_outlooks_srv_record_naming_the_portal_is_accepted_instead_of_the_autodiscover_name(
    domains, nameserver
):
    sato = MailDomain.objects.create(
        customer=Customer.objects.create(slug="sato", name="S"),
        domain="sato.example",
        server=domains[0].server,
    )
    checks = by_name(domain_dns_check(sato))
    assert checks[("_autodiscover._tcp.sato.example", "SRV")].ok is True
    assert checks[("_autodiscover._tcp.sato.example", "SRV")].found == (
        "0 1 443 portal.hosting.example"
    )
    assert checks[("autodiscover.sato.example", "A")].ok is True  # the SRV record suffices
    assert checks[("autoconfig.sato.example", "A")].ok is False  # Thunderbird has no such route


def test_the_srv_record_is_advised_where_outlook_cannot_find_the_portal(domains, nameserver):
    wanted = [c.wanted for c in domain_dns_check(domains[1]) if not c.ok]
    assert "_autodiscover._tcp.yamada.example. SRV 0 1 443 portal.hosting.example." in wanted
    assert "autodiscover.yamada.example. CNAME portal.hosting.example." in wanted


def test_no_srv_record_is_asked_for_when_the_autodiscover_name_already_points_at_the_portal(
    domains, nameserver, settings
):
    settings.PORTAL_URL = "http://192.0.2.99:8000"  # autodiscover.aaabb.co.jp's address
    checks = by_name(domain_dns_check(domains[0]))
    assert checks[("autodiscover.aaabb.co.jp", "A")].ok is True
    assert checks[("_autodiscover._tcp.aaabb.co.jp", "SRV")].ok is True


def test_staff_read_that_the_srv_record_is_an_alternative(domains, client, support):
    login_staff(client, support)
    page = client.get(reverse("domain_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "an SRV record _autodiscover._tcp naming this portal is enough" in page
