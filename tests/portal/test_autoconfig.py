"""Self-configuring mail programs: each answer parsed with a real parser and
compared field by field with the recommended settings."""

import datetime
import plistlib
import xml.etree.ElementTree as ET

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.urls import reverse

from accounts.models import Customer, Mailbox, MailDomain, ServerName
from accounts.sheets import SheetValues
from tests.conftest import make_mailbox, make_person

HOST = "mail.hosting.example"
RESPONSE = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>{email}</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request></Autodiscover>"""


@pytest.fixture(autouse=True)
def no_answer_cache(settings):
    settings.AUTOCONFIG_CACHE_SECONDS = 0


@pytest.fixture
def domain(db):
    server = ServerName.objects.create(hostname=HOST, status="current")
    ServerName.objects.create(hostname="pop.hosting.example", status="legacy", replaced_by=server)
    customer = Customer.objects.create(slug="aaabb", name="株式会社エーエービービー")
    make_mailbox(
        customer,
        "test01@aaabb.co.jp",
        SheetValues(
            "pop.hosting.example", 110, "none", "pop.hosting.example", 25, "none", "smtp-auth"
        ),
    )
    imap = make_mailbox(
        customer,
        "info@aaabb.co.jp",
        SheetValues(HOST, 143, "starttls", HOST, 587, "starttls", "smtp-auth"),
    )
    imap.protocol = "imap"
    imap.save()
    return MailDomain.objects.create(
        customer=customer, domain="aaabb.co.jp", server=server, protocol="pop3"
    )


def servers(xml_bytes):
    root = ET.fromstring(xml_bytes)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    assert provider.findtext("domain") == "aaabb.co.jp"
    return [
        (s.tag, s.get("type"), s.findtext("hostname"), s.findtext("port"), s.findtext("socketType"),
         s.findtext("authentication"), s.findtext("username"))
        for s in provider if s.tag in ("incomingServer", "outgoingServer")
    ]  # fmt: skip


@pytest.mark.parametrize(
    "url", ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"]
)
def test_thunderbird_autoconfig(client, domain, url):
    response = client.get(url, {"emailaddress": "test01@aaabb.co.jp"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert servers(response.content) == [
        ("incomingServer", "pop3", HOST, "995", "SSL", "password-cleartext", "%EMAILADDRESS%"),
        ("incomingServer", "imap", HOST, "993", "SSL", "password-cleartext", "%EMAILADDRESS%"),
        ("outgoingServer", "smtp", HOST, "465", "SSL", "password-cleartext", "%EMAILADDRESS%"),
        ("outgoingServer", "smtp", HOST, "587", "STARTTLS", "password-cleartext", "%EMAILADDRESS%"),
    ]
    assert "株式会社" not in response.content.decode()


def test_login_patterns(client, domain):
    domain.login = "local"
    domain.save()
    assert (
        servers(client.get("/mail/config-v1.1.xml", {"emailaddress": "a@aaabb.co.jp"}).content)[0][
            6
        ]
        == "%EMAILLOCALPART%"
    )
    domain.login, domain.login_format = "fixed", "{local}.{domain}"
    domain.save()
    assert (
        servers(client.get("/mail/config-v1.1.xml", {"emailaddress": "a@aaabb.co.jp"}).content)[0][
            6
        ]
        == "a.aaabb.co.jp"
    )


def test_no_enumeration_and_unknown_domains_reveal_nothing(client, domain):
    known = client.get("/mail/config-v1.1.xml", {"emailaddress": "test01@aaabb.co.jp"}).content
    unknown = client.get("/mail/config-v1.1.xml", {"emailaddress": "nobody@aaabb.co.jp"}).content
    assert known == unknown
    for address in ("x@elsewhere.example", "not-an-address", ""):
        response = client.get("/mail/config-v1.1.xml", {"emailaddress": address})
        assert response.status_code == 404
        assert "aaabb" not in response.content.decode()


def protocols(xml_bytes):
    root = ET.fromstring(xml_bytes)
    account = root.find(f"{RESPONSE}Response/{RESPONSE}Account")
    assert account.findtext(f"{RESPONSE}AccountType") == "email"
    assert account.findtext(f"{RESPONSE}Action") == "settings"
    return {
        p.findtext(f"{RESPONSE}Type"): {c.tag.replace(RESPONSE, ""): c.text for c in p}
        for p in account.findall(f"{RESPONSE}Protocol")
    }


@pytest.mark.parametrize(
    "url", ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"]
)
def test_outlook_autodiscover(client, domain, url):
    response = client.post(url, REQUEST.format(email="test01@aaabb.co.jp"), content_type="text/xml")
    assert response.status_code == 200
    found = protocols(response.content)
    assert found["POP3"] == {
        "Type": "POP3", "Server": HOST, "Port": "995", "DomainRequired": "off",
        "LoginName": "test01@aaabb.co.jp", "SPA": "off", "SSL": "on", "Encryption": "SSL",
        "AuthRequired": "on",
    }  # fmt: skip
    assert (found["SMTP"]["Port"], found["SMTP"]["SSL"], found["SMTP"]["AuthRequired"]) == (
        "465",
        "on",
        "on",
    )
    assert found["SMTP"]["SPA"] == "off"


def test_autodiscover_refuses_bad_requests(client, domain):
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    assert (
        client.post("/autodiscover/autodiscover.xml", bomb, content_type="text/xml").status_code
        == 400
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    assert (
        client.post("/autodiscover/autodiscover.xml", external, content_type="text/xml").status_code
        == 400
    )
    big = REQUEST.format(email="a@aaabb.co.jp" + " " * 20000)
    assert (
        client.post("/autodiscover/autodiscover.xml", big, content_type="text/xml").status_code
        == 400
    )
    assert (
        client.post("/autodiscover/autodiscover.xml", "<x/>", content_type="text/xml").status_code
        == 400
    )
    assert client.get("/autodiscover/autodiscover.xml").status_code == 405
    unknown = REQUEST.format(email="a@elsewhere.example")
    assert (
        client.post("/autodiscover/autodiscover.xml", unknown, content_type="text/xml").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("email", "account_type", "port"),
    [("test01@aaabb.co.jp", "EmailTypePOP", 995), ("info@aaabb.co.jp", "EmailTypeIMAP", 993)],
)
def test_apple_profile_for_pop3_and_imap(
    client, django_user_model, domain, email, account_type, port
):
    client.force_login(make_person(django_user_model, "tanaka", domain.customer))
    mailbox = Mailbox.objects.get(email=email)
    response = client.get(
        reverse("customer_profile", kwargs={"slug": "aaabb", "code": mailbox.code})
    )
    assert response["Content-Type"] == "application/x-apple-aspen-config"
    profile = plistlib.loads(response.content)
    assert profile["PayloadType"] == "Configuration"
    mail = profile["PayloadContent"][0]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert (mail["EmailAccountType"], mail["EmailAddress"]) == (account_type, email)
    assert (
        mail["IncomingMailServerHostName"],
        mail["IncomingMailServerPortNumber"],
        mail["IncomingMailServerUseSSL"],
    ) == (HOST, port, True)
    assert (
        mail["OutgoingMailServerHostName"],
        mail["OutgoingMailServerPortNumber"],
        mail["OutgoingMailServerUseSSL"],
    ) == (HOST, 465, True)
    assert mail["IncomingMailServerAuthentication"] == "EmailAuthPassword"
    assert mail["IncomingMailServerUsername"] == mailbox.username
    assert "IncomingPassword" not in mail and "OutgoingPassword" not in mail  # never a password


def test_profile_is_signed_when_a_certificate_is_configured(
    client, django_user_model, domain, settings, tmp_path
):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Profile Signer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))  # fmt: skip
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings.MOBILECONFIG_SIGNING_CERT = str(tmp_path / "cert.pem")
    settings.MOBILECONFIG_SIGNING_KEY = str(tmp_path / "key.pem")
    client.force_login(make_person(django_user_model, "tanaka", domain.customer))
    mailbox = Mailbox.objects.get(email="info@aaabb.co.jp")
    data = client.get(
        reverse("customer_profile", kwargs={"slug": "aaabb", "code": mailbox.code})
    ).content
    assert data[:1] == b"\x30"  # DER: a PKCS #7 envelope, not a bare plist
    assert b"com.apple.mail.managed" in data  # the profile is inside


def wsgi_get(path, query, host="localhost"):
    from portal.wsgi import application

    captured = {}

    def start_response(status, headers):
        captured["status"], captured["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": None, "HTTP_HOST": host,
    }  # fmt: skip
    body = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], body


def test_the_wsgi_fast_path_answers_as_the_view_does(client, domain):
    view = client.get("/mail/config-v1.1.xml", {"emailaddress": "test01@aaabb.co.jp"}).content
    status, headers, body = wsgi_get("/mail/config-v1.1.xml", "emailaddress=test01%40aaabb.co.jp")
    assert (status, body) == ("200 OK", view)
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    status, _headers, body = wsgi_get(
        "/.well-known/autoconfig/mail/config-v1.1.xml", "emailaddress=x%40nowhere.example"
    )
    assert status.startswith("404") and b"aaabb" not in body


def test_answers_are_cached_per_domain_for_a_while(client, domain, settings):
    settings.AUTOCONFIG_CACHE_SECONDS = 60
    first = client.get("/mail/config-v1.1.xml", {"emailaddress": "a@aaabb.co.jp"}).content
    domain.server = ServerName.objects.create(hostname="mail2.hosting.example", status="current")
    domain.save()
    assert client.get("/mail/config-v1.1.xml", {"emailaddress": "b@aaabb.co.jp"}).content == first
    settings.AUTOCONFIG_CACHE_SECONDS = 0
    from portal.autoconfig.views import _answers

    _answers.clear()
    assert (
        b"mail2.hosting.example"
        in client.get("/mail/config-v1.1.xml", {"emailaddress": "b@aaabb.co.jp"}).content
    )
