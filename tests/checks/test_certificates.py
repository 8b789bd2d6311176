import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checks.probes import certificate_info, hostname_matches


@pytest.mark.parametrize(
    ("host", "names", "matches"),
    [
        ("mail.new.example", ["mail.new.example"], True),
        ("MAIL.New.Example.", ["mail.new.example"], True),
        ("mail.new.example", ["*.new.example"], True),
        ("new.example", ["*.new.example"], False),
        ("a.mail.new.example", ["*.new.example"], False),
        ("mail.old.example", ["mail.new.example", "smtp.new.example"], False),
        ("mail.aaabb.co.jp", ["*.aaabb.co.jp"], True),
        ("mail.aaabb.co.jp", ["*.co.jp"], False),
        ("mail.new.example", [], False),
    ],
)
def test_hostname_matching_follows_rfc_6125(host, names, matches):
    assert hostname_matches(host, names, []) is matches


def test_ip_hosts_match_ip_names_only():
    assert hostname_matches("192.0.2.1", ["192.0.2.1"], ["192.0.2.1"]) is True
    assert hostname_matches("192.0.2.1", ["192.0.2.1"], []) is False


def make_cert(*, cn="mail.new.example", sans=("mail.new.example",), days=(-1, 45)):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1], hours=1))
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_certificate_fields():
    info = certificate_info(make_cert(), "mail.new.example", trusted=True)
    assert info.subject_cn == "mail.new.example"
    assert info.sans == ("mail.new.example",)
    assert info.issuer == "CN=Test CA"
    assert (info.days_left, info.expired, info.trusted, info.hostname_match) == (
        45,
        False,
        True,
        True,
    )


def test_expired_certificate_has_negative_days():
    info = certificate_info(make_cert(days=(-100, -10)), "mail.new.example", trusted=True)
    assert info.expired is True
    assert info.days_left == -10


def test_without_san_the_common_name_is_matched():
    info = certificate_info(make_cert(sans=()), "mail.new.example", trusted=False)
    assert info.hostname_match is True
    assert info.sans == ()
