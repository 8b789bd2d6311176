"""Probing one mail endpoint: connect, read the greeting and capabilities, do
STARTTLS or implicit TLS, read the certificate, learn which TLS versions the
endpoint accepts. Plain asyncio and ssl, no Django.

Every outcome is a ProbeResult, never an exception: each connection's whole
exchange has a deadline, every read its own timeout and a byte cap, and no
credentials are ever sent. The certificate's verdicts (trusted, expired, name)
are fields, so the certificate is read even when it would fail verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import socket
import ssl
import time
import warnings
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from ipaddress import ip_address

from cryptography import x509
from cryptography.x509.oid import NameOID

from checks.dialogs import DIALOGS, Dialog, ProbeFailure

PROTOCOLS = ("pop3", "imap", "smtp")
SECURITIES = ("ssl", "starttls", "none")
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
BANNER_LENGTH = 200
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: the chain is judged apart from the dates,
# which have their own fields (expired, days_left).
NO_CHECK_TIME = 0x200000


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    protocol: str
    security: str


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 10.0  # one connection's whole exchange
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    max_bytes: int = 64 * 1024  # read from one connection at most
    ca_file: str | None = None  # added to the system store
    resolve: Mapping[str, str] = field(default_factory=dict)  # host -> IP, like curl --resolve
    # port -> the port actually connected to (the demo's servers without root); the
    # result still names the endpoint's own port.
    port_map: Mapping[int, int] = field(default_factory=dict)
    check_versions: bool = True
    retries: int = 1  # a refused or timed-out connection is tried again this many times
    retry_delay: float = 1.0
    client_name: str = "mail-settings-portal.invalid"  # our EHLO name


@dataclass(frozen=True)
class CertificateInfo:
    subject_cn: str | None
    sans: tuple[str, ...]
    issuer: str
    not_before: datetime
    not_after: datetime
    days_left: int
    expired: bool
    trusted: bool
    hostname_match: bool


@dataclass(frozen=True)
class ProbeResult:
    host: str
    port: int
    protocol: str
    security: str
    reachable: bool
    error: str | None = None
    error_message: str | None = None
    banner: str | None = None
    starttls_offered: bool | None = None
    tls_version: str | None = None
    cipher: str | None = None
    tls_versions_accepted: tuple[str, ...] | None = None
    certificate: CertificateInfo | None = None
    plaintext_auth_before_tls: bool | None = None
    elapsed_ms: int = 0

    def as_dict(self) -> dict:
        """JSON-ready: dates as ISO 8601, tuples as lists."""
        data = asdict(self)
        if self.tls_versions_accepted is not None:
            data["tls_versions_accepted"] = list(self.tls_versions_accepted)
        if self.certificate is not None:
            cert = data["certificate"]
            cert["sans"] = list(self.certificate.sans)
            cert["not_before"] = self.certificate.not_before.isoformat()
            cert["not_after"] = self.certificate.not_after.isoformat()
        return data


class TlsFailure(Exception):
    """The TLS handshake failed; `verify` when only the certificate check failed."""

    def __init__(self, message: str, *, verify: bool = False) -> None:
        super().__init__(message)
        self.verify = verify
        self.seen: Exchange | None = None


# TLS contexts


@lru_cache(maxsize=32)
def tls_context(
    *, verify: bool, legacy: bool, ca_file: str | None = None, version: str | None = None
) -> ssl.SSLContext:
    """A client context. The host name is never checked here (hostname_match is a
    field of its own); `legacy` lowers this side's security level so that OpenSSL
    will speak TLS 1.0 and 1.1 — used only for the attempts that need it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    if verify:
        context.load_default_certs()
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
        context.verify_flags |= NO_CHECK_TIME
    else:
        context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1.1 are, on purpose
        if legacy:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
        if version:
            tls_version = ssl.TLSVersion[version.replace(".", "_")]
            context.minimum_version = context.maximum_version = tls_version
    return context


