"""Forms of the staff pages. Field rules come from accounts.sheets, the one place that has them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from accounts.forms import TextChecked
from accounts.models import ImportBatch, Mailbox
from accounts.sheets import (
    SHEET_FIELDS,
    SHEET_PARSERS,
    Protocol,
    Security,
    SheetValueError,
    SheetValues,
    SmtpAuth,
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
