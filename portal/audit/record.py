"""The one writer of the audit log, and the login signals that feed it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from portal.audit.models import AuditEntry

MAX_TARGET = 300
MAX_NAME = 150


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    from portal.logins.lockout import client_address  # the one reading of proxies' headers

    return client_address(request) or None


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    actor_name: str = "",
    customer: Any = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that `actor` (default: the request's user) did `action`.

    Values are cut to their columns and stripped of control characters: an entry is
    written whatever a person typed (a login name, say)."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    name = actor_name or (actor.get_username() if actor is not None else "")
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=_printable(name)[:MAX_NAME],
        action=action,
        customer=customer,
        target=_printable(str(target))[:MAX_TARGET],
        detail=detail or {},
        address=_address(request),
    )


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)


def audit_purge() -> int:
    """Drop entries older than AUDIT_KEEP_DAYS; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.AUDIT_KEEP_DAYS)
    deleted, _ = AuditEntry.objects.filter(at__lt=cutoff).delete()
    return deleted


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditEntry.Action.LOGIN, request=request, actor=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=AuditEntry.Action.LOGOUT, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_record(
        action=AuditEntry.Action.LOGIN_FAILED,
        request=request,
        actor_name=str(credentials.get("username", "")),
    )


# What the Django admin changes that the audit log records (from the admin's own log).
AUDITED_IN_ADMIN = {
    ("accounts", "servername"): AuditEntry.Action.REGISTRY_CHANGE,
    ("checks", "ingesttoken"): AuditEntry.Action.INGEST_TOKEN,
}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_registry_admin")
def _registry_changed_in_admin(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """The Django admin logs each change it makes: the registry's and the log ingest
    tokens' are audited too."""
    if not created or instance.content_type is None:
        return
    action = AUDITED_IN_ADMIN.get((instance.content_type.app_label, instance.content_type.model))
    if action is None:
        return
    how = {ADDITION: "added", DELETION: "deleted"}.get(instance.action_flag, "changed")
    audit_record(
        action=action,
        actor=instance.user,
        target=instance.object_repr,
        detail={"how": how, "change": instance.get_change_message()},
    )
