"""Pure rules about settings-sheet values: the allowed words, and the parsers
that turn what a person typed (a form field or a CSV cell) into a clean value
or an error that says what is wrong. No database access here."""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass, fields
from functools import cache, lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import models
from django.utils.translation import gettext_lazy as _


class Protocol(models.TextChoices):
    POP3 = "pop3", "POP3"
    IMAP = "imap", "IMAP"


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (implicit TLS)")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (no encryption)")


class SmtpAuth(models.TextChoices):
    SMTP_AUTH = "smtp-auth", _("SMTP-AUTH")
    POP_BEFORE_SMTP = "pop-before-smtp", _("POP before SMTP")
    NONE = "none", _("None")


class SheetValueError(ValueError):
    """A value that cannot be stored; `message` says what is wrong, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_NAME_LENGTH = 254
MAX_CUSTOMER_NAME_LENGTH = 200
MAX_NOTE_LENGTH = 2000

# C0 controls (NUL included), DEL and C1 controls. PostgreSQL refuses NUL; the others
# break mail headers (a line break in a customer name splits the campaign mail's
# subject), CSV files and terminals. Text of several lines keeps tab, LF and CR.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_check(text: str, *, max_length: int | None, lines: bool = False) -> str:
    """The one rule for every text the portal takes in — CSV cells, form fields, query
    parameters, URL parts: `text` unchanged when it has no control character and at
    most `max_length` characters, else SheetValueError saying which."""
    found = (_CONTROL_IN_LINES if lines else _CONTROL).search(text)
    if found:
        raise SheetValueError(
            _("control characters such as line breaks or NUL are not allowed (found U+%(code)04X)")
            % {"code": ord(found.group())}
        )
    if max_length is not None and len(text) > max_length:
        raise SheetValueError(
            _("at most %(limit)d characters are allowed (this has %(length)d)")
            % {"limit": max_length, "length": len(text)}
        )
    return text


def printable(text: str) -> str:
    """`text` with each control character shown as �, for quoting it in a message."""
    return _CONTROL.sub("\ufffd", text)


def _quoted(text: str) -> str:
    return f"“{printable(text[:60])}”" if text else _("(empty)")


@cache
def _choice_values(choices: type[models.TextChoices]) -> frozenset[str]:
    return frozenset(choices.values)


def parse_choice(text: str, choices: type[models.TextChoices]) -> str:
    """One of the choice values, matched without regard to case or spaces around."""
    value = text.strip().lower()
    if value in _choice_values(choices):
        return value
    allowed = ", ".join(choices.values)
    raise SheetValueError(
        _("%(value)s is not allowed: use one of %(allowed)s")
        % {"value": _quoted(text), "allowed": allowed}
    )


def parse_port(text: str | int) -> int:
    """A port number; full-width digits (as typed in Japanese input mode) are accepted."""
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise SheetValueError(
            _("%(value)s is not a port number: use a whole number from 1 to 65535")
            % {"value": _quoted(raw)}
        )
    return int(raw)


def _numeric_spelling(name: str) -> bool:
    """Whether a resolver would take `name` for an IP address rather than look it up:
    any spelling inet_aton accepts (dotted, decimal, hex, octal, short forms like
    127.1), or an all-numeric top-level label, which no real DNS name has (RFC 3696)."""
    try:
        socket.inet_aton(name)
    except OSError:
        return name.rpartition(".")[2].isdigit()
    return True


def _is_ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=65536)  # a file names the same few servers on every row
def normalize_hostname(text: str) -> str:
    """The server's DNS name in lower-case ASCII (IDNA for Japanese names).

    IP addresses in any spelling, `localhost` and one-label names are refused:
    probes connect to the servers named here, so a sheet must never point them
    at the portal's own network."""
    raw = text_check(text.strip(), max_length=253).rstrip(".")
    if not raw:
        raise SheetValueError(_("a server name is required"))
    try:
        name = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        name = ""
    if _is_ip_literal(raw) or (name and _numeric_spelling(name)):
        raise SheetValueError(
            _("%(value)s looks like an IP address: use the server's name, e.g. mail.example.jp")
            % {"value": _quoted(raw)}
        )
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise SheetValueError(
            _("%(value)s is not a valid server name (letters, digits, hyphens and dots)")
            % {"value": _quoted(raw)}
        )
    if name == "localhost" or name.endswith(".localhost") or "." not in name:
        raise SheetValueError(
            _(
                "%(value)s is not a server name on the internet: use its full name, e.g. mail.example.jp"
            )
            % {"value": _quoted(raw)}
        )
    return name


