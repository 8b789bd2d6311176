"""Every finding code on crafted sheets and probe results, computed set-based in SQL."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Customer, Mailbox, ServerName, SettingsSheet, sheet_record
from accounts.sheets import SheetValues
from checks.findings import findings_recompute, open_findings, summary_counts
from checks.fixes import recommended_sheet
from checks.models import Endpoint, Finding, FindingSummary, ProbeResult
from checks.probes import ProbeResult as Outcome
from checks.recording import results_record
from checks.sweep import sweep_start
from tests.conftest import make_mailbox

NEW, OLD = "mail.new.example", "mail.old.example"
GOOD = SheetValues(NEW, 993, "ssl", NEW, 465, "ssl", "smtp-auth")


@pytest.fixture
def registry(db):
    new = ServerName.objects.create(hostname=NEW, status="current")
    ServerName.objects.create(hostname=OLD, status="legacy", replaced_by=new)
    ServerName.objects.create(hostname="retired.example", status="legacy")
    return new


@pytest.fixture
def customer(db):
    return Customer.objects.create(slug="alpha", name="アルファ商事")


def codes_of(mailbox):
    return {(f.side, f.code) for f in open_findings().filter(mailbox=mailbox)}


def sheet(**changes):
    return SheetValues(**{**GOOD.as_dict(), **changes})


@pytest.mark.parametrize(
    ("values", "protocol", "expected"),
    [
        (GOOD, "imap", set()),
        (sheet(incoming_host=OLD), "imap", {("incoming", "legacy-hostname")}),
        (sheet(outgoing_host="smtp.elsewhere.example"), "imap", {("outgoing", "unknown-hostname")}),
        (
            sheet(incoming_port=110, incoming_security="none"),
            "pop3",
            {("incoming", "plaintext-port")},
        ),
        (sheet(incoming_port=143, incoming_security="starttls"), "imap", set()),
        (
            sheet(incoming_port=110, incoming_security="ssl"),
            "pop3",
            {("incoming", "port-security-mismatch")},
        ),
        (
            sheet(outgoing_port=465, outgoing_security="starttls"),
            "imap",
            {("outgoing", "port-security-mismatch")},
        ),
        (sheet(outgoing_port=587, outgoing_security="starttls"), "imap", set()),
        (
            sheet(outgoing_port=25, outgoing_security="none"),
            "imap",
            {("outgoing", "plaintext-port")},
        ),
        (sheet(smtp_auth="pop-before-smtp"), "pop3", {("outgoing", "pop-before-smtp")}),
        (sheet(smtp_auth="none"), "imap", {("outgoing", "no-smtp-auth")}),
        # The seed's sample sheet: POP3, incoming 587 and outgoing 995, both "SSL".
        (
            SheetValues(OLD, 587, "ssl", OLD, 995, "ssl", "smtp-auth"),
            "pop3",
            {
                ("incoming", "legacy-hostname"),
                ("outgoing", "legacy-hostname"),
                ("incoming", "swapped-ports"),
                ("outgoing", "swapped-ports"),
                ("incoming", "port-security-mismatch"),
            },
        ),
    ],
)
def test_sheet_rules(registry, customer, values, protocol, expected):
    mailbox = make_mailbox(customer, "info@alpha.example", values)
    mailbox.protocol = protocol
    mailbox.save()
    findings_recompute(force=True)
    assert codes_of(mailbox) == expected


def probed(host, port, protocol, security, **result):
    endpoint, _ = Endpoint.objects.get_or_create(
        host=host, port=port, protocol=protocol, security=security
    )
    row = ProbeResult.objects.create(
        endpoint=endpoint, checked_at=timezone.now(), **{"reachable": True, **result}
    )
    endpoint.last_result = row
    endpoint.consecutive_failures = 2 if row.error else 0  # as recorded after two failed sweeps
    endpoint.save()


@pytest.mark.parametrize(
    ("result", "code"),
    [
        ({"cert_hostname_match": False, "cert_trusted": True}, "cert-name-mismatch"),
        ({"cert_not_after": timezone.now() - timedelta(days=3)}, "cert-expired"),
        ({"cert_not_after": timezone.now() + timedelta(days=10)}, "cert-expiring"),
        ({"cert_trusted": False}, "cert-untrusted"),
        ({"error": "timeout", "reachable": True}, "endpoint-unreachable"),
        ({"error": "tls-handshake-failed"}, "endpoint-unreachable"),
        ({"tls_version": "TLSv1.1"}, "tls-outdated"),
        ({"plaintext_auth_before_tls": True}, "plaintext-auth-exposed"),
    ],
)
def test_probe_rules_follow_the_latest_probe_of_the_endpoint_used(registry, customer, result, code):
    mailbox = make_mailbox(customer, "info@alpha.example", GOOD)
    mailbox.protocol = "imap"
    mailbox.save()
    probed(
        NEW,
        993,
        "imap",
        "ssl",
        **{
            "cert_not_after": timezone.now() + timedelta(days=200),
            "cert_trusted": True,
            "cert_hostname_match": True,
            "tls_version": "TLSv1.3",
            **result,
        },
    )
    probed(
        NEW,
        465,
        "smtp",
        "ssl",
        cert_not_after=timezone.now() + timedelta(days=200),
        cert_trusted=True,
        cert_hostname_match=True,
        tls_version="TLSv1.3",
    )
    findings_recompute(force=True)
    assert codes_of(mailbox) == {("incoming", code)}


CONNECTED = Outcome(NEW, 993, "imap", "ssl", reachable=True, tls_version="TLSv1.3")
REFUSED = Outcome(NEW, 993, "imap", "ssl", reachable=False, error="refused")
TIMED_OUT = Outcome(NEW, 993, "imap", "ssl", reachable=True, error="timeout")


@pytest.mark.parametrize(
    ("confirm_after", "probes", "flagged"),
    [
        (2, [REFUSED], False),
        (2, [REFUSED, REFUSED], True),
        (2, [REFUSED, TIMED_OUT], True),
        (2, [REFUSED, CONNECTED], False),
        (2, [REFUSED, REFUSED, CONNECTED], False),
        (2, [REFUSED, CONNECTED, REFUSED], False),
        (2, [CONNECTED, REFUSED, REFUSED, REFUSED], True),
        (3, [REFUSED, REFUSED], False),
        (3, [REFUSED, REFUSED, REFUSED], True),
        (1, [REFUSED], True),
    ],
)
def test_an_endpoint_is_unreachable_only_after_failed_probes_in_a_row(
    registry, customer, settings, confirm_after, probes, flagged
):
    """One network blip must not flag every mailbox on a server; the first success clears it."""
    settings.PROBE_CONFIRM_AFTER = confirm_after
    mailboxes = [make_mailbox(customer, f"u{n}@alpha.example", GOOD) for n in range(3)]
    Mailbox.objects.update(protocol="imap")
    endpoint = Endpoint.objects.create(host=NEW, port=993, protocol="imap", security="ssl")
    for outcome in probes:
        results_record({endpoint.pk: outcome}, sweep=None, at=timezone.now())
        findings_recompute()
    expected = {("incoming", "endpoint-unreachable")} if flagged else set()
    for mailbox in mailboxes:
        assert codes_of(mailbox) == expected


def test_a_healthy_probe_adds_nothing(registry, customer):
    mailbox = make_mailbox(customer, "info@alpha.example", GOOD)
    probed(
        NEW,
        465,
        "smtp",
        "ssl",
        cert_not_after=timezone.now() + timedelta(days=200),
        cert_trusted=True,
        cert_hostname_match=True,
        tls_version="TLSv1.3",
    )
    findings_recompute(force=True)
    assert codes_of(mailbox) == set()


def test_a_finding_resolves_when_the_sheet_is_fixed_and_history_is_kept(registry, customer):
    mailbox = make_mailbox(customer, "info@alpha.example", sheet(incoming_host=OLD))
    first = open_findings().get(mailbox=mailbox)
    assert first.code == "legacy-hostname" and first.value == OLD

    sheet_record(mailbox, GOOD, source=SettingsSheet.Source.STAFF)  # recomputed at once

    first.refresh_from_db()
    assert first.resolved_at is not None
    assert codes_of(mailbox) == set()
    sheet_record(mailbox, sheet(incoming_host=OLD), source=SettingsSheet.Source.STAFF)
    assert Finding.objects.filter(mailbox=mailbox, code="legacy-hostname").count() == 2


def test_a_registry_change_is_reflected_after_the_full_recompute(
    registry, customer, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(customer, "info@alpha.example", GOOD)
    assert codes_of(mailbox) == set()
    with django_capture_on_commit_callbacks(execute=True):
        ServerName.objects.filter(hostname=NEW).update(status="legacy")
        ServerName.objects.get(hostname=NEW).save()  # as the admin does: signals fire
    assert codes_of(mailbox) == {("incoming", "legacy-hostname"), ("outgoing", "legacy-hostname")}


def test_a_rerun_with_nothing_changed_does_nothing(registry, customer):
    make_mailbox(customer, "info@alpha.example", sheet(incoming_host=OLD))
    assert findings_recompute() is True
    assert findings_recompute() is False
    assert findings_recompute(force=True) is True


def test_the_summary_stays_equal_to_a_full_count(registry, customer):
    for n, values in enumerate([GOOD, sheet(incoming_host=OLD), sheet(smtp_auth="none")]):
        make_mailbox(customer, f"u{n}@alpha.example", values)
    findings_recompute()
    mailbox = make_mailbox(
        customer, "late@alpha.example", sheet(outgoing_host=OLD, smtp_auth="pop-before-smtp")
    )
    sheet_record(mailbox, GOOD, source=SettingsSheet.Source.STAFF)
    make_mailbox(
        customer, "later@alpha.example", sheet(incoming_port=110, incoming_security="none")
    )
    assert FindingSummary.objects.get().counts == summary_counts()


def test_the_recommended_sheet_replaces_old_names_and_ports(registry, customer):
    mailbox = make_mailbox(
        customer,
        "test01@alpha.example",
        SheetValues(OLD, 587, "ssl", "retired.example", 995, "ssl", "pop-before-smtp"),
    )
    mailbox.protocol = "pop3"
    assert recommended_sheet(mailbox) == SheetValues(
        NEW, 995, "ssl", "retired.example", 465, "ssl", "smtp-auth"
    )
    customer.server = registry
    customer.save()
    mailbox.customer.refresh_from_db()
    assert recommended_sheet(mailbox).outgoing_host == NEW  # no replacement: the assigned server


def test_old_name_certificate_from_a_real_probe(
    registry, customer, mail_servers, settings, django_capture_on_commit_callbacks
):
    """The old-name case from the checks tests: mailboxes on the old name get
    cert-name-mismatch, those on the certificate's name do not."""
    address, port = mail_servers.address("good", "imaps")
    settings.PROBE_RESOLVE = {NEW: address, OLD: address}
    settings.PROBE_PORTS = [port]
    settings.PROBE_CA_FILE = str(mail_servers.ca_file)
    settings.PROBE_OFFERED = []
    old = make_mailbox(
        customer, "old@alpha.example", SheetValues(OLD, port, "ssl", NEW, 465, "ssl", "smtp-auth")
    )
    new = make_mailbox(
        customer, "new@alpha.example", SheetValues(NEW, port, "ssl", NEW, 465, "ssl", "smtp-auth")
    )
    for m in (old, new):
        m.protocol = "imap"
        m.save()
    with django_capture_on_commit_callbacks(execute=True):
        sweep_start()

    assert ("incoming", "cert-name-mismatch") in codes_of(old)
    assert ("incoming", "cert-name-mismatch") not in codes_of(new)
    assert ("incoming", "cert-untrusted") not in codes_of(new)


def test_recompute_findings_command(registry, customer, capsys):
    make_mailbox(customer, "info@alpha.example", sheet(incoming_host=OLD))
    call_command("recompute_findings", "--force")
    assert "1 open findings." in capsys.readouterr().out
    call_command("recompute_findings")
    assert "Nothing changed" in capsys.readouterr().out
