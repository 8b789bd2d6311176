"""Endpoints the company's customers use, every probe of them, the sweeps that
probe them on a schedule, and the state changes (events) that alert staff."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.interruptions import Interruptible
from accounts.sheets import Security


class Endpoint(models.Model):
    """A distinct (host, port, protocol, security) that some customer uses or the company offers."""

    class Protocol(models.TextChoices):
        POP3 = "pop3", "POP3"
        IMAP = "imap", "IMAP"
        SMTP = "smtp", "SMTP"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    host = models.CharField(_("host name"), max_length=253)
    port = models.PositiveIntegerField(_("port"))
    protocol = models.CharField(_("protocol"), max_length=4, choices=Protocol.choices)
    security = models.CharField(_("security"), max_length=8, choices=Security.choices)
    in_registry = models.BooleanField(_("offered by the company"), default=False)
    in_sheets = models.BooleanField(_("used in settings sheets"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_result = models.ForeignKey(
        "ProbeResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The state staff were last told about, and a newer one waiting to be confirmed
    # by further sweeps (see checks.states).
    state = models.JSONField(default=dict, blank=True)
    pending_state = models.JSONField(default=dict, blank=True)
    pending_count = models.PositiveIntegerField(default=0)
    # Probes in a row that did not complete; the first that does resets it. The
    # endpoint-unreachable finding waits for PROBE_CONFIRM_AFTER of them.
    consecutive_failures = models.PositiveIntegerField(default=0)
    check_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["host", "port", "protocol"]
        constraints = [
            models.UniqueConstraint(
                fields=["host", "port", "protocol", "security"], name="endpoint_unique"
            ),
        ]
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")

    def __str__(self) -> str:
        return f"{self.host}:{self.port} {self.protocol}/{self.security}"


class Sweep(Interruptible):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        ABANDONED = "abandoned", _("abandoned")

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    endpoint_count = models.PositiveIntegerField(default=0)
    batch_count = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # Two sweeps never run at once.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="sweep_one_running"
            ),
        ]
        verbose_name = _("sweep")
        verbose_name_plural = _("sweeps")

    def __str__(self) -> str:
        return _("sweep %(number)s (%(status)s)") % {
            "number": self.pk,
            "status": self.get_status_display(),
        }


class SweepBatch(models.Model):
    """A few endpoints one worker probes together; done once, however often delivered.

    A worker claims a batch with a lease it renews while probing (a heartbeat); a batch
    whose lease ran out, or that waited unclaimed while its sweep stood still, is sent
    again by the sweeps' tick, so a dead worker delays its sweep by about one lease."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="batches")
    endpoint_ids = models.JSONField()
    done_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"batch {self.pk} of sweep {self.sweep_id}"


class ProbeResult(models.Model):
    class Error(models.TextChoices):
        """What a probe that did not complete reports (checks.probes, checks.dialogs)."""

        REFUSED = "refused", _("connection refused")
        TIMEOUT = "timeout", _("no answer in time")
        UNREACHABLE = "unreachable", _("network unreachable")
        DNS_FAILURE = "dns-failure", _("the name does not resolve (DNS)")
        PROTOCOL_ERROR = "protocol-error", _("unexpected answer from the server")
        STARTTLS_NOT_OFFERED = "starttls-not-offered", _("STARTTLS not offered")
        STARTTLS_REFUSED = "starttls-refused", _("STARTTLS refused")
        TLS_HANDSHAKE_FAILED = "tls-handshake-failed", _("TLS handshake failed")
        ADDRESS_NOT_ALLOWED = "address-not-allowed", _("address not allowed for probes")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="results")
    sweep = models.ForeignKey(
        Sweep, on_delete=models.SET_NULL, null=True, blank=True, related_name="results"
    )
    checked_at = models.DateTimeField(db_index=True)
    reachable = models.BooleanField()
    error = models.CharField(_("error"), max_length=32, blank=True, choices=Error.choices)
    error_message = models.CharField(max_length=300, blank=True)
    banner = models.CharField(max_length=200, blank=True)
    starttls_offered = models.BooleanField(null=True)
    tls_version = models.CharField(max_length=16, blank=True)
    cipher = models.CharField(max_length=100, blank=True)
    tls_versions_accepted = models.JSONField(null=True)
    certificate = models.JSONField(null=True)
    plaintext_auth_before_tls = models.BooleanField(null=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    # The certificate verdicts again as columns, so that findings can be computed
    # in SQL on every database (JSON operators differ between them).
    cert_not_after = models.DateTimeField(null=True)
    cert_trusted = models.BooleanField(null=True)
    cert_hostname_match = models.BooleanField(null=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["endpoint", "-checked_at"])]
        verbose_name = _("probe result")
        verbose_name_plural = _("probe results")

    def __str__(self) -> str:
        return f"{self.endpoint} at {self.checked_at:%Y-%m-%d %H:%M}"


