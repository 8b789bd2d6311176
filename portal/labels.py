"""The one place a code becomes words. Every code a person sees — finding codes,
settings-sheet values, probe errors, mail programs, campaign, mailbox and message
states, why work was interrupted — goes through `label`, in the active language or the one asked for; pages
use it as the `label` template filter (`{{ sheet.incoming_security|label:"security" }}`).
An unknown code is shown as it is rather than hidden."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext as _

from portal.guides.model import T

# The guides' wording of the sheet values (also the model choices' labels).
SECURITY_NAMES = {
    "ssl": T("SSL/TLS（暗号化して接続）", "SSL/TLS (implicit TLS)"),
    "starttls": T("STARTTLS", "STARTTLS"),
    "none": T("なし（暗号化しない）", "None (no encryption)"),
}
SMTP_AUTH_NAMES = {
    "smtp-auth": T(
        "SMTP認証（受信と同じユーザー名・パスワード）", "SMTP-AUTH (same user name and password)"
    ),
    "pop-before-smtp": T("POP before SMTP", "POP before SMTP"),
    "none": T("なし", "None"),
}
PROTOCOL_NAMES = {"pop3": "POP3", "imap": "IMAP", "smtp": "SMTP"}


def _choices(kind: str) -> dict[str, str]:
    from accounts.interruptions import Reason
    from portal.models import Campaign, CampaignMailbox, Notice

    choices = {
        "campaign": Campaign.State,
        "entry": CampaignMailbox.Status,
        "notice": Notice.Status,
        "interruption": Reason,
    }[kind]
    return {value: str(name) for value, name in choices.choices}


def _message_kind(code: str, lang: str) -> str:
    """A campaign message's kind: "notice", or "reminder-N" (N days before cutover)."""
    if code == "notice":
        return _("first notice")
    days = int(code.removeprefix("reminder-"))
    return _("reminder %(days)d days before cutover") % {"days": days}


def _program(code: str, lang: str) -> str:
    from portal.guides.catalog import CATALOG

    return CATALOG[code].name(lang) if code in CATALOG else code


KINDS: dict[str, Callable[[str, str], str]] = {
    "security": lambda code, lang: SECURITY_NAMES[code](lang),
    "incoming_security": lambda code, lang: SECURITY_NAMES[code](lang),
    "outgoing_security": lambda code, lang: SECURITY_NAMES[code](lang),
    "smtp_auth": lambda code, lang: SMTP_AUTH_NAMES[code](lang),
    "protocol": lambda code, lang: PROTOCOL_NAMES[code],
    "finding": lambda code, lang: _finding_labels()[code],
    "error": lambda code, lang: _error_labels()[code],
    "program": _program,
    "campaign": lambda code, lang: _choices("campaign")[code],
    "entry": lambda code, lang: _choices("entry")[code],
    "notice": lambda code, lang: _choices("notice")[code],
    "interruption": lambda code, lang: _choices("interruption")[code],
    "message_kind": _message_kind,
}


def _error_labels() -> dict[str, str]:
    from checks.verdicts import error_labels

    return error_labels()


def _finding_labels() -> dict[str, str]:
    from checks.fixes import code_labels

    return code_labels()


def label(kind: str, code: object, lang: str | None = None) -> str:
    """`code` of `kind` in words, in `lang` or the active language. The kinds are the
    keys of KINDS (a settings-sheet field name is one too); a value of any other kind,
    such as a host name or a port, is shown as it is."""
    if code is None or code == "":
        return "—"
    lang = lang or translation.get_language() or "ja"
    if kind not in KINDS:
        return str(code)
    with translation.override(lang):
        try:
            return KINDS[kind](str(code), lang[:2])
        except (KeyError, ValueError):
            return str(code)
