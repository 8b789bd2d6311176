"""Running a migration campaign: target, launch, follow each mailbox to verified,
cut over; the signed links and the messages customers get."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from string import Formatter

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Customer, Mailbox, SettingsSheet, sheet_record
from accounts.sheets import SheetValues
from checks.evidence.summary import evidence_configured, latest_login, new_way_q, old_way_q
from checks.findings import CODES, open_findings
from checks.fixes import recommended_sheet, recommended_sheets
from portal.campaigns.models import Campaign, CampaignMailbox, Notice
from portal.guides.builder import sheet_changes

PLACEHOLDERS = {"customer_name", "mailboxes", "deadline"}
# What a campaign is about when it names no finding codes: what the recommended sheet
# (checks.fixes.recommended_sheet, which cutover applies) changes. Certificate, TLS and
# reachability findings belong to the servers, not to a customer's settings.
SHEET_CODES = (
    "legacy-hostname",
    "unknown-hostname",
    "plaintext-port",
    "port-security-mismatch",
    "swapped-ports",
    "pop-before-smtp",
    "no-smtp-auth",
)
LINK_SALT = "campaign-link"
GUIDE_LINK_SALT = "guide-link"
TEST_SUBJECT_PREFIX = "[TEST] "
RECIPIENTS_SHOWN = 200
OPEN = (
    CampaignMailbox.Status.PENDING,
    CampaignMailbox.Status.NOTIFIED,
    CampaignMailbox.Status.VIEWED,
)


class CampaignError(ValueError):
    """A campaign action that cannot be done now; the message says why, and `field`
    names the form field it is about, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def template_problems(text: str) -> list[str]:
    """What is wrong with the placeholders of a subject or body: only the plain names
    {customer_name}, {mailboxes} and {deadline} may be used — no format spec (a
    `{customer_name:>100000000}` would build a 100 MB message), no conversion, no
    attribute or index (`{customer_name.__class__}` would reach into Python)."""
    try:
        fields = [
            (name, spec, conversion)
            for _lit, name, spec, conversion in Formatter().parse(text)
            if name is not None
        ]
    except ValueError as error:
        return [_("the text has a stray brace: %(error)s") % {"error": error}]
    problems: list[str] = []
    for name, spec, conversion in fields:
        written = "".join(
            ("{", name, f"!{conversion}" if conversion else "", f":{spec}" if spec else "", "}")
        )
        written = written if len(written) <= 60 else written[:59] + "…"
        base = name.split(".", 1)[0].split("[", 1)[0]
        found = []
        if base not in PLACEHOLDERS:
            found.append(
                _("unknown placeholder {%(name)s}; use {customer_name}, {mailboxes} or {deadline}")
                % {"name": base}
            )
        if base != name:
            found.append(
                _("%(placeholder)s: “.” and “[…]” are not allowed in a placeholder")
                % {"placeholder": written}
            )
        if conversion:
            found.append(
                _("%(placeholder)s: “!%(conversion)s” is not allowed in a placeholder")
                % {"placeholder": written, "conversion": conversion}
            )
        if spec:
            found.append(
                _("%(placeholder)s: formatting after “:” is not allowed in a placeholder")
                % {"placeholder": written}
            )
        problems += [problem for problem in found if problem not in problems]
    return problems


def campaign_codes(campaign: Campaign) -> tuple[str, ...]:
    return tuple(campaign.target_codes) or SHEET_CODES


def with_campaign_findings(campaign: Campaign) -> QuerySet:
    """Ids of the mailboxes that have at least one of the campaign's finding codes now."""
    return open_findings().filter(code__in=campaign_codes(campaign)).values("mailbox")


