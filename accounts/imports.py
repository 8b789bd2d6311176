"""CSV imports of the server-name registry and of mailbox settings sheets.

Read the file (encoding and delimiter detected) → check every row and compare
it with the database, writing nothing (the *plan*) → apply the whole plan in
one transaction. A file with any problem is refused whole, every problem listed
as "line N, column NAME: what is wrong". Importing the same file twice changes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.csvfiles import ImportRefused, Problem, RowReader, read_table
from accounts.models import Customer, Mailbox, ServerName, SettingsSheet, latest_sheet_subquery
from accounts.sheets import (
    SHEET_FIELDS,
    SHEET_PARSERS,
    Protocol,
    SheetValues,
    normalize_email,
    normalize_hostname,
    parse_choice,
    parse_slug,
    parse_username,
)

SERVER_COLUMNS = ("hostname", "status", "replaced_by")
SERVER_OPTIONAL_COLUMNS = ("note",)
SHEET_COLUMNS = ("customer", "customer_name", "email", "username", "protocol", *SHEET_FIELDS)
MAILBOX_FIELDS = ("username", "protocol")
SHEET_FIELDS_SET = frozenset(SHEET_FIELDS)
CHUNK = 2000
PREVIEW_LIMIT = 500
NOTES_LIMIT = 10  # customers named one by one in the notes; the rest are counted

CREATED, CHANGED, UNCHANGED = "created", "changed", "unchanged"


@dataclass
class Change:
    """What importing one row does: create, change (with before → after) or nothing."""

    line: int
    key: str
    action: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "key": self.key,
            "action": self.action,
            "fields": [
                [name, self.before.get(name, ""), value] for name, value in self.after.items()
            ],
        }


@dataclass
class ImportPlan:
    kind: str
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What apply() needs, prepared while planning.
    work: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {CREATED: 0, CHANGED: 0, UNCHANGED: 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def summary(self, limit: int = PREVIEW_LIMIT) -> dict[str, Any]:
        """A JSON-ready account of the plan, for the preview page and the batch record."""
        shown = [c for c in self.changes if c.action != UNCHANGED][:limit]
        return {
            "counts": self.counts(),
            "notes": self.notes,
            "problems": [str(p) for p in self.problems[:limit]],
            "problem_count": len(self.problems),
            "changes": [c.as_json() for c in shown],
        }


def chunked(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Server names


def servers_plan(data: bytes) -> ImportPlan:
    """Check a `hostname,status,replaced_by[,note]` file against the registry; write nothing."""
    plan = ImportPlan(kind="servers")
    try:
        names, rows, plan.problems = read_table(data, SERVER_COLUMNS, SERVER_OPTIONAL_COLUMNS)
    except ImportRefused as refused:
        plan.problems = refused.problems
        return plan
    has_note = "note" in names
    existing = {s.hostname: s for s in ServerName.objects.select_related("replaced_by")}
    parsed: dict[str, tuple[int, str, str | None, str | None]] = {}
    for line, cells in rows:
        row = RowReader(line, cells, plan.problems)
        hostname = row.get("hostname", normalize_hostname)
        status = row.get("status", lambda t: parse_choice(t, ServerName.Status))
        replaced_by = row.get("replaced_by", lambda t: normalize_hostname(t) if t.strip() else None)
        note = cells["note"].strip() if has_note else None
        if hostname is None:
            continue
        if hostname in parsed:
            row.fail(
                "hostname",
                _("this name is also on line %(line)d") % {"line": parsed[hostname][0]},
            )
            continue
        parsed[hostname] = (line, status, replaced_by, note)

    def final_status(hostname: str) -> str | None:
        if hostname in parsed:
            return parsed[hostname][1]
        return existing[hostname].status if hostname in existing else None

    for hostname, (line, status, replaced_by, note) in parsed.items():
        row = RowReader(line, {}, plan.problems)
        if replaced_by and status == ServerName.Status.CURRENT:
            row.fail("replaced_by", _("only a legacy name has a replacement: leave this empty"))
        elif replaced_by == hostname:
            row.fail("replaced_by", _("a name cannot replace itself"))
        elif replaced_by and final_status(replaced_by) is None:
            row.fail(
                "replaced_by",
                _("%(name)s is neither in the registry nor in this file") % {"name": replaced_by},
            )
        elif replaced_by and final_status(replaced_by) != ServerName.Status.CURRENT:
            row.fail(
                "replaced_by",
                _("%(name)s is a legacy name: the replacement must be a current name")
                % {"name": replaced_by},
            )
        if status == ServerName.Status.LEGACY:
            dependants = sorted(
                s.hostname
                for s in existing.values()
                if s.replaced_by and s.replaced_by.hostname == hostname and s.hostname not in parsed
            )
            if dependants:
                row.fail(
                    "status",
                    _("still named as the replacement of %(names)s: change those first")
                    % {"names": ", ".join(dependants)},
                )
        if status is None:
            continue
        after = {"status": status, "replaced_by": replaced_by or ""}
        if note is not None:
            after["note"] = note
        current = existing.get(hostname)
        if current is None:
            plan.changes.append(Change(line, hostname, CREATED, {}, after))
            continue
        before = {
            "status": current.status,
            "replaced_by": current.replaced_by.hostname if current.replaced_by else "",
            "note": current.note,
        }
        differs = {k: v for k, v in after.items() if before[k] != v}
        action = CHANGED if differs else UNCHANGED
        before = {k: before[k] for k in differs}
        plan.changes.append(Change(line, hostname, action, before, differs))
    plan.problems.sort(key=lambda p: p.line)
    return plan


def servers_apply(plan: ImportPlan) -> None:
    new = [c for c in plan.changes if c.action == CREATED]
    ServerName.objects.bulk_create(
        ServerName(hostname=c.key, status=ServerName.Status.CURRENT, note=c.after.get("note", ""))
        for c in new
    )
    ids = dict(ServerName.objects.values_list("hostname", "pk"))
    for change in plan.changes:
        if change.action == UNCHANGED:
            continue
        values = dict(change.after)
        if "replaced_by" in values:
            replacement = values.pop("replaced_by")
            values["replaced_by_id"] = ids[replacement] if replacement else None
        ServerName.objects.filter(pk=ids[change.key]).update(**values)


def servers_import(data: bytes, **_options: Any) -> ImportPlan:
    """Plan and apply in one transaction; raises ImportRefused when the file has problems."""
    with transaction.atomic():
        plan = servers_plan(data)
        if plan.problems:
            raise ImportRefused(plan.problems)
        servers_apply(plan)
    return plan


# Settings sheets


@dataclass
class SheetRow:
    line: int
    slug: str
    email: str
    username: str
    protocol: str
    values: SheetValues


def _parse_sheet_rows(
    rows: list[tuple[int, dict[str, str]]], plan: ImportPlan
) -> tuple[list[SheetRow], dict[str, tuple[int, str]]]:
    """Every good row parsed; by customer slug, the first line that names it and the name.

    Customers of rows with other problems count too, so that a missing customer
    name is reported with everything else.
    """
    parsed: list[SheetRow] = []
    seen_emails: dict[str, int] = {}
    names: dict[str, tuple[int, str]] = {}
    for line, cells in rows:
        row = RowReader(line, cells, plan.problems)
        slug = row.get("customer", parse_slug)
        email = row.get("email", normalize_email)
        username = row.get("username", parse_username)
        protocol = row.get("protocol", lambda t: parse_choice(t, Protocol))
        values = {name: row.get(name, SHEET_PARSERS[name]) for name in SHEET_FIELDS}
        name = cells["customer_name"].strip()
        if len(name) > 200:
            row.fail("customer_name", _("a customer name has at most 200 characters"))
        elif slug:
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


def sheets_plan(data: bytes) -> ImportPlan:
    """Check a settings-sheet file against the database; write nothing."""
    plan = ImportPlan(kind="sheets")
    try:
        _names, rows, plan.problems = read_table(data, SHEET_COLUMNS)
    except ImportRefused as refused:
        plan.problems = refused.problems
        return plan
    parsed, names = _parse_sheet_rows(rows, plan)

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
        if mailbox is None:
            plan.changes.append(Change(row.line, row.email, CREATED, {}, after))
            continue
        differs = {k: v for k, v in after.items() if mailbox.values.get(k) != v}
        action = CHANGED if differs else UNCHANGED
        before = {k: mailbox.values.get(k) for k in differs}
        plan.changes.append(Change(row.line, row.email, action, before, differs))
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


# By ImportBatch.Kind: check only (preview), and check then write (apply).
PLANNERS: dict[str, Callable[[bytes], ImportPlan]] = {
    "servers": servers_plan,
    "sheets": sheets_plan,
}
IMPORTERS: dict[str, Callable[..., ImportPlan]] = {
    "servers": servers_import,
    "sheets": sheets_import,
}
