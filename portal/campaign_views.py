"""Staff campaign pages (create, preview, launch, progress, cutover, export) and
the customer's signed campaign link."""

import csv
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core import signing
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.csvfiles import cell_safe
from accounts.forms import TextChecked
from accounts.models import Confirmation, Customer
from checks.findings import CODES
from portal import campaigns
from portal.access import staff_required
from portal.guide_views import client_choices
from portal.guides.builder import guide_build
from portal.guides.catalog import CATALOG
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
        choices=[(c, c) for c in CODES],
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

    def clean(self):
        cleaned = super().clean()
        for name in ("subject_ja", "body_ja", "subject_en", "body_en"):
            for problem in campaigns.template_problems(cleaned.get(name) or ""):
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
    if campaign.state in (Campaign.State.DRAFT, Campaign.State.SCHEDULED):
        targets = campaigns.target_mailboxes(campaign)
        customer_ids = list(targets.values_list("customer_id", flat=True).distinct()[:1000])
        chosen = request.GET.get("customer")
        customer = Customer.objects.filter(slug=chosen).first() if chosen else None
        customer = customer or Customer.objects.filter(pk__in=customer_ids[:1]).first()
        previews = []
        if customer is not None:
            mailboxes = targets.filter(customer=customer).select_related(
                "current_sheet", "customer__server"
            )[:50]
            for lang in ("ja", "en"):
                _lang, subject, body = campaigns.message_render(
                    campaign, customer, lang=lang, mailboxes=mailboxes
                )
                previews.append({"lang": lang, "subject": subject, "body": body})
        context.update(
            mailbox_count=targets.count(),
            customer_count=targets.values("customer").distinct().count(),
            preview_customer=customer,
            previews=previews,
            preview_customers=Customer.objects.filter(pk__in=customer_ids[:50]),
        )
    else:
        counts = campaigns.status_counts(campaign)
        labels = dict(CampaignMailbox.Status.choices)
        total = sum(counts.values()) or 1
        done = counts["confirmed"] + counts["verified"]
        week_before = campaign.cutover - timedelta(days=7)
        context.update(
            counts=counts,
            total=sum(counts.values()),
            percent=round(100 * done / total),
            bars=[(s, labels[s], n, round(100 * n / total)) for s, n in counts.items()],
            notices=dict(
                Notice.objects.filter(campaign=campaign)
                .values_list("status")
                .annotate(n=Count("pk"))
            ),
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
            timeline=_timeline(campaign),
        )
    return render(request, "campaigns/detail.html", context)


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


def _launch_time(text: str):
    """A datetime-local value in the portal's time zone, or None for "now"."""
    if not text:
        return None
    parsed = parse_datetime(text)
    if parsed is None:
        raise campaigns.CampaignError(_("The start time is not a date and time."))
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@staff_required
@require_POST
def campaign_action(request, code, action):
    campaign = get_object_or_404(Campaign, code=code)
    try:
        if action == "launch":
            at = _launch_time(request.POST.get("at", ""))
            campaigns.campaign_launch(campaign, at=at)
            if at and at > timezone.now():
                messages.success(request, _("The campaign will start at the time you chose."))
            else:
                messages.success(request, _("The campaign is running; messages are being sent."))
        elif action == "cancel":
            campaigns.campaign_cancel(campaign)
            messages.info(request, _("The campaign is cancelled."))
        elif action == "finish":
            campaigns.campaign_finish(campaign)
            messages.info(request, _("The campaign is finished."))
        elif action == "cutover":
            changed, rest = campaigns.campaign_cutover(campaign, by=request.user)
            messages.success(
                request,
                _(
                    "Cutover: %(changed)d mailboxes got their new settings; %(rest)d are not confirmed yet."
                )
                % {"changed": changed, "rest": len(rest)},
            )
        elif action == "exclude":
            entry_id = request.POST.get("entry", "")
            if not (entry_id.isascii() and entry_id.isdigit()):
                raise Http404
            entry = get_object_or_404(CampaignMailbox, campaign=campaign, pk=entry_id)
            campaigns.step([entry.pk], CampaignMailbox.Status.EXCLUDED, "excluded_at",
                           only_from=(*campaigns.OPEN, CampaignMailbox.Status.CONFIRMED, CampaignMailbox.Status.FAILED))  # fmt: skip
        else:
            raise Http404
    except campaigns.CampaignError as error:
        messages.error(request, str(error))
    return redirect("campaign_detail", code=campaign.code)


@staff_required
def campaign_export(request, code):
    campaign = get_object_or_404(Campaign, code=code)
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
        entry = campaigns.link_resolve(token)
    except signing.SignatureExpired:
        return render(request, "campaigns/link_expired.html", status=410)
    except signing.BadSignature:
        raise Http404 from None
    mailbox = entry.mailbox
    closed = campaigns.link_closed(entry)
    if closed:  # nothing to view or confirm any more, whatever is posted
        return render(request, "campaigns/link_closed.html", {"mailbox": mailbox, "closed": closed})
    client = request.GET.get("client") or mailbox.mail_client or ""
    client = client if client in CATALOG else ""
    if request.method == "POST" and request.POST.get("confirm"):
        Confirmation.objects.create(mailbox=mailbox, confirmed_by=None, mail_client=client)
        campaigns.mailbox_confirmed(mailbox.pk)
        messages.success(request, _("Thank you. We have noted that you changed your settings."))
        return redirect(request.path + (f"?client={client}" if client else ""))
    campaigns.mailbox_viewed(entry)
    guide = guide_build(mailbox, client, translation.get_language() or "ja") if client else None
    return render(
        request,
        "campaigns/link.html",
        {
            "entry": entry,
            "mailbox": mailbox,
            "guide": guide,
            "clients": client_choices(),
            "client": client,
        },
    )
