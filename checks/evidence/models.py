"""What the mail servers' own logs say about each mailbox: which way its mail program
logs in (no raw lines), the sources the logs come from, and the sessions already counted."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class LogSource(models.Model):
    """A log file's or a shipper's origin (e.g. one mail server), with what its lines held."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    # lines read, logins, unknown login names, garbage, … (counts only, never the names)
    counts = models.JSONField(default=dict, blank=True, editable=False)
    last_ingest_at = models.DateTimeField(_("last ingest"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("log source")
        verbose_name_plural = _("log sources")

    def __str__(self) -> str:
        return self.name


class LoginEvidence(models.Model):
    """Logins of one mailbox one way: protocol, endpoint (local address and port; 0 when
    the log does not say), TLS and its version. Counted, never the lines themselves."""

    tenant_path = "mailbox__customer"

    mailbox = models.ForeignKey(
        "accounts.Mailbox",
        on_delete=models.CASCADE,
        related_name="login_evidence",
        db_index=False,  # the unique constraint's index starts with it
    )
    protocol = models.CharField(_("protocol"), max_length=4)
    address = models.CharField(_("server address"), max_length=45, blank=True)
    port = models.PositiveIntegerField(_("port"))
    # The registry name, when certain (an address only that name has).
    server = models.ForeignKey(
        "accounts.ServerName",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The address belongs to legacy names only.
    legacy_address = models.BooleanField(default=False)
    tls = models.BooleanField(_("TLS"))
    tls_version = models.CharField(_("TLS version"), max_length=16, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    # Not indexed: an ingest updates last_seen of most rows it touches; without an index on
    # it PostgreSQL updates them in place (HOT, with the room fillfactor leaves).
    last_seen = models.DateTimeField(_("last seen"))
    count = models.PositiveBigIntegerField(_("logins"))
    last_remote = models.CharField(_("last client address"), max_length=45)

    class Meta:
        ordering = ["mailbox", "-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "protocol", "address", "port", "tls", "tls_version"],
                name="login_evidence_unique",
            ),
        ]
        verbose_name = _("login evidence")
        verbose_name_plural = _("login evidence")

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.protocol} {self.address}:{self.port} tls={self.tls}"


class SeenSessions(models.Model):
    """The sessions already counted whose login fell in one minute (UTC), so that the same
    line read twice counts once: each session key's 8-byte hash (`checks.evidence.recording`),
    concatenated. One row per minute and part (the mailbox's id, or the key, modulo
    `SESSION_PARTS`): a file of a million logins writes a few thousand rows, not a million
    index entries, and its parts are written at once on several connections. Pruned after
    LOG_EVIDENCE_KEEP_DAYS, beyond which lines are refused anyway."""

    minute = models.DateTimeField()
    part = models.PositiveSmallIntegerField(default=0)
    keys = models.BinaryField(default=bytes)

    class Meta:
        verbose_name_plural = "seen sessions"
        constraints = [
            models.UniqueConstraint(fields=["minute", "part"], name="seen_sessions_minute_part")
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} ({self.part}): {len(self.keys) // 8} sessions"


class IngestToken(models.Model):
    """What a log shipper sends (`Authorization: Bearer …`) to post a source's lines; only
    its hash is kept. Created by an admin, who sees it once; revoked, it is refused."""

    source = models.ForeignKey(LogSource, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("begins with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["source", "-created_at"]
        verbose_name = _("log ingest token")
        verbose_name_plural = _("log ingest tokens")

    def __str__(self) -> str:
        return f"{self.source} {self.hint}…"


class IngestBatch(models.Model):
    """A shipper's post, kept until a worker has counted it (then its lines are dropped)."""

    source = models.ForeignKey(LogSource, on_delete=models.CASCADE, related_name="batches")
    body = models.BinaryField()
    received_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)
    counts = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"batch {self.pk} from {self.source}"
