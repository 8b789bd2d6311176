"""Customers (tenants), people's memberships, the server-name registry,
mailboxes and their versioned settings sheets, and uploaded import files."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import StrIndex, Substr
from django.utils.translation import gettext_lazy as _

from accounts.interruptions import Interruptible
from accounts.scoping import TenantQuerySet
from accounts.sheets import (
    SHEET_FIELDS,
    Protocol,
    Security,
    SheetValueError,
    SheetValues,
    SmtpAuth,
    normalize_email,
    normalize_hostname,
    parse_addresses,
)
from accounts.signals import sheets_changed


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"


def validate_contact_emails(text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                normalize_email(line)
            except SheetValueError as error:
                raise ValidationError(
                    _("line %(line)d: %(message)s") % {"line": number, "message": error.message}
                ) from None


class Customer(models.Model):
    tenant_path = ""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("customer ID"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact_emails = models.TextField(
        _("contact e-mail addresses"),
        blank=True,
        help_text=_("One address per line."),
        validators=[validate_contact_emails],
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.JA
    )
    server = models.ForeignKey(
        "ServerName",
        verbose_name=_("assigned server"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        limit_choices_to={"status": "current"},
        help_text=_("The current server this customer's mail programs should use."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def contact_email_list(self) -> list[str]:
        return [line.strip() for line in self.contact_emails.splitlines() if line.strip()]


class Membership(models.Model):
    """A person who may see a customer's pages; one person may belong to several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "customer"], name="membership_unique"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"


