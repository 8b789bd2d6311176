"""Import of mailboxes and their settings sheets (one row per mailbox)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.csvfiles import ImportRefused, RowReader, read_table
from accounts.imports import CHANGED, CHUNK, CREATED, ImportPlan, chunked, compare
from accounts.models import Customer, Mailbox, SettingsSheet, latest_sheet_subquery
from accounts.sheets import (
    SHEET_FIELDS,
    SHEET_PARSERS,
    Protocol,
    SheetValues,
    normalize_email,
    parse_choice,
    parse_customer_name,
    parse_slug,
    parse_username,
)
from accounts.signals import sheets_changed

SHEET_COLUMNS = ("customer", "customer_name", "email", "username", "protocol", *SHEET_FIELDS)
MAILBOX_FIELDS = ("username", "protocol")
SHEET_FIELDS_SET = frozenset(SHEET_FIELDS)
NOTES_LIMIT = 10  # customers named one by one in the notes; the rest are counted


@dataclass
class SheetRow:
    line: int
    slug: str
    email: str
    username: str
    protocol: str
    values: SheetValues


def _parse_sheet_rows(
    rows: list[tuple[int, dict[str, str]]], plan: ImportPlan, tick: Callable[[int, int], None]
) -> tuple[list[SheetRow], dict[str, tuple[int, str]]]:
    """Every good row parsed; by customer slug, the first line that names it and the name.

    Customers of rows with other problems count too, so that a missing customer
    name is reported with everything else.
    """
    parsed: list[SheetRow] = []
    seen_emails: dict[str, int] = {}
    names: dict[str, tuple[int, str]] = {}
    for number, (line, cells) in enumerate(rows, 1):
        if number % CHUNK == 0 or number == len(rows):
            tick(CHUNK if number % CHUNK == 0 else number % CHUNK, len(rows))
        row = RowReader(line, cells, plan.problems)
        slug = row.get("customer", parse_slug)
        email = row.get("email", normalize_email)
        username = row.get("username", parse_username)
        protocol = row.get("protocol", lambda t: parse_choice(t, Protocol))
        values = {name: row.get(name, SHEET_PARSERS[name]) for name in SHEET_FIELDS}
        name = row.get("customer_name", parse_customer_name)
        if name is not None and slug:
            first = names.setdefault(slug, (line, name))
            if not first[1] and name:
                names[slug] = (line, name)
            elif name and first[1] != name:
                row.fail(
                    "customer_name",
                    _("line %(line)d gives this customer the name %(name)s")
                    % {"line": first[0], "name": first[1]},
                )
        if email:
            if email in seen_emails:
                row.fail(
                    "email",
                    _("this address is also on line %(line)d") % {"line": seen_emails[email]},
                )
                continue
            seen_emails[email] = line
        if None in (slug, email, username, protocol) or None in values.values():
            continue
        parsed.append(SheetRow(line, slug, email, username, protocol, SheetValues(**values)))
    return parsed, names


def _plan_customers(
    names: dict[str, tuple[int, str]], plan: ImportPlan
) -> tuple[dict[str, Customer], dict[str, str], dict[str, str]]:
    """The file's customers that exist, those to create and those to rename (slug → name)."""
    customers = {c.slug: c for c in Customer.objects.filter(slug__in=names)}
    new_customers: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for slug, (line, name) in names.items():
        if slug not in customers and not name:
            RowReader(line, {}, plan.problems).fail(
                "customer_name",
                _("customer %(slug)s does not exist yet: give its name to create it")
                % {"slug": slug},
            )
        elif slug not in customers:
            new_customers[slug] = name
            if len(new_customers) <= NOTES_LIMIT:
                plan.notes.append(
                    _("new customer %(slug)s: %(name)s") % {"slug": slug, "name": name}
                )
        elif name and customers[slug].name != name:
            renamed[slug] = name
            if len(renamed) <= NOTES_LIMIT:
                plan.notes.append(
                    _("customer %(slug)s is renamed: %(before)s → %(after)s")
                    % {"slug": slug, "before": customers[slug].name, "after": name}
                )
    if len(new_customers) > NOTES_LIMIT:
        plan.notes.append(_("… %(count)d new customers in all") % {"count": len(new_customers)})
    if len(renamed) > NOTES_LIMIT:
        plan.notes.append(_("… %(count)d renamed customers in all") % {"count": len(renamed)})
    return customers, new_customers, renamed


@dataclass
class StoredMailbox:
    """What the database holds for a mailbox the file names: read as plain values, since
    building 100,000 model objects would cost more than the whole comparison."""

    pk: int
    slug: str
    version: int | None
    values: dict[str, Any]


