"""The mail_servers fixture itself, checked with the standard library's clients only."""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import smtplib
import socket
import ssl

import pytest

from .mailservers import (
    CASE_ADDRESSES,
    LEGACY_CIPHERS,
    PLAIN_SERVICES,
    TLS_SERVICES,
    MailServers,
)

TIMEOUT = 10
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def verifying_context(
    servers: MailServers, version: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(servers.ca_file))
    if version is not None:
        context.minimum_version = context.maximum_version = version
        if version < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers(LEGACY_CIPHERS)
    return context


def implicit_tls(
    servers: MailServers, case: str, service: str, version: ssl.TLSVersion | None = None
) -> tuple[str, bytes]:
    """Connect with TLS verified against the test CA; return (TLS version, greeting)."""
    with socket.create_connection(servers.address(case, service), timeout=TIMEOUT) as sock:
        context = verifying_context(servers, version)
        with context.wrap_socket(sock, server_hostname=servers.cert_name) as tls:
            greeting = tls.recv(1024)
            return tls.version(), greeting


def test_addresses(mail_servers):
    for case, host in CASE_ADDRESSES.items():
        services = PLAIN_SERVICES if case == "plain" else TLS_SERVICES
        for service in services:
            address_host, port = mail_servers.address(case, service)
            assert address_host == host
            assert 1024 < port < 65536
    assert len(set(mail_servers.addresses.values())) == len(mail_servers.addresses)
    assert mail_servers.cert_name == "mail.new.example"
    assert mail_servers.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    for case, service in (
        ("plain", "imaps"),
        ("plain", "submission"),
        ("good", "smtp"),
        ("x", "imap"),
    ):
        with pytest.raises(KeyError):
            mail_servers.address(case, service)


def test_good_pop3_offers_stls_and_no_plaintext_login_before_it(mail_servers):
    pop = poplib.POP3(*mail_servers.address("good", "pop3"), timeout=TIMEOUT)
    try:
        # The client is 127.0.0.1 and the server 127.0.0.2: Dovecot must not take the connection
        # for a local, "secured" one (it would then offer plaintext login regardless).
        assert pop.sock.getsockname()[0] == "127.0.0.1"
        assert pop.getwelcome().startswith(b"+OK")
        capabilities = pop.capa()
        assert "STLS" in capabilities
        assert "USER" not in capabilities
        # Dovecot 2.3 always sends a SASL line; before TLS it names no mechanism.
        assert capabilities.get("SASL", []) == []

        pop.host = mail_servers.cert_name  # poplib verifies the name it was given as host
        assert pop.stls(verifying_context(mail_servers)).startswith(b"+OK")
        assert pop.sock.version() in TLS_VERSIONS
        after = pop.capa()
        assert "USER" in after
        assert "PLAIN" in after["SASL"]
    finally:
        pop.quit()


def test_good_pop3s_verifies(mail_servers):
    version, greeting = implicit_tls(mail_servers, "good", "pop3s")
    assert version in TLS_VERSIONS
    assert greeting.startswith(b"+OK")


def test_good_imap_offers_starttls_and_disables_login_before_it(mail_servers):
    imap = imaplib.IMAP4(*mail_servers.address("good", "imap"), timeout=TIMEOUT)
    try:
        assert imap.sock.getsockname()[0] == "127.0.0.1"
        assert "STARTTLS" in imap.capabilities
        assert "LOGINDISABLED" in imap.capabilities
        assert not [c for c in imap.capabilities if c.startswith("AUTH=")]

        imap.host = mail_servers.cert_name  # imaplib verifies the name it was given as host
        imap.starttls(verifying_context(mail_servers))
        assert imap.sock.version() in TLS_VERSIONS
        assert "LOGINDISABLED" not in imap.capabilities
        assert "AUTH=PLAIN" in imap.capabilities
    finally:
        imap.logout()


@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["TLSv1.2", "TLSv1.3"]
)
@pytest.mark.parametrize("service", ["imaps", "pop3s", "smtps"])
def test_good_implicit_tls_verifies_with_tls12_and_tls13(mail_servers, service, version):
    negotiated, greeting = implicit_tls(mail_servers, "good", service, version)
    assert negotiated == version.name.replace("_", ".")
    assert greeting[:1] in (b"*", b"+", b"2")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("service", ["imaps", "pop3s", "smtps"])
def test_tls_older_than_12_is_refused(mail_servers, service):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ValueError, ssl.SSLError):
        context.set_ciphers(LEGACY_CIPHERS)  # lets OpenSSL 3 offer TLS 1.0/1.1 at all
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    address = mail_servers.address("good", service)
    with (
        socket.create_connection(address, timeout=TIMEOUT) as sock,
        pytest.raises((ssl.SSLError, ConnectionError)),
    ):
        context.wrap_socket(sock, server_hostname=mail_servers.cert_name)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["TLSv1", "TLSv1.1"]
)
@pytest.mark.parametrize("service", ["imaps", "pop3s", "smtps"])
def test_legacy_tls_servers_also_speak_tls10_and_tls11(legacy_tls_mail_servers, service, version):
    negotiated, greeting = implicit_tls(legacy_tls_mail_servers, "good", service, version)
    assert negotiated == version.name.replace("_", ".")
    assert greeting[:1] in (b"*", b"+", b"2")