class ServerName(models.Model):
    """The hosting company's registry of mail server names."""

    class Status(models.TextChoices):
        CURRENT = "current", _("current")
        LEGACY = "legacy", _("legacy")

    hostname = models.CharField(_("host name"), max_length=253, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("replaced by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        limit_choices_to={"status": "current"},
    )
    note = models.TextField(_("note"), blank=True)
    # Where the name points, in standard spelling separated by spaces: probes connect to
    # a loopback, private or otherwise internal address only when a server lists it here.
    addresses = models.CharField(
        _("addresses"),
        max_length=500,
        blank=True,
        help_text=_(
            "The server's IP addresses, separated by spaces. Needed only when the name "
            "points to an internal (private) address: probes connect to such an address "
            "only when it is listed here."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hostname"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="legacy") | Q(replaced_by__isnull=True),
                name="servername_only_legacy_is_replaced",
            ),
        ]
        verbose_name = _("server name")
        verbose_name_plural = _("server names")

    def __str__(self) -> str:
        return self.hostname

    def clean(self) -> None:
        errors = {}
        parsers = {
            "hostname": normalize_hostname,
            "addresses": lambda text: " ".join(parse_addresses(text)),
        }
        for name, parse in parsers.items():
            try:
                setattr(self, name, parse(getattr(self, name)))
            except SheetValueError as error:
                errors[name] = error.message
        if errors:
            raise ValidationError(errors)


class MailboxQuerySet(TenantQuerySet):
    def search(self, text: str, limit: int = 50) -> MailboxQuerySet:
        """Up to `limit` + 1 mailboxes matching an address, user name, domain, customer
        or server name (the extra one tells the caller there are more).

        Each kind of match is its own small indexed query (stored values are
        lower-case, so prefix matches use the indexes); one OR across joined
        tables would make the database read every mailbox.
        """
        query = text.strip()
        if not query:
            return self.none()
        lowered = query.lower()
        customers = Customer.objects.filter(
            Q(slug__startswith=lowered) | Q(name__icontains=query)
        ).values("pk")
        matches = [
            Q(email__startswith=lowered),
            Q(username__startswith=query),
            Q(domain__startswith=lowered),
            Q(customer__in=customers),
            Q(current_sheet__incoming_host__startswith=lowered),
            Q(current_sheet__outgoing_host__startswith=lowered),
        ]
        found: dict[int, None] = {}
        for match in matches:
            for pk in self.filter(match).order_by().values_list("pk", flat=True)[: limit + 1]:
                found[pk] = None
            if len(found) > limit:
                break
        return self.filter(pk__in=list(found)[: limit + 1])


class Mailbox(models.Model):
    tenant_path = "customer"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="mailboxes")
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    domain = models.GeneratedField(
        expression=Substr("email", StrIndex("email", Value("@")) + 1),
        output_field=models.CharField(_("domain"), max_length=253),
        db_persist=True,
        db_index=True,
    )
    username = models.CharField(_("user name"), max_length=254, db_index=True)
    protocol = models.CharField(_("protocol"), max_length=4, choices=Protocol.choices)
    # The latest sheet version, kept here so that lists and rules join one row
    # per mailbox instead of searching the history for its newest entry.
    current_sheet = models.OneToOneField(
        "SettingsSheet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # The mail program the customer last chose for this mailbox's guide.
    mail_client = models.CharField(_("mail program"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.email


class SettingsSheet(models.Model):
    """One version of a mailbox's settings; the newest is the mailbox's current sheet."""

    tenant_path = "mailbox__customer"

    class Source(models.TextChoices):
        IMPORT = "import", _("import")
        STAFF = "staff", _("staff edit")
        CUSTOMER = "customer", _("customer (self-service)")
        CAMPAIGN = "campaign", _("campaign")

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="sheets")
    version = models.PositiveIntegerField(_("version"))
    incoming_host = models.CharField(_("incoming server"), max_length=253, db_index=True)
    incoming_port = models.PositiveIntegerField(_("incoming port"))
    incoming_security = models.CharField(
        _("incoming security"), max_length=8, choices=Security.choices
    )
    outgoing_host = models.CharField(_("outgoing server"), max_length=253, db_index=True)
    outgoing_port = models.PositiveIntegerField(_("outgoing port"))
    outgoing_security = models.CharField(
        _("outgoing security"), max_length=8, choices=Security.choices
    )
    smtp_auth = models.CharField(_("SMTP authentication"), max_length=16, choices=SmtpAuth.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["mailbox", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "version"], name="sheet_version_unique"),
            models.CheckConstraint(
                condition=Q(incoming_port__gte=1, incoming_port__lte=65535)
                & Q(outgoing_port__gte=1, outgoing_port__lte=65535),
                name="sheet_ports_in_range",
            ),
            models.CheckConstraint(
                condition=Q(incoming_security__in=Security.values)
                & Q(outgoing_security__in=Security.values)
                & Q(smtp_auth__in=SmtpAuth.values),
                name="sheet_known_choices",
            ),
        ]
        verbose_name = _("settings sheet")
        verbose_name_plural = _("settings sheets")

    def __str__(self) -> str:
        return f"{self.mailbox_id} v{self.version}"

    @property
    def values(self) -> SheetValues:
        return SheetValues(**{name: getattr(self, name) for name in SHEET_FIELDS})


class MailDomain(models.Model):
    """A customer's mail domain, served to mail programs that set themselves up
    (autoconfig, Autodiscover, Apple profiles)."""

    tenant_path = "customer"

    class Login(models.TextChoices):
        EMAIL = "email", _("the full e-mail address")
        LOCAL = "local", _("the part before @")
        FIXED = "fixed", _("a fixed form")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    server = models.ForeignKey(
        ServerName,
        verbose_name=_("server"),
        on_delete=models.PROTECT,
        related_name="domains",
        limit_choices_to={"status": "current"},
    )
    protocol = models.CharField(
        _("protocol offered first"), max_length=4, choices=Protocol.choices, default=Protocol.IMAP
    )
    login = models.CharField(
        _("login name"), max_length=5, choices=Login.choices, default=Login.EMAIL
    )
    login_format = models.CharField(
        _("fixed login form"),
        max_length=100,
        blank=True,
        help_text=_("With a fixed form: e.g. {local}.{domain} or {local}+{domain}."),
    )
    # The latest DNS check (portal.autoconfig.dns): what is published and what to add.
    dns_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    dns_checks = models.JSONField(default=list, blank=True, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["domain"]
        verbose_name = _("mail domain")
        verbose_name_plural = _("mail domains")

    def __str__(self) -> str:
        return self.domain

    def login_name(self, email: str) -> str:
        """The login name for an address of this domain: from the pattern only, so the
        answer never tells whether the mailbox exists."""
        local = email.rpartition("@")[0]
        if self.login == self.Login.LOCAL:
            return local
        if self.login == self.Login.FIXED and self.login_format:
            return self.login_format.replace("{local}", local).replace("{domain}", self.domain)
        return email


class Confirmation(models.Model):
    """A person said "I have changed my settings" for a mailbox, following a guide."""

    tenant_path = "mailbox__customer"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="confirmations")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)
    mail_client = models.CharField(max_length=32, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-confirmed_at"]
        verbose_name = _("confirmation")
        verbose_name_plural = _("confirmations")

    def __str__(self) -> str:
        return f"{self.mailbox} confirmed at {self.confirmed_at:%Y-%m-%d %H:%M}"


class ImportBatch(Interruptible):
    """A file a staff member uploaded: previewed by a worker, then applied by a worker.

    Only the columns the import uses are stored, and only while the file may still be
    applied: a refused, unchanged, discarded or old file keeps its record and its
    preview (the list of problems), not its content.
    """

    class Kind(models.TextChoices):
        SERVERS = "servers", _("server names")
        SHEETS = "sheets", _("settings sheets")

    class Status(models.TextChoices):
        CHECKING = "checking", _("being checked")
        PREVIEW = "preview", _("previewed, not applied")
        INVALID = "invalid", _("refused: the file has errors")
        NOTHING = "nothing", _("nothing to change")
        DISCARDED = "discarded", _("discarded, not applied")
        QUEUED = "queued", _("waiting for a worker")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed, nothing written")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    # The uploader's language: the worker writes the outcome's messages in it.
    language = models.CharField(max_length=8, default="ja")
    preview = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    applied_at = models.DateTimeField(null=True, blank=True)
    # When its preview or its apply was last handed to a worker (import_batches_resume).
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.filename}"


