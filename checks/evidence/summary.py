"""What the evidence says, for pages: how a mailbox's mail program connects, which
mailboxes a proposed change would break."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from checks.evidence.models import LoginEvidence, LogSource

IMPLICIT_TLS_PORTS = {995, 993, 465}
PROTOCOL_NAMES = {"pop3": "POP3", "imap": "IMAP", "smtp": "SMTP"}


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


def mailbox_connections(mailbox_id: int) -> list[Connection]:
    """Per protocol, the latest login with encryption and the latest without, seen within
    LOG_EVIDENCE_WINDOW_DAYS (a customer with two devices may have both)."""
    latest: dict[tuple[str, bool], LoginEvidence] = {}
    rows = LoginEvidence.objects.filter(mailbox_id=mailbox_id, last_seen__gte=window_start())
    for row in rows.order_by("last_seen"):
        latest[(row.protocol, row.tls)] = row
    connections = []
    for (protocol, secure), row in sorted(latest.items(), key=lambda item: item[0]):
        if not secure:
            mode = ""
        elif row.port in IMPLICIT_TLS_PORTS:
            mode = "SSL/TLS"
        else:
            mode = "STARTTLS" if row.port else ""
        connections.append(Connection(PROTOCOL_NAMES[protocol], secure, mode, row.last_seen))
    return connections
