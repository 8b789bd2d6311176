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
from ipaddress import IPv4Address, IPv6Address, ip_address

from cryptography import x509
from cryptography.x509.oid import NameOID

from checks.dialogs import DIALOGS, Dialog, ProbeFailure
from checks.outcomes import NOT_ALLOWED

PROTOCOLS = ("pop3", "imap", "smtp")
SECURITIES = ("ssl", "starttls", "none")
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# What is kept of the values a server chooses (see result_cleaned).
BANNER_LENGTH = 200
MESSAGE_LENGTH = 300
NAME_LENGTH = 255  # a certificate's CN and each of its names
ISSUER_LENGTH = 500
MAX_SANS = 100
# The ports mail servers listen on (POP3, IMAP, SMTP with and without TLS): the only
# ones probes connect to unless told otherwise.
MAIL_PORTS = frozenset({110, 995, 143, 993, 25, 465, 587})
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
    ports: frozenset[int] = MAIL_PORTS  # the only ports probes connect to
    # Internal (loopback, private, ...) addresses probes may connect to all the same;
    # the addresses in `resolve` may be connected to too.
    allowed_addresses: frozenset[str] = frozenset()


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # over-long names are reported, not judged
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        issuer = cert.issuer.rfc4514_string()
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
        issuer=issuer,
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


def _kind_of_address(address: IPv4Address | IPv6Address) -> str | None:
    """What makes an address internal ("loopback", "private", ...); None for a public one."""
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def address_refusal(address: str, options: ProbeOptions) -> str | None:
    """Why probes may not connect to `address`, or None when they may.

    Internal addresses are refused, those hidden inside an IPv6 address too
    (IPv4-mapped, 6to4, Teredo), unless allowed or named in `resolve`.
    """
    try:
        parsed = ip_address(address)
    except ValueError:
        return f"{address} is not an IP address"
    if parsed in _parsed(options.allowed_addresses | set(options.resolve.values())):
        return None
    inside = [parsed]
    if isinstance(parsed, IPv6Address):
        inside = [parsed.ipv4_mapped, parsed.sixtofour, *(parsed.teredo or ()), parsed]
    for candidate in filter(None, inside):
        kind = _kind_of_address(candidate)
        if kind is not None:
            return f"{address} is a {kind} address that no registered server has"
    return None


def _parsed(addresses: Iterable[str]) -> set[IPv4Address | IPv6Address]:
    """The addresses, whatever their spelling (a malformed one is left out)."""
    found = set()
    for address in addresses:
        with contextlib.suppress(ValueError):
            found.add(ip_address(address))
    return found


async def resolve(host: str, port: int, options: ProbeOptions) -> str:
    """The address to connect to: from `resolve`, else the first of the name's
    addresses that probes may connect to (ProbeFailure NOT_ALLOWED when none is)."""
    if port not in options.ports:
        raise ProbeFailure(NOT_ALLOWED, f"port {port} is not one of the mail ports probed")
    if host in options.resolve:
        return options.resolve[host]
    if _is_ip(host):
        addresses = [host]
    else:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(options.connect_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (TimeoutError, OSError) as error:
            raise ProbeFailure("dns-failure", f"cannot resolve {host}: {error}") from None
        if not infos:
            raise ProbeFailure("dns-failure", f"{host} has no address")
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refusals = [address_refusal(address, options) for address in addresses]
    for address, refusal in zip(addresses, refusals, strict=True):
        if refusal is None:
            return address
    raise ProbeFailure(
        NOT_ALLOWED, refusals[0] if host == addresses[0] else f"{host}: {refusals[0]}"
    )


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
            seen.banner = printable(await dialog.greet(), BANNER_LENGTH)
        else:
            seen.banner = printable(await dialog.greet(), BANNER_LENGTH)
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


def printable(text: str | None, limit: int) -> str | None:
    """`text` safe to store and to show: line breaks and tabs become spaces, every other
    character that is not printable (NUL, escape sequences, bidirectional overrides,
    lone surrogates) becomes U+FFFD, so that it shows; at most `limit` characters."""
    if text is None:
        return None
    return "".join(
        ch if ch.isprintable() else " " if ch in "\t\n\r\v\f" else "\ufffd" for ch in text[:limit]
    ).strip()


def result_cleaned(result: ProbeResult) -> ProbeResult:
    """The result with every value a server chose (banner, messages quoting it, the
    certificate's names and issuer, the cipher) printable and within its length."""
    certificate = result.certificate
    if certificate is not None:
        certificate = replace(
            certificate,
            subject_cn=printable(certificate.subject_cn, NAME_LENGTH),
            sans=tuple(printable(name, NAME_LENGTH) for name in certificate.sans[:MAX_SANS]),
            issuer=printable(certificate.issuer, ISSUER_LENGTH),
        )
    return replace(
        result,
        error_message=printable(result.error_message, MESSAGE_LENGTH),
        banner=printable(result.banner, BANNER_LENGTH),
        tls_version=printable(result.tls_version, 16),
        cipher=printable(result.cipher, 100),
        certificate=certificate,
    )


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