def sheet_record(
    mailbox: Mailbox,
    values: SheetValues,
    *,
    source: str,
    by: Any = None,
    note: str = "",
) -> SettingsSheet | None:
    """Store `values` as the mailbox's new current sheet; None when they equal the current one.

    The mailbox row is locked so two editors cannot both write version N+1.
    """
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        current = (
            SettingsSheet.objects.get(pk=locked.current_sheet_id)
            if locked.current_sheet_id
            else None
        )
        if current is not None and current.values == values:
            return None
        sheet = SettingsSheet.objects.create(
            mailbox=locked,
            version=current.version + 1 if current else 1,
            source=source,
            created_by=by if by is not None and by.is_authenticated else None,
            note=note,
            **values.as_dict(),
        )
        Mailbox.objects.filter(pk=locked.pk).update(current_sheet=sheet)
        sheets_changed.send(sender=SettingsSheet, mailbox_ids=[locked.pk])
    mailbox.current_sheet = sheet
    return sheet


def mailbox_settings_save(
    mailbox: Mailbox,
    *,
    username: str,
    protocol: str,
    values: SheetValues,
    source: str,
    by: Any = None,
    note: str = "",
) -> SettingsSheet | None:
    """A person's edit of a mailbox: its login and protocol, and a new sheet version
    when the values differ. Returns the new sheet, or None when the sheet is unchanged."""
    with transaction.atomic():
        protocol_changed = mailbox.protocol != protocol
        Mailbox.objects.filter(pk=mailbox.pk).update(username=username, protocol=protocol)
        mailbox.username, mailbox.protocol = username, protocol
        sheet = sheet_record(mailbox, values, source=source, by=by, note=note)
        if sheet is None and protocol_changed:
            sheets_changed.send(sender=Mailbox, mailbox_ids=[mailbox.pk])
    return sheet


def latest_sheet_subquery() -> Subquery:
    """The id of each mailbox's newest sheet, for set-based updates of `current_sheet`."""
    newest = SettingsSheet.objects.filter(mailbox=OuterRef("pk")).order_by("-version")
    return Subquery(newest.values("pk")[:1])
