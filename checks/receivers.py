"""Findings follow their inputs: a changed sheet is recomputed at once; a changed
registry or a bulk change starts a full recompute in a worker."""

from __future__ import annotations

from typing import Any

from checks.findings import findings_recompute, findings_recompute_later

# Up to this many mailboxes are recomputed in the transaction that changed them.
AT_ONCE = 50


def on_sheets_changed(sender: Any, mailbox_ids: list[int], **kwargs: Any) -> None:
    if len(mailbox_ids) <= AT_ONCE:
        findings_recompute(mailbox_ids)
    else:
        findings_recompute_later()


def on_registry_changed(sender: Any, **kwargs: Any) -> None:
    findings_recompute_later()
