"""The demo's mail servers: small responders on loopback for the demo's server names.

`python manage.py demo_mailservers` (started by `make run`) answers, on
127.0.0.11–13, just enough POP3, IMAP and SMTP for the probe — greeting,
capabilities, STARTTLS or implicit TLS, goodbye; never a login — to find what a
hosting company's real servers show:

- the current server (mail.hosting.example): a good certificate, TLS 1.2+,
  passwords only after STARTTLS. A customer's own domain name
  (mail.aaabb.co.jp) points at it too, and its certificate does not name that;
- the second server (mail2.hosting.example): the same, but its certificate
  expires in 20 days;
- the old machine behind the legacy names (pop./smtp.hosting.example): an
  expired certificate, TLS 1.0/1.1 only, and POP3/SMTP without TLS offering
  password login in the clear.

The certificates come from a demo CA made once in the given directory (the
probes trust it through PROBE_CA_FILE); the servers' own certificates are made
anew at every start, so that "expires in 20 days" stays true. Plain asyncio and
ssl, no Django.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import ssl
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_NAME = "Mail Settings Portal Demo CA"
SESSION_SECONDS = 30  # a connection's whole life
MAX_COMMANDS = 20  # per connection: the probe needs five
LINE_LIMIT = 1024

CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)

LEAF_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)

# port -> (protocol, security as in the sheets: how TLS starts)
CURRENT_SERVICES: Mapping[int, tuple[str, str]] = {
    110: ("pop3", "starttls"),
    995: ("pop3", "ssl"),
    143: ("imap", "starttls"),
    993: ("imap", "ssl"),
    25: ("smtp", "starttls"),
    587: ("smtp", "starttls"),
    465: ("smtp", "ssl"),
}
OLD_SERVICES: Mapping[int, tuple[str, str]] = {
    110: ("pop3", "none"),
    995: ("pop3", "ssl"),
    25: ("smtp", "none"),
    465: ("smtp", "ssl"),
}


@dataclass(frozen=True)
class DemoServer:
    address: str
    names: tuple[str, ...]  # the demo's server names that lead to it
    cert_names: tuple[str, ...]  # the names its certificate carries
    days_left: int  # until its certificate expires; negative: expired
    services: Mapping[int, tuple[str, str]]
    old_tls: bool = False  # TLS 1.0 and 1.1 only
    login_before_tls: bool = False  # password login offered on the unencrypted connection


DEMO_SERVERS: tuple[DemoServer, ...] = (
    DemoServer(
        "127.0.0.11",
        ("mail.hosting.example", "mail.aaabb.co.jp"),
        ("mail.hosting.example",),
        days_left=365,
        services=CURRENT_SERVICES,
    ),
    DemoServer(
        "127.0.0.12",
        ("mail2.hosting.example",),
        ("mail2.hosting.example",),
        days_left=20,
        services=CURRENT_SERVICES,
    ),
    DemoServer(
        "127.0.0.13",
        ("pop.hosting.example", "smtp.hosting.example"),
        ("pop.hosting.example", "smtp.hosting.example"),
        days_left=-40,
        services=OLD_SERVICES,
        old_tls=True,
        login_before_tls=True,
    ),
)


def demo_resolve() -> dict[str, str]:
    """Each demo server name -> the loopback address its responder listens on."""
    return {name: server.address for server in DEMO_SERVERS for name in server.names}


def demo_ports(low_ports_allowed: bool) -> dict[int, int]:
    """The port map: none when the real port numbers can be bound, else 10000 + port."""
    if low_ports_allowed:
        return {}
    ports = sorted({port for server in DEMO_SERVERS for port in server.services})
    return {port: 10000 + port for port in ports}


def demo_env(directory: Path, ports: Mapping[int, int]) -> list[str]:
    """The .env lines that point the probes at the demo's servers."""
    lines = [
        "# The demo's mail servers (python manage.py demo_mailservers, started by make run).",
        "# Remove these lines, keeping this comment, to probe the real servers instead.",
        "PROBE_RESOLVE=" + ",".join(f"{name}={ip}" for name, ip in demo_resolve().items()),
        f"PROBE_CA_FILE={ca_path(directory)}",
    ]
    if ports:
        lines.append("PROBE_PORT_MAP=" + ",".join(f"{a}={b}" for a, b in sorted(ports.items())))
    return lines


# Certificates


