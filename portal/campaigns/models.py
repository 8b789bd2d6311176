"""Migration campaigns: who is targeted, each mailbox's way from pending to
verified, and the notices (one per customer and kind) that carry the news."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.interruptions import Interruptible

DEFAULT_SUBJECT_JA = "【重要】メール設定変更のお願い（{deadline}まで）"
DEFAULT_BODY_JA = """{customer_name} 様

いつもご利用いただきありがとうございます。
メールサーバーのセキュリティ強化のため、{deadline} までに次のメールアカウントの設定変更をお願いいたします。

{mailboxes}

各アカウントの案内ページで、お使いのメールソフトごとの手順をご覧いただけます。
設定を変更されたら、案内ページの「設定を変更しました」を押してください。
"""
DEFAULT_SUBJECT_EN = "[Action needed] Please update your mail settings by {deadline}"
DEFAULT_BODY_EN = """Dear {customer_name},

To keep your mail secure, please change the settings of these mailboxes by {deadline}:

{mailboxes}

Each link opens a step-by-step guide for your mail program. When you are done,
press "I have changed my settings" on that page.
"""


def default_reminders() -> list[int]:
    return [14, 7, 1]


class Campaign(Interruptible):
    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SCHEDULED = "scheduled", _("scheduled")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        CANCELLED = "cancelled", _("cancelled")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Target: every kind given must match (customers AND hosts AND codes AND addresses);
    # within a kind, any value matches. Nothing given: no mailbox.
    target_customers = models.ManyToManyField(
        "accounts.Customer", blank=True, related_name="+", verbose_name=_("customers")
    )
    target_hosts = models.TextField(_("server names"), blank=True, help_text=_("One per line."))
    target_codes = models.JSONField(_("finding codes"), default=list, blank=True)
    target_addresses = models.TextField(
        _("e-mail addresses"), blank=True, help_text=_("One per line, e.g. pasted from a list.")
    )
    cutover = models.DateField(_("cutover date"))
    subject_ja = models.CharField(
        _("subject (Japanese)"), max_length=200, default=DEFAULT_SUBJECT_JA
    )
    body_ja = models.TextField(_("message (Japanese)"), default=DEFAULT_BODY_JA)
    subject_en = models.CharField(
        _("subject (English)"), max_length=200, default=DEFAULT_SUBJECT_EN
    )
    body_en = models.TextField(_("message (English)"), default=DEFAULT_BODY_EN)
    reminder_days = models.JSONField(
        _("reminders (days before cutover)"), default=default_reminders
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    launch_at = models.DateTimeField(_("launch at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cutover_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignMailbox(models.Model):
    """One mailbox's way through a campaign, with the time of each step."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        NOTIFIED = "notified", _("notified")
        VIEWED = "viewed", _("viewed")
        CONFIRMED = "confirmed", _("confirmed")
        VERIFIED = "verified", _("verified")
        FAILED = "failed", _("failed")
        EXCLUDED = "excluded", _("excluded")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="mailboxes")
    mailbox = models.ForeignKey("accounts.Mailbox", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("accounts.Customer", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    notified_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    excluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "mailbox"], name="campaign_mailbox_unique")
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["campaign", "customer"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.mailbox_id}: {self.status}"


class Notice(models.Model):
    """One message to one customer: the first notice or a reminder. Sent once:
    claimed with a lease before sending, with a Message-ID fixed in advance."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # Every mailbox of the customer was fixed before its message went out.
        SKIPPED = "skipped", _("not needed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="notices")
    customer = models.ForeignKey("accounts.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # "notice" or "reminder-N"
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    message_id = models.CharField(max_length=200)
    attempts = models.PositiveIntegerField(default=0)
    # Who holds the lease: a token per claimed batch; only its holder records the outcome.
    claim = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "kind"], name="notice_once_per_kind"
            )
        ]
        indexes = [
            models.Index(
                fields=["campaign", "next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notice_to_send",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.customer_id} ({self.kind}, {self.status})"


class SendClock(models.Model):
    """The one row that spaces out sending across all workers (rate limit)."""

    next_slot = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"next send slot {self.next_slot}"