def test_good_imaps_verifies(mail_servers):
    version, greeting = implicit_tls(mail_servers, "good", "imaps")
    assert version in TLS_VERSIONS
    assert greeting.startswith(b"* OK")


def test_good_submission_offers_auth_only_after_starttls(mail_servers):
    smtp = smtplib.SMTP(*mail_servers.address("good", "submission"), timeout=TIMEOUT)
    try:
        assert smtp.sock.getsockname()[0] == "127.0.0.1"
        code, _ = smtp.ehlo("client.example")
        assert code == 250
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth")

        smtp._host = mail_servers.cert_name  # smtplib verifies the name it connected to
        code, _ = smtp.starttls(context=verifying_context(mail_servers))
        assert code == 220
        assert smtp.sock.version() in TLS_VERSIONS
        code, _ = smtp.ehlo("client.example")
        assert code == 250
        assert smtp.has_extn("auth")
        assert "PLAIN" in smtp.esmtp_features["auth"].split()
        assert not smtp.has_extn("starttls")
    finally:
        smtp.quit()


def test_good_smtps_verifies(mail_servers):
    version, greeting = implicit_tls(mail_servers, "good", "smtps")
    assert version in TLS_VERSIONS
    assert greeting.startswith(b"220 ")


@pytest.mark.parametrize("service", ["imaps", "pop3s", "smtps"])
def test_expired_certificate_fails_verification(mail_servers, service):
    with pytest.raises(ssl.SSLCertVerificationError) as failure:
        implicit_tls(mail_servers, "expired", service)
    assert failure.value.verify_code == 10  # X509_V_ERR_CERT_HAS_EXPIRED
    assert "certificate has expired" in failure.value.verify_message


@pytest.mark.parametrize("service", ["imaps", "pop3s", "smtps"])
def test_selfsigned_certificate_fails_verification(mail_servers, service):
    with pytest.raises(ssl.SSLCertVerificationError) as failure:
        implicit_tls(mail_servers, "selfsigned", service)
    assert failure.value.verify_code == 18  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    assert "self-signed" in failure.value.verify_message.replace("self signed", "self-signed")


@pytest.mark.parametrize("case", ["expired", "selfsigned"])
def test_bad_certificates_still_offer_starttls(mail_servers, case):
    """The bad-certificate cases differ from good only in their certificate."""
    pop = poplib.POP3(*mail_servers.address(case, "pop3"), timeout=TIMEOUT)
    try:
        capabilities = pop.capa()
        assert "STLS" in capabilities
        assert "USER" not in capabilities
    finally:
        pop.quit()
    imap = imaplib.IMAP4(*mail_servers.address(case, "imap"), timeout=TIMEOUT)
    try:
        assert {"STARTTLS", "LOGINDISABLED"} <= set(imap.capabilities)
    finally:
        imap.logout()
    smtp = smtplib.SMTP(*mail_servers.address(case, "submission"), timeout=TIMEOUT)
    try:
        smtp.ehlo("client.example")
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth")
    finally:
        smtp.quit()


def test_plain_pop3_offers_user_in_the_clear(mail_servers):
    pop = poplib.POP3(*mail_servers.address("plain", "pop3"), timeout=TIMEOUT)
    try:
        assert pop.getwelcome().startswith(b"+OK")
        capabilities = pop.capa()
        assert "USER" in capabilities
        assert "STLS" not in capabilities
    finally:
        pop.quit()


def test_plain_imap_offers_login_in_the_clear(mail_servers):
    imap = imaplib.IMAP4(*mail_servers.address("plain", "imap"), timeout=TIMEOUT)
    try:
        assert "LOGINDISABLED" not in imap.capabilities
        assert "STARTTLS" not in imap.capabilities
        assert {"AUTH=PLAIN", "AUTH=LOGIN"} & set(imap.capabilities)
    finally:
        imap.logout()


def test_plain_smtp_offers_auth_without_starttls(mail_servers):
    smtp = smtplib.SMTP(*mail_servers.address("plain", "smtp"), timeout=TIMEOUT)
    try:
        code, _ = smtp.ehlo("client.example")
        assert code == 250
        assert smtp.has_extn("auth")
        assert not smtp.has_extn("starttls")
    finally:
        smtp.quit()


def test_plain_case_has_no_tls_listener(mail_servers):
    host, port = mail_servers.address("plain", "imap")
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        context = ssl.create_default_context(cafile=str(mail_servers.ca_file))
        with pytest.raises((ssl.SSLError, OSError)):
            context.wrap_socket(sock, server_hostname=mail_servers.cert_name)
