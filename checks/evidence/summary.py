"""What the evidence says, for pages: how a mailbox's mail program connects, which
mailboxes a proposed change would break."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ServerName
from checks.evidence.models import LoginEvidence, LogSource

IMPLICIT_TLS_PORTS = {995, 993, 465}
PROTOCOL_NAMES = {"pop3": "POP3", "imap": "IMAP", "smtp": "SMTP"}
# TLS versions the servers will stop accepting (the findings' `legacy-tls-seen`), as the
# logs write them and as people call them.
OLD_TLS_NAMES = {"SSLv3": "SSL 3.0", "TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1"}
OLD_TLS = tuple(OLD_TLS_NAMES)


def window_start() -> datetime:
    return timezone.now() - timedelta(days=settings.LOG_EVIDENCE_WINDOW_DAYS)


def evidence_configured() -> bool:
    """Logs have been ingested: evidence can speak for (or against) a change."""
    return LogSource.objects.filter(last_ingest_at__isnull=False).exists()


@dataclass(frozen=True)
class Connection:
    protocol: str  # "POP3", "IMAP", "SMTP"
    secure: bool
    mode: str  # "SSL/TLS", "STARTTLS" or "" (not known, or no encryption)
    at: datetime  # the latest such login
    outdated_tls: str = ""  # e.g. "TLS 1.0": encrypted with a version of OLD_TLS
    secure_since: bool = False  # (without encryption) a login with a current TLS came after


def mailbox_connections(mailbox_id: int) -> list[Connection]:
    """Per protocol, the latest login without encryption, the latest with an outdated TLS
    version and the latest with a current one, seen within LOG_EVIDENCE_WINDOW_DAYS (a
    customer with several devices may have all three)."""
    latest: dict[tuple[str, bool, bool], LoginEvidence] = {}
    rows = LoginEvidence.objects.filter(mailbox_id=mailbox_id, last_seen__gte=window_start())
    for row in rows.order_by("last_seen"):
        current = row.tls and row.tls_version not in OLD_TLS
        latest[(row.protocol, row.tls, current)] = row
    connections = []
    for (protocol, secure, current), row in sorted(latest.items(), key=lambda item: item[0]):
        if not secure:
            mode = ""
        elif row.port in IMPLICIT_TLS_PORTS:
            mode = "SSL/TLS"
        else:
            mode = "STARTTLS" if row.port else ""
        outdated = "" if current or not secure else OLD_TLS_NAMES[row.tls_version]
        later = latest.get((protocol, True, True))
        secure_since = not secure and later is not None and later.last_seen > row.last_seen
        connections.append(
            Connection(
                PROTOCOL_NAMES[protocol], secure, mode, row.last_seen, outdated, secure_since
            )
        )
    return connections


# What counts as the new way and the old way (the same rules as the findings).


def recommended_q() -> Q:
    """A login on a recommended port (or the SMTP alternative)."""
    allowed = [(protocol, int(port)) for protocol, (port, _s) in settings.RECOMMENDED_PORTS.items()]
    allowed.append(("smtp", int(settings.RECOMMENDED_SMTP_ALTERNATIVE[0])))
    q = Q(pk__in=[])
    for protocol, port in allowed:
        q |= Q(protocol=protocol, port=port)
    return q


def old_way_q() -> Q:
    """A login without TLS, on a legacy name or address, or on a port neither recommended
    nor unknown (0)."""
    return (
        Q(tls=False)
        | Q(legacy_address=True)
        | Q(server__status=ServerName.Status.LEGACY)
        | (~recommended_q() & ~Q(port=0))
    )


def new_way_q() -> Q:
    """A login over TLS on a recommended port of a name that is not legacy."""
    return (
        Q(tls=True, legacy_address=False)
        & recommended_q()
        & ~Q(server__status=ServerName.Status.LEGACY)
    )


def latest_login(way: Q, mailbox_ref: str = "mailbox") -> Subquery:
    """The time of the mailbox's (OuterRef(mailbox_ref)) latest login that way."""
    rows = LoginEvidence.objects.filter(way, mailbox=OuterRef(mailbox_ref)).order_by("-last_seen")
    return Subquery(rows.values("last_seen")[:1])


def endpoint_text(row: LoginEvidence) -> str:
    """e.g. "pop3 192.0.2.10:110" (the port as "?" when the log did not say)."""
    where = f"{row.address}:" if row.address else ""
    return f"{row.protocol} {where}{row.port or '?'}"


def old_way_rows(mailbox_ids: QuerySet | list[int], since: datetime) -> list[LoginEvidence]:
    """Per mailbox, its latest old-way login since `since` (latest first)."""
    rows = (
        LoginEvidence.objects.filter(old_way_q(), mailbox__in=mailbox_ids, last_seen__gte=since)
        .select_related("mailbox__customer", "server")
        .order_by("-last_seen")
    )
    latest: dict[int, LoginEvidence] = {}
    for row in rows:
        latest.setdefault(row.mailbox_id, row)
    return list(latest.values())


# Forecast: what a change on the servers would break.

PORT_CHANGES = (("pop3", 110), ("imap", 143), ("smtp", 25))


@dataclass(frozen=True)
class ProposedChange:
    key: str  # "tls12", "port:pop3:110", "name:<host name>"
    label: str


def proposed_changes() -> list[ProposedChange]:
    changes = [ProposedChange("tls12", _("Require TLS 1.2 or later"))]
    changes += [
        ProposedChange(f"port:{protocol}:{port}", _("Close %(protocol)s port %(port)d")
                       % {"protocol": PROTOCOL_NAMES[protocol], "port": port})
        for protocol, port in PORT_CHANGES
    ]  # fmt: skip
    changes += [
        ProposedChange(f"name:{hostname}", _("Retire the name %(name)s") % {"name": hostname})
        for hostname in ServerName.objects.order_by("-status", "hostname").values_list(
            "hostname", flat=True
        )
    ]
    return changes


def change_q(key: str) -> Q | None:
    """Logins the change would refuse; None for an unknown change."""
    if key == "tls12":
        return Q(tls=True, tls_version__in=OLD_TLS)
    kind, _sep, rest = key.partition(":")
    if kind == "port":
        protocol, _sep, port = rest.partition(":")
        if (protocol, int(port) if port.isdigit() else 0) in PORT_CHANGES:
            return Q(protocol=protocol, port=int(port))
    if kind == "name" and rest:
        return Q(server__hostname=rest)
    return None


def forecast_rows(key: str) -> list[LoginEvidence] | None:
    """Per mailbox seen within the window, its latest login the change would refuse."""
    condition = change_q(key)
    if condition is None:
        return None
    rows = (
        LoginEvidence.objects.filter(condition, last_seen__gte=window_start())
        .select_related("mailbox__customer", "server")
        .order_by("-last_seen")
    )
    latest: dict[int, LoginEvidence] = {}
    for row in rows.iterator(chunk_size=5000):
        latest.setdefault(row.mailbox_id, row)
    return list(latest.values())


def breaks_count(key: str) -> int:
    """How many mailboxes seen within the window the change would break."""
    condition = change_q(key)
    if condition is None:
        return 0
    return (
        LoginEvidence.objects.filter(condition, last_seen__gte=window_start())
        .values("mailbox")
        .distinct()
        .count()
    )
