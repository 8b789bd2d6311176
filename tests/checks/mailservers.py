"""Real mail servers for tests: Dovecot (POP3, IMAP) and Postfix (SMTP) on loopback addresses.

Every certificate case listens on its own loopback address, each service on a free high port
chosen at start-up; the client connects from 127.0.0.1, so Dovecot never takes it for a local
(trusted, "secured") connection:

========== =========== ===================================================================
case       address     services
========== =========== ===================================================================
good       127.0.0.2   pop3, pop3s, imap, imaps, submission, smtps (certificate signed by
                       the test CA)
expired    127.0.0.3   same services, expired certificate signed by the test CA
selfsigned 127.0.0.4   same services, self-signed certificate
plain      127.0.0.5   pop3, imap, smtp: no TLS at all, password login offered in the clear
========== =========== ===================================================================

With TLS, plaintext login is offered only after STARTTLS/STLS (Dovecot
``disable_plaintext_auth = yes``, IMAP advertises LOGINDISABLED; Postfix
``smtpd_tls_auth_only = yes``, AUTH advertised only after STARTTLS). The TLS services accept
TLS 1.2 and 1.3 only; ``running_mail_servers(legacy_tls=True)`` starts servers that also
accept TLS 1.0 and 1.1, as an old server does.

One Dovecot instance runs per case (``dovecot -F -c CONFIG``) and one Postfix instance (its own
config, queue and data directories; ``master -c DIR -d`` in the foreground) serves all cases;
everything (certificates, configurations, sockets, logs) lives in one temporary directory.
The daemons must be started as root. Usage::

    with running_mail_servers() as servers:
        host, port = servers.address("good", "imaps")

The Debian packages come from ``tests/checks/install-mailservers.sh``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checks.demo_servers import ca_certificate, leaf_certificate

CERT_NAME = "mail.new.example"
DISCARD_DOMAIN = "discard.example"  # Postfix accepts mail to it and drops it
CA_NAME = "Mail Portal Test CA"

CASE_ADDRESSES: dict[str, str] = {
    "good": "127.0.0.2",
    "expired": "127.0.0.3",
    "selfsigned": "127.0.0.4",
    "plain": "127.0.0.5",
}
TLS_CASES = ("good", "expired", "selfsigned")
TLS_SERVICES = ("pop3", "pop3s", "imap", "imaps", "submission", "smtps")
PLAIN_SERVICES = ("pop3", "imap", "smtp")
# Services whose TLS starts at once (the greeting comes only after the handshake).
IMPLICIT_TLS_SERVICES = frozenset({"pop3s", "imaps", "smtps"})

DOVECOT = "/usr/sbin/dovecot"
POSTFIX = "/usr/sbin/postfix"
POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
REQUIRED_FILES = (
    DOVECOT,
    "/usr/lib/dovecot/pop3-login",
    "/usr/lib/dovecot/imap-login",
    POSTFIX,
    POSTFIX_MASTER,
    "/usr/lib/postfix/sbin/smtpd",
)
INSTALL_SCRIPT = Path(__file__).with_name("install-mailservers.sh")

START_TIMEOUT = 20.0  # seconds for every listener to greet

# Mailboxes the servers accept (Dovecot's passdb; Postfix's SMTP AUTH asks Dovecot): for
# tests that log in for real and read what the servers logged.
TEST_LOGINS: dict[str, str] = {
    "info@alpha.example": "test-password-1",
    "sales": "test-password-2",
}
# TLS 1.0 and 1.1 sign the handshake with SHA-1 (and MD5), which OpenSSL 3 allows only at
# security level 0: the cipher list of servers that accept them (legacy_tls), and of a
# client that speaks them. (Debian's /etc/ssl/openssl.cnf sets no MinProtocol.)
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"

# The login line the README recommends (adds the local port and the TLS protocol); the
# TLS cases use it, "plain" keeps Dovecot's default.
RECOMMENDED_LOGIN_FORMAT = (
    "user=<%u> method=%m rip=%r lip=%l lport=%{lport} mpid=%e %c %k session=<%{session}>"
)


class MailServersUnavailable(RuntimeError):
    """The Dovecot/Postfix programs are not installed, or we may not start them."""


class MailServersStartError(RuntimeError):
    """A daemon did not come up; the message carries the tail of its logs."""


@dataclass(frozen=True)
class MailServers:
    ca_file: Path  # the test CA's PEM
    cert_name: str  # "mail.new.example"
    addresses: Mapping[tuple[str, str], tuple[str, int]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    workdir: Path | None = field(default=None, compare=False)  # configurations and daemon logs
    legacy_tls: bool = False  # the TLS services also accept TLS 1.0 and 1.1

    def address(self, case: str, service: str) -> tuple[str, int]:
        """(host, port) of a service, e.g. ``address("good", "imaps") == ("127.0.0.2", 40123)``.

        Raises KeyError for a combination that does not exist (e.g. ``("plain", "imaps")``).
        """
        try:
            return self.addresses[(case, service)]
        except KeyError:
            raise KeyError(
                f"no {service!r} service for case {case!r}; have "
                + ", ".join(f"{c}/{s}" for c, s in sorted(self.addresses))
            ) from None


# --------------------------------------------------------------------------- availability


def missing_programs() -> list[str]:
    return [path for path in REQUIRED_FILES if not os.access(path, os.X_OK)]


def ensure_installed(*, install: bool = True) -> None:
    """Raise MailServersUnavailable unless the servers can be started.

    When programs are missing and we are root, first run install-mailservers.sh.
    """
    if os.geteuid() != 0:
        raise MailServersUnavailable(
            "the test mail servers (Dovecot, Postfix) must be started as root"
        )
    missing = missing_programs()
    if not missing:
        return
    if not install:
        raise MailServersUnavailable(f"mail server programs missing: {', '.join(missing)}")
    result = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    missing = missing_programs()
    if result.returncode != 0 or missing:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise MailServersUnavailable(
            f"mail server programs missing ({', '.join(missing) or 'none'}) after running "
            f"{INSTALL_SCRIPT.name} (exit status {result.returncode})"
            + (f":\n{output}" if output else "")
        )


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class CertificateFiles:
    ca_cert: Path
    # case -> (certificate PEM, key PEM)
    leaves: dict[str, tuple[Path, Path]]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o644)


def make_certificates(directory: Path) -> CertificateFiles:
    """A test CA and, for mail.new.example, a good, an expired and a self-signed certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    day = dt.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = ca_certificate(CA_NAME, ca_key, now)
    ca_file = directory / "ca.pem"
    _write_cert(ca_file, ca_cert)
    _write_key(directory / "ca.key", ca_key)

    leaves: dict[str, tuple[Path, Path]] = {}
    for case, not_before, not_after in (
        ("good", now - day, now + 365 * day),
        ("expired", now - 400 * day, now - 10 * day),
        ("selfsigned", now - day, now + 365 * day),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        if case == "selfsigned":
            cert = leaf_certificate(key, (CERT_NAME,), _name(CERT_NAME), key, not_before, not_after)
        else:
            cert = leaf_certificate(
                key, (CERT_NAME,), ca_cert.subject, ca_key, not_before, not_after
            )
        cert_file, key_file = directory / f"{case}.pem", directory / f"{case}.key"
        _write_cert(cert_file, cert)
        _write_key(key_file, key)
        leaves[case] = (cert_file, key_file)
    return CertificateFiles(ca_file, leaves)


# --------------------------------------------------------------------------- configuration


def _free_ports(host: str, count: int) -> list[int]:
    """Distinct free TCP ports on host (the sockets stay open until all are chosen)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _assign_ports() -> dict[tuple[str, str], tuple[str, int]]:
    addresses = {}
    for case, host in CASE_ADDRESSES.items():
        services = PLAIN_SERVICES if case == "plain" else TLS_SERVICES
        for service, port in zip(services, _free_ports(host, len(services)), strict=True):
            addresses[(case, service)] = (host, port)
    return addresses


def _dovecot_config(
    workdir: Path,
    case: str,
    addresses: Mapping[tuple[str, str], tuple[str, int]],
    certs: CertificateFiles,
    legacy_tls: bool = False,
) -> Path:
    home = workdir / f"dovecot-{case}"
    run = home / "run"  # base_dir: keep it short, unix socket paths are limited to 107 bytes
    for sub in ("run", "state", "mail"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.chown(home / "mail", "dovecot", "dovecot")  # the userdb's user writes the mail
    (home / "users").write_text(
        "dummy:{PLAIN}not-a-real-password::::::\n"
        + "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in TEST_LOGINS.items())
    )
    host = CASE_ADDRESSES[case]
    tls = case != "plain"

    def port(service: str) -> int:
        return addresses[(case, service)][1] if (case, service) in addresses else 0

    if tls:
        cert_file, key_file = certs.leaves[case]
        protocols = (
            f"ssl_min_protocol = TLSv1\nssl_cipher_list = {LEGACY_CIPHERS}"
            if legacy_tls
            else "ssl_min_protocol = TLSv1.2"
        )
        ssl_settings = f"""\
ssl = yes
ssl_cert = <{cert_file}
ssl_key = <{key_file}
{protocols}
disable_plaintext_auth = yes
login_log_format_elements = {RECOMMENDED_LOGIN_FORMAT}
"""
    else:
        ssl_settings = """\
ssl = no
disable_plaintext_auth = no
"""
    config = f"""\
# Test instance "{case}" written by tests/checks/mailservers.py
instance_name = mailtest-{case}
base_dir = {run}
state_dir = {home / "state"}
log_path = {workdir / f"dovecot-{case}.log"}
info_log_path = {workdir / f"dovecot-{case}.log"}
protocols = pop3 imap
listen = {host}
{ssl_settings}
auth_mechanisms = plain login
# Connections from these networks would count as secured (plaintext login offered): none.
login_trusted_networks =
login_greeting = Dovecot ({case}) ready.
auth_verbose = yes
mail_location = maildir:{home / "mail"}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {home / "users"}
}}
# The static userdb's user (dovecot) has a system uid: let test logins open their mail.
first_valid_uid = 1
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={home / "mail"}/%u
}}
# Listener names override the built-in ones (143, 993, 110, 995); port 0 disables one.
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port("imap")}
  }}
  inet_listener imaps {{
    address = {host}
    port = {port("imaps")}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {host}
    port = {port("pop3")}
  }}
  inet_listener pop3s {{
    address = {host}
    port = {port("pop3s")}
    ssl = yes
  }}
}}
# Postfix's SMTP AUTH asks this instance (smtpd runs as user postfix).
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
"""
    path = home / "dovecot.conf"
    path.write_text(config)
    return path


# Queue subdirectories, their group and mode (from /etc/postfix/postfix-files).
POSTFIX_QUEUE_DIRS = (
    *(
        (name, "root", 0o700)
        for name in (
            "active",
            "bounce",
            "corrupt",
            "defer",
            "deferred",
            "flush",
            "hold",
            "incoming",
            "private",
            "saved",
            "trace",
        )
    ),
    ("maildrop", "postdrop", 0o730),
    ("public", "postdrop", 0o710),
    ("pid", "root", 0o755),
)


def _make_dir(path: Path, owner: str, group: str, mode: int) -> None:
    path.mkdir(exist_ok=True)
    shutil.chown(path, owner, group)
    path.chmod(mode)


def _postfix_config(
    workdir: Path,
    addresses: Mapping[tuple[str, str], tuple[str, int]],
    certs: CertificateFiles,
    legacy_tls: bool = False,
) -> Path:
    home = workdir / "postfix"
    config_dir = home / "etc"
    config_dir.mkdir(parents=True, exist_ok=True)
    # Postfix insists on this ownership ("postfix check" below would create them too, but its
    # shell script takes two seconds to do so and a tenth of a second to verify them).
    _make_dir(home / "queue", "root", "root", 0o755)
    for name, group, mode in POSTFIX_QUEUE_DIRS:
        owner = "root" if name == "pid" else "postfix"
        _make_dir(home / "queue" / name, owner, group, mode)
    _make_dir(home / "data", "postfix", "postfix", 0o700)
    log = workdir / "postfix.log"
    protocols = (
        f"smtpd_tls_protocols = >=TLSv1\nsmtpd_tls_mandatory_protocols = >=TLSv1\n"
        # the list of smtpd_tls_ciphers and smtpd_tls_mandatory_ciphers (both "medium")
        f"tls_medium_cipherlist = {LEGACY_CIPHERS}"
        if legacy_tls
        else "smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2"
    )
    main_cf = f"""\
