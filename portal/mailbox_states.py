"""What a customer is told about each mailbox: its state in words, by when, and
what changes.

| state | when |
|---|---|
| change needed | an open finding that a settings change fixes (the sheet's, or the servers' logs showing the mail program still logging in without encryption or the old way), and no "I have changed my settings" since it appeared (for the logs' findings: or a login the old way since) |
| waiting for confirmation | such a finding is open, but the customer said after it appeared that they changed (for the logs' findings: and no login since) |
| done | no such finding is open, and there was one before (resolved) or the customer said they changed; or the logins since the customer said so are the new way only |
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
from checks.evidence.models import LoginEvidence
from checks.evidence.summary import new_way_q, old_way_q
from checks.findings import open_findings
from checks.fixes import recommended_sheets
from checks.models import Finding
from portal.campaigns.lifecycle import SHEET_CODES
from portal.guides.builder import Change, sheet_changes
from portal.guides.catalog import CATALOG
from portal.models import Campaign, CampaignMailbox

# What the servers' logs say the mail program still does against the settings on record
# (without encryption, on an old name, address or port): a change of the program's
# settings, as the sheet's findings are. (An outdated TLS version asks for a newer
# program instead; the page's "what our mail servers see" says so.)
PROGRAM_CODES = ("insecure-login-seen", "legacy-endpoint-seen")
STATE_CODES = (*SHEET_CODES, *PROGRAM_CODES)


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
        mailbox=OuterRef("pk"), code__in=STATE_CODES, resolved_at__isnull=False
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

    def logins_since_confirmed(way: Q) -> Exists:
        return Exists(
            LoginEvidence.objects.filter(
                way, mailbox=OuterRef("pk"), last_seen__gt=OuterRef("confirmed_at")
            )
        )

    # The logs' findings (PROGRAM_CODES) stay open for the window after the last such
    # login; once the customer says they changed, the logins after that tell (as a
    # campaign's verification does): the new way and not the old one since: done; the
    # old way since: the change did not take; nothing since: waiting.
    annotated = annotated.annotate(
        program_problem=Exists(
            open_findings().filter(mailbox=OuterRef("pk"), code__in=PROGRAM_CODES)
        ),
        old_since_confirmed=logins_since_confirmed(old_way_q()),
        new_since_confirmed=logins_since_confirmed(new_way_q()),
    )
    sheet_change = Q(problem_since__isnull=False) & (
        Q(confirmed_at__isnull=True) | Q(confirmed_at__lt=F("problem_since"))
    )
    sheet_waiting = Q(problem_since__isnull=False, confirmed_at__gte=F("problem_since"))
    program_change = Q(program_problem=True) & (
        Q(confirmed_at__isnull=True) | Q(old_since_confirmed=True)
    )
    program_waiting = Q(
        program_problem=True,
        confirmed_at__isnull=False,
        old_since_confirmed=False,
        new_since_confirmed=False,
    )
    # The first that holds, as in the table above. `state_order` is built from the same
    # conditions rather than from `state`: referring to `state` would repeat its whole
    # CASE (with its subqueries) once per state in the SQL, and building that SQL took
    # longer than running it. (A program problem left over at DONE is one the logins
    # since the confirmation have settled.)
    conditions = [
        (State.NO_SHEET, Q(current_sheet__isnull=True)),
        (State.CHANGE, sheet_change | program_change),
        (State.WAITING, sheet_waiting | program_waiting),
        (
            State.DONE,
            Q(confirmed_at__isnull=False) | Exists(solved) | Q(program_problem=True),
        ),
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


def problem_findings(mailbox: Mailbox) -> list[Finding]:
    """Why the mailbox (from `with_states`) needs a change: its open findings that a
    settings change fixes (`explanation` puts each in one sentence); the logs' only
    while they still count (not when the logins since the confirmation settled them)."""
    settled = mailbox.confirmed_at is not None and not mailbox.old_since_confirmed
    codes = SHEET_CODES if settled and mailbox.new_since_confirmed else STATE_CODES
    problems = open_findings().filter(mailbox=mailbox, code__in=codes)
    return list(problems.order_by("side", "code"))
