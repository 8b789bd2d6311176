"""Small servers on 127.0.0.1 that misbehave the ways real mail servers and
networks do: silent, trickling, garbage, resets mid-handshake, over-long lines,
and a POP3S server that speaks only TLS 1.0/1.1."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class TcpServer:
    """Accepts connections on 127.0.0.1 and hands each to `handle` in a thread."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.handle = handle
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


def silent(conn: socket.socket) -> None:
    time.sleep(30)


def trickle(conn: socket.socket) -> None:
    for _ in range(200):
        conn.sendall(b"+")
        time.sleep(0.2)


def garbage(conn: socket.socket) -> None:
    conn.sendall(b"\x16\x03\x01\x00\x05hello garbage \xff\xfe\r\n")
    time.sleep(2)


def endless_line(conn: socket.socket) -> None:
    conn.sendall(b"+OK " + b"A" * 200_000)
    time.sleep(2)


def reset_after_hello(conn: socket.socket) -> None:
    conn.recv(4096)  # the ClientHello
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(
    directory: Path, name: str, *, sans: list[str] | None = None, organization: str | None = None
) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (its CN; also its only SAN unless `sans` are
    given). Values are written as given, however long or strange: servers do that."""
    key = ec.generate_private_key(ec.SECP256R1())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # over-long names, on purpose
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name, _validate=False)]
        if organization is not None:
            attributes.append(
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization, _validate=False)
            )
    subject = x509.Name(attributes)
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName(n) for n in (sans if sans is not None else [name])]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    stem = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in name)[:60]
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def pop3s(cert: Path, key: Path, banner: bytes, *, legacy: bool = False) -> TcpServer:
    """Implicit-TLS POP3 with this certificate and greeting; `legacy`: TLS 1.0/1.1 only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if legacy:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            tls.sendall(banner + b"\r\n")
            while data := tls.recv(1024):
                if data.upper().startswith(b"QUIT"):
                    tls.sendall(b"+OK bye\r\n")
                    return

    return TcpServer(handle)


def legacy_pop3s(directory: Path) -> TcpServer:
    """Implicit-TLS POP3 that accepts only TLS 1.0 and 1.1, like an old appliance."""
    cert, key = self_signed(directory, "old-appliance.example")
    return pop3s(cert, key, b"+OK old appliance ready", legacy=True)


def hostile_pop3s(directory: Path) -> TcpServer:
    """Implicit-TLS POP3 whose greeting and certificate hold what no database column or
    terminal should take: NUL, escape sequences, a bell, over-long names, 300 SANs."""
    cert, key = self_signed(
        directory,
        "mail\x00\x1b[2J.hostile.example" + "x" * 300,
        sans=[
            "mail.hostile.example\x00.evil.example",
            "\x1b]0;owned\x07.hostile.example",
            *(f"n{i}.hostile.example" for i in range(300)),
        ],
        organization="Evil\x00\x1b[31m Corp " + "o" * 600,
    )
    return pop3s(cert, key, b"+OK \x00\x1b[31mhostile\x07 ready\x7f")
