"""The first-ever full computation takes a bulk path (straight into the table; on
PostgreSQL its indexes and foreign keys made again afterwards): it finds exactly what
the regular path finds, and leaves the table with all its indexes and keys."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import ServerName
from accounts.sheets import SheetValues
from checks import findings
from checks.findings import findings_recompute, open_findings
from checks.models import Finding, FindingSummary
from tests.conftest import make_mailbox

SHEETS = [
    SheetValues("pop.hosting.example", 110, "none", "smtp.hosting.example", 25, "none", "none"),
    SheetValues(
        "mail.hosting.example", 587, "ssl", "mail.hosting.example", 995, "ssl", "pop-before-smtp"
    ),
    SheetValues(
        "mail.unknown.example", 995, "ssl", "mail.hosting.example", 465, "ssl", "smtp-auth"
    ),
    SheetValues(
        "mail.hosting.example", 995, "ssl", "mail.hosting.example", 465, "ssl", "smtp-auth"
    ),
]


def table_shape() -> set:
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'checks_finding'"
            " UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'checks_finding'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def found() -> set:
    return set(open_findings().values_list("mailbox__email", "side", "code", "host", "value"))


def test_the_first_fill_finds_what_the_regular_path_finds(alpha, monkeypatch):
    current = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    for name in ("pop.hosting.example", "smtp.hosting.example"):
        ServerName.objects.create(hostname=name, status="legacy", replaced_by=current)
    for n, values in enumerate(SHEETS * 3):
        make_mailbox(alpha, f"user{n}@alpha.example", values)
    shape = table_shape()
    Finding.objects.all().delete()
    FindingSummary.objects.all().delete()

    monkeypatch.setattr(findings, "BULK_FIRST_FILL", False)
    findings_recompute(force=True)
    regular, regular_counts = found(), FindingSummary.objects.get().counts
    Finding.objects.all().delete()
    monkeypatch.setattr(findings, "BULK_FIRST_FILL", True)
    findings_recompute(force=True)

    assert found() == regular and len(regular) > 10
    assert FindingSummary.objects.get().counts == regular_counts
    assert table_shape() == shape  # every index and key is back
    duplicate = open_findings().first()
    duplicate.pk = None
    with transaction.atomic(), pytest.raises(IntegrityError):
        duplicate.save()  # the open-finding unique index is enforced again
