"""Setup guides: the mail-program catalog (data) and the one builder that turns a
mailbox's recommended settings into each program's screens and fields."""
