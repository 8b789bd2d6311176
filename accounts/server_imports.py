"""Import of the server-name registry: `hostname,status,replaced_by[,note][,addresses]`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.csvfiles import ImportRefused, RowReader, read_table
from accounts.imports import CREATED, UNCHANGED, ImportPlan, compare
from accounts.models import ServerName
from accounts.sheets import normalize_hostname, parse_addresses, parse_choice, parse_note
from accounts.signals import registry_changed

SERVER_COLUMNS = ("hostname", "status", "replaced_by")
SERVER_OPTIONAL_COLUMNS = ("note", "addresses")


@dataclass
class ServerRow:
    line: int
    hostname: str
    status: str
    replaced_by: str | None
    note: str | None  # None: the file has no note column
    addresses: str | None = None  # None: the file has no addresses column


def _parse_server_rows(
    rows: list[tuple[int, dict[str, str]]], names: list[str], plan: ImportPlan
) -> dict[str, ServerRow]:
    has_note, has_addresses = "note" in names, "addresses" in names
    parsed: dict[str, ServerRow] = {}
    for line, cells in rows:
        row = RowReader(line, cells, plan.problems)
        hostname = row.get("hostname", normalize_hostname)
        status = row.get("status", lambda t: parse_choice(t, ServerName.Status))
        replaced_by = row.get("replaced_by", lambda t: normalize_hostname(t) if t.strip() else None)
        if hostname in parsed:
            row.fail(
                "hostname",
                _("this name is also on line %(line)d") % {"line": parsed[hostname].line},
            )
        elif hostname is not None and status is not None:
            note = row.get("note", parse_note) if has_note else None
            if note is None and has_note:
                continue
            addresses = (
                row.get("addresses", lambda t: " ".join(parse_addresses(t)))
                if has_addresses
                else None
            )
            if addresses is None and has_addresses:
                continue
            parsed[hostname] = ServerRow(line, hostname, status, replaced_by, note, addresses)
    return parsed


def _check_replacements(
    parsed: dict[str, ServerRow], existing: dict[str, ServerName], plan: ImportPlan
) -> None:
    """A replacement is a current name; a name still replacing others stays current."""

    def final_status(hostname: str) -> str | None:
        if hostname in parsed:
            return parsed[hostname].status
        return existing[hostname].status if hostname in existing else None

    for server in parsed.values():
        row = RowReader(server.line, {}, plan.problems)
        target = server.replaced_by
        if target and server.status == ServerName.Status.CURRENT:
            row.fail("replaced_by", _("only a legacy name has a replacement: leave this empty"))
        elif target == server.hostname:
            row.fail("replaced_by", _("a name cannot replace itself"))
        elif target and final_status(target) is None:
            row.fail(
                "replaced_by",
                _("%(name)s is neither in the registry nor in this file") % {"name": target},
            )
        elif target and final_status(target) != ServerName.Status.CURRENT:
            row.fail(
                "replaced_by",
                _("%(name)s is a legacy name: the replacement must be a current name")
                % {"name": target},
            )
        if server.status == ServerName.Status.LEGACY:
            dependants = sorted(
                s.hostname
                for s in existing.values()
                if s.replaced_by
                and s.replaced_by.hostname == server.hostname
                and s.hostname not in parsed
            )
            if dependants:
                row.fail(
                    "status",
                    _("still named as the replacement of %(names)s: change those first")
                    % {"names": ", ".join(dependants)},
                )


def servers_plan(data: bytes, progress: Any = None) -> ImportPlan:
    """Check a `hostname,status,replaced_by[,note]` file against the registry; write nothing.

    The registry is small: `progress` is accepted, like the sheets' planner, and not told."""
    plan = ImportPlan(kind="servers")
    try:
        names, rows, plan.problems = read_table(data, SERVER_COLUMNS, SERVER_OPTIONAL_COLUMNS)
    except ImportRefused as refused:
        plan.problems = refused.problems
        return plan
    existing = {s.hostname: s for s in ServerName.objects.select_related("replaced_by")}
    parsed = _parse_server_rows(rows, names, plan)
    _check_replacements(parsed, existing, plan)
    for server in parsed.values():
        after = {"status": server.status, "replaced_by": server.replaced_by or ""}
        if server.note is not None:
            after["note"] = server.note
        if server.addresses is not None:
            after["addresses"] = server.addresses
        stored = existing.get(server.hostname)
        if stored is not None:
            stored = {
                "status": stored.status,
                "replaced_by": stored.replaced_by.hostname if stored.replaced_by else "",
                "note": stored.note,
                "addresses": stored.addresses,
            }
        plan.changes.append(compare(server.line, server.hostname, stored, after))
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
    if any(c.action != UNCHANGED for c in plan.changes):
        registry_changed.send(sender=ServerName)


def servers_import(data: bytes, **_options: Any) -> ImportPlan:
    """Plan and apply in one transaction; raises ImportRefused when the file has problems."""
    with transaction.atomic():
        plan = servers_plan(data)
        if plan.problems:
            raise ImportRefused(plan.problems)
        servers_apply(plan)
    return plan
