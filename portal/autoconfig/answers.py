"""What self-configuring mail programs are told about a mail domain, in the three
published formats: Thunderbird autoconfig (clientConfig 1.1), Outlook
Autodiscover (POX) and Apple configuration profiles (com.apple.mail.managed).

Only the domain's current server, the recommended ports and the login name
pattern — never a customer name, never whether a mailbox exists.
"""

from __future__ import annotations

import plistlib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from defusedxml import ElementTree as SafeET
from django.conf import settings

from accounts.models import MailDomain
from accounts.sheets import SheetValues

AUTODISCOVER_REQUEST = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
)
AUTODISCOVER_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
AUTODISCOVER_OUTLOOK = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)
MAX_REQUEST_BYTES = 16 * 1024
SOCKET_TYPE = {"ssl": "SSL", "starttls": "STARTTLS", "none": "plain"}


@dataclass(frozen=True)
class Server:
    protocol: str  # pop3, imap or smtp
    host: str
    port: int
    security: str  # ssl, starttls, none


@dataclass(frozen=True)
class AutoSettings:
    email: str
    username: str
    incoming: tuple[Server, ...]  # the preferred protocol first
    outgoing: tuple[Server, ...]  # the recommended port first, then the alternative


class BadRequest(ValueError):
    """An Autodiscover request that cannot be read; the message says why."""


def domain_settings(domain: MailDomain, email: str) -> AutoSettings:
    host = domain.server.hostname
    protocols = [domain.protocol] + [p for p in ("imap", "pop3") if p != domain.protocol]
    incoming = tuple(Server(p, host, *settings.RECOMMENDED_PORTS[p]) for p in protocols)
    smtp_port, smtp_security = settings.RECOMMENDED_PORTS["smtp"]
    alt_port, alt_security = settings.RECOMMENDED_SMTP_ALTERNATIVE
    outgoing = (
        Server("smtp", host, smtp_port, smtp_security),
        Server("smtp", host, alt_port, alt_security),
    )
    return AutoSettings(email, domain.login_name(email), incoming, outgoing)


def mailbox_settings(email: str, username: str, protocol: str, values: SheetValues) -> AutoSettings:
    """One mailbox's own recommended sheet, for its downloadable profile."""
    return AutoSettings(
        email,
        username,
        (Server(protocol, values.incoming_host, values.incoming_port, values.incoming_security),),
        (Server("smtp", values.outgoing_host, values.outgoing_port, values.outgoing_security),),
    )


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = str(text)
    return element


def thunderbird_xml(domain: MailDomain, auto: AutoSettings) -> bytes:
    config = ET.Element("clientConfig", version="1.1")
    provider = _sub(config, "emailProvider", id=domain.domain)
    _sub(provider, "domain", domain.domain)
    _sub(provider, "displayName", domain.domain)
    _sub(provider, "displayShortName", domain.domain)
    username = {"email": "%EMAILADDRESS%", "local": "%EMAILLOCALPART%"}.get(
        domain.login, auto.username
    )
    for server in auto.incoming + auto.outgoing:
        tag = "outgoingServer" if server.protocol == "smtp" else "incomingServer"
        element = _sub(provider, tag, type=server.protocol)
        _sub(element, "hostname", server.host)
        _sub(element, "port", server.port)
        _sub(element, "socketType", SOCKET_TYPE[server.security])
        _sub(element, "authentication", "password-cleartext")
        _sub(element, "username", username)
    return ET.tostring(config, encoding="utf-8", xml_declaration=True)


def autodiscover_email(body: bytes) -> str:
    """The EMailAddress of a POX Autodiscover request, read with a hardened parser."""
    if len(body) > MAX_REQUEST_BYTES:
        raise BadRequest(f"the request is larger than {MAX_REQUEST_BYTES} bytes")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as error:  # defusedxml raises several kinds; all mean "unreadable"
        raise BadRequest(f"not a readable Autodiscover request: {type(error).__name__}") from None
    element = root.find(f".//{{{AUTODISCOVER_REQUEST}}}EMailAddress")
    if element is None:
        element = root.find(".//EMailAddress")
    if element is None or not (element.text or "").strip():
        raise BadRequest("the request has no EMailAddress")
    return element.text.strip()


def autodiscover_xml(auto: AutoSettings) -> bytes:
    ET.register_namespace("", AUTODISCOVER_RESPONSE)
    root = ET.Element(f"{{{AUTODISCOVER_RESPONSE}}}Autodiscover")
    response = _sub(root, f"{{{AUTODISCOVER_OUTLOOK}}}Response")
    account = _sub(response, f"{{{AUTODISCOVER_OUTLOOK}}}Account")
    _sub(account, f"{{{AUTODISCOVER_OUTLOOK}}}AccountType", "email")
    _sub(account, f"{{{AUTODISCOVER_OUTLOOK}}}Action", "settings")
    for server in (auto.incoming[0], auto.outgoing[0]):
        protocol = _sub(account, f"{{{AUTODISCOVER_OUTLOOK}}}Protocol")
        values = {
            "Type": server.protocol.upper(),
            "Server": server.host,
            "Port": server.port,
            "DomainRequired": "off",
            "LoginName": auto.username,
            "SPA": "off",
            "SSL": "on" if server.security == "ssl" else "off",
            "Encryption": {"ssl": "SSL", "starttls": "TLS", "none": "None"}[server.security],
            "AuthRequired": "on",
        }
        if server.protocol == "smtp":
            values["UsePOPAuth"] = "off"
            values["SMTPLast"] = "off"
        for tag, value in values.items():
            _sub(protocol, f"{{{AUTODISCOVER_OUTLOOK}}}{tag}", value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def mobileconfig(auto: AutoSettings, *, name: str) -> bytes:
    """An Apple configuration profile with one mail account (unsigned)."""
    incoming, outgoing = auto.incoming[0], auto.outgoing[0]
    account_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"mail.{auto.email}")
    payload = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"jp.mail-portal.mail.{account_id}",
        "PayloadUUID": str(account_id).upper(),
        "PayloadDisplayName": name,
        "EmailAccountDescription": auto.email,
        "EmailAccountType": "EmailTypeIMAP" if incoming.protocol == "imap" else "EmailTypePOP",
        "EmailAddress": auto.email,
        "IncomingMailServerHostName": incoming.host,
        "IncomingMailServerPortNumber": incoming.port,
        "IncomingMailServerUseSSL": incoming.security != "none",
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerUsername": auto.username,
        "OutgoingMailServerHostName": outgoing.host,
        "OutgoingMailServerPortNumber": outgoing.port,
        "OutgoingMailServerUseSSL": outgoing.security != "none",
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerUsername": auto.username,
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"profile.{auto.email}")
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"jp.mail-portal.profile.{profile_id}",
        "PayloadUUID": str(profile_id).upper(),
        "PayloadDisplayName": name,
        "PayloadContent": [payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)


def profile_sign(data: bytes) -> bytes:
    """Sign a profile (PKCS #7, DER) when a signing certificate is configured."""
    if not (settings.MOBILECONFIG_SIGNING_CERT and settings.MOBILECONFIG_SIGNING_KEY):
        return data
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    with open(settings.MOBILECONFIG_SIGNING_CERT, "rb") as cert_file:
        certificates = x509.load_pem_x509_certificates(cert_file.read())
    with open(settings.MOBILECONFIG_SIGNING_KEY, "rb") as key_file:
        key = serialization.load_pem_private_key(key_file.read(), password=None)
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(certificates[0], key, hashes.SHA256())
    )
    for extra in certificates[1:]:
        builder = builder.add_certificate(extra)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
