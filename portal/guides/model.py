"""The vocabulary of the mail-program catalog: every program is data built from these."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class T:
    """A text in both languages, in the program's own wording where it is a label."""

    ja: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


# What a field's value is. The builder fills each from the mailbox's settings:
VALUES = (
    "display_name",  # "your name, as recipients see it"
    "email",
    "username",
    "password",  # never a password: "your mailbox password"
    "protocol",  # POP3 or IMAP, in the program's words (MailClient.protocol_names)
    "incoming_host",
    "incoming_port",
    "incoming_security",  # Security.choices label, or the box state for "ssl-box"
    "incoming_starttls",  # the STARTTLS box of a "two-boxes" program
    "outgoing_host",
    "outgoing_port",
    "outgoing_security",
    "outgoing_starttls",
    "smtp_auth",  # Auth.required / Auth.labels
    "outgoing_username",  # same user name as incoming
    "fixed",  # Field.fixed, whatever the mailbox
)


@dataclass(frozen=True)
class Field:
    label: T
    value: str  # one of VALUES
    fixed: T | None = None  # the text for value == "fixed"
    only: str | None = None  # "pop3" or "imap": shown for that protocol only
    note: T | None = None  # a hint next to the field


@dataclass(frozen=True)
class Screen:
    title: T
    how: T  # how to get there, in the program's menu words
    fields: tuple[Field, ...]
    only: str | None = None  # "pop3" or "imap"
    note: T | None = None


@dataclass(frozen=True)
class Security:
    """How the program lets a person choose a side's connection security.

    style "choice": a list; `choices` maps each security the program offers
      ("none", "starttls", "ssl") to the entry's label.
    style "ssl-box": one checkbox labelled `box`; checked means implicit TLS on
      an implicit-TLS port, and STARTTLS on a plain port only if `box_starttls`
      (Apple Mail yes, Outlook Express no).
    style "two-boxes": Shuriken's `box` (SSL) and `starttls_box`: SSL on and
      STARTTLS off is implicit TLS, both on is STARTTLS.
    """

    style: str
    choices: dict[str, T] = field(default_factory=dict)
    box: T | None = None
    starttls_box: T | None = None
    box_starttls: bool = False
    on: T = T("オン（チェックを入れる）", "On (checked)")
    off: T = T("オフ（チェックを外す）", "Off (unchecked)")


@dataclass(frozen=True)
class Auth:
    """How the program expresses SMTP authentication with the incoming login."""

    label: T  # e.g. Thunderbird 「認証方式」, Outlook 「送信サーバー (SMTP) は認証が必要」
    value: T  # what to choose or check for SMTP-AUTH with the same user name and password


@dataclass(frozen=True)
class MailClient:
    id: str
    name: T
    platforms: T
    protocols: tuple[str, ...]  # which of "pop3", "imap" it can set up
    incoming: Security
    outgoing: Security
    auth: Auth
    screens: tuple[Screen, ...]
    protocol_names: dict[str, T] = field(default_factory=dict)  # "pop3"/"imap" in its words
    legacy: bool = False  # no longer maintained: the guide opens with a clear warning
    tls12: bool = True  # False for programs whose system cannot do TLS 1.2 (Windows XP era)
    warnings: tuple[T, ...] = ()  # quirks the person meets while setting up
    troubleshooting: tuple[T, ...] = ()  # written for this program
    sources: tuple[str, ...] = ()  # the vendor help pages the labels come from
    # The security control of the incoming side when it differs by protocol (Outlook's POP
    # side is a checkbox, its IMAP side a list).
    incoming_by_protocol: dict[str, Security] = field(default_factory=dict)
    # Why a protocol the program cannot set up is missing, and what to do instead.
    unsupported: dict[str, T] = field(default_factory=dict)
    # How the program's own UI spells "server": text quoted from it in 「」 uses this.
    server_word: str = "サーバー"
    device: str = "window"  # "window" or "phone": how the guide's pictures frame each screen

    def incoming_for(self, protocol: str) -> Security:
        """The incoming security control the program shows for this protocol."""
        return self.incoming_by_protocol.get(protocol, self.incoming)
