"""What to tell a person about a finding, and the sheet that fixes a mailbox."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Mailbox, ServerName
from accounts.sheets import SHEET_FIELDS, SheetValues, recommended_values
from checks.models import Finding


def code_labels() -> dict[str, str]:
    """A short title per finding code, in the active language."""
    return {
        "legacy-hostname": _("Old server name"),
        "unknown-hostname": _("Unknown server name"),
        "plaintext-port": _("No encryption"),
        "port-security-mismatch": _("Port and encryption do not match"),
        "swapped-ports": _("Incoming and outgoing ports swapped"),
        "pop-before-smtp": _("POP before SMTP"),
        "no-smtp-auth": _("No SMTP authentication"),
        "cert-name-mismatch": _("Certificate does not name the server"),
        "cert-expired": _("Certificate expired"),
        "cert-expiring": _("Certificate expires soon"),
        "cert-untrusted": _("Certificate not trusted"),
        "endpoint-unreachable": _("Server unreachable"),
        "endpoint-not-probed": _("Could not test the server"),
        "tls-outdated": _("Outdated TLS only"),
        "plaintext-auth-exposed": _("Password accepted before TLS"),
        "insecure-login-seen": _("Login without encryption seen"),
        "legacy-endpoint-seen": _("Login the old way seen"),
        "legacy-tls-seen": _("Login with outdated TLS seen"),
    }


SIDE_NAMES = {"incoming": lambda: _("incoming"), "outgoing": lambda: _("outgoing (SMTP)")}


def explanation(finding: Finding) -> str:
    """The finding in one sentence, in the active language."""
    side = SIDE_NAMES[finding.side]()
    values = {"side": side, "host": finding.host, "value": finding.value}
    texts = {
        "legacy-hostname": _(
            "The %(side)s server %(host)s is an old server name; switch to the new one."
        ),
        "unknown-hostname": _("The %(side)s server %(host)s is not one of our server names."),
        "plaintext-port": _(
            "The %(side)s side uses port %(value)s without encryption: the password travels in the clear."
        ),
        "port-security-mismatch": _(
            "The %(side)s port %(value)s does not go with the chosen encryption; the connection fails."
        ),
        "swapped-ports": _(
            "The %(side)s port %(value)s belongs to the other side: incoming and outgoing ports look swapped."
        ),
        "pop-before-smtp": _(
            "Sending uses POP before SMTP, which is being retired; use SMTP authentication."
        ),
        "no-smtp-auth": _("Sending uses no SMTP authentication; the server will refuse to send."),
        "cert-name-mismatch": _(
            "The certificate of %(host)s does not name it: mail programs show a certificate warning."
        ),
        "cert-expired": _("The certificate of %(host)s has expired."),
        "cert-expiring": _("The certificate of %(host)s expires soon (%(value)s)."),
        "cert-untrusted": _("The certificate of %(host)s is not from a trusted authority."),
        "endpoint-unreachable": _(
            "The %(side)s server %(host)s could not be reached with these settings (%(value)s)."
        ),
        "endpoint-not-probed": _(
            "The %(side)s server %(host)s could not be tested: probes do not connect to its address or port."
        ),
        "tls-outdated": _(
            "%(host)s offers only %(value)s, which current systems no longer accept."
        ),
        "plaintext-auth-exposed": _("%(host)s accepts passwords before encryption is on."),
        "insecure-login-seen": _(
            "The server logs show the %(side)s side logging in without encryption"
            " (%(value)s): the password travels in the clear."
        ),
        "legacy-endpoint-seen": _(
            "The server logs show the %(side)s side still logging in on an old server name,"
            " address or port (%(value)s)."
        ),
        "legacy-tls-seen": _(
            "The server logs show the %(side)s side connecting with an outdated TLS version"
            " (%(value)s), which the servers will stop accepting."
        ),
    }
    return texts[finding.code] % values


def recommended_sheets(mailboxes: Sequence[Mailbox]) -> list[SheetValues | None]:
    """Each mailbox's settings as they should be (None without a current sheet), in
    order; one registry query for them all. Select `current_sheet` and
    `customer__server` with the mailboxes, or each costs a query more."""
    hosts = {
        host
        for mailbox in mailboxes
        if (sheet := mailbox.current_sheet) is not None
        for host in (sheet.incoming_host, sheet.outgoing_host)
    }
    replacements = {
        name.hostname: (name.replaced_by.hostname if name.replaced_by else "")
        if name.status == ServerName.Status.LEGACY
        else None
        for name in ServerName.objects.filter(hostname__in=hosts).select_related("replaced_by")
    }
    return [
        None
        if mailbox.current_sheet is None
        else recommended_values(
            mailbox.protocol,
            mailbox.current_sheet.values,
            replacements=replacements,
            assigned=mailbox.customer.server.hostname if mailbox.customer.server_id else None,
            recommended=settings.RECOMMENDED_PORTS,
        )
        for mailbox in mailboxes
    ]


def recommended_sheet(mailbox: Mailbox) -> SheetValues | None:
    """The mailbox's settings as they should be (None without a current sheet)."""
    if mailbox.current_sheet is None:
        return None
    return recommended_sheets([mailbox])[0]


def sheet_comparison(mailbox: Mailbox) -> list[tuple[str, object, object, bool]]:
    """(field, current, recommended, differs) for each sheet field, for side-by-side pages."""
    recommended = recommended_sheet(mailbox)
    if recommended is None:
        return []
    current = mailbox.current_sheet.values
    return [
        (
            name,
            getattr(current, name),
            getattr(recommended, name),
            getattr(current, name) != getattr(recommended, name),
        )
        for name in SHEET_FIELDS
    ]