# Test instance written by tests/checks/mailservers.py
compatibility_level = 3.6
queue_directory = {home / "queue"}
data_directory = {home / "data"}
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {log}
maillog_file_prefixes = {workdir}
syslog_name = postfix-test

myhostname = {CERT_NAME}
mydomain = new.example
myorigin = $myhostname
mydestination =
relayhost =
relay_domains =
mynetworks = 127.0.0.1/32
# Every smtpd listener in master.cf names its own address; inet_interfaces must be an
# interface's address (127.0.0.2..5 are local but on no interface: "postfix check" would fail).
inet_interfaces = loopback-only
inet_protocols = ipv4
# Nothing may reach the network: no DNS, no outbound delivery.
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
default_transport = error:outbound mail is disabled in the test instance
relay_transport = error:outbound mail is disabled in the test instance
local_transport = error:local delivery is disabled in the test instance
# Except mail to discard.example, accepted and dropped (tests that send a message).
transport_maps = inline:{{ discard.example=discard: }}
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
smtpd_banner = $myhostname ESMTP Postfix (test)

smtpd_tls_security_level = none
smtpd_tls_loglevel = 1
# Like Dovecot's ssl_min_protocol: TLS 1.2 and 1.3 only (Postfix 3.7 also accepts 1.0 and 1.1),
# unless legacy_tls.
{protocols}
smtpd_sasl_auth_enable = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = {workdir / "dovecot-good" / "run" / "auth-postfix"}
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
"""

    def smtpd(case: str, service: str, *options: str) -> str:
        host, port = addresses[(case, service)]
        opts = " ".join(
            f"-o {option}" for option in (f"syslog_name=postfix-{case}/{service}", *options)
        )
        return f"{host}:{port} inet n - n - - smtpd {opts}"

    lines = [
        "# service type private unpriv chroot wakeup maxproc command",
    ]
    for case in TLS_CASES:
        cert_file, key_file = certs.leaves[case]
        tls = (f"smtpd_tls_cert_file={cert_file}", f"smtpd_tls_key_file={key_file}")
        lines.append(
            smtpd(
                case,
                "submission",
                *tls,
                "smtpd_tls_security_level=encrypt",
                "smtpd_sasl_auth_enable=yes",
                "smtpd_tls_auth_only=yes",
            )
        )
        lines.append(
            smtpd(
                case,
                "smtps",
                *tls,
                "smtpd_tls_wrappermode=yes",
                "smtpd_sasl_auth_enable=yes",
            )
        )
    lines.append(
        smtpd(
            "plain",
            "smtp",
            "smtpd_tls_security_level=none",
            "smtpd_sasl_auth_enable=yes",
            "smtpd_tls_auth_only=no",
            f"smtpd_sasl_path={workdir / 'dovecot-plain' / 'run' / 'auth-postfix'}",
        )
    )
    lines += [
        "pickup    unix  n       -       n       60      1       pickup",
        "cleanup   unix  n       -       n       -       0       cleanup",
        "qmgr      unix  n       -       n       300     1       qmgr",
        "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
        "rewrite   unix  -       -       n       -       -       trivial-rewrite",
        "bounce    unix  -       -       n       -       0       bounce",
        "defer     unix  -       -       n       -       0       bounce",
        "trace     unix  -       -       n       -       0       bounce",
        "verify    unix  -       -       n       -       1       verify",
        "flush     unix  n       -       n       1000?   0       flush",
        "proxymap  unix  -       -       n       -       -       proxymap",
        "proxywrite unix -       -       n       -       1       proxymap",
        "showq     unix  n       -       n       -       -       showq",
        "error     unix  -       -       n       -       -       error",
        "retry     unix  -       -       n       -       -       error",
        "discard   unix  -       -       n       -       -       discard",
        "anvil     unix  -       -       n       -       1       anvil",
        "scache    unix  -       -       n       -       1       scache",
        "postlog   unix-dgram n  -       n       -       1       postlogd",
    ]
    (config_dir / "main.cf").write_text(main_cf)
    (config_dir / "master.cf").write_text("\n".join(lines) + "\n")
    # Postfix programs wait (up to 2 s) until a configuration file is older than the current
    # second, lest they read a file still being written: backdate them.
    past = time.time() - 60
    for name in ("main.cf", "master.cf"):
        os.utime(config_dir / name, (past, past))
    return config_dir


# --------------------------------------------------------------------------- processes


# Kills the daemons' process groups and removes the work directory if the test process dies
# without stopping them (its stdin, a pipe from the test process, closes without "stop").
# (PR_SET_PDEATHSIG was tried: it stopped Dovecot but not Postfix's master.)
_WATCHDOG = """
import os, shutil, signal, sys, time
pgids = []
for line in sys.stdin:
    word, _, argument = line.strip().partition(" ")
    if word == "pgid":
        pgids.append(int(argument))
    elif word == "stop":
        sys.exit(0)