def target_scope(campaign: Campaign) -> QuerySet | None:
    """The mailboxes the target's customers, server names and addresses name (every
    kind given must match), whether or not they need a change; None when it names none
    of these kinds."""
    mailboxes = Mailbox.objects.filter(current_sheet__isnull=False)
    given = False
    if campaign.target_customers.exists():
        # A subquery, not the ids: a list of 10,000 ids made each query slower to send
        # and to plan than to run.
        mailboxes = mailboxes.filter(customer__in=campaign.target_customers.values("pk"))
        given = True
    hosts = [h.strip().lower() for h in campaign.target_hosts.splitlines() if h.strip()]
    if hosts:
        mailboxes = mailboxes.filter(
            Q(current_sheet__incoming_host__in=hosts) | Q(current_sheet__outgoing_host__in=hosts)
        )
        given = True
    addresses = [a.strip().lower() for a in campaign.target_addresses.splitlines() if a.strip()]
    if addresses:
        mailboxes, given = mailboxes.filter(email__in=addresses), True
    return mailboxes if given else None


def target_mailboxes(campaign: Campaign) -> QuerySet:
    """The mailboxes to change: those the target names that have at least one of the
    campaign's finding codes now. A mailbox already on good settings is never targeted."""
    scope = target_scope(campaign)
    if scope is None:
        if not campaign.target_codes:
            return Mailbox.objects.none()
        scope = Mailbox.objects.filter(current_sheet__isnull=False)
    return scope.filter(pk__in=with_campaign_findings(campaign))


@dataclass(frozen=True)
class TargetSummary:
    """What a launch would do, in numbers, for the preview and the confirmation."""

    mailboxes: int  # mailboxes to change
    customers: int  # customers to mail, one message each
    nothing_to_change: int  # customers the target names that have no mailbox to change
    addresses: list[str]  # the recipients' addresses (the first RECIPIENTS_SHOWN)
    address_count: int
    without_address: int  # customers to mail that have no contact address


def target_summary(campaign: Campaign) -> TargetSummary:
    targets = target_mailboxes(campaign)
    customer_ids = targets.values("customer")
    scope = target_scope(campaign)
    named = scope.values("customer").distinct().count() if scope is not None else 0
    customers = Customer.objects.filter(pk__in=customer_ids).order_by("slug")
    addresses, without = [], 0
    for contact_emails in customers.values_list("contact_emails", flat=True).iterator():
        found = [line.strip() for line in contact_emails.splitlines() if line.strip()]
        addresses += found
        without += not found
    count = customers.count()
    return TargetSummary(
        mailboxes=targets.count(),
        customers=count,
        nothing_to_change=max(named - count, 0),
        addresses=addresses[:RECIPIENTS_SHOWN],
        address_count=len(addresses),
        without_address=without,
    )


def notice_problem(cutover: date, start: date) -> str | None:
    """Why customers would have too little time between the start and the cutover."""
    days = settings.CAMPAIGN_MIN_NOTICE_DAYS
    if cutover < start:
        return _("The cutover date is in the past.")
    if (cutover - start).days < days:
        earliest = date_format(start + timedelta(days=days), "Y-m-d")
        return _(
            "The cutover date must be at least %(days)d days after the start "
            "(%(earliest)s or later), so that customers have time to change their settings."
        ) % {"days": days, "earliest": earliest}
    return None


def campaign_launch(campaign: Campaign, *, at: datetime | None = None) -> None:
    """draft → scheduled: at a time, or now — then a worker starts it at once
    (`campaign_start`: listing tens of thousands of mailboxes and making a notice per
    customer takes seconds, which a web request must not hold a web worker for)."""
    from portal.campaigns.tasks import campaign_start as campaign_start_task

    if campaign.state != Campaign.State.DRAFT:
        raise CampaignError(_("Only a draft can be launched."))
    for text in (campaign.subject_ja, campaign.body_ja, campaign.subject_en, campaign.body_en):
        if problems := template_problems(text):
            raise CampaignError("; ".join(problems))
    if not target_mailboxes(campaign).exists():
        raise CampaignError(_("The target names no mailbox that needs a change."))
    later = at is not None and at > timezone.now()
    start = timezone.localdate(at) if later else timezone.localdate()
    if problem := notice_problem(campaign.cutover, start):
        raise CampaignError(problem, field="at" if later else None)
    Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).update(
        state=Campaign.State.SCHEDULED, launch_at=at if later else timezone.now()
    )
    if not later:  # else beat's campaigns_tick starts it when its time comes
        transaction.on_commit(lambda: campaign_start_task.delay(campaign.pk))


