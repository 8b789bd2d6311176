"""The probe against real Dovecot and Postfix (tests/checks/mailservers.py), through
the `probe` command's JSON: each case a support agent meets, reported correctly."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

NEW, OLD = "mail.new.example", "mail.old.example"
TLS_SERVICES = [
    ("pop3", "pop3", "starttls"),
    ("pop3s", "pop3", "ssl"),
    ("imap", "imap", "starttls"),
    ("imaps", "imap", "ssl"),
    ("submission", "smtp", "starttls"),
    ("smtps", "smtp", "ssl"),
]


@pytest.fixture(autouse=True)
def database(db):
    """The command reads the registry (its servers' addresses may be probed)."""


def probe(servers, case, service, protocol, security, host=NEW):
    address, port = servers.address(case, service)
    out = StringIO()
    call_command(
        "probe", host, str(port), "--protocol", protocol, "--security", security,
        "--resolve", f"{host}:{address}", "--ca-file", str(servers.ca_file), "--timeout", "5",
        "--json", stdout=out,
    )  # fmt: skip
    return json.loads(out.getvalue())


@pytest.mark.parametrize(("service", "protocol", "security"), TLS_SERVICES)
def test_a_good_server_passes_every_check(mail_servers, service, protocol, security):
    result = probe(mail_servers, "good", service, protocol, security)

    assert result["error"] is None, result["error_message"]
    assert result["reachable"] is True
    assert result["banner"]
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert result["cipher"]
    assert {"TLSv1.2", "TLSv1.3"} <= set(result["tls_versions_accepted"])
    assert not {"TLSv1", "TLSv1.1"} & set(result["tls_versions_accepted"])
    cert = result["certificate"]
    assert cert["sans"] == [NEW]
    assert cert["issuer"] == "CN=Mail Portal Test CA"
    assert (cert["trusted"], cert["hostname_match"], cert["expired"]) == (True, True, False)
    assert cert["days_left"] > 300
    if security == "starttls":
        assert result["starttls_offered"] is True
        assert result["plaintext_auth_before_tls"] is False
    else:
        assert result["starttls_offered"] is None
        assert result["plaintext_auth_before_tls"] is None


@pytest.mark.parametrize(("service", "protocol", "security"), TLS_SERVICES)
def test_an_old_name_gets_a_certificate_that_does_not_name_it(
    mail_servers, service, protocol, security
):
    result = probe(mail_servers, "good", service, protocol, security, host=OLD)
    assert result["error"] is None
    cert = result["certificate"]
    assert (cert["trusted"], cert["hostname_match"]) == (True, False)
    assert cert["sans"] == [NEW]


@pytest.mark.parametrize(
    ("service", "protocol", "security"), [("imaps", "imap", "ssl"), ("pop3", "pop3", "starttls")]
)
def test_an_expired_certificate_is_read_and_reported_expired(
    mail_servers, service, protocol, security
):
    result = probe(mail_servers, "expired", service, protocol, security)
    assert result["error"] is None
    cert = result["certificate"]
    assert cert["expired"] is True
    assert cert["days_left"] < 0
    assert cert["trusted"] is True  # the chain is fine; the dates are their own fields
    assert cert["hostname_match"] is True


@pytest.mark.parametrize(
    ("service", "protocol", "security"),
    [("imaps", "imap", "ssl"), ("submission", "smtp", "starttls")],
)
def test_a_self_signed_certificate_is_read_and_reported_untrusted(
    mail_servers, service, protocol, security
):
    result = probe(mail_servers, "selfsigned", service, protocol, security)
    assert result["error"] is None
    cert = result["certificate"]
    assert (cert["trusted"], cert["hostname_match"], cert["expired"]) == (False, True, False)


@pytest.mark.parametrize(
    ("service", "protocol"), [("pop3", "pop3"), ("imap", "imap"), ("smtp", "smtp")]
)
def test_a_plain_text_server_offers_passwords_in_the_clear(mail_servers, service, protocol):
    result = probe(mail_servers, "plain", service, protocol, "none")
    assert result["error"] is None
    assert result["plaintext_auth_before_tls"] is True
    assert result["starttls_offered"] is False
    assert result["certificate"] is None
    assert result["tls_versions_accepted"] is None


@pytest.mark.parametrize(
    ("service", "protocol"), [("pop3", "pop3"), ("imap", "imap"), ("smtp", "smtp")]
)
def test_starttls_on_a_plain_text_server_is_not_offered(mail_servers, service, protocol):
    result = probe(mail_servers, "plain", service, protocol, "starttls")
    assert result["error"] == "starttls-not-offered"
    assert result["starttls_offered"] is False
    assert result["plaintext_auth_before_tls"] is True


def test_implicit_tls_on_a_plain_port_fails_the_handshake(mail_servers):
    result = probe(mail_servers, "plain", "imap", "imap", "ssl")
    assert result["reachable"] is True
    assert result["error"] in ("tls-handshake-failed", "timeout")