for sig in (signal.SIGTERM, signal.SIGKILL):
    for pgid in pgids:
        try:
            os.killpg(pgid, sig)
        except OSError:
            pass
    time.sleep(1.5)
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


class _Watchdog:
    def __init__(self, workdir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(workdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not hit by a Ctrl-C meant for pytest
            text=True,
        )

    def _say(self, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()

    def watch(self, pgid: int) -> None:
        self._say(f"pgid {pgid}")

    def stop(self) -> None:
        self._say("stop")
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class _Daemon:
    name: str
    process: subprocess.Popen
    logs: tuple[Path, ...]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"  ({exc})"
    return "\n".join("  " + line for line in text.splitlines()[-lines:]) or "  (empty)"


def _start(name: str, argv: list[str], workdir: Path, logs: tuple[Path, ...], env=None) -> _Daemon:
    out = workdir / f"{name}.out"
    with out.open("ab") as output:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=env,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    return _Daemon(name, process, (out, *logs))


def _stop(daemon: _Daemon, timeout: float = 10.0) -> None:
    process = daemon.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    # Children left behind in the daemon's own session (process group == its pid).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _stop_all(daemons: list[_Daemon], timeout: float = 10.0) -> None:
    """SIGTERM every daemon at once (Dovecot takes a second to shut down), then reap them."""
    for daemon in daemons:
        if daemon.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                daemon.process.send_signal(signal.SIGTERM)
    for daemon in daemons:
        with contextlib.suppress(Exception):
            _stop(daemon, timeout)


def _greets(host: str, port: int, implicit_tls: bool, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if implicit_tls:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                with context.wrap_socket(sock, server_hostname=CERT_NAME) as tls:
                    return bool(tls.recv(512))
            return bool(sock.recv(512))
    except (OSError, ssl.SSLError):
        return False


def _run_with_tty(argv: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    """Run a Postfix command; they print their errors only when stderr is a terminal."""
    import pty

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal
        )
        os.close(terminal)
        terminal = -1
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO once the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return process.wait(), b"".join(chunks).decode(errors="replace")
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)


def _check_postfix(config_dir: Path) -> None:
    """``postfix check`` creates the queue directories with the ownership Postfix insists on."""
    argv = [POSTFIX, "-c", str(config_dir), "check"]
    status, output = _run_with_tty(argv, {**os.environ, "MAIL_CONFIG": str(config_dir)})
    if status != 0:
        raise MailServersStartError(f"{' '.join(argv)} exited {status}:\n{output}")


def _wait_ready(
    daemons: list[_Daemon],
    addresses: Mapping[tuple[str, str], tuple[str, int]],
    timeout: float,
) -> None:
    pending = dict(addresses)
    deadline = time.monotonic() + timeout
    while pending:
        for daemon in daemons:
            if daemon.process.poll() is not None:
                raise MailServersStartError(
                    f"{daemon.name} exited with status {daemon.process.returncode}\n"
                    + _logs(daemons)
                )
        for key, (host, port) in list(pending.items()):
            patience = min(2.0, max(0.2, deadline - time.monotonic()))
            if _greets(host, port, key[1] in IMPLICIT_TLS_SERVICES, patience):
                del pending[key]
        if not pending:
            return
        if time.monotonic() > deadline:
            missing = ", ".join(f"{c}/{s} {h}:{p}" for (c, s), (h, p) in sorted(pending.items()))
            raise MailServersStartError(
                f"mail servers not greeting after {timeout:.0f}s: {missing}\n" + _logs(daemons)
            )
        time.sleep(0.1)


def _logs(daemons: list[_Daemon]) -> str:
    parts = []
    for daemon in daemons:
        for log in daemon.logs:
            if log.exists() and log.stat().st_size:
                parts.append(f"--- {daemon.name}: {log}\n{_tail(log)}")
    return "\n".join(parts)


@contextlib.contextmanager
def running_mail_servers(
    workdir: Path | None = None,
    *,
    timeout: float = START_TIMEOUT,
    keep_workdir: bool = False,
    legacy_tls: bool = False,
) -> Iterator[MailServers]:
    """Make certificates, start Dovecot and Postfix, yield MailServers, stop everything.

    With `legacy_tls` the TLS services also accept TLS 1.0 and 1.1.

    Raises MailServersUnavailable when the programs are missing or we are not root, and
    MailServersStartError (with the daemons' log tails) when a server does not come up.
    """
    if os.geteuid() != 0:
        raise MailServersUnavailable("the test mail servers must be started as root")
    missing = missing_programs()
    if missing:
        raise MailServersUnavailable(f"mail server programs missing: {', '.join(missing)}")

    own_workdir = workdir is None
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="mailsrv-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)  # the daemons' unprivileged users reach sockets and logs below it
    daemons: list[_Daemon] = []
    started = False
    watchdog = _Watchdog(workdir)

    def start(name: str, argv: list[str], log: Path, env: Mapping[str, str] | None = None) -> None:
        daemon = _start(name, argv, workdir, (log,), env)
        daemons.append(daemon)
        watchdog.watch(daemon.process.pid)

    try:
        certs = make_certificates(workdir / "certs")
        addresses = _assign_ports()
        for case in CASE_ADDRESSES:
            config = _dovecot_config(workdir, case, addresses, certs, legacy_tls)
            start(
                f"dovecot-{case}",
                [DOVECOT, "-F", "-c", str(config)],
                workdir / f"dovecot-{case}.log",
            )
        config_dir = _postfix_config(workdir, addresses, certs, legacy_tls)
        _check_postfix(config_dir)
        start(
            "postfix",
            [POSTFIX_MASTER, "-c", str(config_dir), "-d"],
            workdir / "postfix.log",
            {**os.environ, "MAIL_CONFIG": str(config_dir)},
        )
        _wait_ready(daemons, addresses, timeout)
        started = True
        yield MailServers(
            ca_file=certs.ca_cert,
            cert_name=CERT_NAME,
            addresses=MappingProxyType(addresses),
            workdir=workdir,
            legacy_tls=legacy_tls,
        )
    finally:
        _stop_all(daemons)
        watchdog.stop()
        # A start-up failure keeps the directory (its logs are named in the error message).
        if own_workdir and started and not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