def campaign_starting(campaign: Campaign) -> bool:
    """Launched to start now, and not yet running: a worker is making its notices."""
    return (
        campaign.state == Campaign.State.SCHEDULED
        and campaign.launch_at is not None
        and campaign.launch_at <= timezone.now()
    )


def campaign_start(campaign_id: int) -> bool:
    """scheduled/draft → running: the mailboxes and one notice per customer, then sending."""
    from portal.campaigns.tasks import notices_send

    with transaction.atomic():
        started = Campaign.objects.filter(
            pk=campaign_id, state__in=[Campaign.State.DRAFT, Campaign.State.SCHEDULED]
        ).update(state=Campaign.State.RUNNING, started_at=timezone.now())
        if not started:
            return False
        campaign = Campaign.objects.get(pk=campaign_id)
        campaign_mailboxes_create(campaign)
        notices_create(campaign, "notice")
        transaction.on_commit(lambda: notices_send.delay(campaign_id))
    statistics_refresh(CampaignMailbox, Notice)
    return True


def campaign_mailboxes_create(campaign: Campaign) -> None:
    """A row per target mailbox, made by the database from the target query itself
    (INSERT ... SELECT): as model objects, 33,000 rows cost a worker 1.5-2 s of
    processor time, taken from the web pages running beside it."""
    targets, params = (
        target_mailboxes(campaign).values_list("pk", "customer_id").query.sql_with_params()
    )
    table = connection.ops.quote_name(CampaignMailbox._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (mailbox_id, customer_id, campaign_id, status)"
            f" SELECT target.*, %s, %s FROM ({targets}) AS target",
            [campaign.pk, CampaignMailbox.Status.PENDING, *params],
        )


