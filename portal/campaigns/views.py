"""Staff campaign pages (create, preview, launch, progress, cutover, export) and
the customer's signed campaign link.

Every mass action (launch, cutover, cancel, finish, exclude) is a page of its own:
GET states what will happen, with the numbers; only the POST from that page acts.
An action that no longer applies (a second click, the back button) does nothing.
"""

import csv
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core import signing
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.csvfiles import cell_safe
from accounts.forms import TextChecked
from accounts.models import Confirmation, Customer
from checks.findings import CODES
from checks.fixes import recommended_sheet
from portal.access import staff_required
from portal.audit.models import AuditEntry
from portal.audit.record import audit_record
from portal.campaigns import lifecycle, sending
from portal.campaigns.chart import funnel_chart, funnel_rows
from portal.evidence.campaign import campaign_evidence
from portal.guide_views import client_choices
from portal.guides.builder import guide_build, sheet_changes
from portal.guides.catalog import CATALOG
from portal.labels import label
from portal.models import Campaign, CampaignMailbox, Notice


class CampaignForm(TextChecked, forms.ModelForm):
    # Customer IDs as text: a select of every customer would be thousands of options.
    customer_ids = forms.CharField(
        label=gettext_lazy("customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Customer IDs, one per line."),
    )
    target_codes = forms.MultipleChoiceField(
        label=gettext_lazy("finding codes"),
        choices=lambda: [(code, label("finding", code)) for code in CODES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reminder_days = forms.CharField(
        label=gettext_lazy("reminders (days before cutover)"),
        initial="14, 7, 1",
        help_text=gettext_lazy("Comma-separated, e.g. 14, 7, 1."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name", "description", "target_hosts", "target_codes",
            "target_addresses", "cutover", "reminder_days", "subject_ja", "body_ja",
            "subject_en", "body_en",
        ]  # fmt: skip
        widgets = {"cutover": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            slugs = self.instance.target_customers.values_list("slug", flat=True)
            self.initial["customer_ids"] = "\n".join(slugs)

    def clean_customer_ids(self):
        slugs = {
            line.strip().lower()
            for line in self.cleaned_data["customer_ids"].splitlines()
            if line.strip()
        }
        customers = list(Customer.objects.filter(slug__in=slugs))
        unknown = sorted(slugs - {c.slug for c in customers})
        if unknown:
            raise forms.ValidationError(
                _("No customer with the ID %(ids)s.") % {"ids": ", ".join(unknown)}
            )
        return customers

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.target_customers.set(self.cleaned_data["customer_ids"])

    def clean_reminder_days(self):
        raw = self.cleaned_data["reminder_days"]
        if isinstance(raw, list):
            return raw
        try:
            days = sorted(
                {
                    int(part)
                    for part in str(raw).replace("[", "").replace("]", "").split(",")
                    if part.strip()
                },
                reverse=True,
            )
        except ValueError:
            raise forms.ValidationError(
                _("Use whole numbers of days separated by commas.")
            ) from None
        if any(d < 0 or d > 365 for d in days):
            raise forms.ValidationError(_("Days before cutover go from 0 to 365."))
        return days

    def clean_cutover(self):
        cutover = self.cleaned_data["cutover"]
        if problem := lifecycle.notice_problem(cutover, timezone.localdate()):
            raise forms.ValidationError(problem)
        return cutover

    def clean(self):
        cleaned = super().clean()
        for name in ("subject_ja", "body_ja", "subject_en", "body_en"):
            for problem in lifecycle.template_problems(cleaned.get(name) or ""):
                self.add_error(name, problem)
        return cleaned


@staff_required
def campaign_list(request):
    return render(request, "campaigns/list.html", {"campaigns": Campaign.objects.all()[:100]})


@staff_required
def campaign_edit(request, code=None):
    campaign = get_object_or_404(Campaign, code=code) if code else None
    if campaign and campaign.state != Campaign.State.DRAFT:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("campaign_detail", code=campaign.code)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.created_by = saved.created_by or request.user
        saved.save()
        form.save_m2m()
        return redirect("campaign_detail", code=saved.code)
    return render(request, "campaigns/edit.html", {"form": form, "campaign": campaign})


@staff_required
def campaign_detail(request, code):
    campaign = get_object_or_404(Campaign, code=code)
    context = {"campaign": campaign}
    if lifecycle.campaign_starting(campaign):
        context["starting"] = True  # the page refreshes until the worker has started it
    elif campaign.state in (Campaign.State.DRAFT, Campaign.State.SCHEDULED):
        targets = lifecycle.target_mailboxes(campaign)
        customer_ids = list(targets.values_list("customer_id", flat=True).distinct()[:1000])
        chosen = request.GET.get("customer")
        customer = Customer.objects.filter(slug=chosen, pk__in=customer_ids).first()
        customer = customer or Customer.objects.filter(pk__in=customer_ids[:1]).first()
        previews = []
        if customer is not None:
            mailboxes = lifecycle.notice_mailboxes(campaign, customer)
            for lang in ("ja", "en"):
                _lang, subject, body = lifecycle.message_render(
                    campaign, customer, lang=lang, mailboxes=mailboxes
                )
                previews.append({"lang": lang, "subject": subject, "body": body})
        context.update(
            summary=lifecycle.target_summary(campaign),
            preview_customer=customer,
            previews=previews,
            preview_customers=Customer.objects.filter(pk__in=customer_ids[:50]),
        )
    else:
        counts = lifecycle.status_counts(campaign)
        labels = dict(CampaignMailbox.Status.choices)
        # An excluded mailbox no longer counts towards the progress.
        total = sum(counts.values()) - counts["excluded"] or 1
        done = counts["confirmed"] + counts["verified"]
        week_before = campaign.cutover - timedelta(days=7)
        notices = dict(
            Notice.objects.filter(campaign=campaign)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        unsent = notices.get(Notice.Status.PENDING, 0) + notices.get(Notice.Status.SENDING, 0)
        timeline = _timeline(campaign)
        targeted = sum(counts.values()) - counts["excluded"]
        funnel = funnel_rows(timeline, targeted)
        context.update(
            counts=counts,
            total=sum(counts.values()),
            percent=round(100 * done / total),
            bars=_bars(counts, labels, total),
            notices=notices,
            # While messages wait to go out, the page shows their progress and refreshes.
            sending=campaign.state == Campaign.State.RUNNING and unsent > 0,
            notices_total=sum(notices.values()),
            notices_handled=sum(notices.values()) - unsent,
            failed_notices=Notice.objects.filter(
                campaign=campaign, status=Notice.Status.FAILED
            ).select_related("customer")[:50],
            customers=_per_customer(campaign),
            not_viewed=CampaignMailbox.objects.filter(
                campaign=campaign,
                status__in=[CampaignMailbox.Status.PENDING, CampaignMailbox.Status.NOTIFIED],
            ).select_related("mailbox", "customer")[:500]
            if timezone.localdate() >= week_before
            else None,
            week_before=week_before,
            timeline=timeline,
            funnel=funnel,
            chart=funnel_chart(funnel, targeted),
            **campaign_evidence(campaign),
        )
    return render(request, "campaigns/detail.html", context)


def _bars(counts, labels, total):
    """(status, label, count, width %, start %) per status, for the progress bar."""
    bars, x = [], 0.0
    for status, n in counts.items():
        width = 0 if status == "excluded" else round(100 * n / total, 2)
        bars.append((status, labels[status], n, width, x))
        x += width
    return bars


def _per_customer(campaign):
    rows = {}
    for entry in (
        CampaignMailbox.objects.filter(campaign=campaign)
        .select_related("customer", "mailbox")
        .order_by("customer__slug", "mailbox__email")[:2000]
    ):
        rows.setdefault(entry.customer, []).append(entry)
    return list(rows.items())


def _timeline(campaign):
    """Per day since the start: how many mailboxes had reached each step, counted in
    the database per day and summed up here."""
    if not campaign.started_at:
        return []
    fields = ("notified_at", "viewed_at", "confirmed_at", "verified_at")
    per_day = []
    for field in fields:
        rows = (
            CampaignMailbox.objects.filter(campaign=campaign, **{f"{field}__isnull": False})
            .annotate(day=TruncDate(field))
            .values_list("day")
            .annotate(n=Count("pk"))
        )
        per_day.append(dict(rows))
    first = timezone.localdate(campaign.started_at)
    last = min(timezone.localdate(), campaign.cutover + timedelta(days=7))
    days, totals, day = [], [0] * len(fields), first
    while day <= last and len(days) < 120:
        totals = [totals[i] + per_day[i].get(day, 0) for i in range(len(fields))]
        days.append((day, totals))
        day += timedelta(days=1)
    return days


class LaunchForm(forms.Form):
    at = forms.DateTimeField(
        label=gettext_lazy("Start at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("Leave empty to start now."),
    )


class CutoverForm(forms.Form):
    early = forms.BooleanField(label=gettext_lazy("Cut over early"), required=False)


class ExcludeForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)


ACTION_FORMS = {
    "launch": LaunchForm,
    "cutover": CutoverForm,
    "cancel": forms.Form,
    "finish": forms.Form,
    "exclude": ExcludeForm,
}
EXCLUDABLE = (*lifecycle.OPEN, CampaignMailbox.Status.CONFIRMED, CampaignMailbox.Status.FAILED)


def _applies(campaign: Campaign, action: str, entry: CampaignMailbox | None) -> bool:
    """Whether the action can still be done: false after it has been done once."""
    running = campaign.state == Campaign.State.RUNNING
    return {
        "launch": campaign.state == Campaign.State.DRAFT,
        "cutover": running and campaign.cutover_done_at is None,
        "cancel": campaign.state
        in (Campaign.State.DRAFT, Campaign.State.SCHEDULED, Campaign.State.RUNNING),
        "finish": running,
        "exclude": running and entry is not None and entry.status in EXCLUDABLE,
    }[action]


def _confirmation(campaign: Campaign, action: str, entry: CampaignMailbox | None) -> dict:
    """The question, the numbers behind it and the button, for one action."""
    counts = lifecycle.status_counts(campaign)
    still_open = sum(counts[s] for s in lifecycle.OPEN)
    if action == "launch":
        summary = lifecycle.target_summary(campaign)
        sent = summary.customers - summary.without_address
        return {
            "title": _("Launch the campaign"),
            "question": ngettext(
                "Send %(messages)s message to %(addresses)s addresses about %(mailboxes)s "
                "mailboxes to change?",
                "Send %(messages)s messages to %(addresses)s addresses about %(mailboxes)s "
                "mailboxes to change?",
                sent,
            )
            % {
                "messages": intcomma(sent),
                "addresses": intcomma(summary.address_count),
                "mailboxes": intcomma(summary.mailboxes),
            },
            "facts": [
                (_("Customers to mail (one message each)"), summary.customers),
                (_("Mailboxes to change"), summary.mailboxes),
                (_("Recipient addresses"), summary.address_count),
                (
                    _("Targeted customers with nothing to change (not mailed)"),
                    summary.nothing_to_change,
                ),
                (_("Customers without a contact address (not mailed)"), summary.without_address),
            ],
            "summary": summary,
            "button": _("Launch"),
        }
    if action == "cutover":
        return {
            "title": _("Cut over"),
            "question": _(
                "Give %(confirmed)s confirmed mailboxes their new settings now? "
                "%(open)s mailboxes not confirmed keep their settings and are listed."
            )
            % {"confirmed": intcomma(counts["confirmed"]), "open": intcomma(still_open)},
            "facts": [
                (_("Confirmed: get their new settings"), counts["confirmed"]),
                (_("Not confirmed: listed, unchanged"), still_open),
            ],
            "early": timezone.localdate() < campaign.cutover,
            "button": _("Cut over now"),
        }
    if action == "cancel":
        waiting = Notice.objects.filter(campaign=campaign, status=Notice.Status.PENDING).count()
        return {
            "title": _("Cancel the campaign"),
            "question": _(
                "Cancel the campaign? %(waiting)s messages not yet sent will not be sent, "
                "and the links in messages already sent stop working."
            )
            % {"waiting": intcomma(waiting)},
            "facts": [
                (_("Messages not yet sent"), waiting),
                (_("Mailboxes not yet changed"), still_open),
            ],
            "button": _("Cancel the campaign"),
        }
    if action == "finish":
        return {
            "title": _("Finish the campaign"),
            "question": _(
                "Finish the campaign? %(open)s mailboxes not yet changed stay as they are "
                "and get no more reminders."
            )
            % {"open": intcomma(still_open)},
            "facts": [
                (_("Confirmed or verified"), counts["confirmed"] + counts["verified"]),
                (_("Mailboxes not yet changed"), still_open),
            ],
            "button": _("Finish the campaign"),
        }
    return {
        "title": _("Exclude a mailbox"),
        "question": _(
            "Exclude %(email)s from the campaign? It gets no more reminders and no longer "
            "counts towards the progress."
        )
        % {"email": entry.mailbox.email},
        "facts": [],
        "button": _("Exclude"),
    }


AUDITED_ACTIONS = {
    "launch": AuditEntry.Action.CAMPAIGN_LAUNCH,
    "cancel": AuditEntry.Action.CAMPAIGN_CANCEL,
    "finish": AuditEntry.Action.CAMPAIGN_FINISH,
    "cutover": AuditEntry.Action.CAMPAIGN_CUTOVER,
    "exclude": AuditEntry.Action.CAMPAIGN_EXCLUDE,
}


def _action_do(campaign, action, form, entry, user) -> str:
    """Do the action; returns the message for the staff member."""
    if action == "launch":
        at = form.cleaned_data["at"]
        lifecycle.campaign_launch(campaign, at=at)
        if at and at > timezone.now():
            return _("The campaign will start at the time you chose.")
        return _(
            "The campaign is starting: its mailboxes are being listed, then the messages go out."
        )
    if action == "cancel":
        lifecycle.campaign_cancel(campaign)
        return _("The campaign is cancelled.")
    if action == "finish":
        lifecycle.campaign_finish(campaign)
        return _("The campaign is finished.")
    if action == "cutover":
        changed, rest = lifecycle.campaign_cutover(
            campaign, by=user, early=form.cleaned_data["early"]
        )
        return _(
            "Cutover: %(changed)d mailboxes got their new settings; %(rest)d are not confirmed yet."
        ) % {"changed": changed, "rest": len(rest)}
    lifecycle.step([entry.pk], CampaignMailbox.Status.EXCLUDED, "excluded_at", only_from=EXCLUDABLE)
    return _("%(email)s is excluded from the campaign.") % {"email": entry.mailbox.email}


@staff_required
def campaign_action(request, code, action):
    if action not in ACTION_FORMS:
        raise Http404
    campaign = get_object_or_404(Campaign, code=code)
    entry = None
    if action == "exclude":
        entry_id = request.POST.get("entry") or request.GET.get("entry") or ""
        if not (entry_id.isascii() and entry_id.isdigit()):
            raise Http404
        entry = get_object_or_404(
            CampaignMailbox.objects.select_related("mailbox"), campaign=campaign, pk=entry_id
        )
    if not _applies(campaign, action, entry):
        messages.info(
            request, _("This has already been done or no longer applies; nothing was done.")
        )
        return redirect("campaign_detail", code=campaign.code)
    initial = {"entry": entry.pk} if entry else None
    data = request.POST if request.method == "POST" else None  # an empty POST is a POST
    form = ACTION_FORMS[action](data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            messages.success(request, _action_do(campaign, action, form, entry, request.user))
            audit_record(
                action=AUDITED_ACTIONS[action],
                request=request,
                customer=entry.customer if entry else None,
                target=entry.mailbox.email if entry else campaign.name,
                detail={"campaign": str(campaign.code)},
            )
            return redirect("campaign_detail", code=campaign.code)
        except lifecycle.CampaignError as error:
            campaign.refresh_from_db()
            if not _applies(campaign, action, entry):  # a second click raced the first
                return redirect("campaign_detail", code=campaign.code)
            form.add_error(error.field if error.field in form.fields else None, str(error))
    context = {"campaign": campaign, "action": action, "form": form, "entry": entry}
    context.update(_confirmation(campaign, action, entry))
    return render(request, "campaigns/confirm.html", context)


class TestMessageForm(forms.Form):
    customer = forms.CharField(
        label=gettext_lazy("Customer ID"),
        max_length=100,
        help_text=gettext_lazy("The message goes to you exactly as this customer would get it."),
    )

    def clean_customer(self):
        slug = self.cleaned_data["customer"].strip().lower()
        customer = Customer.objects.filter(slug=slug).first()
        if customer is None:
            raise forms.ValidationError(_("No customer with the ID %(ids)s.") % {"ids": slug})
        return customer


@staff_required
def campaign_test_message(request, code):
    """Send the staff member the message a chosen customer would get, marked as a test."""
    campaign = get_object_or_404(Campaign, code=code)
    form = TestMessageForm(request.POST or None, initial={"customer": request.GET.get("customer")})
    if request.method == "POST" and form.is_valid():
        try:
            sending.campaign_test_send(campaign, form.cleaned_data["customer"], request.user.email)
        except lifecycle.CampaignError as error:
            form.add_error("customer", str(error))
        else:
            messages.success(
                request,
                _("A test message was sent to %(email)s.") % {"email": request.user.email},
            )
            return redirect("campaign_detail", code=campaign.code)
    return render(request, "campaigns/test_message.html", {"campaign": campaign, "form": form})


@staff_required
def campaign_export(request, code):
    campaign = get_object_or_404(Campaign, code=code)
    audit_record(
        action=AuditEntry.Action.EXPORT,
        request=request,
        target=campaign.name,
        detail={"campaign": str(campaign.code)},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        ["customer", "email", "status", "notified_at", "viewed_at", "confirmed_at", "verified_at"]
    )
    for entry in (
        CampaignMailbox.objects.filter(campaign=campaign)
        .select_related("customer", "mailbox")
        .order_by("customer__slug", "mailbox__email")
        .iterator()
    ):
        writer.writerow([cell_safe(value) for value in (
            entry.customer.slug, entry.mailbox.email, entry.status,
            *[(t.isoformat() if t else "") for t in (entry.notified_at, entry.viewed_at, entry.confirmed_at, entry.verified_at)],
        )])  # fmt: skip
    return response


def campaign_link(request, token):
    """A signed link from a campaign message: opens this mailbox's guide, nothing else."""
    try:
        entry = lifecycle.link_resolve(token)
    except signing.SignatureExpired:
        return render(request, "campaigns/link_expired.html", status=410)
    except signing.BadSignature:
        raise Http404 from None
    closed = lifecycle.link_closed(entry)
    if closed:  # nothing to view or confirm any more, whatever is posted
        return render(
            request, "campaigns/link_closed.html", {"mailbox": entry.mailbox, "closed": closed}
        )
    if request.method != "POST":
        lifecycle.mailbox_viewed(entry)
    return _link_page(request, entry.mailbox, entry.mailbox.mail_client or "", entry=entry)


def guide_link(request, token):
    """A signed link staff mailed: opens this mailbox's guide for the program they chose,
    without a login, until it expires; nothing else."""
    try:
        mailbox, client = lifecycle.guide_link_resolve(token)
    except signing.SignatureExpired:
        return render(request, "campaigns/link_expired.html", status=410)
    except signing.BadSignature:
        raise Http404 from None
    return _link_page(request, mailbox, client)


def _link_page(request, mailbox, default_client, *, entry=None):
    """The page a signed link opens: the mailbox's guide (or the program picker) and
    "I have changed my settings"."""
    client = request.GET.get("client", default_client)
    client = client if client in CATALOG else ""
    lang = translation.get_language() or "ja"
    if request.method == "POST" and request.POST.get("confirm"):
        Confirmation.objects.create(mailbox=mailbox, confirmed_by=None, mail_client=client)
        lifecycle.mailbox_confirmed(mailbox.pk)
        messages.success(request, _("Thank you. We have noted that you changed your settings."))
        return redirect(request.path + (f"?client={client}" if client else ""))
    guide = guide_build(mailbox, client, lang) if client else None
    recommended = recommended_sheet(mailbox)
    changes, sides = sheet_changes(mailbox.current_sheet.values, recommended, lang)
    return render(
        request,
        "campaigns/link.html",
        {
            "entry": entry,
            "mailbox": mailbox,
            "guide": guide,
            "clients": client_choices(),
            "client": client,
            "changes": changes,
            "sides_changing": sides,
        },
    )
