"""What the imports of the server-name registry and of settings sheets share.

Read the file (encoding and delimiter detected) → check every row and compare
it with the database, writing nothing (the *plan*) → apply the whole plan in
one transaction. A file with any problem is refused whole, every problem listed
as "line N, column NAME: what is wrong". Importing the same file twice changes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from accounts.csvfiles import Problem

CHUNK = 2000
PREVIEW_LIMIT = 500

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


def compare(line: int, key: str, stored: dict[str, Any] | None, after: dict[str, Any]) -> Change:
    """The change a row makes to what is stored (None: nothing stored yet)."""
    if stored is None:
        return Change(line, key, CREATED, {}, after)
    differs = {k: v for k, v in after.items() if stored.get(k) != v}
    before = {k: stored.get(k) for k in differs}
    return Change(line, key, CHANGED if differs else UNCHANGED, before, differs)