def statistics_refresh(*models: type) -> None:
    """ANALYZE the tables a launch has just filled (PostgreSQL). Customer pages look up
    each mailbox's campaign rows; planned with statistics from before the launch (a
    near-empty table) PostgreSQL reads the whole campaign for every mailbox instead of
    using the mailbox index (11 ms per mailbox at 33,000 rows), until autovacuum's next
    ANALYZE — a minute or more, never where autovacuum is off."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def notices_create(campaign: Campaign, kind: str) -> int:
    """One notice of this kind per customer with a mailbox still to change."""
    customers = (
        CampaignMailbox.objects.filter(campaign=campaign, status__in=OPEN)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    notices = [
        Notice(
            campaign=campaign,
            customer_id=customer_id,
            kind=kind,
            message_id=f"<campaign-{campaign.pk}.{customer_id}.{kind}@{settings.CAMPAIGN_MAIL_DOMAIN}>",
            next_attempt_at=timezone.now(),
        )
        for customer_id in customers
    ]
    Notice.objects.bulk_create(notices, batch_size=2000, ignore_conflicts=True)
    return len(notices)


def campaign_cancel(campaign: Campaign) -> None:
    cancelled = Campaign.objects.filter(
        pk=campaign.pk,
        state__in=[Campaign.State.DRAFT, Campaign.State.SCHEDULED, Campaign.State.RUNNING],
    ).update(state=Campaign.State.CANCELLED, finished_at=timezone.now())
    if not cancelled:
        raise CampaignError(_("This campaign has already ended."))
    Notice.objects.filter(campaign=campaign, status=Notice.Status.PENDING).update(
        status=Notice.Status.FAILED, last_error="campaign cancelled"
    )


def campaign_finish(campaign: Campaign) -> None:
    finished = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.RUNNING).update(
        state=Campaign.State.FINISHED, finished_at=timezone.now()
    )
    if not finished:
        raise CampaignError(_("Only a running campaign can be finished."))


# Links


def link_token(campaign: Campaign, mailbox: Mailbox) -> str:
    return signing.dumps({"c": campaign.pk, "m": str(mailbox.code)}, salt=LINK_SALT, compress=True)


def portal_link(path: str) -> str:
    """The address of a portal page as mailed to customers (PORTAL_URL + path)."""
    return settings.PORTAL_URL.rstrip("/") + path


def campaign_link_url(campaign: Campaign, mailbox: Mailbox) -> str:
    return portal_link(reverse("campaign_link", args=[link_token(campaign, mailbox)]))


def guide_link_url(mailbox: Mailbox, client: str) -> str:
    """A signed link to one mailbox's guide for one program, as staff mail it (no login);
    it expires after GUIDE_LINK_DAYS."""
    token = signing.dumps({"m": str(mailbox.code), "p": client}, salt=GUIDE_LINK_SALT)
    return portal_link(reverse("guide_link", args=[token]))


def guide_link_resolve(token: str) -> tuple[Mailbox, str]:
    """(mailbox, program) a guide link names; raises signing.BadSignature (expired included)."""
    data = signing.loads(
        token, salt=GUIDE_LINK_SALT, max_age=timedelta(days=settings.GUIDE_LINK_DAYS)
    )
    mailbox = (
        Mailbox.objects.select_related("customer__server", "current_sheet")
        .filter(code=data["m"], current_sheet__isnull=False)
        .first()
    )
    if mailbox is None:
        raise signing.BadSignature("no such mailbox")
    return mailbox, data["p"]


def link_resolve(token: str) -> CampaignMailbox:
    """The campaign mailbox a link names; raises signing.BadSignature (expired included)."""
    data = signing.loads(token, salt=LINK_SALT, max_age=60 * 60 * 24 * 400)
    entry = (
        CampaignMailbox.objects.select_related(
            "campaign", "mailbox__customer__server", "mailbox__current_sheet"
        )
        .filter(campaign_id=data["c"], mailbox__code=data["m"])
        .first()
    )
    if entry is None:
        raise signing.BadSignature("no such campaign mailbox")
    last_day = entry.campaign.cutover + timedelta(days=settings.CAMPAIGN_LINK_DAYS_AFTER_CUTOVER)
    if timezone.localdate() > last_day:
        raise signing.SignatureExpired("the campaign's links have expired")
    return entry


LINK_OVER, LINK_EXCLUDED = "over", "excluded"


def link_closed(entry: CampaignMailbox) -> str | None:
    """Why a link no longer takes "I have changed my settings": the campaign is over
    (finished or cancelled), or staff excluded the mailbox. None while it does."""
    if entry.campaign.state != Campaign.State.RUNNING:
        return LINK_OVER
    if entry.status == CampaignMailbox.Status.EXCLUDED:
        return LINK_EXCLUDED
    return None


def step(entry_ids, status: str, field: str, *, only_from=OPEN) -> int:
    """Move campaign mailboxes forward to `status`, recording the time once."""
    return CampaignMailbox.objects.filter(pk__in=entry_ids, status__in=only_from).update(
        status=status, **{field: timezone.now()}
    )


def mailbox_viewed(entry: CampaignMailbox) -> None:
    step(
        [entry.pk],
        CampaignMailbox.Status.VIEWED,
        "viewed_at",
        only_from=(CampaignMailbox.Status.PENDING, CampaignMailbox.Status.NOTIFIED),
    )


def mailbox_confirmed(mailbox_id: int) -> None:
    """The customer pressed "I have changed my settings": every running campaign hears it."""
    entries = CampaignMailbox.objects.filter(
        mailbox_id=mailbox_id, campaign__state=Campaign.State.RUNNING
    ).values_list("pk", flat=True)
    step(list(entries), CampaignMailbox.Status.CONFIRMED, "confirmed_at")


def mailboxes_verify(mailbox_ids: list[int] | None = None) -> int:
    """Mark verified the running campaigns' mailboxes whose campaign findings are gone."""
    verified = 0
    for campaign in Campaign.objects.filter(state=Campaign.State.RUNNING):
        entries = CampaignMailbox.objects.filter(campaign=campaign).exclude(
            status__in=[CampaignMailbox.Status.VERIFIED, CampaignMailbox.Status.EXCLUDED]
        )
        if mailbox_ids is not None:
            entries = entries.filter(mailbox_id__in=mailbox_ids)
        still = open_findings().filter(code__in=campaign_codes(campaign)).values("mailbox")
        entries = entries.exclude(mailbox__in=still)
        if evidence_configured():
            entries = _seen_the_new_way(entries, campaign)
        verified += entries.update(
            status=CampaignMailbox.Status.VERIFIED, verified_at=timezone.now()
        )
    return verified


