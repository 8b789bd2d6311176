"""Mail the staff alert address about new events: each event once, many in one message."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from checks.models import Event

log = logging.getLogger(__name__)


def events_mail() -> int:
    """Send the events nobody was told about yet; returns how many were sent.

    The events are claimed before sending, so two workers never send the same
    one; if sending fails they are released for the next attempt.
    """
    if not settings.PROBE_ALERT_EMAIL:
        return 0
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(mailed_at__isnull=True)
            .values_list("pk", flat=True)[:500]
        )
        Event.objects.filter(pk__in=ids, mailed_at__isnull=True).update(mailed_at=now)
    if not ids:
        return 0
    events = list(
        Event.objects.filter(pk__in=ids).select_related("endpoint").order_by("created_at")
    )
    with translation.override(settings.LANGUAGE_CODE):
        context = {"events": events}
        subject = render_to_string("checks/alert_subject.txt", context).strip()
        body = render_to_string("checks/alert_body.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, settings.PROBE_ALERT_EMAIL)
    except Exception:
        log.exception("alert mail failed; the events will be sent with the next one")
        Event.objects.filter(pk__in=ids, mailed_at=now).update(mailed_at=None)
        raise
    return len(events)
