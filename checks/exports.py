"""The open findings as people filter them, and as CSV or JSON rows: one piece of
code for the dashboard, its download and `manage.py export_flags`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.csvfiles import cell_safe
from checks.findings import CODES, open_findings
from checks.fixes import explanation
from checks.models import Finding

EXPORT_COLUMNS = ("customer", "email", "side", "code", "severity", "detail")
FILTERS = ("code", "severity", "customer", "host", "side", "q")
SORTS = {
    "email": ("mailbox__email", "side", "code"),
    "-first_seen": ("-first_seen", "mailbox__email"),
    "first_seen": ("first_seen", "mailbox__email"),
    "code": ("code", "mailbox__email"),
}


class FilterError(ValueError):
    """A filter value that cannot be right; the message says which and why."""


def findings_filter(params: dict[str, str]) -> QuerySet[Finding]:
    findings = open_findings()
    code = params.get("code", "")
    if code:
        if code not in CODES:
            raise FilterError(
                _("Unknown finding code “%(value)s”; the codes are %(codes)s.")
                % {"value": code, "codes": ", ".join(CODES)}
            )
        findings = findings.filter(code=code)
    severity = params.get("severity", "")
    if severity:
        if severity not in Finding.Severity.values:
            raise FilterError(
                _("Unknown severity “%(value)s”; use high or medium.") % {"value": severity}
            )
        findings = findings.filter(severity=severity)
    side = params.get("side", "")
    if side:
        if side not in Finding.Side.values:
            raise FilterError(
                _("Unknown side “%(value)s”; use incoming or outgoing.") % {"value": side}
            )
        findings = findings.filter(side=side)
    if params.get("customer"):
        findings = findings.filter(mailbox__customer__slug=params["customer"].strip().lower())
    if params.get("host"):
        findings = findings.filter(host=params["host"].strip().lower())
    if params.get("q"):
        findings = findings.filter(mailbox__email__startswith=params["q"].strip().lower())
    return findings


def sorted_findings(findings: QuerySet[Finding], sort: str) -> QuerySet[Finding]:
    return findings.order_by(*SORTS.get(sort, SORTS["email"]))


def export_rows(findings: QuerySet[Finding]) -> Iterator[dict[str, str]]:
    rows = (
        findings.select_related("mailbox__customer")
        .order_by("mailbox__customer__slug", "mailbox__email", "side", "code")
        .iterator(chunk_size=5000)
    )
    for finding in rows:
        yield {
            "customer": finding.mailbox.customer.slug,
            "email": finding.mailbox.email,
            "side": finding.side,
            "code": finding.code,
            "severity": finding.severity,
            "detail": explanation(finding),
        }


def csv_lines(
    rows: Iterator[dict[str, str]],
    *,
    bom: bool = False,
    columns: tuple[str, ...] = EXPORT_COLUMNS,
    notice: str = "",
) -> Iterator[str]:
    """CSV text a line at a time; with `bom`, Excel in Japan reads the UTF-8 right; a
    `notice` (findings pending) is a row of its own above the header, where people look."""
    buffer = io.StringIO()
    if notice:
        csv.writer(buffer, lineterminator="\r\n").writerow([cell_safe(f"# {notice}")])
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    yield ("\ufeff" if bom else "") + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({name: cell_safe(value) for name, value in row.items()})
        yield buffer.getvalue()


def json_lines(rows: Iterator[dict[str, str]]) -> Iterator[str]:
    """A JSON array written an element at a time."""
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"
