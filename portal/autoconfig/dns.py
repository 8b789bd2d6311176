"""Does a customer's mail domain publish what self-configuring mail programs look
for? autoconfig./autodiscover. names pointing at the portal, RFC 6186/8314 SRV
records naming the current server (and the plain ones saying "not offered"),
and the MX. Each check says the exact record to add or change.

Lookups go through one resolver with timeouts and a cache (dnspython).
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from urllib.parse import urlsplit

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings
from django.utils import timezone

from accounts.models import MailDomain

TIMEOUT = 3.0
DNS_CHECK_JOB = "dns-check"  # its progress (portal.progress)
# name prefix -> (port, whether the service is offered) per RFC 6186 / RFC 8314
SRV_WANTED = {
    "_imaps._tcp": 993,
    "_pop3s._tcp": 995,
    "_submissions._tcp": 465,
    "_submission._tcp": 587,
    "_imap._tcp": None,  # plain IMAP: not offered, target "."
    "_pop3._tcp": None,
}


@dataclass(frozen=True)
class RecordCheck:
    name: str
    type: str
    ok: bool
    found: str
    wanted: str  # the record to publish, in zone-file form ("" when nothing is wanted)


@lru_cache(maxsize=4)
def resolver_for(nameserver: str) -> dns.resolver.Resolver:
    """A resolver with timeouts and a cache; `nameserver` "ip:port" or "" for the system's."""
    if nameserver:
        host, _, port = nameserver.rpartition(":")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = int(port)
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = resolver.lifetime = TIMEOUT
    resolver.cache = dns.resolver.LRUCache(2048)
    return resolver


def _lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list:
    try:
        return list(resolver.resolve(name, rdtype, raise_on_no_answer=False))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers, dns.exception.Timeout):
        return []


def portal_host() -> str:
    return (urlsplit(settings.PORTAL_URL).hostname or "").lower().rstrip(".")


def portal_address() -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """PORTAL_URL's host when it is an address rather than a name."""
    try:
        return ipaddress.ip_address(portal_host())
    except ValueError:
        return None


def _points_at_portal(resolver, name: str) -> RecordCheck:
    """One address query: its answer shows a CNAME chain (canonical name) and the addresses.
    A CNAME can only name a host: when PORTAL_URL holds an address, the advice is an A
    (IPv4) or AAAA (IPv6) record with that address."""
    portal, address = portal_host(), portal_address()
    rdtype = "AAAA" if address is not None and address.version == 6 else "A"
    wanted = f"{name}. {rdtype} {address}" if address else f"{name}. CNAME {portal}."
    try:
        answer = resolver.resolve(name, rdtype, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers, dns.exception.Timeout):
        answer = None
    canonical = str(answer.canonical_name).rstrip(".").lower() if answer is not None else ""
    addresses = sorted(r.address for r in answer) if answer is not None and answer.rrset else []
    if address is not None:
        portal_addresses = [str(address)]
    else:
        portal_addresses = (
            sorted(r.address for r in _lookup(resolver, portal, "A")) if portal else []
        )
    if canonical and canonical != name:
        ok = canonical == portal or (bool(addresses) and addresses == portal_addresses)
        return RecordCheck(name, "CNAME", ok, canonical, wanted)
    ok = bool(addresses) and addresses == portal_addresses
    return RecordCheck(name, rdtype, ok, ", ".join(addresses) or "-", wanted)


def _srv(resolver, domain: str, prefix: str, port: int | None, server: str) -> RecordCheck:
    name = f"{prefix}.{domain}"
    records = _lookup(resolver, name, "SRV")
    found = ", ".join(
        f"{r.priority} {r.weight} {r.port} {str(r.target).rstrip('.') or '.'}" for r in records
    )
    if port is None:
        wanted = f"{name}. SRV 0 0 0 ."
        ok = not records or all(str(r.target) == "." for r in records)
    else:
        wanted = f"{name}. SRV 0 1 {port} {server}."
        ok = any(r.port == port and str(r.target).rstrip(".").lower() == server for r in records)
    return RecordCheck(name, "SRV", ok, found or "-", wanted)


def _autodiscover_srv(resolver, domain: str) -> RecordCheck:
    """Outlook's last try: an SRV record naming the portal. It needs no certificate for
    autodiscover.<domain>, only the portal's own (Outlook asks the user once)."""
    name = f"_autodiscover._tcp.{domain}"
    portal, port = portal_host(), urlsplit(settings.PORTAL_URL).port or 443
    records = _lookup(resolver, name, "SRV")
    found = ", ".join(
        f"{r.priority} {r.weight} {r.port} {str(r.target).rstrip('.') or '.'}" for r in records
    )
    ok = any(r.port == port and str(r.target).rstrip(".").lower() == portal for r in records)
    # An SRV record names a host, never an address.
    wanted = f"{name}. SRV 0 1 {port} {portal}." if portal_address() is None else ""
    return RecordCheck(name, "SRV", ok, found or "-", wanted)


def domain_dns_check(domain: MailDomain, nameserver: str | None = None) -> list[RecordCheck]:
    resolver = resolver_for(settings.DNS_NAMESERVER if nameserver is None else nameserver)
    name = domain.domain
    server = domain.server.hostname
    autodiscover = _points_at_portal(resolver, f"autodiscover.{name}")
    srv = _autodiscover_srv(resolver, name)
    # Either route brings Outlook to the portal: one that works makes the other optional.
    if srv.ok and not autodiscover.ok:
        autodiscover = replace(autodiscover, ok=True)
    elif autodiscover.ok and not srv.ok:
        srv = replace(srv, ok=True)
    checks = [_points_at_portal(resolver, f"autoconfig.{name}"), autodiscover, srv]
    checks += [_srv(resolver, name, prefix, port, server) for prefix, port in SRV_WANTED.items()]
    mx = sorted((r.preference, str(r.exchange).rstrip(".")) for r in _lookup(resolver, name, "MX"))
    checks.append(
        RecordCheck(name, "MX", bool(mx), ", ".join(f"{p} {h}" for p, h in mx) or "-", "")
    )
    return checks


def domain_dns_record(domain: MailDomain, nameserver: str | None = None) -> None:
    """Check a domain and keep the outcome on it for the staff page."""
    checks = domain_dns_check(domain, nameserver)
    MailDomain.objects.filter(pk=domain.pk).update(
        dns_checked_at=timezone.now(), dns_checks=[asdict(c) for c in checks]
    )
