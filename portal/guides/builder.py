"""The one guide builder: a mailbox's recommended settings, written out for one
mail program in one language — every screen, every field, the summary, what
changes, the warnings and the troubleshooting. The page, the printable sheet
and `manage.py guide --format json` all render this same data."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from django.conf import settings as django_settings

from accounts.models import Mailbox
from accounts.sheets import SHEET_FIELDS, SheetValues
from checks.fixes import recommended_sheet
from portal.guides.catalog import CATALOG
from portal.guides.model import MailClient, Security, T
from portal.guides.pictures import Picture, screen_picture
from portal.labels import SECURITY_NAMES, label

IMPLICIT_PORTS = {995, 993, 465}
# Per protocol, the modes the company's servers offer, best first.
OFFERED = {
    "pop3": ((995, "ssl"), (110, "starttls")),
    "imap": ((993, "ssl"), (143, "starttls")),
    "smtp": ((465, "ssl"), (587, "starttls")),
}
DISPLAY_NAME = T(
    "お名前（メールの相手に表示されます）", "Your name (shown to the people you write to)"
)
PASSWORD = T(
    "メールアカウントのパスワード（設定通知書に記載のもの）",
    "Your mailbox password (from your account notice)",
)
BEFORE = T("変更前:", "Before:")
SIDE = {"incoming": T("受信", "incoming"), "outgoing": T("送信", "outgoing")}
FIELD_NAMES = {
    "incoming_host": T("受信サーバー", "Incoming server"),
    "incoming_port": T("受信ポート番号", "Incoming port"),
    "incoming_security": T("受信の暗号化", "Incoming security"),
    "outgoing_host": T("送信サーバー (SMTP)", "Outgoing server (SMTP)"),
    "outgoing_port": T("送信ポート番号", "Outgoing port"),
    "outgoing_security": T("送信の暗号化", "Outgoing security"),
    "smtp_auth": T("SMTP認証", "SMTP authentication"),
}


@dataclass(frozen=True)
class GuideField:
    label: str
    value: str
    note: str | None = None
    side: str | None = None  # "incoming" or "outgoing" when the field belongs to one side
    before: str | None = None  # the value today, when the guide changes it


@dataclass(frozen=True)
class GuideScreen:
    title: str
    how: str
    fields: list[GuideField]
    note: str | None = None
    button: str | None = None  # the button the note says to press


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class Guide:
    client: str
    client_name: str
    lang: str
    email: str
    screens: list[GuideScreen]
    settings: dict[str, str | int]
    warnings: list[str]
    changes: list[Change] = field(default_factory=list)
    sides_changing: list[str] = field(default_factory=list)
    troubleshooting: list[str] = field(default_factory=list)
    legacy: bool = False
    device: str = "window"

    def as_json(self) -> dict:
        return asdict(self)

    def pictured_screens(self) -> list[tuple[GuideScreen, Picture]]:
        """Each screen with its picture (templates/guides/_picture.html draws it)."""
        return [(s, screen_picture(s, self.device, BEFORE(self.lang))) for s in self.screens]


class UnknownClient(KeyError):
    """No such program in the catalog."""


def can_express(security: Security, port: int, mode: str) -> bool:
    """Can a program with this security control choose `mode` on `port`?"""
    if security.style == "choice":
        return mode in security.choices
    if security.style == "ssl-box":
        if mode == "none":
            return True
        if mode == "ssl":
            return port in IMPLICIT_PORTS
        return security.box_starttls and port not in IMPLICIT_PORTS
    return True  # two boxes express all three


def pick_mode(security: Security, protocol: str, port: int, mode: str) -> tuple[int, str, bool]:
    """The recommended (port, mode) if the program can express it, else the best the
    servers offer that it can; the flag tells whether the guide had to adapt."""
    if can_express(security, port, mode):
        return port, mode, False
    for offered_port, offered_mode in OFFERED[protocol]:
        if can_express(security, offered_port, offered_mode):
            return offered_port, offered_mode, True
    return port, mode, False


def adapted_note(client: MailClient, side: str, wanted: str, port: int, mode: str) -> T:
    """Why the guide uses another port and mode than the recommended ones."""
    if wanted == "starttls":
        return T(
            f"{client.name.ja} は{SIDE[side].ja}で STARTTLS を選べないため、{SIDE[side].ja}には"
            f"ポート番号 {port}（{SECURITY_NAMES[mode].ja}）を使います。",
            f"{client.name.en} has no STARTTLS for the {SIDE[side].en} side, so that side uses "
            f"port {port} ({SECURITY_NAMES[mode].en}).",
        )
    return T(
        f"{client.name.ja} ではおすすめの方式を選べないため、{SIDE[side].ja}には"
        f"ポート番号 {port}（{SECURITY_NAMES[mode].ja}）を使います。",
        f"{client.name.en} cannot choose the recommended mode, so the {SIDE[side].en}"
        f" side uses port {port} ({SECURITY_NAMES[mode].en}).",
    )


def field_side(value: str) -> str | None:
    """Which side of the settings a field's value belongs to."""
    if value.startswith("incoming"):
        return "incoming"
    if value.startswith("outgoing") or value == "smtp_auth":
        return "outgoing"
    return None