# Certificates


def hostname_matches(host: str, dns_names: Iterable[str], ip_names: Iterable[str]) -> bool:
    """RFC 6125: exact names, or a wildcard as the whole left-most label."""
    host = host.lower().rstrip(".")
    try:
        address = ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(ip_address(name) == address for name in ip_names)
    for name in dns_names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == name[2:]:
                return True
    return False


def certificate_info(der: bytes, host: str, *, trusted: bool) -> CertificateInfo:
    cert = x509.load_der_x509_certificate(der)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject_cn = str(names[0].value) if names else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        ip_names = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns_names, ip_names = [], []
    now = datetime.now(UTC)
    not_after = cert.not_valid_after_utc
    # Without any SAN, clients fall back to the CN.
    names_for_match = dns_names or ([subject_cn] if subject_cn and not ip_names else [])
    return CertificateInfo(
        subject_cn=subject_cn,
        sans=tuple(dns_names + ip_names),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        days_left=math.floor((not_after - now).total_seconds() / 86400),
        expired=now > not_after,
        trusted=trusted,
        hostname_match=hostname_matches(host, names_for_match, ip_names),
    )


# Connections


class Limiter:
    """Connections in flight: a bound overall and one per target address."""

    def __init__(self, total: int = 50, per_address: int = 4) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_address: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_address)
        )

    @contextlib.asynccontextmanager
    async def slot(self, address: str) -> AsyncIterator[None]:
        async with self._total, self._per_address[address]:
            yield


