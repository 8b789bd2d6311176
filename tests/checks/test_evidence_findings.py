"""Logins seen in the servers' logs become findings: without TLS, the old way, outdated TLS."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from accounts.models import ServerName
from checks.evidence.models import LoginEvidence
from checks.findings import findings_recompute, open_findings
from checks.fixes import code_labels, explanation
from tests.conftest import make_mailbox


@pytest.fixture
def registry(db):
    new = ServerName.objects.create(hostname="mail.hosting.example", status="current",
                                    addresses="192.0.2.10")  # fmt: skip
    ServerName.objects.create(hostname="pop.hosting.example", status="legacy", replaced_by=new,
                              addresses="192.0.2.20")  # fmt: skip
    return new


@pytest.fixture
def mailbox(alpha):
    return make_mailbox(alpha, "info@alpha.example")


def seen(mailbox, *, protocol="pop3", address="192.0.2.10", port=995, tls=True,
         version="TLSv1.3", days_ago=1, legacy_address=False):  # fmt: skip
    at = timezone.now() - timedelta(days=days_ago)
    server = ServerName.objects.filter(addresses__contains=address).first() if address else None
    return LoginEvidence.objects.create(
        mailbox=mailbox, protocol=protocol, address=address, port=port, server=server,
        legacy_address=legacy_address, tls=tls, tls_version=version, first_seen=at,
        last_seen=at, count=3, last_remote="203.0.113.9",
    )  # fmt: skip


def evidence_findings(mailbox):
    findings_recompute(force=True)
    return {
        (f.side, f.code, f.severity)
        for f in open_findings().filter(mailbox=mailbox, code__endswith="-seen")
    }


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ({}, set()),
        ({"port": 110, "tls": False, "version": ""},
         {("incoming", "insecure-login-seen", "high"), ("incoming", "legacy-endpoint-seen", "high")}),
        ({"port": 110, "version": "TLSv1.3"}, {("incoming", "legacy-endpoint-seen", "high")}),
        ({"address": "192.0.2.20", "legacy_address": True},
         {("incoming", "legacy-endpoint-seen", "high")}),
        ({"port": 995, "version": "TLSv1"}, {("incoming", "legacy-tls-seen", "medium")}),
        ({"protocol": "smtp", "address": "", "port": 587}, set()),
        ({"protocol": "smtp", "address": "", "port": 25, "tls": False, "version": ""},
         {("outgoing", "insecure-login-seen", "high"), ("outgoing", "legacy-endpoint-seen", "high")}),
        ({"port": 0, "tls": False, "version": ""}, {("incoming", "insecure-login-seen", "high")}),
        ({"port": 110, "tls": False, "version": "", "days_ago": 15}, set()),
    ],
)  # fmt: skip
def test_evidence_rules(registry, mailbox, login, expected):
    seen(mailbox, **login)
    assert evidence_findings(mailbox) == expected


def test_the_finding_names_the_latest_endpoint_and_its_day(registry, mailbox):
    seen(mailbox, port=110, tls=False, version="", days_ago=3)
    seen(mailbox, address="192.0.2.20", port=110, tls=False, version="", days_ago=1)
    findings_recompute(force=True)
    finding = open_findings().get(mailbox=mailbox, code="insecure-login-seen")
    day = (timezone.now() - timedelta(days=1)).astimezone(UTC).date().isoformat()
    assert finding.value == f"pop3 192.0.2.20:110 {day}"
    assert finding.host == "pop.hosting.example"
    with override("en"):
        assert "without encryption (pop3 192.0.2.20:110" in explanation(finding)
        assert code_labels()["insecure-login-seen"] == "Login without encryption seen"
    with override("ja"):
        assert "暗号化" in explanation(finding)


def test_a_full_recompute_notices_new_evidence(registry, mailbox):
    findings_recompute()
    seen(mailbox, port=110, tls=False, version="")
    assert findings_recompute() is True
    assert open_findings().filter(mailbox=mailbox, code="insecure-login-seen").exists()


def test_recomputing_some_mailboxes_keeps_their_evidence_findings(registry, mailbox):
    seen(mailbox, port=110, tls=False, version="")
    findings_recompute([mailbox.pk])
    assert open_findings().filter(mailbox=mailbox, code="insecure-login-seen").exists()


def sheet_sql_ran(queries) -> bool:
    """Whether a recompute computed the sheet findings (the statement over the sheets)."""
    return any("accounts_settingssheet h ON h.id = m.current_sheet_id" in q["sql"] for q in queries)


def counted_as_summary():
    from checks.findings import summary_counts
    from checks.models import FindingSummary

    return FindingSummary.objects.get(pk=1).counts == summary_counts()


def test_new_evidence_alone_recomputes_only_the_evidence_findings(registry, mailbox, beta_mailbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    findings_recompute()
    sheet_findings = set(open_findings().exclude(code__endswith="-seen").values_list("pk", "code"))
    assert "plaintext-port" in {code for _, code in sheet_findings}  # beta's plain sheet
    seen(mailbox, port=110, tls=False, version="")
    with CaptureQueriesContext(connection) as queries:
        assert findings_recompute() is True
    assert not sheet_sql_ran(queries)
    assert open_findings().filter(mailbox=mailbox, code="insecure-login-seen").exists()
    assert set(open_findings().exclude(code__endswith="-seen").values_list("pk", "code")) == (
        sheet_findings
    )
    assert counted_as_summary()
    assert findings_recompute() is False  # and now current


def test_a_sheet_change_beside_new_evidence_recomputes_everything(registry, mailbox, alpha):
    from tests.conftest import PLAIN_SHEET

    findings_recompute()
    seen(mailbox, port=110, tls=False, version="")
    plain = make_mailbox(alpha, "plain@alpha.example", PLAIN_SHEET)
    findings_recompute()
    assert open_findings().filter(mailbox=plain, code="plaintext-port").exists()
    assert open_findings().filter(mailbox=mailbox, code="insecure-login-seen").exists()
    assert counted_as_summary()


def test_an_ingest_recomputes_the_evidence_findings_of_its_mailboxes(
    registry, mailbox, beta_mailbox
):
    """What ingests do (evidence_only with the mailboxes they touched): the sheet findings
    stay as they are, the counts follow, and the next full run looks at the evidence of
    everybody (a login leaving the window) but not at the sheets again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    findings_recompute()
    other = seen(beta_mailbox, port=110, tls=False, version="")
    seen(mailbox, port=110, tls=False, version="")
    with CaptureQueriesContext(connection) as queries:
        findings_recompute([mailbox.pk], evidence_only=True)
    assert not sheet_sql_ran(queries)
    assert open_findings().filter(mailbox=mailbox, code="insecure-login-seen").exists()
    assert not open_findings().filter(mailbox=beta_mailbox, code="insecure-login-seen").exists()
    assert open_findings().filter(mailbox=beta_mailbox, code="plaintext-port").exists()
    assert counted_as_summary()
    with CaptureQueriesContext(connection) as queries:
        assert findings_recompute() is True
    assert not sheet_sql_ran(queries)
    assert open_findings().filter(mailbox=beta_mailbox, code="insecure-login-seen").exists()
    assert counted_as_summary()
    # The window moves on: the full run notices without any new evidence.
    LoginEvidence.objects.filter(pk=other.pk).update(
        last_seen=timezone.now() - timedelta(days=20),
        first_seen=timezone.now() - timedelta(days=20),
    )
    assert findings_recompute() is True
    assert not open_findings().filter(mailbox=beta_mailbox, code="insecure-login-seen").exists()
    assert counted_as_summary()