# The settings a guide can change, by the kind of value a field shows.
CHANGEABLE = {
    "incoming_host",
    "incoming_port",
    "incoming_security",
    "incoming_starttls",
    "outgoing_host",
    "outgoing_port",
    "outgoing_security",
    "outgoing_starttls",
}
BUTTON = {
    "ja": re.compile(r"「([^」]+)」(?:（[^）]*）)?(?:を)?(?:クリック|タップ|。|$)"),
    "en": re.compile(r"(?:[Cc]lick|[Tt]ap) “([^”]+)”"),
}


def screen_button(note: str | None, lang: str) -> str | None:
    """The button a screen's note tells the person to press (the first one named)."""
    found = BUTTON[lang].search(note or "")
    return found.group(1) if found else None


def value_before(
    field_: object,
    mailbox: Mailbox,
    client: MailClient,
    current: SheetValues | None,
    value: str,
    lang: str,
) -> str | None:
    """What a field shows today, in the program's words, if the guide changes it."""
    if current is None or field_.value not in CHANGEABLE:
        return None
    try:
        before = field_value(field_, mailbox, client, current, lang)
    except KeyError:  # today's mode is not one of the program's choices
        before = SECURITY_NAMES[
            current.incoming_security
            if field_.value.startswith("incoming")
            else current.outgoing_security
        ](lang)
    return before if before != value else None


def _security_value(security: Security, mode: str, lang: str) -> str:
    if security.style == "choice":
        return security.choices[mode](lang)
    return (security.on if mode != "none" else security.off)(lang)


def _starttls_value(security: Security, mode: str, lang: str) -> str:
    return (security.on if mode == "starttls" else security.off)(lang)


def guide_protocol(mailbox: Mailbox, client: MailClient) -> str:
    """The protocol the guide sets up: the mailbox's own, or — when the program cannot set
    that one up and says what to do instead (`unsupported`) — the first it offers (Outlook
    for iOS / Android: IMAP for a POP3 mailbox)."""
    if mailbox.protocol in client.protocols or mailbox.protocol not in client.unsupported:
        return mailbox.protocol
    return client.protocols[0]


def guide_settings(
    mailbox: Mailbox, client: MailClient, lang: str
) -> tuple[SheetValues, list[str]]:
    """The settings this program should get, and why they differ from the recommended ones."""
    values = recommended_sheet(mailbox)
    notes = []
    protocol = guide_protocol(mailbox, client)
    in_port, in_mode = values.incoming_port, values.incoming_security
    if protocol != mailbox.protocol:
        in_port, in_mode = django_settings.RECOMMENDED_PORTS[protocol]
    in_port, in_mode, adapted_in = pick_mode(
        client.incoming_for(protocol), protocol, in_port, in_mode
    )
    out_port, out_mode, adapted_out = pick_mode(
        client.outgoing, "smtp", values.outgoing_port, values.outgoing_security
    )
    for adapted, side, wanted, port, mode in (
        (adapted_in, "incoming", values.incoming_security, in_port, in_mode),
        (adapted_out, "outgoing", values.outgoing_security, out_port, out_mode),
    ):
        if adapted:
            notes.append(adapted_note(client, side, wanted, port, mode)(lang))
    if not can_express(client.outgoing, 587, "starttls") and out_port == 465:
        notes.append(
            T(
                f"{client.name.ja} は STARTTLS を選べないため、送信は必ずポート番号 465"
                "（SSL）にしてください。587 では送信できません。",
                f"{client.name.en} has no STARTTLS choice: always send through port 465 (SSL);"
                " port 587 will not work.",
            )(lang)
        )
    settings = SheetValues(
        values.incoming_host,
        in_port,
        in_mode,
        values.outgoing_host,
        out_port,
        out_mode,
        values.smtp_auth,
    )
    return settings, notes


