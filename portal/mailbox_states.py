"""What a customer is told about each mailbox: its state in words, by when, and
what changes.

| state | when |
|---|---|
| change needed | an open finding that a settings change fixes, and no "I have changed my settings" since it appeared |
| waiting for confirmation | such a finding is open, but the customer said after it appeared that they changed |
| done | no such finding is open, and there was one before (resolved) or the customer said they changed |
| no change needed | none of the above |
| no settings on record | the mailbox has no settings sheet yet |

The state is computed in SQL (`with_states`), so a page of any length, and the
counts at the top of the home page, cost a fixed number of queries; staff pages
can annotate their own lists with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from accounts.models import Confirmation, Mailbox
from checks.findings import open_findings
from checks.fixes import explanation, recommended_sheets
from checks.models import Finding
from portal.campaigns.lifecycle import SHEET_CODES
from portal.guides.builder import Change, sheet_changes
from portal.guides.catalog import CATALOG
from portal.models import Campaign, CampaignMailbox


class State:
    """A mailbox's state, as `with_states` annotates it."""

    CHANGE = "change"
    WAITING = "waiting"
    DONE = "done"
    FINE = "fine"
    NO_SHEET = "no-sheet"


LABELS = {
    State.CHANGE: _("Change needed"),
    State.WAITING: _("Waiting for confirmation"),
    State.DONE: _("Done"),
    State.FINE: _("No change needed"),
    State.NO_SHEET: _("No settings on record"),
}
PENDING = (State.CHANGE, State.WAITING)
# Lists show the mailboxes that need the customer first.
ORDER = (State.CHANGE, State.WAITING, State.NO_SHEET, State.DONE, State.FINE)


def with_states(mailboxes: QuerySet) -> QuerySet:
    """The mailboxes annotated with `state`, `deadline` (the earliest cutover of a
    running campaign that still waits for the mailbox, or None) and `confirmed_at`
    (the latest "I have changed my settings")."""
    problems = open_findings().filter(mailbox=OuterRef("pk"), code__in=SHEET_CODES)
    solved = Finding.objects.filter(
        mailbox=OuterRef("pk"), code__in=SHEET_CODES, resolved_at__isnull=False
    )
    confirmations = Confirmation.objects.filter(mailbox=OuterRef("pk")).order_by("-confirmed_at")
    campaigns = (
        CampaignMailbox.objects.filter(
            mailbox=OuterRef("pk"), campaign__state=Campaign.State.RUNNING
        )
        .exclude(status__in=[CampaignMailbox.Status.VERIFIED, CampaignMailbox.Status.EXCLUDED])
        .order_by("campaign__cutover")
    )
    annotated = mailboxes.annotate(
        problem_since=Subquery(problems.order_by("-first_seen").values("first_seen")[:1]),
        confirmed_at=Subquery(confirmations.values("confirmed_at")[:1]),
        deadline=Subquery(campaigns.values("campaign__cutover")[:1]),
    )
    # The first that holds, as in the table above. `state_order` is built from the same
    # conditions rather than from `state`: referring to `state` would repeat its whole
    # CASE (with its subqueries) once per state in the SQL, and building that SQL took
    # longer than running it.
    conditions = [
        (State.NO_SHEET, Q(current_sheet__isnull=True)),
        (State.WAITING, Q(problem_since__isnull=False, confirmed_at__gte=F("problem_since"))),
        (State.CHANGE, Q(problem_since__isnull=False)),
        (State.DONE, Q(confirmed_at__isnull=False) | Exists(solved)),
    ]
    return annotated.annotate(
        state=Case(
            *(When(condition, then=Value(state)) for state, condition in conditions),
            default=Value(State.FINE),
            output_field=CharField(),
        ),
        state_order=Case(
            *(When(condition, then=Value(ORDER.index(state))) for state, condition in conditions),
            default=Value(ORDER.index(State.FINE)),
            output_field=IntegerField(),
        ),
    )


def states_summary(mailboxes: QuerySet) -> dict:
    """How many of the mailboxes need a change (`change`), by when (`deadline`, the
    earliest among them) and how many wait for confirmation (`waiting`); one query."""
    per_state = {
        row["state"]: row
        for row in with_states(mailboxes)
        .order_by()
        .values("state")
        .annotate(count=Count("pk"), first_deadline=Min("deadline"))
    }
    change = per_state.get(State.CHANGE, {})
    return {
        "change": change.get("count", 0),
        "deadline": change.get("first_deadline"),
        "waiting": per_state.get(State.WAITING, {}).get("count", 0),
    }


@dataclass
class MailboxStatus:
    """One mailbox as a customer page shows it."""

    mailbox: Mailbox
    state: str
    label: str
    deadline: date | None
    confirmed_at: datetime | None
    changes: list[Change]
    program: str  # the name of the program chosen last; "" for none: the button opens the picker

    @property
    def needs_change(self) -> bool:
        return self.state == State.CHANGE

    @property
    def changes_pending(self) -> bool:
        """Changes asked for and not yet seen: needed, or said to be done."""
        return self.state in PENDING


def mailbox_statuses(mailboxes: list[Mailbox], lang: str) -> list[MailboxStatus]:
    """Mailboxes from `with_states` (with `current_sheet` and `customer__server`
    selected) with what changes, before → after; one query for all."""
    statuses = []
    for mailbox, recommended in zip(mailboxes, recommended_sheets(mailboxes), strict=True):
        current = mailbox.current_sheet.values if mailbox.current_sheet else None
        changes = (
            sheet_changes(current, recommended, lang)[0]
            if recommended is not None and mailbox.state in PENDING
            else []
        )
        client = CATALOG.get(mailbox.mail_client)
        statuses.append(
            MailboxStatus(
                mailbox=mailbox,
                state=mailbox.state,
                label=str(LABELS[mailbox.state]),
                deadline=mailbox.deadline,
                confirmed_at=mailbox.confirmed_at,
                changes=changes,
                program=client.name(lang) if client else "",
            )
        )
    return statuses


def problem_sentences(mailbox: Mailbox) -> list[str]:
    """Why the mailbox needs a change: its open findings that a settings change
    fixes, each in one sentence."""
    problems = open_findings().filter(mailbox=mailbox, code__in=SHEET_CODES)
    return [explanation(finding) for finding in problems.order_by("side", "code")]
