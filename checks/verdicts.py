"""What a probe result means for a person: a level (ok, warn, bad, unknown) and
the reasons, in words. Works on the stored ProbeResult row."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from checks.models import ProbeResult
from checks.outcomes import NOT_ALLOWED

UNREACHABLE = ("refused", "timeout", "unreachable", "dns-failure")
LEVELS = ("ok", "unknown", "warn", "bad")  # worst last


def error_labels() -> dict[str, str]:
    """What a probe that did not complete reports, in words."""
    return {code: str(name) for code, name in ProbeResult.Error.choices}


@dataclass(frozen=True)
class Verdict:
    level: str
    reasons: tuple[str, ...]


def verdict(result, security: str) -> Verdict:
    if result is None:
        return Verdict("unknown", (_("not checked yet"),))
    if result.error == NOT_ALLOWED:  # could not test: says nothing about the server
        return Verdict("unknown", (_("not probed: address not allowed"), result.error_message))
    # The message of a failed probe (English, from the server or the resolver) stays on
    # the endpoint's page; a verdict says what happened in the reader's language.
    if result.error in UNREACHABLE:
        return Verdict(
            "bad",
            (
                _("unreachable: %(error)s")
                % {"error": error_labels().get(result.error, result.error)},
            ),
        )
    if result.error:
        return Verdict("bad", (error_labels().get(result.error, result.error),))
    bad, warn = [], []
    cert = result.certificate
    if cert:
        if cert["expired"]:
            bad.append(_("certificate expired"))
        elif cert["days_left"] <= settings.PROBE_EXPIRY_WARNING_DAYS:
            warn.append(_("certificate expires in %(days)d days") % {"days": cert["days_left"]})
        if not cert["trusted"]:
            bad.append(_("certificate not trusted"))
        if not cert["hostname_match"]:
            bad.append(_("certificate does not name this host"))
    if security == "none":
        warn.append(_("no encryption"))
    if result.plaintext_auth_before_tls:
        warn.append(_("password login offered without TLS"))
    versions = result.tls_versions_accepted or []
    if versions and not {"TLSv1.2", "TLSv1.3"} & set(versions):
        warn.append(_("only TLS 1.0/1.1"))
    if bad:
        return Verdict("bad", tuple(bad + warn))
    if warn:
        return Verdict("warn", tuple(warn))
    return Verdict("ok", (_("working"),))
