"""{% findings_pending %}: on every page that shows findings, the notice that a full
recompute is pending (inputs changed after the last one), or nothing."""

from django import template

from checks.findings import findings_pending_since
from checks.models import FindingSummary

register = template.Library()


@register.inclusion_tag("includes/findings_pending.html")
def findings_pending(audience: str = "staff", summary: FindingSummary | None = None) -> dict:
    """`summary`: the page's FindingSummary when it has one already (one query less)."""
    since = summary.pending_since if summary else findings_pending_since()
    return {"since": since, "audience": audience}