def field_value(
    field_: object, mailbox: Mailbox, client: MailClient, settings: SheetValues, lang: str
) -> str:
    kind = field_.value
    protocol = guide_protocol(mailbox, client)
    simple = {
        "email": mailbox.email,
        "username": mailbox.username,
        "outgoing_username": mailbox.username,
        "incoming_host": settings.incoming_host,
        "incoming_port": str(settings.incoming_port),
        "outgoing_host": settings.outgoing_host,
        "outgoing_port": str(settings.outgoing_port),
    }
    if kind in simple:
        return simple[kind]
    if kind == "display_name":
        return DISPLAY_NAME(lang)
    if kind == "password":
        return PASSWORD(lang)
    if kind == "protocol":
        names = client.protocol_names
        return names[protocol](lang) if protocol in names else protocol.upper()
    if kind == "incoming_security":
        return _security_value(client.incoming_for(protocol), settings.incoming_security, lang)
    if kind == "outgoing_security":
        return _security_value(client.outgoing, settings.outgoing_security, lang)
    if kind == "incoming_starttls":
        return _starttls_value(client.incoming_for(protocol), settings.incoming_security, lang)
    if kind == "outgoing_starttls":
        return _starttls_value(client.outgoing, settings.outgoing_security, lang)
    if kind == "smtp_auth":
        return client.auth.value(lang)
    if kind == "fixed" and field_.fixed is not None:
        return field_.fixed(lang)
    raise ValueError(f"{client.id}: field {field_.label.en!r} has unknown value kind {kind!r}")


def guide_build(mailbox: Mailbox, client_id: str, lang: str) -> Guide:
    """The guide for one mailbox in one program and language (the mailbox needs a sheet)."""
    if client_id not in CATALOG:
        raise UnknownClient(client_id)
    client = CATALOG[client_id]
    settings, notes = guide_settings(mailbox, client, lang)
    protocol = guide_protocol(mailbox, client)
    current = mailbox.current_sheet.values if mailbox.current_sheet else None
    screens = []
    for screen in client.screens:
        if screen.only and screen.only != protocol:
            continue
        fields = []
        for f in screen.fields:
            if f.only and f.only != protocol:
                continue
            value = field_value(f, mailbox, client, settings, lang)
            fields.append(
                GuideField(
                    f.label(lang),
                    value,
                    f.note(lang) if f.note else None,
                    field_side(f.value),
                    value_before(f, mailbox, client, current, value, lang),
                )
            )
        note = screen.note(lang) if screen.note else None
        screens.append(
            GuideScreen(
                screen.title(lang), screen.how(lang), fields, note, screen_button(note, lang)
            )
        )
    warnings = [w(lang) for w in client.warnings] + notes
    if mailbox.protocol not in client.protocols:
        warnings.insert(
            0,
            client.unsupported.get(
                mailbox.protocol,
                T(
                    f"{client.name.ja} では {mailbox.protocol.upper()} を設定できません。",
                    f"{client.name.en} cannot set up {mailbox.protocol.upper()}.",
                ),
            )(lang),
        )
    changes, sides = sheet_changes(current, settings, lang)
    return Guide(
        client=client.id,
        client_name=client.name(lang),
        lang=lang,
        email=mailbox.email,
        screens=screens,
        settings={
            "protocol": protocol,
            "username": mailbox.username,
            **settings.as_dict(),
        },
        warnings=warnings,
        changes=changes,
        sides_changing=sides,
        troubleshooting=[t(lang) for t in client.troubleshooting],
        legacy=client.legacy,
        device=client.device,
    )


def value_name(field_name: str, value: object, lang: str) -> str:
    """A sheet value as a person reads it (security and SMTP auth in words)."""
    return label(field_name, value, lang)


def sheet_changes(
    current: SheetValues | None, after: SheetValues, lang: str
) -> tuple[list[Change], list[str]]:
    """What changes from `current` to `after`, field by field in words, and which
    sides ("incoming", "outgoing") change."""
    if current is None:
        return [], []
    changes, sides = [], []
    for name in SHEET_FIELDS:
        before, new = getattr(current, name), getattr(after, name)
        if before != new:
            changes.append(
                Change(
                    FIELD_NAMES[name](lang),
                    value_name(name, before, lang),
                    value_name(name, new, lang),
                )
            )
            side = "incoming" if name.startswith("incoming") else "outgoing"
            if side not in sides:
                sides.append(side)
    return changes, sides