def parse_addresses(text: str) -> tuple[str, ...]:
    """IP addresses separated by spaces or commas, each in its standard spelling."""
    found = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        try:
            address = str(ipaddress.ip_address(item.strip("[]")))
        except ValueError:
            raise SheetValueError(
                _("%(value)s is not an IP address") % {"value": _quoted(item)}
            ) from None
        if address not in found:
            found.append(address)
    return tuple(found)


def normalize_email(text: str) -> str:
    value = text_check(text.strip(), max_length=254)
    try:
        validate_email(value)
    except ValidationError:
        raise SheetValueError(
            _("%(value)s is not a valid e-mail address") % {"value": _quoted(value)}
        ) from None
    local, _at, domain = value.rpartition("@")
    return f"{local}@{normalize_hostname(domain)}".lower()


def parse_username(text: str) -> str:
    value = text_check(text.strip(), max_length=MAX_NAME_LENGTH)
    if not value:
        raise SheetValueError(_("a user name is required"))
    if any(ch.isspace() for ch in value):
        raise SheetValueError(
            _("%(value)s is not a valid user name (no spaces, at most 254 characters)")
            % {"value": _quoted(value)}
        )
    return value


def parse_slug(text: str) -> str:
    value = text_check(text.strip().lower(), max_length=50)
    try:
        validate_slug(value)
    except ValidationError:
        raise SheetValueError(
            _("%(value)s is not a valid customer ID (letters, digits, hyphens, underscores)")
            % {"value": _quoted(value)}
        ) from None
    return value


def parse_customer_name(text: str) -> str:
    """A customer's name: one line (it goes into mail subjects), at most 200 characters;
    empty means "not given"."""
    return text_check(text.strip(), max_length=MAX_CUSTOMER_NAME_LENGTH)


def parse_note(text: str) -> str:
    return text_check(text.strip(), max_length=MAX_NOTE_LENGTH, lines=True)


@dataclass(frozen=True)
class SheetValues:
    """The settings of one mailbox as its mail program is set up (no password, ever)."""

    incoming_host: str
    incoming_port: int
    incoming_security: str
    outgoing_host: str
    outgoing_port: int
    outgoing_security: str
    smtp_auth: str

    def as_dict(self) -> dict[str, str | int]:
        # Not dataclasses.asdict: that deep-copies, and imports call this 200,000 times.
        return {name: getattr(self, name) for name in SHEET_FIELDS}


SHEET_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SheetValues))

# How each sheet field is parsed from text: the one place that says so.
SHEET_PARSERS = {
    "incoming_host": normalize_hostname,
    "incoming_port": parse_port,
    "incoming_security": lambda text: parse_choice(text, Security),
    "outgoing_host": normalize_hostname,
    "outgoing_port": parse_port,
    "outgoing_security": lambda text: parse_choice(text, Security),
    "smtp_auth": lambda text: parse_choice(text, SmtpAuth),
}


def recommended_values(
    protocol: str,
    values: SheetValues,
    *,
    replacements: dict[str, str | None],
    assigned: str | None,
    recommended: dict[str, tuple[int, str]],
) -> SheetValues:
    """The sheet a mailbox should have: each legacy or unknown host replaced (by its
    `replaced_by`, else by the customer's assigned server), the company's port and
    security per protocol, and SMTP-AUTH.

    `replacements` maps each registry host name to its replacement (None for a
    current name); a host missing from it is unknown to the registry.
    """

    def host(name: str) -> str:
        if name in replacements and replacements[name] is None:
            return name
        return replacements.get(name) or assigned or name

    incoming_port, incoming_security = recommended[protocol]
    outgoing_port, outgoing_security = recommended["smtp"]
    return SheetValues(
        incoming_host=host(values.incoming_host),
        incoming_port=incoming_port,
        incoming_security=incoming_security,
        outgoing_host=host(values.outgoing_host),
        outgoing_port=outgoing_port,
        outgoing_security=outgoing_security,
        smtp_auth=SmtpAuth.SMTP_AUTH,
    )