def _seen_the_new_way(entries: QuerySet, campaign: Campaign) -> QuerySet:
    """With log evidence, verified also needs a login the new way after the notice (or the
    launch) and none the old way since."""
    annotated = entries.annotate(
        new_at=latest_login(new_way_q()),
        old_at=latest_login(old_way_q()),
        since=Coalesce("notified_at", Value(campaign.started_at or campaign.created_at)),
    ).filter(Q(new_at__gte=F("since")), Q(old_at__isnull=True) | Q(old_at__lt=F("new_at")))
    return CampaignMailbox.objects.filter(pk__in=list(annotated.values_list("pk", flat=True)))


# Messages


def recommended_by_mailbox(mailboxes: list[Mailbox]) -> dict[int, SheetValues | None]:
    """Mailbox id → its recommended sheet, one registry query for them all."""
    return dict(zip([m.pk for m in mailboxes], recommended_sheets(mailboxes), strict=True))


def mailbox_lines(
    mailboxes,
    lang: str,
    link_for: Callable[[Mailbox], str],
    recommended: Mapping[int, SheetValues | None] | None = None,
) -> str:
    """Each mailbox with what changes and its signed guide link, for {mailboxes}.
    `recommended` (mailbox id → recommended sheet) saves the registry query when a
    sender has looked up a whole batch at once."""
    mailboxes = list(mailboxes)
    if recommended is None:
        recommended = recommended_by_mailbox(mailboxes)
    lines = []
    for mailbox in mailboxes:
        changes, _sides = sheet_changes(mailbox.current_sheet.values, recommended[mailbox.pk], lang)
        lines += [
            f"■ {mailbox.email}",
            *(f"    {c.label}: {c.before} → {c.after}" for c in changes),
            f"    {link_for(mailbox)}",
            "",
        ]
    return "\n".join(lines).rstrip()


def customer_language(customer: Customer) -> str:
    return customer.language if customer.language in ("ja", "en") else "ja"


def date_text(day: date, lang: str) -> str:
    return day.strftime("%Y年%m月%d日" if lang == "ja" else "%Y-%m-%d")


def sender_signature() -> str:
    """The company's signature under every message to customers (PORTAL_SENDER_NAME and
    PORTAL_SIGNATURE)."""
    return "\n".join(
        line for line in (settings.PORTAL_SENDER_NAME, settings.PORTAL_SIGNATURE) if line
    )


def message_fill(subject: str, body: str, values: dict[str, str]) -> tuple[str, str]:
    """The one renderer of mail to customers: a subject and body with their placeholders
    filled in, the body signed by the company."""
    body = body.format_map(values).rstrip()
    if signature := sender_signature():
        body += f"\n\n-- \n{signature}"
    return subject.format_map(values), body + "\n"


def notice_mailboxes(campaign: Campaign, customer: Customer) -> list[Mailbox]:
    """The mailboxes a message to this customer lists. Before launch: its targeted ones.
    After: those still to change that still have a campaign finding, so a mailbox fixed
    since the launch is left out even before its verification is recorded."""
    if campaign.started_at is None:
        mailboxes = target_mailboxes(campaign).filter(customer=customer)
        return list(mailboxes.select_related("current_sheet", "customer__server").order_by("email"))
    return [entry.mailbox for entry in notice_entries(campaign, [customer.pk]).get(customer.pk, [])]