class Event(models.Model):
    """A confirmed change of an endpoint's state, mailed once to the staff alert address."""

    class Kind(models.TextChoices):
        UNREACHABLE = "unreachable", _("became unreachable")
        REACHABLE = "reachable", _("reachable again")
        CERT_NAMES = "cert-names", _("certificate names changed")
        CERT_EXPIRING = "cert-expiring", _("certificate expires soon")
        CERT_RENEWED = "cert-renewed", _("certificate no longer expiring soon")
        TLS_VERSIONS = "tls-versions", _("TLS versions changed")
        PLAINTEXT_AUTH = "plaintext-auth", _("password login offered without TLS")
        PLAINTEXT_AUTH_GONE = (
            "plaintext-auth-gone",
            _("password login without TLS no longer offered"),
        )

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.get_kind_display()}"


class Finding(models.Model):
    """Something wrong with one side of one mailbox's settings, and since when.

    Open while `resolved_at` is null. `last_seen` is written when the finding
    appears, changes, is resolved, or its mailbox is recomputed; a full
    recompute that finds it unchanged does not rewrite a million rows — the
    finding was then also seen at FindingSummary.computed_at.
    """

    class Side(models.TextChoices):
        INCOMING = "incoming", _("incoming")
        OUTGOING = "outgoing", _("outgoing")

    class Severity(models.TextChoices):
        HIGH = "high", _("high")
        MEDIUM = "medium", _("medium")

    mailbox = models.ForeignKey(
        "accounts.Mailbox", on_delete=models.CASCADE, related_name="findings"
    )
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    side = models.CharField(max_length=8, choices=Side.choices)
    code = models.CharField(max_length=32)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    host = models.CharField(max_length=253)
    value = models.CharField(max_length=300, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mailbox", "side", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "side", "code"],
                condition=Q(resolved_at__isnull=True),
                name="finding_open_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["code"], condition=Q(resolved_at__isnull=True), name="finding_open_code"
            ),
            models.Index(
                fields=["customer"],
                condition=Q(resolved_at__isnull=True),
                name="finding_open_customer",
            ),
            models.Index(
                fields=["host"], condition=Q(resolved_at__isnull=True), name="finding_open_host"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id} {self.side} {self.code}"


class FindingSummary(models.Model):
    """Counts of the open findings (by code, severity, customer, host), kept up to
    date by every recompute so the dashboard need not count a million rows."""

    counts = models.JSONField(default=dict)
    computed_at = models.DateTimeField(null=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    # Inputs (sheets, registry, probe results) changed after the last full recompute and
    # one is queued: what shows findings says so instead of passing old data as current.
    pending_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"findings summary at {self.computed_at}"


from checks.evidence.models import (  # noqa: E402
    IngestBatch,
    IngestToken,
    LoginEvidence,
    LogSource,
    SeenSessions,
)

__all__ = ["IngestBatch", "IngestToken", "LogSource", "LoginEvidence", "SeenSessions"]
