"""Forms of the staff pages. Field rules come from accounts.sheets, the one place that has them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from accounts.forms import TextChecked
from accounts.models import Customer, ImportBatch, Mailbox, MailDomain, validate_contact_emails
from accounts.sheets import (
    SHEET_FIELDS,
    SHEET_PARSERS,
    Protocol,
    Security,
    SheetValueError,
    SheetValues,
    SmtpAuth,
    normalize_email,
    normalize_hostname,
    parse_customer_name,
    parse_slug,
    parse_username,
)


def _checked(parser: Any, value: Any) -> Any:
    try:
        return parser(str(value))
    except SheetValueError as error:
        raise forms.ValidationError(error.message) from None


class SheetForm(TextChecked, forms.Form):
    """A staff edit of a mailbox: its login and protocol, and a new sheet version."""

    username = forms.CharField(label=_("user name"), max_length=254)
    protocol = forms.ChoiceField(label=_("protocol"), choices=Protocol.choices)
    incoming_host = forms.CharField(label=_("incoming server"), max_length=253)
    incoming_port = forms.IntegerField(label=_("incoming port"))
    incoming_security = forms.ChoiceField(label=_("incoming security"), choices=Security.choices)
    outgoing_host = forms.CharField(label=_("outgoing server"), max_length=253)
    outgoing_port = forms.IntegerField(label=_("outgoing port"))
    outgoing_security = forms.ChoiceField(label=_("outgoing security"), choices=Security.choices)
    smtp_auth = forms.ChoiceField(label=_("SMTP authentication"), choices=SmtpAuth.choices)
    note = forms.CharField(
        label=_("reason for the change"),
        max_length=500,
        required=False,
        help_text=_("Shown in the history, e.g. “customer called: switched to SSL”."),
    )

    @classmethod
    def for_mailbox(cls, mailbox: Mailbox, data: Any = None) -> SheetForm:
        initial: dict[str, Any] = {"username": mailbox.username, "protocol": mailbox.protocol}
        if mailbox.current_sheet is not None:
            initial.update(mailbox.current_sheet.values.as_dict())
        return cls(data, initial=initial)

    @classmethod
    def with_recommended(cls, mailbox: Mailbox, data: Any, recommended: SheetValues) -> SheetForm:
        """An unbound form holding the recommended sheet, with the login, protocol and
        note as typed (or as stored) and a note saying where the values came from."""
        initial: dict[str, Any] = {"username": mailbox.username, "protocol": mailbox.protocol}
        for name in ("username", "protocol", "note"):
            if data.get(name):
                initial[name] = data[name]
        initial.setdefault("note", str(_("Recommended settings applied.")))
        initial.update(recommended.as_dict())
        return cls(initial=initial)

    def clean_username(self) -> str:
        return _checked(parse_username, self.cleaned_data["username"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in SHEET_FIELDS:
            if name in cleaned:
                try:
                    cleaned[name] = SHEET_PARSERS[name](str(cleaned[name]))
                except SheetValueError as error:
                    self.add_error(name, error.message)
        return cleaned

    def sheet_values(self) -> SheetValues:
        return SheetValues(**{name: self.cleaned_data[name] for name in SHEET_FIELDS})


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("what the file holds"),
        choices=[("", _("as its header says")), *ImportBatch.Kind.choices],
        required=False,
    )
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest accepted is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


# Words the staff pages use after /staff/customers/: a customer cannot be called that.
RESERVED_CUSTOMER_IDS = frozenset({"new"})


class CustomerForm(TextChecked, forms.ModelForm):
    """A customer as staff add or edit it; its ID is given once, when it is added."""

    slug = forms.CharField(
        label=_("customer ID"),
        max_length=50,
        help_text=_(
            "Letters, digits, - and _, as in the import files; it cannot be changed later."
        ),
    )

    class Meta:
        model = Customer
        fields = ["slug", "name", "language", "contact_emails", "server"]
        widgets = {"contact_emails": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["slug"]

    def clean_slug(self) -> str:
        slug = _checked(parse_slug, self.cleaned_data["slug"])
        if slug in RESERVED_CUSTOMER_IDS:
            raise forms.ValidationError(_("This customer ID is reserved; choose another one."))
        if Customer.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("A customer with this ID already exists."))
        return slug

    def clean_name(self) -> str:
        name = _checked(parse_customer_name, self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("This field is required."))
        return name

    def clean_contact_emails(self) -> str:
        """One address per line, each checked (the model's validator names the line),
        stored lower-case without repeats or empty lines."""
        text = self.cleaned_data["contact_emails"]
        validate_contact_emails(text)
        addresses = [normalize_email(line) for line in text.splitlines() if line.strip()]
        return "\n".join(dict.fromkeys(addresses))


class MailDomainForm(TextChecked, forms.ModelForm):
    class Meta:
        model = MailDomain
        fields = ["domain", "server", "protocol", "login", "login_format"]

    def clean_domain(self) -> str:
        return _checked(normalize_hostname, self.cleaned_data["domain"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        login, form = cleaned.get("login"), cleaned.get("login_format", "").strip()
        if login == MailDomain.Login.FIXED:
            if "{local}" not in form:
                self.add_error(
                    "login_format",
                    _("A fixed form needs {local} (the part before @), e.g. {local}.{domain}."),
                )
            elif "{" in form.replace("{local}", "").replace("{domain}", "") or any(
                ch.isspace() for ch in form
            ):
                self.add_error(
                    "login_format",
                    _("Use only {local}, {domain} and the characters of a login name."),
                )
        elif login:
            form = ""
        cleaned["login_format"] = form
        return cleaned


class InvitationForm(TextChecked, forms.Form):
    """Whom to invite: an e-mail address, and a login name (the address unless given).

    An address of a customer login that exists already (a person of another customer)
    gives that login access here too: `existing` holds it then."""

    email = forms.CharField(label=_("e-mail address"), max_length=254)
    username = forms.CharField(
        label=_("login name"),
        max_length=150,
        required=False,
        help_text=_(
            "Leave empty to use the e-mail address. A person who already has a login keeps it."
        ),
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer, self.existing = customer, None

    def clean_email(self) -> str:
        email = _checked(normalize_email, self.cleaned_data["email"])
        logins = list(get_user_model().objects.filter(email__iexact=email)[:2])
        if len(logins) > 1:
            raise forms.ValidationError(
                _("Several logins use this address; ask a staff admin to sort them out.")
            )
        if logins:
            login = logins[0]
            if login.is_staff or login.is_superuser:
                raise forms.ValidationError(_("This address belongs to a staff login."))
            if login.memberships.filter(customer=self.customer).exists():
                raise forms.ValidationError(_("This person can already see this customer's pages."))
            self.existing = login
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "email" not in cleaned or self.existing is not None:
            return cleaned
        username = cleaned.get("username", "").strip() or cleaned["email"]
        users = get_user_model()
        try:
            users._meta.get_field("username").run_validators(username)
        except forms.ValidationError as error:
            self.add_error("username", error)
            return cleaned
        if users.objects.filter(username__iexact=username).exists():
            self.add_error("username", _("This login name is taken; choose another one."))
        cleaned["username"] = username
        return cleaned
