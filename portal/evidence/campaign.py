"""The campaign page's evidence: who is still seen the old way, and what switching off
an old port today would break."""

from __future__ import annotations

from django.conf import settings

from checks.evidence.summary import (
    PORT_CHANGES,
    PROTOCOL_NAMES,
    breaks_count,
    endpoint_text,
    evidence_configured,
    old_way_rows,
    window_start,
)
from portal.models import Campaign, CampaignMailbox

OLD_WAY_SHOWN = 500


def campaign_evidence(campaign: Campaign) -> dict:
    """Context for the campaign page (empty without log evidence)."""
    if not evidence_configured():
        return {}
    since = max(window_start(), campaign.started_at or campaign.created_at)
    mailboxes = (
        CampaignMailbox.objects.filter(campaign=campaign)
        .exclude(status=CampaignMailbox.Status.EXCLUDED)
        .values("mailbox")
    )
    rows = old_way_rows(mailboxes, since)
    return {
        "evidence_since": since,
        "old_way": [(row, endpoint_text(row)) for row in rows[:OLD_WAY_SHOWN]],
        "old_way_count": len(rows),
        "readiness": [
            (f"{PROTOCOL_NAMES[protocol]}:{port}", breaks_count(f"port:{protocol}:{port}"))
            for protocol, port in PORT_CHANGES
        ],
        "window_days": settings.LOG_EVIDENCE_WINDOW_DAYS,
    }
