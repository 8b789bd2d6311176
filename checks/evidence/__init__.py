"""Evidence from the mail servers' own logs: who logs in how (parsing is pure, like the
probe; one writer stores what it means)."""