async def resolve(host: str, port: int, options: ProbeOptions) -> str:
    if host in options.resolve:
        return options.resolve[host]
    try:
        ip_address(host)
        return host
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(options.connect_timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (TimeoutError, OSError) as error:
        raise ProbeFailure("dns-failure", f"cannot resolve {host}: {error}") from None
    if not infos:
        raise ProbeFailure("dns-failure", f"{host} has no address")
    return infos[0][4][0]


async def open_tcp(
    address: str, port: int, options: ProbeOptions
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        async with asyncio.timeout(options.connect_timeout):
            return await asyncio.open_connection(address, port, limit=8192)
    except TimeoutError:
        raise ProbeFailure(
            "timeout", f"no answer to connect within {options.connect_timeout:g} s"
        ) from None
    except ConnectionRefusedError:
        raise ProbeFailure("refused", "connection refused") from None
    except OSError as error:
        code = (
            "unreachable" if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH) else "refused"
        )
        raise ProbeFailure(code, error.strerror or str(error)) from None


async def start_tls(
    writer: asyncio.StreamWriter, context: ssl.SSLContext, host: str, options: ProbeOptions
) -> ssl.SSLObject:
    server_name = None if _is_ip(host) else host
    try:
        await writer.start_tls(
            context, server_hostname=server_name, ssl_handshake_timeout=options.read_timeout
        )
    except ssl.SSLCertVerificationError as error:
        raise TlsFailure(error.verify_message or str(error), verify=True) from None
    except ssl.SSLError as error:
        raise TlsFailure(error.reason or str(error)) from None
    except ConnectionAbortedError as error:
        # asyncio reports its own handshake timeout this way.
        if "taking longer" in str(error):
            raise ProbeFailure("timeout", "TLS handshake timed out") from None
        raise TlsFailure(str(error)) from None
    except (ConnectionError, EOFError) as error:
        raise TlsFailure(f"connection closed during the TLS handshake ({error!r})") from None
    ssl_object = writer.get_extra_info("ssl_object")
    if ssl_object is None:
        raise TlsFailure("no TLS session")
    return ssl_object


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class Exchange:
    """What one connection learned."""

    reachable: bool = False
    banner: str | None = None
    starttls_offered: bool | None = None
    plaintext_auth: bool | None = None
    tls_version: str | None = None
    cipher: str | None = None
    der: bytes | None = None


async def exchange(
    endpoint: Endpoint,
    address: str,
    options: ProbeOptions,
    limiter: Limiter,
    context: ssl.SSLContext | None,
    seen: Exchange,
) -> None:
    """One connection: greeting, capabilities, TLS (with `context`), polite goodbye.

    Fills `seen` as it goes, so a failure half-way still tells what was learned.
    """
    async with limiter.slot(address):
        try:
            async with asyncio.timeout(options.timeout):
                await _converse(endpoint, address, options, context, seen)
        except TimeoutError:
            raise ProbeFailure(
                "timeout", f"no complete exchange within {options.timeout:g} s"
            ) from None


async def _converse(
    endpoint: Endpoint,
    address: str,
    options: ProbeOptions,
    context: ssl.SSLContext | None,
    seen: Exchange,
) -> None:
    reader, writer = await open_tcp(
        address, options.port_map.get(endpoint.port, endpoint.port), options
    )
    seen.reachable = True
    dialog: Dialog = DIALOGS[endpoint.protocol](reader, writer, options)
    try:
        if endpoint.security == "ssl":
            await _secure(dialog, writer, context, endpoint.host, options, seen)
            seen.banner = _clean(await dialog.greet())
        else:
            seen.banner = _clean(await dialog.greet())
            capabilities = await dialog.capabilities()
            seen.starttls_offered = dialog.offers_starttls(capabilities)
            seen.plaintext_auth = dialog.offers_plaintext_auth(capabilities)
            if endpoint.security == "starttls":
                if not seen.starttls_offered:
                    raise ProbeFailure("starttls-not-offered", "the server does not offer STARTTLS")
                await dialog.starttls()
                await _secure(dialog, writer, context, endpoint.host, options, seen)
                await dialog.after_tls()
        await dialog.quit()
    finally:
        writer.transport.abort()


async def _secure(
    dialog: Dialog,
    writer: asyncio.StreamWriter,
    context: ssl.SSLContext | None,
    host: str,
    options: ProbeOptions,
    seen: Exchange,
) -> None:
    assert context is not None
    ssl_object = await start_tls(writer, context, host, options)
    seen.tls_version = ssl_object.version()
    cipher = ssl_object.cipher()
    seen.cipher = cipher[0] if cipher else None
    seen.der = ssl_object.getpeercert(binary_form=True)


def _clean(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return printable.strip()[:BANNER_LENGTH]


async def exchange_with_retry(
    endpoint: Endpoint,
    address: str,
    options: ProbeOptions,
    limiter: Limiter,
    context: ssl.SSLContext | None,
) -> Exchange:
    """Mail servers drop and refuse scanners now and then: a refusal or timeout
    before anything was said is tried again before it counts."""
    attempt = 0
    while True:
        seen = Exchange()
        try:
            await exchange(endpoint, address, options, limiter, context, seen)
            return seen
        except (TlsFailure, ProbeFailure) as failure:
            failure.seen = seen
            again = (
                isinstance(failure, ProbeFailure)
                and failure.code in ("refused", "timeout")
                and seen.banner is None
            )
            if not again or attempt >= options.retries:
                raise
        attempt += 1
        await asyncio.sleep(options.retry_delay)


# The probe


async def probe_endpoint(
    endpoint: Endpoint, options: ProbeOptions | None = None, limiter: Limiter | None = None
) -> ProbeResult:
    options = options or ProbeOptions()
    limiter = limiter or Limiter()
    started = time.monotonic()
    result = ProbeResult(endpoint.host, endpoint.port, endpoint.protocol, endpoint.security, False)
    try:
        address = await resolve(endpoint.host, endpoint.port, options)
        result = await _probe(endpoint, address, options, limiter, result)
    except ProbeFailure as failure:
        result = replace(result, error=failure.code, error_message=failure.message)
    except Exception as error:  # a probe reports; it never takes a worker down
        result = replace(result, error="protocol-error", error_message=f"unexpected: {error!r}")
    return replace(result, elapsed_ms=round((time.monotonic() - started) * 1000))


async def _probe(
    endpoint: Endpoint, address: str, options: ProbeOptions, limiter: Limiter, result: ProbeResult
) -> ProbeResult:
    trusted = None
    try:
        if endpoint.security == "none":
            seen = await exchange_with_retry(endpoint, address, options, limiter, None)
        else:
            seen, trusted = await _tls_exchange(endpoint, address, options, limiter)
    except TlsFailure as failure:
        result = _learned(result, failure.seen, None)
        return replace(result, error="tls-handshake-failed", error_message=str(failure))
    except ProbeFailure as failure:
        result = _learned(result, failure.seen, failure.trusted)
        return replace(result, error=failure.code, error_message=failure.message)
    result = _learned(result, seen, trusted)
    if endpoint.security != "none" and options.check_versions:
        versions = await accepted_versions(endpoint, address, options, limiter)
        result = replace(result, tls_versions_accepted=versions)
    return result


async def _tls_exchange(
    endpoint: Endpoint, address: str, options: ProbeOptions, limiter: Limiter
) -> tuple[Exchange, bool]:
    """The exchange with the best TLS settings, and whether the chain is trusted.

    When verification is what fails, the same exchange is made again without it
    to read the certificate. When the handshake itself fails, the endpoint may
    speak only TLS 1.0/1.1: it is tried again with this side's security lowered.
    """
    first_failure = None
    for legacy in (False, True):

        def context(verify: bool, legacy: bool = legacy) -> ssl.SSLContext:
            return tls_context(verify=verify, legacy=legacy, ca_file=options.ca_file)

        try:
            return await exchange_with_retry(
                endpoint, address, options, limiter, context(True)
            ), True
        except ProbeFailure as failure:
            failure.trusted = True  # the verified handshake was made; what came after failed
            raise
        except TlsFailure as failure:
            if failure.verify:
                try:
                    seen = await exchange_with_retry(
                        endpoint, address, options, limiter, context(False)
                    )
                except ProbeFailure as failure:
                    failure.trusted = False
                    raise
                return seen, False
            first_failure = first_failure or failure
    raise first_failure


def _learned(result: ProbeResult, seen: Exchange | None, trusted: bool | None) -> ProbeResult:
    """The result with what a connection learned, the certificate included."""
    if seen is None:
        return result
    certificate = None
    if seen.der:
        certificate = certificate_info(seen.der, result.host, trusted=bool(trusted))
    return replace(
        result,
        certificate=certificate,
        reachable=seen.reachable,
        banner=seen.banner,
        starttls_offered=seen.starttls_offered if result.security != "ssl" else None,
        plaintext_auth_before_tls=seen.plaintext_auth if result.security != "ssl" else None,
        tls_version=seen.tls_version,
        cipher=seen.cipher,
    )


async def accepted_versions(
    endpoint: Endpoint, address: str, options: ProbeOptions, limiter: Limiter
) -> tuple[str, ...] | None:
    """Each TLS version tried on a connection of its own; None when any attempt
    could not be made (a refused or dropped connection is not a 'no')."""
    accepted = []
    for version in TLS_VERSIONS:
        context = tls_context(verify=False, legacy=version in ("TLSv1", "TLSv1.1"), version=version)
        try:
            await exchange_with_retry(endpoint, address, options, limiter, context)
        except TlsFailure:
            continue
        except ProbeFailure:
            return None
        accepted.append(version)
    return tuple(accepted)


async def probe_many(
    endpoints: Iterable[Endpoint],
    options: ProbeOptions | None = None,
    *,
    total: int = 50,
    per_address: int = 4,
) -> list[ProbeResult]:
    """Probe endpoints concurrently, never more than `per_address` connections to one address."""
    limiter = Limiter(total, per_address)
    return list(await asyncio.gather(*(probe_endpoint(e, options, limiter) for e in endpoints)))
