"""What accounts tells the rest of the portal: sheets or the registry changed.

Sent inside the transaction that made the change; receivers that start work
elsewhere do so with transaction.on_commit.
"""

from django.dispatch import Signal

# mailbox_ids: the mailboxes whose current sheet (or protocol) changed
sheets_changed = Signal()
# the server-name registry changed (names, statuses or replacements)
registry_changed = Signal()
