"""The portal app's models, kept in their rooms and gathered here so that Django finds
them (one app, no data migration when a room moves)."""

from portal.audit.models import AuditEntry  # noqa: F401
from portal.campaigns.models import (  # noqa: F401
    DEFAULT_BODY_EN,
    DEFAULT_BODY_JA,
    DEFAULT_SUBJECT_EN,
    DEFAULT_SUBJECT_JA,
    Campaign,
    CampaignMailbox,
    Notice,
    SendClock,
    default_reminders,  # named by migration 0001
)
from portal.invitations.models import Invitation  # noqa: F401
