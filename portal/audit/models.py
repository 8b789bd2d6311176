"""One row per thing a person (or a login attempt) did that an auditor asks about."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login-failed", _("Login failed")
        LOGOUT = "logout", _("Logged out")
        TWO_FACTOR = "two-factor", _("Two-factor authentication changed")
        SHEET_EDIT = "sheet-edit", _("Settings sheet edited")
        IMPORT_APPLY = "import-apply", _("Import applied")
        REGISTRY_CHANGE = "registry-change", _("Server names changed")
        CAMPAIGN_LAUNCH = "campaign-launch", _("Campaign launched")
        CAMPAIGN_CANCEL = "campaign-cancel", _("Campaign cancelled")
        CAMPAIGN_CUTOVER = "campaign-cutover", _("Campaign cut over")
        CAMPAIGN_FINISH = "campaign-finish", _("Campaign finished")
        CAMPAIGN_EXCLUDE = "campaign-exclude", _("Mailbox excluded from a campaign")
        EXPORT = "export", _("Export downloaded")
        GUIDE_LINK_SENT = "guide-link-sent", _("Guide link sent")
        CUSTOMER_CONFIRM = "customer-confirm", _("Customer confirmed a change")
        INGEST_TOKEN = "ingest-token", _("Log ingest token created or revoked")
        CUSTOMER_ADD = "customer-add", _("Customer added")
        CUSTOMER_CHANGE = "customer-change", _("Customer changed")
        MAIL_DOMAIN_CHANGE = "mail-domain-change", _("Mail domains changed")
        INVITATION_SEND = "invitation-send", _("Invitation sent")
        INVITATION_ACCEPT = "invitation-accept", _("Invitation accepted")
        MEMBER_REMOVE = "member-remove", _("Person's access to a customer removed")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The person, and their name as it was: entries outlive accounts.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    customer = models.ForeignKey(
        "accounts.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["actor_name", "-at"], name="audit_actor_at"),
            models.Index(fields=["action", "-at"], name="audit_action_at"),
            models.Index(fields=["customer", "-at"], name="audit_customer_at"),
        ]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target}"