def _existing_mailboxes(emails: list[str]) -> dict[str, StoredMailbox]:
    sheet = [f"current_sheet__{name}" for name in SHEET_FIELDS]
    columns = ["pk", "email", "customer__slug", "current_sheet__version", *MAILBOX_FIELDS, *sheet]
    found: dict[str, StoredMailbox] = {}
    for chunk in chunked(emails):
        for pk, email, slug, version, *values in Mailbox.objects.filter(
            email__in=chunk
        ).values_list(*columns):
            names = MAILBOX_FIELDS + (SHEET_FIELDS if version is not None else ())
            found[email] = StoredMailbox(pk, slug, version, dict(zip(names, values, strict=False)))
    return found


def sheets_plan(data: bytes, progress: Callable[[int, int], None] | None = None) -> ImportPlan:
    """Check a settings-sheet file against the database; write nothing. `progress` is
    told (rows read since last time, all rows) as the rows are read."""
    plan = ImportPlan(kind="sheets")
    try:
        _names, rows, plan.problems = read_table(data, SHEET_COLUMNS)
    except ImportRefused as refused:
        plan.problems = refused.problems
        return plan
    parsed, names = _parse_sheet_rows(rows, plan, progress or (lambda done, total: None))

    customers, new_customers, renamed = _plan_customers(names, plan)
    existing = _existing_mailboxes([r.email for r in parsed])
    for row in parsed:
        mailbox = existing.get(row.email)
        if mailbox is not None and mailbox.slug != row.slug:
            RowReader(row.line, {}, plan.problems).fail(
                "customer",
                _("this address belongs to customer %(slug)s; an import does not move mailboxes")
                % {"slug": mailbox.slug},
            )
            continue
        after = {"username": row.username, "protocol": row.protocol, **row.values.as_dict()}
        stored = mailbox.values if mailbox is not None else None
        plan.changes.append(compare(row.line, row.email, stored, after))
    plan.problems.sort(key=lambda p: p.line)
    plan.work = {
        "rows": {r.email: r for r in parsed},
        "existing": existing,
        "customers": customers,
        "new_customers": new_customers,
        "renamed": renamed,
    }
    return plan


def sheets_apply(
    plan: ImportPlan, *, by: Any = None, progress: Callable[[int, int], None] | None = None
) -> None:
    """Write a checked plan: customers, mailboxes, new sheet versions, current pointers."""
    work = plan.work
    rows: dict[str, SheetRow] = work["rows"]
    customers: dict[str, Customer] = dict(work["customers"])
    existing: dict[str, StoredMailbox] = work["existing"]
    created_by = by if by is not None and by.is_authenticated else None
    tick = progress or (lambda done, total: None)

    for slug, name in work["renamed"].items():
        Customer.objects.filter(pk=customers[slug].pk).update(name=name)
    for customer in Customer.objects.bulk_create(
        Customer(slug=slug, name=name) for slug, name in work["new_customers"].items()
    ):
        customers[customer.slug] = customer

    created = [rows[c.key] for c in plan.changes if c.action == CREATED]
    changed = [c for c in plan.changes if c.action == CHANGED]
    new_mailboxes = Mailbox.objects.bulk_create(
        (
            Mailbox(
                customer=customers[r.slug], email=r.email, username=r.username, protocol=r.protocol
            )
            for r in created
        ),
        batch_size=CHUNK,
    )
    moved = [
        Mailbox(pk=existing[c.key].pk, username=rows[c.key].username, protocol=rows[c.key].protocol)
        for c in changed
        if c.after.keys() & set(MAILBOX_FIELDS)
    ]
    Mailbox.objects.bulk_update(moved, MAILBOX_FIELDS, batch_size=CHUNK)

    sheets = [
        SettingsSheet(mailbox_id=m.pk, version=1, **rows[m.email].values.as_dict())
        for m in new_mailboxes
    ]
    sheets += [
        SettingsSheet(
            mailbox_id=existing[c.key].pk,
            version=(existing[c.key].version or 0) + 1,
            **rows[c.key].values.as_dict(),
        )
        for c in changed
        if c.after.keys() & SHEET_FIELDS_SET
    ]
    for sheet in sheets:
        sheet.source, sheet.created_by = SettingsSheet.Source.IMPORT, created_by
    for chunk in chunked(sheets):
        SettingsSheet.objects.bulk_create(chunk)
        Mailbox.objects.filter(pk__in=[s.mailbox_id for s in chunk]).update(
            current_sheet=latest_sheet_subquery()
        )
        tick(len(chunk), len(sheets))
    changed_ids = [s.mailbox_id for s in sheets] + [m.pk for m in moved]
    if changed_ids:
        sheets_changed.send(sender=SettingsSheet, mailbox_ids=changed_ids)


def sheets_import(
    data: bytes, *, by: Any = None, progress: Callable[[int, int], None] | None = None
) -> ImportPlan:
    """Plan and apply in one transaction; raises ImportRefused when the file has problems."""
    with transaction.atomic():
        plan = sheets_plan(data)
        if plan.problems:
            raise ImportRefused(plan.problems)
        sheets_apply(plan, by=by, progress=progress)
    return plan