def notice_entries(
    campaign: Campaign, customer_ids: Iterable[int]
) -> dict[int, list[CampaignMailbox]]:
    """Per customer of a running campaign, the campaign mailboxes its message lists (as
    notice_mailboxes), each with its mailbox, sheet and server: one query for a batch."""
    entries = (
        CampaignMailbox.objects.filter(
            campaign=campaign, customer_id__in=list(customer_ids), status__in=OPEN
        )
        .filter(mailbox__in=with_campaign_findings(campaign))
        .select_related("mailbox__current_sheet", "mailbox__customer__server")
        .order_by("mailbox__email")
    )
    by_customer: dict[int, list[CampaignMailbox]] = {}
    for entry in entries:
        by_customer.setdefault(entry.customer_id, []).append(entry)
    return by_customer


def message_render(
    campaign: Campaign,
    customer: Customer,
    *,
    lang: str | None = None,
    mailboxes=None,
    recommended: Mapping[int, SheetValues | None] | None = None,
) -> tuple[str, str, str]:
    """(language, subject, body) of the campaign's message for one customer: by default
    in the customer's language, about its mailboxes still to change."""
    lang = lang or customer_language(customer)
    if mailboxes is None:
        mailboxes = notice_mailboxes(campaign, customer)
    with translation.override(lang):
        values = {
            "customer_name": customer.name,
            "deadline": date_text(campaign.cutover, lang),
            "mailboxes": mailbox_lines(
                mailboxes,
                lang,
                lambda mailbox: campaign_link_url(campaign, mailbox),
                recommended,
            ),
        }
        if lang == "ja":
            subject, body = message_fill(campaign.subject_ja, campaign.body_ja, values)
        else:
            subject, body = message_fill(campaign.subject_en, campaign.body_en, values)
    return lang, subject, body


# Cutover and progress


def campaign_cutover(
    campaign: Campaign, *, by=None, early: bool = False
) -> tuple[int, list[CampaignMailbox]]:
    """Once per campaign, give every confirmed mailbox its recommended sheet (source:
    campaign); return how many changed and the mailboxes left (not confirmed). Before
    the cutover date only when `early` says so."""
    if timezone.localdate() < campaign.cutover and not early:
        raise CampaignError(
            _("The cutover date has not come yet: choose to cut over early."), field="early"
        )
    with transaction.atomic():
        claimed = Campaign.objects.filter(
            pk=campaign.pk, state=Campaign.State.RUNNING, cutover_done_at__isnull=True
        ).update(cutover_done_at=timezone.now())
        if not claimed:
            raise CampaignError(
                _("The cutover has already been done, or the campaign is not running.")
            )
        return _cutover_apply(campaign, by)


def _cutover_apply(campaign: Campaign, by) -> tuple[int, list[CampaignMailbox]]:
    changed = 0
    confirmed = CampaignMailbox.objects.filter(
        campaign=campaign, status=CampaignMailbox.Status.CONFIRMED
    ).select_related("mailbox__current_sheet", "mailbox__customer__server")
    for entry in confirmed:
        values = recommended_sheet(entry.mailbox)
        if values and sheet_record(
            entry.mailbox,
            values,
            source=SettingsSheet.Source.CAMPAIGN,
            by=by,
            note=campaign.name[:200],
        ):
            changed += 1
    rest = list(
        CampaignMailbox.objects.filter(campaign=campaign, status__in=OPEN).select_related(
            "mailbox", "customer"
        )
    )
    return changed, rest


def status_counts(campaign: Campaign) -> dict[str, int]:
    counts = dict(
        CampaignMailbox.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {status: counts.get(status, 0) for status in CampaignMailbox.Status.values}


def codes_valid(codes: list[str]) -> list[str]:
    return [code for code in codes if code not in CODES]
