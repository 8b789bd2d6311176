"""The audit log: who did what, when, from where — kept AUDIT_KEEP_DAYS, never edited."""