def ca_path(directory: Path) -> Path:
    return directory / "ca.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ca_certificate(
    name: str, key: ec.EllipticCurvePrivateKey, now: dt.datetime
) -> x509.Certificate:
    """A CA certificate (self-signed, ten years) for `key`: the demo's, and the tests'."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def leaf_certificate(
    key: ec.EllipticCurvePrivateKey,
    names: tuple[str, ...],
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """A server certificate for `names` (the first also its common name), signed by the
    issuer's key (its own, for a self-signed one)."""
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .add_extension(LEAF_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def ca_ensure(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The demo CA, made on first use and kept, so a running worker keeps trusting it."""
    cert_file, key_file = ca_path(directory), directory / "ca.key"
    if cert_file.exists() and key_file.exists():
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=30):
            return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca_certificate(CA_NAME, key, dt.datetime.now(dt.UTC))
    key_file.write_bytes(_key_pem(key))
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def server_certificate(
    server: DemoServer, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for a server, issued by the demo CA, valid for a year
    up to `days_left` from now."""
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=server.days_left, hours=12)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = leaf_certificate(
        key, server.cert_names, ca.subject, ca_key, not_after - dt.timedelta(days=365), not_after
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def server_context(server: DemoServer, directory: Path) -> ssl.SSLContext:
    ca, ca_key = ca_ensure(directory)
    cert_pem, key_pem = server_certificate(server, ca, ca_key)
    cert_file, key_file = directory / f"{server.address}.pem", directory / f"{server.address}.key"
    key_file.touch(0o600)
    key_file.write_bytes(key_pem)
    cert_file.write_bytes(cert_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    if server.old_tls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # old on purpose
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


# Conversations: the server's half of what checks.dialogs says


class Responder(ABC):
    """One connection: greet, answer command lines, start TLS when asked, say goodbye."""

    def __init__(
        self,
        server: DemoServer,
        security: str,
        context: ssl.SSLContext,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server, self.security, self.context = server, security, context
        self.reader, self.writer = reader, writer
        self.tls = security == "ssl"  # the handshake was made before the greeting
        self.name = server.cert_names[0]

    async def serve(self) -> None:
        try:
            async with asyncio.timeout(SESSION_SECONDS):
                await self.send(*self.greeting())
                for _ in range(MAX_COMMANDS):
                    raw = await self.reader.readline()
                    if not raw.endswith(b"\n"):
                        return  # the client left
                    if not await self.answer(raw.decode("ascii", "replace").strip()):
                        return
        except (TimeoutError, ValueError, ConnectionError, ssl.SSLError):
            return  # a client that stalls, floods or drops is simply let go
        finally:
            self.writer.transport.abort()

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(line + "\r\n" for line in lines).encode())
        await self.writer.drain()

    async def upgrade(self) -> None:
        await self.writer.start_tls(self.context, ssl_handshake_timeout=10)
        self.tls = True

    def starttls_offered(self) -> bool:
        return self.security == "starttls" and not self.tls

    def login_offered(self) -> bool:
        return self.tls or self.server.login_before_tls

    @abstractmethod
    def greeting(self) -> tuple[str, ...]: ...

    @abstractmethod
    async def answer(self, line: str) -> bool:
        """Answer one command; False ends the connection."""


class Pop3Responder(Responder):
    def greeting(self) -> tuple[str, ...]:
        return ("+OK demo POP3 server ready.",)

    async def answer(self, line: str) -> bool:
        command = line.split(" ", 1)[0].upper()
        if command == "CAPA":
            capabilities = ["TOP", "UIDL", "RESP-CODES", "PIPELINING"]
            if self.starttls_offered():
                capabilities.append("STLS")
            if self.login_offered():
                capabilities += ["USER", "SASL PLAIN"]
            await self.send("+OK", *capabilities, ".")
        elif command == "STLS" and self.starttls_offered():
            await self.send("+OK Begin TLS negotiation now.")
            await self.upgrade()
        elif command == "QUIT":
            await self.send("+OK Logging out.")
            return False
        else:
            await self.send("-ERR The demo server takes no logins.")
        return True


class ImapResponder(Responder):
    def greeting(self) -> tuple[str, ...]:
        return ("* OK demo IMAP server ready.",)

    async def answer(self, line: str) -> bool:
        tag, _, rest = line.partition(" ")
        command = rest.split(" ", 1)[0].upper()
        if command == "CAPABILITY":
            capabilities = ["IMAP4rev1", "LITERAL+", "ID", "IDLE"]
            if self.starttls_offered():
                capabilities.append("STARTTLS")
            capabilities.append("AUTH=PLAIN" if self.login_offered() else "LOGINDISABLED")
            await self.send("* CAPABILITY " + " ".join(capabilities), f"{tag} OK Done.")
        elif command == "STARTTLS" and self.starttls_offered():
            await self.send(f"{tag} OK Begin TLS negotiation now.")
            await self.upgrade()
        elif command == "LOGOUT":
            await self.send("* BYE Logging out.", f"{tag} OK Done.")
            return False
        else:
            await self.send(f"{tag} NO The demo server takes no logins.")
        return True


class SmtpResponder(Responder):
    def greeting(self) -> tuple[str, ...]:
        return (f"220 {self.name} ESMTP demo",)

    async def answer(self, line: str) -> bool:
        command = line.split(" ", 1)[0].upper()
        if command == "EHLO":
            extensions = ["PIPELINING", "SIZE 10240000"]
            if self.starttls_offered():
                extensions.append("STARTTLS")
            if self.login_offered():
                extensions.append("AUTH PLAIN LOGIN")
            extensions += ["ENHANCEDSTATUSCODES", "8BITMIME"]
            lines = [self.name, *extensions]
            await self.send(*(f"250-{text}" for text in lines[:-1]), f"250 {lines[-1]}")
        elif command == "HELO":
            await self.send(f"250 {self.name}")
        elif command == "STARTTLS" and self.starttls_offered():
            await self.send("220 2.0.0 Ready to start TLS")
            await self.upgrade()
        elif command == "QUIT":
            await self.send("221 2.0.0 Bye")
            return False
        else:
            await self.send("502 5.5.2 The demo server takes no mail.")
        return True


RESPONDERS: dict[str, type[Responder]] = {
    "pop3": Pop3Responder,
    "imap": ImapResponder,
    "smtp": SmtpResponder,
}


# Serving


def _quiet(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Failed handshakes are the point (the probe tries every TLS version): not errors."""
    if isinstance(context.get("exception"), (ssl.SSLError, ConnectionError, TimeoutError)):
        return
    loop.default_exception_handler(context)


async def _connected(
    server: DemoServer,
    protocol: str,
    security: str,
    context: ssl.SSLContext,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    try:
        await RESPONDERS[protocol](server, security, context, reader, writer).serve()
    except asyncio.CancelledError:
        # Stopping with connections open: Python 3.11's stream callback would report a
        # cancelled handler as an error.
        return


async def demo_servers_start(
    directory: Path,
    ports: Mapping[int, int] | None = None,
    servers: Iterable[DemoServer] = DEMO_SERVERS,
) -> list[asyncio.Server]:
    """Listen for every server (the demo's, unless others are given: bench/load.py's) on
    every one of its ports (through `ports`, the port map, when given). Raises OSError
    when an address or port cannot be bound."""
    asyncio.get_running_loop().set_exception_handler(_quiet)
    ports = ports or {}
    listening: list[asyncio.Server] = []
    try:
        for server in servers:
            context = server_context(server, directory)
            for port, (protocol, security) in server.services.items():
                listening.append(
                    await asyncio.start_server(
                        functools.partial(_connected, server, protocol, security, context),
                        server.address,
                        ports.get(port, port),
                        ssl=context if security == "ssl" else None,
                        ssl_handshake_timeout=10 if security == "ssl" else None,
                        limit=LINE_LIMIT,
                        reuse_address=True,
                    )
                )
    except BaseException:
        for listener in listening:
            listener.close()
        raise
    return listening


async def demo_servers_serve(
    directory: Path,
    ports: Mapping[int, int] | None = None,
    ready_file: Path | None = None,
    servers: Iterable[DemoServer] = DEMO_SERVERS,
) -> None:
    """Serve until cancelled; `ready_file` exists while every server listens."""
    listening = await demo_servers_start(directory, ports, servers)
    try:
        if ready_file is not None:
            ready_file.write_text("ready\n")
        await asyncio.Event().wait()
    finally:
        if ready_file is not None:
            with contextlib.suppress(OSError):
                ready_file.unlink()
        for listener in listening:
            listener.close()
